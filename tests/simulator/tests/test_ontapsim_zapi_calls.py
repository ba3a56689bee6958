# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ZAPI calls netapp.ontap's common modules make: each is served or refused the way ONTAP refuses.

In-process against ZapiApi (the wire and netapp-lib are covered by test_ontapsim_zapi.py and the
netapp.ontap smoke run). Sources: the ONTAPI reference (request elements), netapp-lib's errno table
(netapp_lib/api/zapi/errors.py: EOPNOTSUPPORTED 13012, EAPINOTFOUND 13005, EVDISK_ERROR_SIZE_TOO_SMALL
9041), and the API names in netapp.ontap's plugins/modules/na_ontap_{volume,volume_efficiency,lun,lun_map,
igroup,igroup_initiator,iscsi,snapshot,svm,interface}.py and module_utils/zapis_svm.py.
"""
from __future__ import annotations

import os
import sys
import xml.etree.ElementTree as ET

import pytest

SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SIM_ROOT not in sys.path:
    sys.path.insert(0, SIM_ROOT)

from ontapsim import fidelity  # noqa: E402  pylint: disable=wrong-import-position
from ontapsim.zapi import NOT_SUPPORTED, NS, ZapiApi  # noqa: E402  pylint: disable=wrong-import-position

# The 70 ZAPI calls of those ten modules (36 were served before issue 15).
CALLS = """volume-create volume-create-async volume-destroy volume-destroy-async volume-get-iter volume-modify-iter
volume-modify-iter-async volume-mount volume-unmount volume-move-get-iter volume-move-start volume-offline
volume-offline-async volume-online volume-online-async volume-rename volume-rename-async volume-size volume-size-async
volume-encryption-conversion-get-iter volume-encryption-conversion-start sis-enable sis-enable-async sis-set-config
sis-set-config-async sis-get-iter snapshot-autodelete-set-option job-get sis-disable sis-start sis-stop
lun-create-by-size lun-destroy lun-get-iter lun-move lun-resize lun-set-space-reservation-info lun-set-comment
lun-set-qos-policy-group lun-map lun-unmap lun-map-list-info igroup-add igroup-create igroup-destroy igroup-get-iter
igroup-remove igroup-rename iscsi-service-create iscsi-service-destroy iscsi-service-get-iter iscsi-service-start
iscsi-service-stop snapshot-create snapshot-delete snapshot-get-iter snapshot-modify-iter snapshot-rename
vserver-create vserver-destroy vserver-rename vserver-get-iter vserver-modify cluster-node-get-iter
net-interface-create net-interface-delete net-interface-get-iter net-interface-modify net-interface-rename
net-interface-migrate""".split()


def _xml(children) -> str:
    out = []
    for key, value in children:
        inner = _xml(value) if isinstance(value, list) else str(value)
        out.append("<%s>%s</%s>" % (key, inner, key))
    return "".join(out)


class Zapi:
    """Send one API to an in-process ZapiApi; return (status, errno, reason, results element)."""

    def __init__(self) -> None:
        self.state = fidelity.reference_state()
        self.api = ZapiApi(self.state)

    def __call__(self, name: str, children=(), vfiler: str | None = "svm_san2"):
        attr = ' vfiler="%s"' % vfiler if vfiler else ""
        body = '<netapp version="1.21" xmlns="%s"%s><%s>%s</%s></netapp>' % (NS, attr, name, _xml(children), name)
        _name, reply = self.api.handle(body.encode("utf-8"))
        results = ET.fromstring(reply).find("{%s}results" % NS)
        return results.get("status"), results.get("errno"), results.get("reason"), results

    def ok(self, name: str, children=(), vfiler: str | None = "svm_san2"):
        status, errno, reason, results = self(name, children, vfiler)
        assert status == "passed", (name, errno, reason)
        return results


@pytest.fixture(name="zapi")
def zapi_fixture():
    return Zapi()


def _texts(results, tag: str) -> list[str]:
    return [e.text for e in results.iter("{%s}%s" % (NS, tag))]


def test_every_call_is_served_or_refused_as_not_supported():
    served = [c for c in CALLS if hasattr(ZapiApi, "api_" + c.replace("-", "_"))]
    refused = [c for c in CALLS if c in NOT_SUPPORTED]
    assert len(CALLS) == len(set(CALLS)) == 70
    assert sorted(served + refused) == sorted(CALLS) and not set(served) & set(refused)
    assert len(served) >= 46 and len(refused) <= 24


@pytest.mark.parametrize("name", sorted(NOT_SUPPORTED))
def test_unmodelled_calls_answer_13012(zapi, name):
    """EOPNOTSUPPORTED, not 13005 'Unable to find API' (which tells a client it used a wrong name)."""
    status, errno, reason, _results = zapi(name, vfiler=None if name.startswith(("vserver", "job")) else "svm_san2")
    assert (status, errno) == ("failed", "13012")
    assert reason.startswith("Operation not supported in this configuration: %s" % name)


def test_unknown_api_still_13005(zapi):
    assert zapi("volume-frobnicate")[1] == "13005"


def test_svm_and_interface_reads(zapi):
    svms = zapi.ok("vserver-get-iter", vfiler=None)
    assert {"cluster1", "svm_xen", "svm_san2"} <= set(_texts(svms, "vserver-name"))
    lifs = zapi.ok("net-interface-get-iter", [("query", [("net-interface-info", [("interface-name", "svm_xen_iscsi_01")])])],
                   vfiler=None)
    assert _texts(lifs, "failover-policy") == ["home_port_only"] and _texts(lifs, "netmask") == ["255.255.255.0"]
    nodes = zapi.ok("cluster-node-get-iter", vfiler=None)
    assert _texts(nodes, "node-name") == ["cluster1-01", "cluster1-02"]
    assert zapi("cluster-node-get-iter")[1] == "13005"      # cluster API tunnelled to a data SVM


def test_igroup_rename(zapi):
    zapi.ok("igroup-rename", [("initiator-group-name", "legacy_hosts"), ("initiator-group-new-name", "hosts")])
    assert _texts(zapi.ok("igroup-get-iter"), "initiator-group-name") == ["hosts"]
    status, errno, _reason, _r = zapi("igroup-rename", [("initiator-group-name", "legacy_hosts"),
                                                        ("initiator-group-new-name", "x")])
    assert (status, errno) == ("failed", "9003")     # EVDISK_ERROR_NO_SUCH_INITGROUP


def test_lun_move_and_comment(zapi):
    zapi.ok("lun-move", [("path", "/vol/san2_vol1/lun0"), ("new-path", "/vol/san2_vol1/lun9")])
    zapi.ok("lun-set-comment", [("path", "/vol/san2_vol1/lun9"), ("comment", "moved")])
    luns = zapi.ok("lun-get-iter")
    assert _texts(luns, "path") == ["/vol/san2_vol1/lun9"] and _texts(luns, "comment") == ["moved"]
    # the LUN map follows the LUN (same object, new path)
    assert _texts(zapi.ok("lun-map-list-info", [("path", "/vol/san2_vol1/lun9")]), "initiator-group-name") == \
        ["legacy_hosts"]


def test_snapshot_rename_and_modify_iter(zapi):
    zapi.ok("snapshot-rename", [("volume", "san2_vol1"), ("current-name", "fidelity_snap"), ("new-name", "daily.0")])
    done = zapi.ok("snapshot-modify-iter", [
        ("query", [("snapshot-info", [("name", "daily.0"), ("vserver", "svm_san2")])]),
        ("attributes", [("snapshot-info", [("name", "daily.0"), ("comment", "kept"), ("snapmirror-label", "weekly")])])])
    assert _texts(done, "num-succeeded") == ["1"] and _texts(done, "num-failed") == ["0"]
    snaps = zapi.ok("snapshot-get-iter")
    assert _texts(snaps, "name") == ["daily.0"] and _texts(snaps, "comment") == ["kept"]
    assert _texts(snaps, "snapmirror-label") == ["weekly"]
    status, errno, _reason, _r = zapi("snapshot-modify-iter", [
        ("query", [("snapshot-info", [("name", "nope")])]), ("attributes", [("snapshot-info", [("comment", "x")])])])
    assert (status, errno) == ("failed", "13021")     # ESNAPSHOTDOESNOTEXIST


def test_volume_mount_unmount_rename(zapi):
    zapi.ok("volume-mount", [("volume-name", "san2_vol1"), ("junction-path", "/san2")])
    vol = next(v for v in zapi.state.volumes.values() if v["name"] == "san2_vol1")
    assert vol["junction_path"] == "/san2"
    zapi.ok("volume-unmount", [("volume-name", "san2_vol1")])
    assert vol["junction_path"] is None
    zapi.ok("volume-rename", [("volume", "san2_vol1"), ("new-volume-name", "san2_data")])
    assert vol["name"] == "san2_data"
    assert _texts(zapi.ok("volume-move-get-iter", vfiler=None), "num-records") == ["0"]


def test_lun_resize_shrink_needs_force_over_zapi(zapi):
    """ZAPI shrinks with force=true; without it errno 9041 and ONTAP's own text, not the REST API's."""
    path = "/vol/san2_vol1/lun0"
    lun = next(lun for lun in zapi.state.luns.values() if lun["path"] == path)
    start = lun["size"]
    status, errno, reason, _r = zapi("lun-resize", [("path", path), ("size", start // 2)])
    assert (status, errno) == ("failed", "9041")
    assert "REST API" not in reason and "force" in reason
    assert lun["size"] == start
    done = zapi.ok("lun-resize", [("path", path), ("size", start // 2), ("force", "true")])
    assert _texts(done, "actual-size") == [str(start // 2)] and lun["size"] == start // 2
    assert lun["written"] <= lun["size"]
