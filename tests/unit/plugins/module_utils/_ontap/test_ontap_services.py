# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Service tests on both transports: same normalised dicts, and the exact write calls per operation."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.client import OntapClient
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.igroup import IgroupService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.iscsi import IscsiService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lif import LifService
from ansible_collections.vdc.xenpool.plugins.module_utils._common.san import naa_id, scsi_id
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LunService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun_map import LunMapService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.rest import RestClient
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.snapshot import SnapshotService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import VolumeService, check_resize
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import ZapiClient
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_fakes import FakeRest, FakeZapi, iter_result
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import (
    GIB, IQN1, IQN2, SERIAL, TARGET, rest_igroup, rest_lun, rest_volume, script_igroup_get, script_iscsi_get, script_lun_get,
    script_map_get, script_portals, script_volume_get, zapi_igroup, zapi_lun, zapi_sis, zapi_volume,
)

TRANSPORTS = ("rest", "zapi")
RT = {"return_timeout": 30}


def make(transport):
    if transport == "rest":
        fake = FakeRest()
        return fake, OntapClient("rest", rest=RestClient("c", "admin", "pw", sender=fake, sleep=lambda _s: None))
    fake = FakeZapi()
    return fake, OntapClient("zapi", zapi=ZapiClient(fake))


def test_naa_and_scsi_id_from_serial():
    assert naa_id("wf0Iq+N4uck3") == "600a098077663049712b4e3475636b33"
    assert scsi_id("815wy$P8JJbu") == "3600a098038313577792450384a4a6275"
    assert naa_id(None) is None and scsi_id("") is None


def test_volume_normalises_identically():
    results = []
    for transport in TRANSPORTS:
        fake, client = make(transport)
        script_volume_get(transport, fake, rest_volume(), zapi_volume(), zapi_sis(enabled=True, compression=False))
        results.append(VolumeService(client).get("svm_xen", "vol1"))
        fake.assert_done()
    assert results[0] == results[1]
    assert results[0]["efficiency"] == {"dedupe": True, "compression": False} and results[0]["size_bytes"] == 10 * GIB


def test_lun_normalises_identically_with_scsi_id():
    results = []
    for transport in TRANSPORTS:
        fake, client = make(transport)
        script_lun_get(transport, fake, rest_lun(), zapi_lun())
        results.append(public(LunService(client).get("svm_xen", "/vol/vol1/lun1")))
    assert results[0] == results[1]
    assert results[0]["scsi_id"] == "3" + naa_id(SERIAL) and results[0]["name"] == "lun1"


def test_igroup_initiators_lowercased_and_equal():
    results = []
    for transport in TRANSPORTS:
        fake, client = make(transport)
        script_igroup_get(transport, fake, rest_igroup([IQN2.upper(), IQN1]), zapi_igroup([IQN2.upper(), IQN1]))
        results.append(IgroupService(client).get("svm_xen", "xenpool"))
    assert results[0] == results[1] and results[0]["initiators"] == [IQN1, IQN2]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_iscsi_and_portals(transport):
    fake, client = make(transport)
    script_iscsi_get(transport, fake, enabled=True)
    script_portals(transport, fake)
    assert public(IscsiService(client).get("svm_xen")) == {"svm": "svm_xen", "enabled": True, "target_name": TARGET, "target_alias": "svm_xen"}
    assert LifService(client).iscsi_portals("svm_xen") == ["192.0.2.11:3260", "192.0.2.12:3260"]
    fake.assert_done()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lun_shrink_refused_without_calls(transport):
    fake, client = make(transport)
    current = {"path": "/vol/vol1/lun1", "svm": "svm_xen", "size_bytes": 10 * GIB, "uuid": "l-1"}
    with pytest.raises(PlanError, match="SHRINK_REFUSED LUN /vol/vol1/lun1 would shrink"):
        LunService(client).resize(current, 5 * GIB)
    assert fake.log == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lun_grow(transport):
    fake, client = make(transport)
    if transport == "rest":
        fake.expect("PATCH", "/api/storage/luns/l-1", RT, {}, body={"space": {"size": 20 * GIB}})
    else:
        fake.expect("lun-resize", {"path": "/vol/vol1/lun1", "size": 20 * GIB}, vserver="svm_xen")
    script_lun_get(transport, fake, rest_lun(size=20 * GIB), zapi_lun(size=20 * GIB))
    current = {"path": "/vol/vol1/lun1", "svm": "svm_xen", "size_bytes": 10 * GIB, "uuid": "l-1"}
    assert LunService(client).resize(current, 20 * GIB)["size_bytes"] == 20 * GIB
    fake.assert_done()


