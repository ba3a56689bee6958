# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_config as cfg
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr as srs
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_apply, sr_plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.sr import OWNER_KEY, POOL_KEY, SrUsageError
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_sr_fake import GIB, PORTALS, TARGET_IQN, StorageXapi

SERIAL = "wf0Iq+N4uck3"
CHAP = "Chap-Secret-0042"


@pytest.fixture
def xapi():
    fake = StorageXapi()
    fake.hosts = fake.seed_hosts(2)
    fake.scsi = fake.add_lun(SERIAL, 2048 * GIB)
    fake.allow_all(fake.scsi)
    return fake


def desired(xapi, **over):
    options = {"target": ["%s:3260" % p for p in PORTALS], "target_iqn": TARGET_IQN, "scsi_id": xapi.scsi, "multipath": True}
    options.update(over.pop("options", {}))
    base = {"type": "lvmoiscsi", "name": "intel-sr01", "description": "shared", "uuid": None, "shared": True, "content_type": "user",
            "host": None, "device_config": cfg.build_device_config("lvmoiscsi", options), "other_config": None,
            "purge_other_config": False, "tags": None, "purge_tags": False, "default": None, "scan": "auto", "force_format": False}
    base.update(over)
    return base


def run(xapi, want, check=False, absent=None):
    """observe -> plan -> apply unless check, as the module does; the result the module builds from them."""
    with XenClient("127.0.0.10", password=xapi.password, transport_factory=xapi.transport_factory, sleep=lambda s: None) as client:
        obs = srs.observe(client, want, secret_probe_ok=not check)
        if absent is None:
            plan = sr_plan.plan_present(obs, want, pending_ok=check)
        else:
            plan = sr_plan.plan_absent(obs, want, destroy=absent == "destroyed")
        result = {"sr": plan.after or {}, "unplugged": []}
        if plan.changed and not check:
            result = sr_apply.apply(sr_apply.Writer(client, 600, sleep=lambda s: None), plan)
    result.update(changed=plan.changed, before=plan.before, after=result["sr"], actions=plan.actions, warnings=plan.warnings)
    return result


def only_sr(xapi):
    (ref, rec), = xapi.srs().items()
    return ref, rec


def test_device_config_and_parsers():
    options = {"target": ["192.0.2.21:3260", "192.0.2.22"], "target_iqn": "iqn.x", "scsi_id": "3600", "chap_user": "u", "chap_password": "p"}
    dc = cfg.build_device_config("lvmoiscsi", options)
    assert dc == {"target": "192.0.2.21,192.0.2.22", "port": "3260", "targetIQN": "iqn.x", "SCSIid": "3600", "chapuser": "u",
                  "chappassword": "p"}
    assert cfg.mask(dc)["chappassword"] == cfg.MASK and cfg.mask({"chappassword_secret": "u"})["chappassword_secret"] == cfg.MASK
    with pytest.raises(cfg.SrConfigError):
        cfg.split_portals(["192.0.2.21:3260", "192.0.2.22:3261"], None)
    with pytest.raises(cfg.SrConfigError):
        cfg.split_portals([], None)
    assert cfg.split_portals(["[2001:db8::1]:3261"], None) == ("2001:db8::1", 3261)
    assert cfg.parse_sr_list("<SRlist><SR><UUID>u1</UUID><Devlist>/dev/sdb</Devlist><size>10</size></SR></SRlist>") == [
        {"uuid": "u1", "devlist": "/dev/sdb", "size_bytes": 10}]
    assert cfg.parse_sr_list("<SRlist/>") == []
    assert cfg.parse_mpath("[1, 2]") == (1, 2) and cfg.parse_mpath("junk") == (None, None)
    assert cfg.drift({"target": "a", "chappassword": "x"}, {"target": "b", "chappassword_secret": "s"}) == ["target"]
    with pytest.raises(cfg.SrConfigError):
        cfg.parse_luns("<not-closed>")


def test_check_then_create_then_noop(xapi):
    want = desired(xapi, default=True, tags=["san"])
    planned = run(xapi, want, check=True)
    assert planned["changed"] is True and planned["actions"] == ["create"]
    assert planned["sr"]["default"] is True and [p["plugged"] for p in planned["sr"]["pbds"]] == [True, True]
    assert xapi.writes() == [] and xapi.srs() == {}
    done = run(xapi, want)
    assert done["changed"] is True and done["actions"][0] == "create"
    ref, rec = only_sr(xapi)
    assert rec["other_config"][OWNER_KEY] == "sr" and rec["tags"] == ["san"]
    assert rec["other_config"][POOL_KEY] == xapi.objects["pool"][xapi.pool_ref()]["uuid"]
    assert xapi.objects["pool"][xapi.pool_ref()]["default_SR"] == ref
    assert [p["currently_attached"] for p in xapi.pbds(ref)] == [True, True]
    assert [p["paths_total"] for p in done["sr"]["pbds"]] == [2, 2]
    assert [p["host"] for p in done["sr"]["pbds"]] == ["xen-01", "xen-02"]
    xapi.log.clear()
    again = run(xapi, want, check=True)
    assert again["changed"] is False and again["actions"] == []
    again = run(xapi, want)
    assert again["changed"] is False and xapi.writes() == []
    assert "SR.create" not in xapi.counters()


