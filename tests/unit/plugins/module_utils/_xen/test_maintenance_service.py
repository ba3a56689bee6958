# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_xen/maintenance.py: order, batch check, evacuation, the reboot guard and the bounded wait, with a scripted client."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import maintenance as maint
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenConnectionError, XenError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState


def records(enabled=False, guests=0, live=True, plugged=True, boot="1", unprotected=0):
    hosts = {"h%d" % i: {"name_label": "xen-%d" % i, "enabled": True, "metrics": "m%d" % i, "PBDs": ["p%d" % i],
                         "other_config": {"boot_time": boot}} for i in (1, 2, 3)}
    hosts["h2"]["enabled"] = enabled
    vms = {"v%d" % i: {"name_label": "vm%d" % i, "resident_on": "h2", "power_state": "Running", "is_a_template": False,
                       "is_a_snapshot": False, "is_control_domain": False, "ha_restart_priority": "restart",
                       "ha_always_run": i >= unprotected} for i in range(guests)}
    return {"pool": {"P": {"master": "h1", "ha_enabled": True}}, "host": hosts,
            "host_metrics": {"m%d" % i: {"live": live if i == 2 else True} for i in (1, 2, 3)},
            "PBD": {"p%d" % i: {"currently_attached": plugged if i == 2 else True} for i in (1, 2, 3)}, "VM": vms, "SR": {}}


class Client:
    """Answers from a script of pool records, one per read round; a None round is a host that does not answer."""

    def __init__(self, rounds, blockers=None, ha_plan=None, fail=None):
        self.rounds = list(rounds)
        self.blockers = blockers or {}
        self.ha_plan = ha_plan or {}
        self.fail = fail or {}
        self.calls = []
        self.args = []
        self.current = None

    def call_async(self, method, *args):
        self.calls.append("Async." + method)
        self.args.append(("Async." + method,) + args)
        return "task-%d" % len(self.calls)

    def call(self, method, *args):
        self.calls.append(method)
        self.args.append((method,) + args)
        if method == "task.get_record":
            failed = self.fail.get(next(c for c in self.args if c[0].startswith("Async."))[0])
            return {"status": "failure", "error_info": failed} if failed else {"status": "success", "result": ""}
        if method in ("task.destroy", "host.disable", "host.enable"):
            return ""
        if method == "host.get_vms_which_prevent_evacuation":
            return self.blockers
        if method == "pool.ha_compute_vm_failover_plan":
            return self.ha_plan
        if method == "host.reboot":
            return ""
        if method == "host.get_all_records":
            self.current = self.rounds.pop(0) if len(self.rounds) > 1 else self.rounds[0]
        if self.current is None:
            raise XenConnectionError("refused", "https://xen-2")
        return self.current[method.split(".")[0]]


def test_order_members_by_name_master_last_and_unknown_hosts():
    state = PoolState(records())
    assert [state.name_of("host", r) for r in maint.order(state)] == ["xen-2", "xen-3", "xen-1"]
    with pytest.raises(PlanError) as info:
        maint.order(state, ["xen-9"])
    assert info.value.code == "HOST_NOT_FOUND"


def test_check_reports_blockers_and_where_each_vm_goes_with_the_batch_away():
    state = PoolState(records(guests=3))
    client = Client([], blockers={"v0": ["VM_REQUIRES_SR", "v0", "sr"], "v2": ["HOST_EVACUATE_VM_NOT_HA_PROTECTED", "v2"]},
                    ha_plan={"v0": {"error_code": "HOST_NOT_ENOUGH_FREE_MEMORY"}, "v1": {"host": "h3"}, "v2": {"host": "h1"}})
    out = maint.check_batch(client, state, ["h2"])["xen-2"]
    # xapi's HA refusal of an unprotected VM is not a blocker: evacuate_batch migrates it itself
    assert out["blockers"] == {"vm0": "VM_REQUIRES_SR v0 sr"} and out["moves"] == {"vm1": "xen-3", "vm2": "xen-1"}
    assert client.calls == ["host.get_vms_which_prevent_evacuation", "pool.ha_compute_vm_failover_plan"]
    assert client.args[1][1] == ["h2"] and sorted(client.args[1][2]) == ["v0", "v1", "v2"]