def test_lun_same_size_error_is_not_fatal():
    fake, client = make("rest")
    fake.error("PATCH", "/api/storage/luns/l-1", RT, "1254226", "New LUN size is the same as the old LUN size")
    script_lun_get("rest", fake, rest_lun(size=20 * GIB))
    current = {"path": "/vol/vol1/lun1", "svm": "svm_xen", "size_bytes": 10 * GIB, "uuid": "l-1"}
    assert LunService(client).resize(current, 20 * GIB)["size_bytes"] == 20 * GIB


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_volume_create_calls(transport):
    fake, client = make(transport)
    if transport == "rest":
        fake.expect("POST", "/api/storage/volumes", RT, {}, status=201, body={
            "name": "vol1", "svm": {"name": "svm_xen"}, "aggregates": [{"name": "aggr1"}], "size": 10 * GIB,
            "guarantee": {"type": "none"}, "efficiency": {"dedupe": "background", "compression": "background"}})
    else:
        fake.expect("volume-create", {"volume": "vol1", "containing-aggr-name": "aggr1", "size": 10 * GIB, "space-reserve": "none"}, vserver="svm_xen")
        fake.expect("sis-enable", {"path": "/vol/vol1"}, vserver="svm_xen")
        fake.expect("sis-set-config", {"path": "/vol/vol1", "enable-compression": True}, vserver="svm_xen")
    script_volume_get(transport, fake, rest_volume(compression="background"), zapi_volume(), zapi_sis(compression=True))
    vol = VolumeService(client).create("svm_xen", "vol1", "aggr1", 10 * GIB, "none", None, True, True)
    assert vol["efficiency"] == {"dedupe": True, "compression": True}
    fake.assert_done()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lookup_by_name_is_exact_whatever_the_server_matched(transport):
    """A server that treats the name as a pattern returns look-alikes: the service keeps only the exact name."""
    fake, client = make(transport)
    script_volume_get(transport, fake, rest_volume(name="vol10"), zapi_volume(name="vol10"), zapi_sis(name="vol10"))
    assert VolumeService(client).get("svm_xen", "vol1") is None
    script_igroup_get(transport, fake, rest_igroup(name="xenpool_b"), zapi_igroup(name="xenpool_b"))
    assert IgroupService(client).get("svm_xen", "xenpool") is None
    script_lun_get(transport, fake, rest_lun(path="/vol/vol1/lun10"), zapi_lun(path="/vol/vol1/lun10"))
    assert LunService(client).get("svm_xen", "/vol/vol1/lun1") is None
    fake.assert_done()


def test_two_exact_matches_are_refused_not_picked():
    fake, client = make("rest")
    fake.expect("GET", "/api/protocols/san/igroups", {"fields": "uuid,name,svm.name,os_type,protocol,initiators", "svm.name": "svm_xen",
                                                      "name": "xenpool"}, {"records": [rest_igroup(), rest_igroup(uuid="ig-2")]})
    with pytest.raises(OntapError, match="AMBIGUOUS 2 igroups matched where one was expected"):
        IgroupService(client).get("svm_xen", "xenpool")


