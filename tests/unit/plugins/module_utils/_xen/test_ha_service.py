# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HA service's planning, on hand-built pool records: the capacity check, step order, agility, validation."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import ha
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState

GIB = 1024 ** 3


class Planner:
    """Stands in for xapi's planner: answers the hypothetical capacity and records what it was asked."""

    def __init__(self, answer: int) -> None:
        self.answer = answer
        self.asked: list[dict] = []
        self.calls: list[tuple] = []

    def call(self, method, *args):
        self.calls.append((method,) + args)
        if method == "pool.ha_compute_hypothetical_max_host_failures_to_tolerate":
            self.asked.append(args[0])
            return str(self.answer)
        return None

    def call_async(self, method, *args):
        self.calls.append(("Async." + method,) + args)
        return "OpaqueRef:task"


def pool_state(hosts=4, shared=True, vm_net_on_all=True, ha_enabled=False, ntol=0):
    records = {"pool": {"P": {"name_label": "pool-amd", "master": "H1", "ha_enabled": ha_enabled, "ha_host_failures_to_tolerate": str(ntol),
                              "ha_plan_exists_for": str(ntol), "ha_overcommitted": False, "ha_allow_overcommit": False,
                              "ha_configuration": {}, "ha_statefiles": []}},
               "host": {}, "host_metrics": {}, "SR": {}, "PBD": {}, "VM": {}, "VBD": {}, "VDI": {}, "VIF": {}, "network": {}, "PIF": {}}
    for i in range(1, hosts + 1):
        records["host"]["H%d" % i] = {"name_label": "xen-amd-%02d" % i, "enabled": True, "metrics": "M%d" % i}
        records["host_metrics"]["M%d" % i] = {"memory_free": str(40 * GIB), "live": True}
        records["PBD"]["PBD%d" % i] = {"host": "H%d" % i, "currently_attached": True, "SR": "SR1"}
        records["PIF"]["PIF%d" % i] = {"host": "H%d" % i, "network": "N1"}
    records["SR"]["SR1"] = {"name_label": "ha-shared", "uuid": "sr-1", "shared": shared, "PBDs": ["PBD%d" % i for i in range(1, hosts + 1)]}
    pifs = ["PIF%d" % i for i in range(1, hosts + 1)] if vm_net_on_all else ["PIF1"]
    records["network"]["N1"] = {"name_label": "vm-prod", "PIFs": pifs}
    for i, name in enumerate(["spamfilter1", "spamfilter2", "db1"], 1):
        records["VM"]["V%d" % i] = {"name_label": name, "uuid": "vm-%d" % i, "is_a_template": False, "is_a_snapshot": False,
                                    "is_control_domain": False, "ha_restart_priority": "", "order": "0", "start_delay": "0",
                                    "memory_static_max": str(8 * GIB), "power_state": "Running", "VBDs": ["VBD%d" % i], "VIFs": ["VIF%d" % i]}
        records["VBD"]["VBD%d" % i] = {"VDI": "VDI%d" % i, "empty": False}
        records["VDI"]["VDI%d" % i] = {"SR": "SR1", "name_label": "%s disk" % name}
        records["VIF"]["VIF%d" % i] = {"network": "N1"}
    records["VM"]["DOM0"] = {"name_label": "Control domain", "is_control_domain": True, "is_a_template": False, "is_a_snapshot": False}
    return PoolState(records)


def desired(**kw):
    base = {"state": "enabled", "heartbeat_srs": ["ha-shared"], "host_failures_to_tolerate": 1, "allow_overcommit": None,
            "timeout": None, "vms": None}
    base.update(kw)
    return base


def test_capacity_shortfall_is_refused_before_any_write_naming_vms_and_hosts():
    planner = Planner(answer=0)
    vms = [{"name": "spamfilter1", "restart_priority": "restart"}, {"name": "db1", "restart_priority": "restart"}]
    with pytest.raises(PlanError) as exc:
        ha.plan(planner, pool_state(), desired(vms=vms))
    text = str(exc.value)
    assert exc.value.code == "HA_CAPACITY_SHORTFALL"
    assert "spamfilter1 (8192 MiB)" in text and "db1 (8192 MiB)" in text and "xen-amd-03 (40960 MiB free)" in text
    assert "can tolerate 0" in text and "allow_overcommit" in exc.value.hint
    assert [c[0] for c in planner.calls] == ["pool.ha_compute_hypothetical_max_host_failures_to_tolerate"]
    # the planner was asked about the desired set, not the current one
    assert planner.asked[0] == {"V1": "restart", "V2": "", "V3": "restart"}


