# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The SR service (observe -> plan -> apply) against xapisim in-process: the probe stages, SR.create, introduce,
forget, destroy, PBD plugs and sm's errors come from xapisim's SR handlers, the fabric from sr_fabric."""

from __future__ import annotations

import json

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_config as cfg
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr as srs
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_apply, sr_plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.sr import OWNER_KEY, POOL_KEY, SrUsageError
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen import sr_fabric as fabric
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.sr_fabric import GIB, PORTALS, SCSI, TARGET_IQN

CHAP = "Chap-Secret-0042"


@pytest.fixture(name="xapi")
def xapi_fixture():
    xapi = fabric.start()
    yield xapi
    xapi.close()


def desired(**over):
    options = {"target": ["%s:3260" % p for p in PORTALS], "target_iqn": TARGET_IQN, "scsi_id": SCSI, "multipath": True}
    options.update(over.pop("options", {}))
    base = {"type": "lvmoiscsi", "name": "intel-sr01", "description": "shared", "uuid": None, "shared": True, "content_type": "user",
            "host": None, "device_config": cfg.build_device_config("lvmoiscsi", options), "other_config": None,
            "purge_other_config": False, "tags": None, "purge_tags": False, "default": None, "scan": "auto", "force_format": False}
    base.update(over)
    return base


def run(xapi, want, check=False, absent=None):
    """observe -> plan -> apply unless check, as the module does; the result the module builds from them."""
    with fabric.client(xapi) as client:
        obs = srs.observe(client, want, secret_probe_ok=not check)
        if absent is None:
            plan = sr_plan.plan_present(obs, want, pending_ok=check)
        else:
            plan = sr_plan.plan_absent(obs, want, destroy=absent == "destroyed")
        result = {"sr": plan.after or {}, "unplugged": []}
        if plan.changed and not check:
            result = sr_apply.apply(sr_apply.Writer(client, 600), plan)
    result.update(changed=plan.changed, before=plan.before, after=result["sr"], actions=plan.actions, warnings=plan.warnings)
    return result


def only_sr(xapi):
    (ref, rec), = fabric.iscsi_srs(xapi).items()
    return ref, rec


def the_pool(xapi):
    return next(iter(xapi.records("pool").values()))


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
    want = desired(default=True, tags=["san"])
    planned = run(xapi, want, check=True)
    assert planned["changed"] is True and planned["actions"] == ["create"]
    assert planned["sr"]["default"] is True and [p["plugged"] for p in planned["sr"]["pbds"]] == [True, True]
    assert xapi.writes() == [] and fabric.iscsi_srs(xapi) == {}
    done = run(xapi, want)
    assert done["changed"] is True and done["actions"][0] == "create"
    ref, rec = only_sr(xapi)
    assert rec["other_config"][OWNER_KEY] == "sr" and rec["tags"] == ["san"]
    assert rec["other_config"][POOL_KEY] == the_pool(xapi)["uuid"]
    assert the_pool(xapi)["default_SR"] == ref and xapi.lun_sr_uuid(SCSI) == rec["uuid"]
    assert [p["currently_attached"] for p in fabric.pbds(xapi, ref)] == [True, True]
    assert [p["paths_total"] for p in done["sr"]["pbds"]] == [2, 2]
    assert [p["host"] for p in done["sr"]["pbds"]] == ["xen-01", "xen-02"]
    xapi.reset_calls()
    again = run(xapi, want, check=True)
    assert again["changed"] is False and again["actions"] == []
    again = run(xapi, want)
    assert again["changed"] is False and xapi.writes() == []
    assert "SR.create" not in xapi.counters()


def test_forget_then_reattach_keeps_vdis(xapi):
    want = desired()
    run(xapi, want)
    ref, rec = only_sr(xapi)
    uuid = rec["uuid"]
    fabric.write_vdi(xapi, ref, "vm-0001 disk", 20 * GIB)
    gone = run(xapi, want, absent="absent")
    assert gone["changed"] is True and gone["actions"][-1] == "forget" and fabric.iscsi_srs(xapi) == {}
    assert xapi.lun_sr_uuid(SCSI) == uuid
    assert run(xapi, want, absent="absent")["changed"] is False
    xapi.reset_calls()
    planned = run(xapi, want, check=True)
    assert planned["actions"] == ["introduce %s" % uuid] and planned["sr"]["uuid"] == uuid and xapi.writes() == []
    back = run(xapi, want)
    assert "SR.create" not in xapi.counters() and "Async.SR.create" not in xapi.counters()
    assert back["actions"][0] == "introduce %s" % uuid and "scan" in back["actions"]
    assert back["sr"]["uuid"] == uuid and back["sr"]["vdi_count"] == 1
    assert all(p["plugged"] for p in back["sr"]["pbds"]) and back["sr"]["physical_size"] > 0


def test_force_format_is_explicit(xapi):
    want = desired()
    run(xapi, want)
    ref, rec = only_sr(xapi)
    fabric.write_vdi(xapi, ref, "precious", GIB)
    run(xapi, want, absent="absent")
    formatted = run(xapi, dict(want, force_format=True))
    assert formatted["actions"][0] == "format and create" and any("force_format" in w for w in formatted["warnings"])
    assert formatted["sr"]["uuid"] != rec["uuid"] and formatted["sr"]["vdi_count"] == 0
    assert xapi.lun_sr_uuid(SCSI) == formatted["sr"]["uuid"]
    assert not [v for v in xapi.records("VDI").values() if v["name_label"] == "precious"]


def test_grown_lun_is_scanned(xapi):
    want = desired()
    run(xapi, want)
    before = int(only_sr(xapi)[1]["physical_size"])
    fabric.lun_visible_to(xapi, size_gib=2048 + 512)
    xapi.reset_calls()
    planned = run(xapi, want, check=True)
    assert planned["actions"] == ["scan"] and xapi.writes() == []
    grown = run(xapi, want)
    assert grown["actions"] == ["scan"] and grown["sr"]["physical_size"] == before + 512 * GIB
    assert run(xapi, want)["changed"] is False


def test_host_added_later_gets_a_pbd(xapi):
    want = desired()
    run(xapi, want)
    fabric.join_new_host(xapi)
    result = run(xapi, want)
    assert result["actions"] == ["create PBD on xen-03", "plug PBD on xen-03"]
    assert [p["host"] for p in result["sr"]["pbds"]] == ["xen-01", "xen-02", "xen-03"]
    assert [p["currently_attached"] for p in fabric.pbds(xapi, only_sr(xapi)[0])] == [True, True, True]


def test_missing_iqn_shows_unplugged_then_next_run_plugs(xapi):
    want = desired()
    run(xapi, want)
    xen02 = fabric.iqn_of(xapi, "xen-02")
    fabric.lun_visible_to(xapi, fabric.iqn_of(xapi, "xen-01"))  # the igroup lost xen-02's initiator
    pbd = xapi.find("PBD", SR=only_sr(xapi)[0], host=xapi.find("host", name_label="xen-02"))
    xapi.update("PBD", pbd, currently_attached=False)  # the host rebooted and could not log in to the LUN
    result = run(xapi, want)
    assert result["unplugged"] == [{"host": "xen-02", "iscsi_iqn": xen02, "reason": "SR_BACKEND_FAILURE_47 The SR is not available "
                                    "[opterr=LUN %s not visible to initiator %s]" % (SCSI, xen02)}]
    assert [p["plugged"] for p in result["sr"]["pbds"]] == [True, False]
    fabric.lun_visible_to(xapi)
    fixed = run(xapi, want)
    assert fixed["unplugged"] == [] and fixed["actions"] == ["plug PBD on xen-02"]


def test_destroyed_wipes_and_absent_keeps(xapi):
    want = desired()
    run(xapi, want)
    xapi.reset_calls()
    planned = run(xapi, want, check=True, absent="destroyed")
    assert planned["actions"] == ["unplug PBD on xen-01, xen-02", "destroy"] and xapi.writes() == []
    done = run(xapi, want, absent="destroyed")
    assert done["changed"] is True and fabric.iscsi_srs(xapi) == {} and xapi.lun_sr_uuid(SCSI) == ""
    assert run(xapi, want, absent="destroyed")["changed"] is False


def test_destroy_with_vdis_refused_before_unplug(xapi):
    want = desired()
    run(xapi, want)
    ref = only_sr(xapi)[0]
    fabric.write_vdi(xapi, ref, "disk", GIB)
    xapi.reset_calls()
    with pytest.raises(SrUsageError, match="SR_NOT_EMPTY"):
        run(xapi, want, absent="destroyed")
    assert all(p["currently_attached"] for p in fabric.pbds(xapi, ref)) and xapi.writes() == []


def test_check_mode_without_lun_yet(xapi):
    want = desired(options={"scsi_id": None, "target_iqn": None})
    result = run(xapi, want, check=True)
    assert result["changed"] is True and result["actions"] == ["create or reattach"]
    assert xapi.counters().get("SR.probe", 0) == 0 and xapi.writes() == []
    with pytest.raises(SrUsageError):
        run(xapi, want)


def test_chap_secret_never_returned(xapi):
    fabric.lun_visible_to(xapi, chap=("xen", CHAP))  # the target checks the login: the secret reached the driver
    want = desired(options={"chap_user": "xen", "chap_password": CHAP})
    planned = run(xapi, want, check=True)
    assert planned["actions"] == ["create or reattach"] and xapi.counters().get("SR.probe", 0) == 0
    done = run(xapi, want)
    assert CHAP not in json.dumps(done)
    ref = only_sr(xapi)[0]
    assert all("chappassword" not in p["device_config"] and "chappassword_secret" in p["device_config"] for p in fabric.pbds(xapi, ref))
    assert all(p["currently_attached"] for p in fabric.pbds(xapi, ref))
    assert run(xapi, want)["changed"] is False


def test_drifted_fields_and_name_ambiguity(xapi):
    want = desired(other_config={"team": "san"})
    run(xapi, want)
    ref, rec = only_sr(xapi)
    xapi.update("SR", ref, name_label="renamed", other_config=dict(rec["other_config"], stray="1"))
    result = run(xapi, dict(want, purge_other_config=True))
    assert result["actions"] == ["set name", "set other_config"]
    assert only_sr(xapi)[1]["other_config"] == {"team": "san", OWNER_KEY: "sr", POOL_KEY: the_pool(xapi)["uuid"]}
    assert only_sr(xapi)[1]["name_label"] == "intel-sr01"
    xapi.add("SR", name_label="dup", type="lvmoiscsi", shared=True)
    xapi.add("SR", name_label="dup", type="lvmoiscsi", shared=True)
    with pytest.raises(SrUsageError, match="2 SRs"):
        run(xapi, desired(name="dup", options={"scsi_id": None}), check=True)


def test_storage_in_use_is_reported(xapi):
    xapi.fail("SR.probe", ["SR_DEVICE_IN_USE"])  # another pool's host holds the LUN
    with pytest.raises(SrUsageError, match="in use"):
        run(xapi, desired())
    assert fabric.iscsi_srs(xapi) == {} and xapi.writes() == []


def test_sr_known_under_other_device_config_is_not_reintroduced(xapi):
    want = desired()
    run(xapi, want)
    ref, rec = only_sr(xapi)
    for pbd, prec in xapi.records("PBD").items():
        if prec["SR"] == ref:
            xapi.update("PBD", pbd, device_config=dict({k: v for k, v in prec["device_config"].items() if k != "SCSIid"}, LUNid="0"))
    xapi.reset_calls()
    result = run(xapi, want)
    assert result["sr"]["uuid"] == rec["uuid"] and "SR.introduce" not in str(xapi.counters())
    assert result["changed"] is False and any("differs in device_config SCSIid" in w for w in result["warnings"])


def test_iso_library_created_once_without_probe(xapi):
    dc = cfg.build_device_config("iso", {"location": "nfs01.example.org:/export/iso"})
    want = desired(type="iso", name="ISOs", content_type="iso", device_config=dc)
    planned = run(xapi, want, check=True)
    assert planned["actions"] == ["create"] and xapi.writes() == []
    done = run(xapi, want)
    assert done["actions"][0] == "create" and done["sr"]["content_type"] == "iso" and len(done["sr"]["pbds"]) == 2
    assert "SR.probe" not in xapi.counters()
    assert run(xapi, want)["changed"] is False