def test_volume_shrink_guard():
    current = {"name": "vol1", "size_bytes": 20 * GIB, "used_bytes": 2 * GIB, "snapshot_reserve_percent": 5}
    luns = [{"path": "/vol/vol1/lun0", "size_bytes": 10 * GIB}]
    check_resize(current, 30 * GIB, luns, allow_shrink=False)
    with pytest.raises(PlanError, match="SHRINK_REFUSED volume vol1 would shrink from 20.00 to 15.00 GiB"):
        check_resize(current, 15 * GIB, luns, allow_shrink=False)
    check_resize(current, 11 * GIB, luns, allow_shrink=True)
    with pytest.raises(PlanError, match="cannot hold its LUNs") as exc:
        check_resize(current, 10 * GIB, luns, allow_shrink=True)
    assert "/vol/vol1/lun0" in str(exc.value) and "at least 10.53" in exc.value.hint


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_igroup_create_with_initiators(transport):
    fake, client = make(transport)
    if transport == "rest":
        fake.expect("POST", "/api/protocols/san/igroups", RT, {}, status=201, body={
            "svm": {"name": "svm_xen"}, "name": "xenpool", "os_type": "xen", "protocol": "iscsi", "initiators": [{"name": IQN1}, {"name": IQN2}]})
    else:
        fake.expect("igroup-create", {"initiator-group-name": "xenpool", "initiator-group-type": "iscsi", "os-type": "xen"}, vserver="svm_xen")
        fake.expect("igroup-add", {"initiator-group-name": "xenpool", "initiator": IQN1})
        fake.expect("igroup-add", {"initiator-group-name": "xenpool", "initiator": IQN2})
    script_igroup_get(transport, fake, rest_igroup([IQN1, IQN2]), zapi_igroup([IQN1, IQN2]))
    assert IgroupService(client).create("svm_xen", "xenpool", "xen", "iscsi", [IQN1, IQN2.upper()])["initiators"] == [IQN1, IQN2]
    fake.assert_done()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_map_create_and_delete(transport):
    fake, client = make(transport)
    if transport == "rest":
        fake.expect("POST", "/api/protocols/san/lun-maps", RT, {}, status=201,
                    body={"svm": {"name": "svm_xen"}, "lun": {"name": "/vol/vol1/lun1"}, "igroup": {"name": "xenpool"}, "logical_unit_number": 3})
        fake.expect("DELETE", "/api/protocols/san/lun-maps/l-1/ig-1", RT, {})
    else:
        fake.expect("lun-map", {"path": "/vol/vol1/lun1", "initiator-group": "xenpool", "lun-id": 3}, vserver="svm_xen")
        fake.expect("lun-unmap", {"path": "/vol/vol1/lun1", "initiator-group": "xenpool"}, vserver="svm_xen")
    script_map_get(transport, fake, lun_id=3)
    service = LunMapService(client)
    current = service.create("svm_xen", "/vol/vol1/lun1", "xenpool", 3)
    assert current["lun_id"] == 3
    service.delete(current)
    fake.assert_done()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_snapshot_lifecycle(transport):
    fake, client = make(transport)
    if transport == "rest":
        vol_q = {"svm.name": "svm_xen", "name": "vol1", "fields": "uuid,name"}
        snap_q = {"name": "s1", "fields": "uuid,name,comment"}
        fake.expect("GET", "/api/storage/volumes", vol_q, {"records": [{"uuid": "v-1", "name": "vol1"}]})
        fake.expect("POST", "/api/storage/volumes/v-1/snapshots", RT, {}, status=201, body={"name": "s1"})
        fake.expect("GET", "/api/storage/volumes", vol_q, {"records": [{"uuid": "v-1", "name": "vol1"}]})
        fake.expect("GET", "/api/storage/volumes/v-1/snapshots", snap_q, {"records": [{"uuid": "s-1", "name": "s1"}]})
        fake.expect("DELETE", "/api/storage/volumes/v-1/snapshots/s-1", RT, {})
    else:
        fake.expect("snapshot-create", {"volume": "vol1", "snapshot": "s1"}, vserver="svm_xen")
        fake.expect("snapshot-get-iter", None, iter_result("snapshot-info", [{"name": "s1", "volume": "vol1", "vserver": "svm_xen",
                                                                             "snapshot-instance-uuid": "s-1"}]))
        fake.expect("snapshot-delete", {"volume": "vol1", "snapshot": "s1"}, vserver="svm_xen")
    service = SnapshotService(client)
    snap = service.create("svm_xen", "vol1", "s1")
    assert public(snap) == {"name": "s1", "uuid": "s-1", "volume": "vol1", "svm": "svm_xen", "comment": None}
    service.delete(snap)
    fake.assert_done()


def test_rest_snapshot_on_missing_volume_is_clear():
    fake, client = make("rest")
    fake.expect("GET", "/api/storage/volumes", {"svm.name": "svm_xen", "name": "nope", "fields": "uuid,name"}, {"records": []})
    with pytest.raises(OntapError, match="volume 'nope' not found in SVM 'svm_xen'"):
        SnapshotService(client).get("svm_xen", "nope", "s1")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_iscsi_delete_disables_first(transport):
    fake, client = make(transport)
    if transport == "rest":
        fake.expect("PATCH", "/api/protocols/san/iscsi/services/svm-u", RT, {}, body={"enabled": False})
        fake.expect("DELETE", "/api/protocols/san/iscsi/services/svm-u", RT, {})
        current = {"svm": "svm_xen", "enabled": True, "_svm_uuid": "svm-u"}
    else:
        fake.expect("iscsi-service-stop", None, vserver="svm_xen")
        fake.expect("iscsi-service-destroy", None, vserver="svm_xen")
        current = {"svm": "svm_xen", "enabled": True}
    IscsiService(client).delete(current)
    fake.assert_done()