def test_allow_overcommit_lets_the_same_declaration_through():
    plan, possible = ha.plan(Planner(answer=0), pool_state(), desired(allow_overcommit=True,
                                                                      vms=[{"name": "db1", "restart_priority": "restart"}]))
    assert possible == 0
    calls = [s["call"] for s in plan.steps]
    assert calls == ["pool.set_ha_allow_overcommit", "pool.enable_ha", "pool.set_ha_host_failures_to_tolerate",
                     "VM.set_ha_restart_priority"]


def test_enable_orders_steps_and_predicts_after():
    vms = [{"name": "spamfilter1", "restart_priority": "restart", "order": 1}, {"name": "spamfilter2", "restart_priority": "best-effort"}]
    plan, possible = ha.plan(Planner(answer=2), pool_state(), desired(vms=vms, timeout=60))
    calls = [s["call"] for s in plan.steps]
    # plan-neutral and lowering changes first, enable, failure count, raising last: each call keeps xapi's plan check
    # satisfied (spamfilter1's order, spamfilter2 to best-effort, ..., spamfilter1 to restart)
    assert calls == ["VM.set_order", "VM.set_ha_restart_priority", "pool.enable_ha", "pool.set_ha_host_failures_to_tolerate",
                     "VM.set_ha_restart_priority"]
    enable = plan.steps[2]
    assert enable["args"] == [["SR1"], {"timeout": "60"}] and enable["run_async"]
    assert plan.after["enabled"] and plan.after["host_failures_to_tolerate"] == 1
    assert plan.after["vms"]["spamfilter1"] == {"restart_priority": "restart", "order": 1, "start_delay": 0}
    assert plan.before["vms"]["spamfilter2"]["restart_priority"] == "do-not-restart" and possible == 2


def test_no_change_when_enabled_as_declared():
    state = pool_state(ha_enabled=True, ntol=1)
    state.records["pool"]["P"]["ha_statefiles"] = ["VDI-SF"]
    state.records["VDI"]["VDI-SF"] = {"SR": "SR1", "name_label": "Statefile for HA"}
    plan = ha.plan(Planner(answer=1), state, desired())[0]
    assert not plan.changed and plan.steps == []


def test_disable_keeps_the_heartbeat_sr():
    plan, possible = ha.plan(Planner(answer=3), pool_state(ha_enabled=True, ntol=1), desired(state="disabled"))
    assert [s["call"] for s in plan.steps] == ["pool.disable_ha"] and possible is None
    assert not plan.after["enabled"]


@pytest.mark.parametrize("kw, code, fragment", [
    ({"host_failures_to_tolerate": 4}, "INVALID_VALUE", "from 0 to 3"),
    ({"host_failures_to_tolerate": -1}, "INVALID_VALUE", "from 0 to 3"),
    ({"timeout": 5}, "INVALID_VALUE", "at least 10"),
    ({"heartbeat_srs": ["nope"]}, "SR_NOT_FOUND", "nope"),
    ({"heartbeat_srs": None}, "MISSING_HEARTBEAT_SR", "heartbeat"),
    ({"vms": [{"name": "ghost", "restart_priority": "restart"}]}, "VM_NOT_FOUND", "ghost"),
])
def test_bad_input_is_refused_while_planning(kw, code, fragment):
    planner = Planner(answer=3)
    with pytest.raises(PlanError) as exc:
        ha.plan(planner, pool_state(), desired(**kw))
    assert exc.value.code == code and fragment in str(exc.value) + exc.value.hint
    assert not [c for c in planner.calls if not c[0].startswith("pool.ha_compute")]


def test_heartbeat_sr_must_be_shared_and_plugged_everywhere():
    state = pool_state()
    state.records["PBD"]["PBD3"]["currently_attached"] = False
    with pytest.raises(PlanError) as exc:
        ha.plan(Planner(answer=3), state, desired())
    assert exc.value.code == "SR_HAS_NO_PBDS" and "xen-amd-03" in str(exc.value)


