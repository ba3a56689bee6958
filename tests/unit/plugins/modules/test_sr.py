# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import functools
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import tasks as tasks_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.modules import sr, sr_info
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_sr_fake import GIB, PORTALS, TARGET_IQN, StorageXapi

SERIAL = "wf0Iq+N4uck3"
CHAP = "Chap-Secret-0042"


class Exited(Exception):
    pass


class Failed(Exception):
    pass


@pytest.fixture
def fake(monkeypatch):
    xapi = StorageXapi()
    xapi.hosts = xapi.seed_hosts(2)
    xapi.scsi = xapi.add_lun(SERIAL, 2048 * GIB)
    xapi.allow_all(xapi.scsi)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory,
                                                                   sleep=lambda s: None))
    monkeypatch.setattr(tasks_mod.time, "sleep", lambda s: None)

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    def fail_json(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    return xapi


def args(fake, **over):
    base = {"hostname": "127.0.0.10", "password": fake.password, "name": "intel-sr01", "type": "lvmoiscsi",
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
    assert done["sr"]["pbds"][0]["device_config"]["SCSIid"] == fake.scsi  # derived from lun_serial
    fake.log.clear()
    assert run(args(fake, _ansible_check_mode=True))["changed"] is False
    again = run(args(fake))
    assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"] and fake.writes() == []
    assert fake.open_sessions() == 0


def test_drift_shown_in_diff(fake):
    run(args(fake))
    ref = next(iter(fake.srs()))
    fake.srs()[ref]["name_description"] = "old"
    result = run(args(fake, description="new", _ansible_check_mode=True))
    assert result["changed"] is True and result["actions"] == ["set description"]
    assert result["diff"]["before"]["description"] == "old" and result["diff"]["after"]["description"] == "new"
    assert fake.srs()[ref]["name_description"] == "old"


def test_unplugged_host_fails_with_reason_and_secret_stays_hidden(fake):
    run(args(fake, chap_user="xen", chap_password=CHAP))
    iqn = fake.objects["host"][fake.hosts[1]]["iscsi_iqn"]
    fake.luns[fake.scsi]["initiators"].discard(iqn)
    for pbd in fake.objects["PBD"].values():
        if pbd["host"] == fake.hosts[1]:
            pbd["currently_attached"] = False
    failed = run(args(fake, chap_user="xen", chap_password=CHAP), expect=Failed)
    assert "xen-02: SR_BACKEND_FAILURE_47" in failed["msg"] and iqn in failed["msg"]
    assert failed["unplugged"][0]["host"] == "xen-02"
    assert CHAP not in json.dumps(failed)
    tolerant = run(args(fake, chap_user="xen", chap_password=CHAP, fail_on_unplugged=False))
    assert tolerant["unplugged"][0]["iscsi_iqn"] == iqn and CHAP not in json.dumps(tolerant)


def test_absent_forgets_and_reports_missing_config(fake):
    run(args(fake))
    gone = run(args(fake, state="absent"))
    assert gone["changed"] is True and gone["actions"][-1] == "forget" and fake.srs() == {}
    assert fake.luns[fake.scsi]["sr"] is not None
    bad = run(args(fake, target=["192.0.2.21:3260", "192.0.2.22:3261"]), expect=Failed)
    assert bad["msg"].startswith("Failed to manage SR 'intel-sr01': INVALID_VALUE the portals use different ports")


def test_xapi_error_message_shape(fake):
    fake.fail("SR.probe", ["SR_BACKEND_FAILURE_141", "", "Unable to connect to iSCSI service on target", ""])
    failed = run(args(fake), expect=Failed)
    assert failed["msg"].startswith("Failed to manage SR 'intel-sr01': SR_BACKEND_FAILURE_141 Unable to connect to iSCSI service on target "
                                    "(target %s, targetIQN %s, SCSIid %s)" % (",".join(PORTALS), TARGET_IQN, fake.scsi))
    assert failed["msg"].endswith(". Check target, target_iqn and scsi_id, that every host's IQN may reach the LUN and that the portals answer")
    assert "[, " not in failed["msg"]
    assert failed["error_code"] == "SR_BACKEND_FAILURE_141" and fake.srs() == {}


def test_sr_info_lists_initiators_and_health(fake):
    run(args(fake))
    fake.add_host("xen-03")
    with patch_module_args({"hostname": "127.0.0.10", "password": fake.password, "types": ["lvmoiscsi"]}):
        with pytest.raises(Exited) as info:
            sr_info.main()
    result = info.value.args[0]
    assert [h["iscsi_iqn"] for h in result["hosts"]] == ["iqn.2024-01.org.example:xen-%02d" % i for i in (1, 2, 3)]
    assert result["hosts"][0]["is_master"] is True
    (only,) = result["srs"]
    expected = [("xen-01", True, None), ("xen-02", True, None), ("xen-03", False, "no PBD")]
    assert [(p["host"], p["plugged"], p["reason"]) for p in only["pbds"]] == expected


def test_empty_name_never_renames(fake):
    """Issue 9 (6): name: "" renamed the SR to ""."""
    run(args(fake))
    fake.log.clear()
    failed = run(args(fake, name=""), expect=Failed)
    assert failed["msg"].startswith("Failed to manage SR '") and "INVALID_VALUE name is empty" in failed["msg"]
    assert fake.writes() == [] and next(iter(fake.srs().values()))["name_label"] == "intel-sr01"


def test_sr_marked_for_another_pool_is_refused_then_taken_over_explicitly(fake):
    """Issue 4 (Xen side): an SR whose mark names another pool is not plugged here unless take_over_from_other_pool."""
    run(args(fake))
    ref, rec = next(iter(fake.srs().items()))
    rec["other_config"]["vdc.xenpool.pool"] = "0b7c2f4e-other-pool"
    for pbd in fake.objects["PBD"].values():
        pbd["currently_attached"] = False
    fake.log.clear()
    failed = run(args(fake), expect=Failed)
    assert failed["error_code"] == "SR_OWNED_BY_OTHER_POOL" and "0b7c2f4e-other-pool" in failed["msg"]
    assert "take_over_from_other_pool" in failed["msg"] and fake.writes() == []
    taken = run(args(fake, take_over_from_other_pool=True))
    assert taken["actions"][0] == "take over from pool 0b7c2f4e-other-pool"
    assert fake.srs()[ref]["other_config"]["vdc.xenpool.pool"] == fake.objects["pool"][fake.pool_ref()]["uuid"]
    assert all(p["plugged"] for p in taken["sr"]["pbds"])


def test_declared_lun_size_predicts_the_scan_in_check_mode(fake):
    """Issue 9 (9): storage.yml --check with a larger size_gib said 'ok' while the real run scanned and grew the SR."""
    run(args(fake))
    size = next(iter(fake.srs().values()))["physical_size"]
    fake.log.clear()
    planned = run(args(fake, lun_size_gib=4096, _ansible_check_mode=True))
    assert planned["changed"] is True and planned["actions"] == ["scan"] and fake.writes() == []
    assert planned["sr"]["physical_size"] == 4096 * GIB
    assert fake.luns[fake.scsi]["size"] == 2048 * GIB  # the probe still sees the old size: the declared one wins
    assert run(args(fake, lun_size_gib=2048, _ansible_check_mode=True))["changed"] is False
    assert int(size) > 0


def test_declared_lun_size_spares_the_probe_and_still_scans_a_grown_lun(fake):
    """A no-op with lun_size_gib reads the pool and probes nothing; a LUN grown to the declared size is still
    predicted and scanned. Without lun_size_gib the size is probed, as before."""
    run(args(fake, lun_size_gib=2048))
    fake.log.clear()
    assert run(args(fake, lun_size_gib=2048))["changed"] is False
    assert fake.counters().get("SR.probe", 0) == 0 and fake.writes() == []
    fake.luns[fake.scsi]["size"] = 3072 * GIB  # ontap_lun grew it, earlier in the play
    planned = run(args(fake, lun_size_gib=3072, _ansible_check_mode=True))
    assert planned["actions"] == ["scan"] and fake.writes() == []
    grown = run(args(fake, lun_size_gib=3072))
    assert grown["actions"] == ["scan"] and grown["sr"]["physical_size"] >= 3072 * GIB - 256 * 1024 ** 2
    assert fake.counters().get("SR.probe", 0) == 0
    fake.log.clear()
    assert run(args(fake))["changed"] is False and fake.counters()["SR.probe"] == 1