def test_forget_then_reattach_keeps_vdis(xapi):
    want = desired(xapi)
    run(xapi, want)
    _ref, rec = only_sr(xapi)
    uuid = rec["uuid"]
    xapi.write_vdi(xapi.scsi, "vm-0001 disk", 20 * GIB)
    gone = run(xapi, want, absent="absent")
    assert gone["changed"] is True and gone["actions"][-1] == "forget" and xapi.srs() == {}
    assert xapi.luns[xapi.scsi]["sr"]["uuid"] == uuid
    assert run(xapi, want, absent="absent")["changed"] is False
    xapi.log.clear()
    planned = run(xapi, want, check=True)
    assert planned["actions"] == ["introduce %s" % uuid] and planned["sr"]["uuid"] == uuid and xapi.writes() == []
    back = run(xapi, want)
    assert "SR.create" not in xapi.counters() and "Async.SR.create" not in xapi.counters()
    assert back["actions"][0] == "introduce %s" % uuid and "scan" in back["actions"]
    assert back["sr"]["uuid"] == uuid and back["sr"]["vdi_count"] == 1
    assert all(p["plugged"] for p in back["sr"]["pbds"]) and back["sr"]["physical_size"] > 0


def test_force_format_is_explicit(xapi):
    want = desired(xapi)
    run(xapi, want)
    uuid = only_sr(xapi)[1]["uuid"]
    xapi.write_vdi(xapi.scsi, "precious", GIB)
    run(xapi, want, absent="absent")
    formatted = run(xapi, dict(want, force_format=True))
    assert formatted["actions"][0] == "format and create" and any("force_format" in w for w in formatted["warnings"])
    assert formatted["sr"]["uuid"] != uuid and formatted["sr"]["vdi_count"] == 0
    assert xapi.luns[xapi.scsi]["sr"]["vdis"] == []


def test_grown_lun_is_scanned(xapi):
    want = desired(xapi)
    run(xapi, want)
    before = int(only_sr(xapi)[1]["physical_size"])
    xapi.luns[xapi.scsi]["size"] += 512 * GIB
    xapi.log.clear()
    planned = run(xapi, want, check=True)
    assert planned["actions"] == ["scan"] and xapi.writes() == []
    grown = run(xapi, want)
    assert grown["actions"] == ["scan"] and grown["sr"]["physical_size"] == before + 512 * GIB
    assert run(xapi, want)["changed"] is False


def test_host_added_later_gets_a_pbd(xapi):
    want = desired(xapi)
    run(xapi, want)
    new = xapi.add_host("xen-03")
    xapi.allow_all(xapi.scsi)
    result = run(xapi, want)
    assert result["actions"] == ["create PBD on xen-03", "plug PBD on xen-03"]
    assert [p["host"] for p in result["sr"]["pbds"]] == ["xen-01", "xen-02", "xen-03"]
    assert [p for p in xapi.objects["PBD"].values() if p["host"] == new][0]["currently_attached"] is True


def test_missing_iqn_shows_unplugged_then_next_run_plugs(xapi):
    want = desired(xapi)
    run(xapi, want)
    xen02 = xapi.objects["host"][xapi.hosts[1]]["iscsi_iqn"]
    xapi.luns[xapi.scsi]["initiators"].discard(xen02)
    ref = only_sr(xapi)[0]
    for pbd in xapi.pbds(ref):
        if pbd["host"] == xapi.hosts[1]:
            pbd["currently_attached"] = False  # the host rebooted and could not log in to the LUN
    result = run(xapi, want)
    assert result["unplugged"] == [{"host": "xen-02", "reason": "SR_BACKEND_FAILURE_47 The SR is not available [opterr=no such volume group]",
                                    "iscsi_iqn": xen02}]
    assert [p["plugged"] for p in result["sr"]["pbds"]] == [True, False]
    xapi.allow_all(xapi.scsi)
    fixed = run(xapi, want)
    assert fixed["unplugged"] == [] and fixed["actions"] == ["plug PBD on xen-02"]