def test_two_vms_with_one_name_are_an_error_not_a_guess():
    state = pool_state()
    state.records["VM"]["V2"]["name_label"] = "spamfilter1"
    with pytest.raises(PlanError) as exc:
        ha.plan(Planner(answer=3), state, desired(vms=[{"name": "spamfilter1", "restart_priority": "restart"}]))
    assert exc.value.code == "VM_NAME_AMBIGUOUS"


def test_agility_names_the_reason():
    state = pool_state(shared=False, vm_net_on_all=False)
    rows = {r["name"]: r for r in ha.protection_view(state)}
    assert not rows["db1"]["agile"]
    assert any("not shared" in r for r in rows["db1"]["not_agile_because"])
    assert any("vm-prod" in r for r in rows["db1"]["not_agile_because"])
    assert "Control domain" not in rows
    assert all(r["agile"] for r in ha.protection_view(pool_state()))


def test_wait_false_leaves_only_the_final_task_running():
    planner = Planner(answer=2)
    plan = ha.plan(planner, pool_state(ha_enabled=True, ntol=1), desired(state="disabled"))[0]
    assert ha.apply(planner, plan, wait=False) == ["OpaqueRef:task"]


def test_check_mode_on_a_fresh_estate_predicts_instead_of_refusing():
    """--check of a whole site: the heartbeat SR and the members come from earlier steps of the same run."""
    state = pool_state(hosts=1)
    plan = ha.plan(Planner(answer=1), state, desired(heartbeat_srs=["pool-amd-ha-heartbeat"]), predict=True)[0]
    assert [s["call"] for s in plan.steps] == ["pool.enable_ha", "pool.set_ha_host_failures_to_tolerate"]
    assert plan.steps[0]["args"][0] == []
    assert any("pool-amd-ha-heartbeat" in n and "does not exist yet" in n for n in plan.notes)
    assert any("1 host(s) now" in n for n in plan.notes)
    # the real run refuses the same input
    with pytest.raises(PlanError):
        ha.plan(Planner(answer=1), state, desired(heartbeat_srs=["pool-amd-ha-heartbeat"]))


def test_check_mode_still_refuses_a_real_shortfall():
    with pytest.raises(PlanError) as exc:
        ha.plan(Planner(answer=0), pool_state(), desired(vms=[{"name": "db1", "restart_priority": "restart"}]), predict=True)
    assert exc.value.code == "HA_CAPACITY_SHORTFALL"


def _vm_plan(ref, value):
    from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
    plan = Plan()
    plan.add("set", "ha_restart_priority", "-> %s" % value, method="VM.set_ha_restart_priority", args=[value])
    return ref, plan


def test_vm_protection_that_breaks_the_plan_is_refused_before_any_write():
    state = pool_state(ha_enabled=True, ntol=1)
    planner = Planner(answer=0)
    with pytest.raises(PlanError) as exc:
        ha.guard_protection_changes(planner, state, [_vm_plan("V1", "restart"), _vm_plan("V3", "restart")])
    assert exc.value.code == "HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN" and "spamfilter1 (8192 MiB)" in str(exc.value)
    assert planner.asked[0]["V1"] == "restart" and planner.asked[0]["V2"] == ""
    assert [c[0] for c in planner.calls] == ["pool.ha_compute_hypothetical_max_host_failures_to_tolerate"]


@pytest.mark.parametrize("ha_enabled, overcommit, value, power, answer", [
    (False, False, "restart", "Running", 0),       # HA off: xapi does not check
    (True, True, "restart", "Running", 0),         # overcommit allowed
    (True, False, "best-effort", "Running", 0),    # not part of the plan
    (True, False, "restart", "Halted", 0),         # a halted VM does not count until it starts
    (True, False, "restart", "Running", 1),        # the plan still holds
])
def test_vm_protection_changes_that_keep_the_plan_pass(ha_enabled, overcommit, value, power, answer):
    state = pool_state(ha_enabled=ha_enabled, ntol=1)
    state.records["pool"]["P"]["ha_allow_overcommit"] = overcommit
    state.records["VM"]["V1"]["power_state"] = power
    ha.guard_protection_changes(Planner(answer=answer), state, [_vm_plan("V1", value)])
