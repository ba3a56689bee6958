# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The sr and sr_info modules' main() against xapisim in-process (the fabric of sr_fabric: a pool of two multipathed
hosts, one NetApp-like LUN on two portals): probes, SR writes, PBD plugs and sm's errors come from xapisim."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.modules import sr, sr_info
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen import sr_fabric as fabric
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.sr_fabric import GIB, PORTALS, SCSI, SERIAL, TARGET_IQN
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, attach

CHAP = "Chap-Secret-0042"


@pytest.fixture(name="fake")
def fake_fixture(monkeypatch):
    xapi = fabric.start()
    attach(monkeypatch, xapi)
    yield xapi
    xapi.close()


def the_sr(fake):
    (ref, rec), = fabric.iscsi_srs(fake).items()
    return ref, rec


def args(fake, **over):
    base = {"hostname": "http://" + fake.master, "password": fake.password, "name": "intel-sr01", "type": "lvmoiscsi",
            "target": ["%s:3260" % p for p in PORTALS], "target_iqn": TARGET_IQN, "lun_serial": SERIAL, "multipath": True,
            "default": True, "_ansible_diff": True}
    base.update(over)
    return base


def run(params, expect=Exited):
    with patch_module_args(params):
        with pytest.raises(expect) as info:
            sr.main()
    return info.value.args[0]


def test_check_apply_check_apply(fake):
    planned = run(args(fake, _ansible_check_mode=True))
    assert planned["changed"] is True and planned["actions"] == ["create"] and fake.writes() == []
    assert planned["diff"]["before"] == {} and planned["diff"]["after"]["name"] == "intel-sr01"
    done = run(args(fake))
    assert done["changed"] is True and done["sr"]["uuid"] and len(done["sr"]["pbds"]) == 2
    assert done["sr"]["pbds"][0]["device_config"]["SCSIid"] == SCSI  # derived from lun_serial
    assert fake.lun_sr_uuid(SCSI) == done["sr"]["uuid"]
    fake.reset_calls()
    assert run(args(fake, _ansible_check_mode=True))["changed"] is False
    again = run(args(fake))
    assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"] and fake.writes() == []
    assert fake.open_sessions() == 0


def test_drift_shown_in_diff(fake):
    run(args(fake))
    ref = the_sr(fake)[0]
    fake.update("SR", ref, name_description="old")
    result = run(args(fake, description="new", _ansible_check_mode=True))
    assert result["changed"] is True and result["actions"] == ["set description"]
    assert result["diff"]["before"]["description"] == "old" and result["diff"]["after"]["description"] == "new"
    assert the_sr(fake)[1]["name_description"] == "old"


def test_unplugged_host_fails_with_reason_and_secret_stays_hidden(fake):
    fabric.lun_visible_to(fake, chap=("xen", CHAP))
    run(args(fake, chap_user="xen", chap_password=CHAP))
    iqn = fabric.iqn_of(fake, "xen-02")
    fabric.lun_visible_to(fake, fabric.iqn_of(fake, "xen-01"), chap=("xen", CHAP))  # the igroup lost xen-02's initiator
    fake.update("PBD", fake.find("PBD", SR=the_sr(fake)[0], host=fake.find("host", name_label="xen-02")), currently_attached=False)
    failed = run(args(fake, chap_user="xen", chap_password=CHAP), expect=Failed)
    assert "xen-02: SR_BACKEND_FAILURE_47" in failed["msg"] and iqn in failed["msg"]
    assert failed["unplugged"][0]["host"] == "xen-02"
    assert CHAP not in json.dumps(failed)
    tolerant = run(args(fake, chap_user="xen", chap_password=CHAP, fail_on_unplugged=False))
    assert tolerant["unplugged"][0]["iscsi_iqn"] == iqn and CHAP not in json.dumps(tolerant)


def test_absent_forgets_and_reports_missing_config(fake):
    run(args(fake))
    uuid = the_sr(fake)[1]["uuid"]
    gone = run(args(fake, state="absent"))
    assert gone["changed"] is True and gone["actions"][-1] == "forget" and fabric.iscsi_srs(fake) == {}
    assert fake.lun_sr_uuid(SCSI) == uuid  # forget leaves the SR on the LUN
    bad = run(args(fake, target=["192.0.2.21:3260", "192.0.2.22:3261"]), expect=Failed)
    assert bad["msg"].startswith("Failed to manage SR 'intel-sr01': INVALID_VALUE the portals use different ports")