def test_destroyed_wipes_and_absent_keeps(xapi):
    want = desired(xapi)
    run(xapi, want)
    xapi.log.clear()
    planned = run(xapi, want, check=True, absent="destroyed")
    assert planned["actions"] == ["unplug PBD on xen-01, xen-02", "destroy"] and xapi.writes() == []
    done = run(xapi, want, absent="destroyed")
    assert done["changed"] is True and xapi.srs() == {} and xapi.luns[xapi.scsi]["sr"] is None
    assert run(xapi, want, absent="destroyed")["changed"] is False


def test_destroy_with_vdis_refused_before_unplug(xapi):
    want = desired(xapi)
    run(xapi, want)
    ref = only_sr(xapi)[0]
    vdi = xapi.add("VDI", SR=ref, name_label="disk", virtual_size=str(GIB))
    xapi.srs()[ref]["VDIs"].append(vdi)
    with pytest.raises(SrUsageError, match="SR_NOT_EMPTY"):
        run(xapi, want, absent="destroyed")
    assert all(p["currently_attached"] for p in xapi.pbds(ref))


def test_check_mode_without_lun_yet(xapi):
    want = desired(xapi, options={"scsi_id": None, "target_iqn": None})
    result = run(xapi, want, check=True)
    assert result["changed"] is True and result["actions"] == ["create or reattach"]
    assert xapi.counters().get("SR.probe", 0) == 0 and xapi.writes() == []
    with pytest.raises(SrUsageError):
        run(xapi, want)


def test_chap_secret_never_returned(xapi):
    want = desired(xapi, options={"chap_user": "xen", "chap_password": CHAP})
    planned = run(xapi, want, check=True)
    assert planned["actions"] == ["create or reattach"] and xapi.counters().get("SR.probe", 0) == 0
    done = run(xapi, want)
    assert CHAP not in json.dumps(done)
    ref = only_sr(xapi)[0]
    assert all("chappassword" not in p["device_config"] and "chappassword_secret" in p["device_config"] for p in xapi.pbds(ref))
    assert run(xapi, want)["changed"] is False


def test_drifted_fields_and_name_ambiguity(xapi):
    want = desired(xapi, other_config={"team": "san"})
    run(xapi, want)
    ref = only_sr(xapi)[0]
    xapi.srs()[ref]["name_label"] = "renamed"
    xapi.srs()[ref]["other_config"]["stray"] = "1"
    result = run(xapi, dict(want, purge_other_config=True))
    assert result["actions"] == ["set name", "set other_config"]
    assert xapi.srs()[ref]["other_config"] == {"team": "san", OWNER_KEY: "sr", POOL_KEY: xapi.objects["pool"][xapi.pool_ref()]["uuid"]}
    xapi.add("SR", name_label="dup", type="lvmoiscsi", other_config={}, tags=[], PBDs=[], VDIs=[], shared=True)
    xapi.add("SR", name_label="dup", type="lvmoiscsi", other_config={}, tags=[], PBDs=[], VDIs=[], shared=True)
    with pytest.raises(SrUsageError, match="2 SRs"):
        run(xapi, desired(xapi, name="dup", options={"scsi_id": None}), check=True)


def test_storage_in_use_is_reported(xapi):
    xapi.fail("SR.probe", ["SR_DEVICE_IN_USE"])
    with pytest.raises(SrUsageError, match="in use"):
        run(xapi, desired(xapi))
    assert xapi.srs() == {}


def test_sr_known_under_other_device_config_is_not_reintroduced(xapi):
    want = desired(xapi)
    run(xapi, want)
    ref, rec = only_sr(xapi)
    for pbd in xapi.pbds(ref):
        pbd["device_config"] = {k: v for k, v in pbd["device_config"].items() if k != "SCSIid"}
        pbd["device_config"]["LUNid"] = "0"
    xapi.log.clear()
    result = run(xapi, want)
    assert result["sr"]["uuid"] == rec["uuid"] and "SR.introduce" not in str(xapi.counters())
    assert result["changed"] is False and any("differs in device_config SCSIid" in w for w in result["warnings"])


def test_iso_library_created_once_without_probe(xapi):
    dc = cfg.build_device_config("iso", {"location": "nfs01.example.org:/export/iso"})
    want = desired(xapi, type="iso", name="ISOs", content_type="iso", device_config=dc)
    planned = run(xapi, want, check=True)
    assert planned["actions"] == ["create"] and xapi.writes() == []
    done = run(xapi, want)
    assert done["actions"][0] == "create" and done["sr"]["content_type"] == "iso" and len(done["sr"]["pbds"]) == 2
    assert "SR.probe" not in xapi.counters()
    assert run(xapi, want)["changed"] is False