def test_check_of_a_batch_plans_all_its_vms_with_every_batch_host_away_in_one_call():
    rec = records(guests=1)
    rec["VM"]["v9"] = dict(rec["VM"]["v0"], name_label="vm9", resident_on="h3")
    client = Client([], ha_plan={"v0": {"error_code": "HOST_NOT_ENOUGH_FREE_MEMORY"}})
    out = maint.check_batch(client, PoolState(rec), ["h2", "h3"])
    assert client.calls.count("pool.ha_compute_vm_failover_plan") == 1 and client.args[-1][1] == ["h2", "h3"]
    assert out["xen-2"]["blockers"] == {"vm0": "HOST_NOT_ENOUGH_FREE_MEMORY: no room on the hosts that stay in service"}
    assert out["xen-3"]["blockers"] == {"vm9": "not placed by xapi's plan"}


def test_evacuate_disables_then_migrates_unprotected_vms_then_evacuates():
    rec = records(enabled=True, guests=2, unprotected=1)
    after = records(enabled=False)
    after["VM"] = {k: dict(v, resident_on="h3") for k, v in rec["VM"].items()}
    client = Client([rec, after], ha_plan={"v0": {"host": "h1"}, "v1": {"host": "h3"}})
    out = maint.evacuate_batch(client, PoolState(rec), ["h2"], 60)
    writes = [c for c in client.args if c[0] in ("host.disable", "Async.VM.pool_migrate", "Async.host.evacuate")]
    assert writes == [("host.disable", "h2"), ("Async.VM.pool_migrate", "v0", "h1", {"live": "true"}), ("Async.host.evacuate", "h2")]
    assert out == {"left": {"vm0": "xen-2", "vm1": "xen-2"}, "moved": {"vm0": "xen-3", "vm1": "xen-3"}}


def test_evacuate_refused_before_any_write_when_a_vm_cannot_go():
    client = Client([], blockers={"v0": ["VM_REQUIRES_SR", "v0", "sr"]}, ha_plan={"v0": {"host": "h1"}})
    with pytest.raises(PlanError) as info:
        maint.evacuate_batch(client, PoolState(records(enabled=True, guests=1)), ["h2"], 60)
    assert info.value.code == "HOST_CANNOT_BE_EVACUATED" and "vm0 (VM_REQUIRES_SR v0 sr)" in str(info.value)
    assert client.calls == ["host.get_vms_which_prevent_evacuation", "pool.ha_compute_vm_failover_plan"]


def test_evacuate_refused_half_way_enables_the_hosts_again():
    rec = records(enabled=True, guests=1, unprotected=1)
    client = Client([rec], ha_plan={"v0": {"host": "h1"}}, fail={"Async.VM.pool_migrate": ["HOST_NOT_ENOUGH_FREE_MEMORY", "v0"]})
    with pytest.raises(XenError) as info:
        maint.evacuate_batch(client, PoolState(rec), ["h2"], 60)
    assert "HOST_NOT_ENOUGH_FREE_MEMORY" in str(info.value) and "enabled again" in str(info.value)
    assert client.calls[-1] == "host.enable" and "Async.host.evacuate" not in client.calls


def test_booted_after_skips_hosts_whose_maintenance_is_done():
    state = PoolState(records(boot="2000"))
    assert maint.booted_after(state, "h2", 1000) and not maint.booted_after(state, "h2", 2000)
    assert not maint.booted_after(state, "h2", 0) and not maint.booted_after(PoolState(records(boot="")), "h2", 1000)


@pytest.mark.parametrize("rec, words", [(records(enabled=True), "is enabled"), (records(guests=1), "still runs vm0")])
def test_reboot_refused_for_an_enabled_or_occupied_host_with_no_call(rec, words):
    client = Client([])
    with pytest.raises(PlanError) as info:
        maint.reboot_and_wait(client, PoolState(rec), ["h2"], 60)
    assert words in str(info.value) and client.calls == []


def test_reboot_waits_through_down_until_live_with_pbds_and_a_new_boot():
    rounds = [records(boot="1"), None, records(live=False), records(plugged=False, boot="2"), records(boot="2")]
    client = Client(rounds)
    now = [0.0]
    out = maint.reboot_and_wait(client, PoolState(records()), ["h2"], 600, sleep=lambda s: now.__setitem__(0, now[0] + s),
                                clock=lambda: now[0])
    assert out["xen-2"]["live"] and out["xen-2"]["pbds_plugged"] and client.calls.count("host.reboot") == 1
    assert client.calls.count("host.get_all_records") == 5


def test_reboot_wait_is_bounded():
    client = Client([records(boot="1")])
    now = [0.0]
    with pytest.raises(PlanError) as info:
        maint.reboot_and_wait(client, PoolState(records()), ["h2"], 30, sleep=lambda s: now.__setitem__(0, now[0] + s),
                              clock=lambda: now[0])
    assert info.value.code == "HOST_REBOOT_TIMEOUT" and "xen-2 not back" in str(info.value)