def test_xapi_error_message_shape(fake):
    portals = ("192.0.2.31", "192.0.2.32")  # no target answers there: sm's ISCSITarget (141)
    failed = run(args(fake, target=["%s:3260" % p for p in portals]), expect=Failed)
    assert failed["msg"].startswith("Failed to manage SR 'intel-sr01': SR_BACKEND_FAILURE_141 Unable to connect to ISCSI service on target "
                                    "(target %s, targetIQN %s, SCSIid %s)" % (",".join(portals), TARGET_IQN, SCSI))
    assert failed["msg"].endswith(". Check target, target_iqn and scsi_id, that every host's IQN may reach the LUN and that the portals answer")
    assert "[, " not in failed["msg"]
    assert failed["error_code"] == "SR_BACKEND_FAILURE_141" and fabric.iscsi_srs(fake) == {} and fake.writes() == []


def test_sr_info_lists_initiators_and_health(fake):
    run(args(fake))
    fabric.join_new_host(fake)
    with patch_module_args({"hostname": "http://" + fake.master, "password": fake.password, "types": ["lvmoiscsi"]}):
        with pytest.raises(Exited) as info:
            sr_info.main()
    result = info.value.args[0]
    assert [h["iscsi_iqn"] for h in result["hosts"]] == [fabric.iqn_of(fake, "xen-%02d" % i) for i in (1, 2, 3)]
    assert result["hosts"][0]["is_master"] is True
    (only,) = result["srs"]
    expected = [("xen-01", True, None), ("xen-02", True, None), ("xen-03", False, "no PBD")]
    assert [(p["host"], p["plugged"], p["reason"]) for p in only["pbds"]] == expected


def test_empty_name_never_renames(fake):
    """Issue 9 (6): name: "" renamed the SR to ""."""
    run(args(fake))
    fake.reset_calls()
    failed = run(args(fake, name=""), expect=Failed)
    assert failed["msg"].startswith("Failed to manage SR '") and "INVALID_VALUE name is empty" in failed["msg"]
    assert fake.writes() == [] and the_sr(fake)[1]["name_label"] == "intel-sr01"


def test_sr_marked_for_another_pool_is_refused_then_taken_over_explicitly(fake):
    """Issue 4 (Xen side): an SR whose mark names another pool is not plugged here unless take_over_from_other_pool."""
    run(args(fake))
    ref, rec = the_sr(fake)
    fake.update("SR", ref, other_config=dict(rec["other_config"], **{"vdc.xenpool.pool": "0b7c2f4e-other-pool"}))
    for pbd in rec["PBDs"]:
        fake.update("PBD", pbd, currently_attached=False)
    fake.reset_calls()
    failed = run(args(fake), expect=Failed)
    assert failed["error_code"] == "SR_OWNED_BY_OTHER_POOL" and "0b7c2f4e-other-pool" in failed["msg"]
    assert "take_over_from_other_pool" in failed["msg"] and fake.writes() == []
    taken = run(args(fake, take_over_from_other_pool=True))
    assert taken["actions"][0] == "take over from pool 0b7c2f4e-other-pool"
    assert the_sr(fake)[1]["other_config"]["vdc.xenpool.pool"] == next(iter(fake.records("pool").values()))["uuid"]
    assert all(p["plugged"] for p in taken["sr"]["pbds"])


def test_declared_lun_size_predicts_the_scan_in_check_mode(fake):
    """Issue 9 (9): storage.yml --check with a larger size_gib said 'ok' while the real run scanned and grew the SR."""
    run(args(fake))
    size = the_sr(fake)[1]["physical_size"]
    fake.reset_calls()
    planned = run(args(fake, lun_size_gib=4096, _ansible_check_mode=True))
    assert planned["changed"] is True and planned["actions"] == ["scan"] and fake.writes() == []
    assert planned["sr"]["physical_size"] == 4096 * GIB
    assert the_sr(fake)[1]["physical_size"] == size  # the LUN still has its old size: the declared one wins
    assert run(args(fake, lun_size_gib=2048, _ansible_check_mode=True))["changed"] is False
    assert int(size) > 0


def test_declared_lun_size_spares_the_probe_and_still_scans_a_grown_lun(fake):
    """A no-op with lun_size_gib reads the pool and probes nothing; a LUN grown to the declared size is still
    predicted and scanned. Without lun_size_gib the size is probed, as before."""
    run(args(fake, lun_size_gib=2048))
    fake.reset_calls()
    assert run(args(fake, lun_size_gib=2048))["changed"] is False
    assert fake.counters().get("SR.probe", 0) == 0 and fake.writes() == []
    fabric.lun_visible_to(fake, size_gib=3072)  # ontap_lun grew it, earlier in the play
    planned = run(args(fake, lun_size_gib=3072, _ansible_check_mode=True))
    assert planned["actions"] == ["scan"] and fake.writes() == []
    grown = run(args(fake, lun_size_gib=3072))
    assert grown["actions"] == ["scan"] and grown["sr"]["physical_size"] >= 3072 * GIB - 256 * 1024 ** 2
    assert fake.counters().get("SR.probe", 0) == 0
    fake.reset_calls()
    assert run(args(fake))["changed"] is False and fake.counters()["SR.probe"] == 1
