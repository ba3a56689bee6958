# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_xen/maintenance.py: order, evacuation check, the reboot guard and the bounded wait, with a scripted client."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import maintenance as maint
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenConnectionError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState


def records(enabled=False, guests=0, live=True, plugged=True, boot="1"):
    hosts = {"h%d" % i: {"name_label": "xen-%d" % i, "enabled": True, "metrics": "m%d" % i, "PBDs": ["p%d" % i],
                         "other_config": {"boot_time": boot}} for i in (1, 2, 3)}
    hosts["h2"]["enabled"] = enabled
    vms = {"v%d" % i: {"name_label": "vm%d" % i, "resident_on": "h2", "power_state": "Running", "is_a_template": False,
                       "is_a_snapshot": False, "is_control_domain": False, "ha_restart_priority": "restart"} for i in range(guests)}
    return {"pool": {"P": {"master": "h1", "ha_enabled": True}}, "host": hosts,
            "host_metrics": {"m%d" % i: {"live": live if i == 2 else True} for i in (1, 2, 3)},
            "PBD": {"p%d" % i: {"currently_attached": plugged if i == 2 else True} for i in (1, 2, 3)}, "VM": vms, "SR": {}}


class Client:
    """Answers from a script of pool records, one per read round; a None round is a host that does not answer."""

    def __init__(self, rounds, blockers=None, ha_plan=None):
        self.rounds = list(rounds)
        self.blockers = blockers or {}
        self.ha_plan = ha_plan or {}
        self.calls = []
        self.current = None

    def call(self, method, *args):
        self.calls.append(method)
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


def test_check_reports_blockers_and_the_ha_plan_in_two_calls():
    state = PoolState(records(guests=2))
    client = Client([], blockers={"v0": ["VM_REQUIRES_SR", "v0", "sr"]},
                    ha_plan={"v0": {"error_code": "HOST_NOT_ENOUGH_FREE_MEMORY"}, "v1": {"host": "h3"}})
    out = maint.check_host(client, state, "h2")
    assert out["blockers"] == {"vm0": "VM_REQUIRES_SR v0 sr"} and out["moves"] == {"vm1": "xen-3"}
    assert client.calls == ["host.get_vms_which_prevent_evacuation", "pool.ha_compute_vm_failover_plan"]


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
