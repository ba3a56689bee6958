# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The balance planner over plain dicts: no pool, no fake XenAPI."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.balance import plan_moves
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.balance_ha import biggest_fit_decreasing, plan_exists

NET, SR = "net-0", "sr-shared"
OPTIONS = {"memory_threshold": 85, "cpu_threshold": 80, "anti_affinity": [], "exclude": [], "hosts": [], "max_moves": None,
           "max_parallel": 2}


def host(name, used=1024, total=16384, cpu=10.0, **extra):
    return dict({"name": name, "uuid": "h-" + name, "enabled": True, "live": True, "cpu_count": 8, "memory_total_mib": total,
                 "memory_used_mib": used, "cpu_percent": cpu, "networks": [NET], "srs": [SR]}, **extra)


def vm(name, on, memory=2048, cpu=10.0, **extra):
    return dict({"name": name, "uuid": "v-" + name, "host": "h-" + on, "running": True, "memory_mib": memory, "cpu_percent": cpu,
                 "vcpus": 2, "tags": [], "networks": [NET], "srs": [SR], "protected": False}, **extra)


def pool(hosts, vms, ha=None):
    """Hosts' used memory is their base plus the VMs placed on them, as the pool would report it."""
    hosts = [dict(h) for h in hosts]
    for h in hosts:
        h["memory_used_mib"] += sum(v["memory_mib"] for v in vms if v["host"] == h["uuid"] and v["running"])
    return {"name": "pool", "hosts": hosts, "vms": vms, "ha": ha or {}}


def opts(**changes):
    return dict(copy.deepcopy(OPTIONS), **changes)


def skewed():
    """Six 16 GiB hosts; fourteen 2 GiB VMs on xen-01 and xen-02 (94%), nothing elsewhere."""
    hosts = [host("xen-0%d" % i) for i in range(1, 7)]
    vms = [vm("web-%02d" % i, "xen-01" if i <= 7 else "xen-02") for i in range(1, 15)]
    return pool(hosts, vms)


def apply_moves(data, moves):
    """The pool after the moves, as a second run would read it."""
    after = copy.deepcopy(data)
    by_uuid = {v["uuid"]: v for v in after["vms"]}
    hosts = {h["name"]: h for h in after["hosts"]}
    for move in moves:
        v = by_uuid[move["vm_uuid"]]
        hosts[move["from"]]["memory_used_mib"] -= v["memory_mib"]
        hosts[move["to"]]["memory_used_mib"] += v["memory_mib"]
        v["host"] = hosts[move["to"]]["uuid"]
    return after


def test_skewed_pool_is_spread_under_the_threshold_and_a_second_run_plans_nothing():
    data = skewed()
    result = plan_moves(data, opts())
    assert result["load_before"]["xen-01"]["memory_percent"] > 85
    assert result["moves"], "the overloaded hosts must shed VMs"
    assert all(m["from"] in ("xen-01", "xen-02") for m in result["moves"])
    assert all(load["memory_percent"] <= 85 for load in result["load_after"].values())
    assert result["unresolved"] == []
    again = plan_moves(apply_moves(data, result["moves"]), opts())
    assert again["moves"] == []


def test_plan_is_deterministic_whatever_the_input_order():
    data = skewed()
    shuffled = dict(data, hosts=list(reversed(data["hosts"])), vms=list(reversed(data["vms"])))
    assert plan_moves(data, opts())["moves"] == plan_moves(shuffled, opts())["moves"]


def test_the_least_loaded_host_gets_the_vm():
    data = pool([host("a", used=15000), host("b", used=8000), host("c", used=2000)], [vm("x", "a", memory=1024)])
    moves = plan_moves(data, opts())["moves"]
    assert [(m["vm"], m["from"], m["to"]) for m in moves] == [("x", "a", "c")]


def test_the_vm_that_relieves_the_host_with_least_memory_moves():
    # 14336 of 16384 used: 87.5 %; 2 GiB off brings it to 75 %, 4 GiB too: the smaller one moves
    data = pool([host("a", used=8192), host("b")], [vm("big", "a", memory=4096), vm("small", "a", memory=2048)])
    moves = plan_moves(data, opts())["moves"]
    assert [m["vm"] for m in moves] == ["small"]


def test_cpu_over_threshold_moves_the_busiest_vm():
    data = pool([host("a", cpu=95.0), host("b", cpu=5.0)],
                [vm("idle", "a", cpu=1.0), vm("busy", "a", cpu=100.0, vcpus=4)])
    result = plan_moves(data, opts())
    assert [m["vm"] for m in result["moves"]] == ["busy"]
    assert result["load_after"]["a"]["cpu_percent"] == pytest.approx(45.0)
    assert result["load_after"]["b"]["cpu_percent"] == pytest.approx(55.0)


def test_unknown_cpu_is_left_out():
    data = pool([host("a", cpu=None), host("b", cpu=None)], [vm("x", "a", cpu=None)])
    result = plan_moves(data, opts())
    assert result["moves"] == [] and result["load_before"]["a"]["cpu_percent"] is None


@pytest.mark.parametrize("blocker", [
    {"enabled": False}, {"live": False}, {"networks": []}, {"srs": []}, {"memory_total_mib": 4096}, {"memory_total_mib": 0},
])
def test_a_host_that_cannot_take_the_vm_is_skipped(blocker):
    data = pool([host("a", used=13000), host("b", **blocker), host("c", used=6000)], [vm("x", "a")])
    assert [m["to"] for m in plan_moves(data, opts())["moves"]] == ["c"]


def test_nowhere_to_go_is_unresolved_not_an_error():
    data = pool([host("a", used=13000), host("b", used=13000)], [vm("x", "a")])
    result = plan_moves(data, opts())
    assert result["moves"] == []
    assert result["unresolved"] and "host a stays over a threshold" in result["unresolved"][0]


def test_anti_affinity_group_is_split_by_pattern_and_by_tag():
    vms = [vm("spam-01", "a"), vm("spam-02", "a"), vm("mx-1", "b", tags=["mail"]), vm("mx-2", "b", tags=["mail"])]
    data = pool([host("a"), host("b"), host("c"), host("d")], vms)
    groups = [{"name": "spamfilters", "vms": [], "match": ["spam-*"], "tag": None},
              {"name": "mx", "vms": [], "match": [], "tag": "mail"}]
    result = plan_moves(data, opts(anti_affinity=groups))
    after = apply_moves(data, result["moves"])
    where = {v["name"]: v["host"] for v in after["vms"]}
    assert where["spam-01"] != where["spam-02"] and where["mx-1"] != where["mx-2"]
    assert len(result["moves"]) == 2
    assert plan_moves(after, opts(anti_affinity=groups))["moves"] == []


def test_an_overload_move_never_joins_anti_affinity_mates():
    vms = [vm("spam-01", "a", memory=4096), vm("spam-02", "c")]
    data = pool([host("a", used=11000), host("b", used=7000), host("c")], vms)
    groups = [{"name": "spam", "vms": ["spam-01", "spam-02"], "match": [], "tag": None}]
    moves = plan_moves(data, opts(anti_affinity=groups))["moves"]
    assert [(m["vm"], m["to"]) for m in moves] == [("spam-01", "b")]


def test_excluded_vms_stay_and_hosts_limit_the_scope():
    data = skewed()
    result = plan_moves(data, opts(exclude=["web-%02d" % i for i in range(1, 8)]))
    assert all(m["from"] == "xen-02" for m in result["moves"])
    assert any("xen-01" in text for text in result["unresolved"])
    limited = plan_moves(data, opts(hosts=["xen-01", "xen-03"]))
    assert {m["from"] for m in limited["moves"]} == {"xen-01"} and {m["to"] for m in limited["moves"]} == {"xen-03"}


def test_max_moves_stops_the_plan_and_says_so():
    result = plan_moves(skewed(), opts(max_moves=1))
    assert len(result["moves"]) == 1
    assert result["notes"] == ["max_moves (1) reached before the pool was balanced"]


def test_halted_vms_do_not_count():
    data = pool([host("a", used=13000), host("b")], [vm("x", "a", running=False)])
    assert plan_moves(data, opts())["moves"] == []


@pytest.mark.parametrize("changes, code, words", [
    ({"memory_threshold": 0}, "INVALID_VALUE", "memory_threshold is 0"),
    ({"cpu_threshold": 101}, "INVALID_VALUE", "cpu_threshold is 101"),
    ({"max_parallel": 0}, "INVALID_VALUE", "max_parallel is 0"),
    ({"hosts": ["xen-09"]}, "HOST_NOT_FOUND", "'xen-09'"),
    ({"exclude": ["nope"]}, "VM_NOT_FOUND", "nope"),
    ({"anti_affinity": [{"name": "g", "vms": ["nope"], "match": [], "tag": None}]}, "VM_NOT_FOUND", "group 'g'"),
    ({"anti_affinity": [{"name": "g", "vms": [], "match": [], "tag": None}]}, "INVALID_VALUE", "selects no VM"),
    ({"anti_affinity": [{"name": "web", "vms": [], "match": ["web-*"], "tag": None}]}, "ANTI_AFFINITY_IMPOSSIBLE",
     "group 'web' has 14 running VMs but the pool has 6 hosts"),
])
def test_impossible_requests_are_refused(changes, code, words):
    with pytest.raises(PlanError) as err:
        plan_moves(skewed(), opts(**changes))
    assert err.value.code == code and words in str(err.value) and err.value.hint


def test_a_new_empty_host_takes_vms_from_overloaded_hosts():
    hosts = [host("a", used=2048), host("b", used=2048)]
    vms = [vm("vm-%d" % i, "a" if i % 2 else "b", memory=3072) for i in range(8)]
    crowded = plan_moves(pool(hosts, vms), opts(memory_threshold=70))
    assert crowded["moves"] == [] and len(crowded["unresolved"]) == 2
    grown = plan_moves(pool(hosts + [host("new", used=2048)], vms), opts(memory_threshold=70))
    assert grown["moves"] and {m["to"] for m in grown["moves"]} == {"new"}
    assert grown["unresolved"] == []


# ---------------------------------------------------------------- HA
def test_binpack_puts_the_biggest_first_on_the_roomiest_host():
    assert biggest_fit_decreasing({"x": 6, "y": 4}, {"a": 10, "b": 5}) == {"a": 4, "b": 1}
    assert biggest_fit_decreasing({"x": 6, "y": 6}, {"a": 10, "b": 5}) is None


def test_plan_exists_needs_room_for_the_failed_hosts_protected_vms():
    placement = {"x": "a", "y": "b"}
    assert plan_exists({"a": 8, "b": 8, "c": 8}, placement, {"x": 6, "y": 6}, 1, 3)
    assert not plan_exists({"a": 8, "b": 8, "c": 4}, placement, {"x": 6, "y": 6}, 2, 3)
    assert not plan_exists({"a": 8}, {"x": "a"}, {"x": 1}, 1, 1)


def test_approximation_for_large_pools_is_conservative():
    free = {"h%02d" % i: 10 for i in range(40)}
    placement = {"v%d" % i: "h%02d" % i for i in range(40)}
    assert plan_exists(free, placement, {v: 5 for v in placement}, 2, 40)
    assert not plan_exists({h: 4 for h in free}, placement, {v: 5 for v in placement}, 2, 40)


def test_a_move_that_would_break_the_failover_plan_is_not_planned():
    # a is over the threshold; b is the least loaded host, but with p there no host would have room to restart q
    # when c fails: p goes to c instead
    ha = {"enabled": True, "host_failures_to_tolerate": 1, "allow_overcommit": False}
    hosts = [host("a", used=12000), host("b", used=9000), host("c", used=4000)]
    vms = [vm("p", "a", memory=2000, protected=True), vm("q", "c", memory=6000, protected=True)]
    guarded = plan_moves(pool(hosts, vms, ha), opts())
    assert [(m["vm"], m["to"]) for m in guarded["moves"]] == [("p", "c")]
    unguarded = plan_moves(pool(hosts, vms, dict(ha, enabled=False)), opts())
    assert [(m["vm"], m["to"]) for m in unguarded["moves"]] == [("p", "b")]


def test_ha_short_already_is_a_note_not_a_guard():
    ha = {"enabled": True, "host_failures_to_tolerate": 1, "allow_overcommit": False}
    data = pool([host("a", used=14000), host("b", used=15000)], [vm("p", "a", memory=2000, protected=True)], ha)
    result = plan_moves(data, opts())
    assert result["notes"] and "HA cannot tolerate 1 host failure" in result["notes"][0]


def test_xapi_capacity_now_decides_whether_there_is_a_plan_to_keep():
    ha = {"enabled": True, "host_failures_to_tolerate": 1, "allow_overcommit": False}
    hosts = [host("a", used=12000), host("b", used=9000), host("c", used=4000)]
    vms = [vm("p", "a", memory=2000, protected=True), vm("q", "c", memory=6000, protected=True)]
    kept = plan_moves(pool(hosts, vms, dict(ha, capacity_now=1)), opts())
    assert [(m["vm"], m["to"]) for m in kept["moves"]] == [("p", "c")]
    short = plan_moves(pool(hosts, vms, dict(ha, capacity_now=0)), opts())
    assert [(m["vm"], m["to"]) for m in short["moves"]] == [("p", "b")]
    assert "HA cannot tolerate 1 host failure" in short["notes"][0]
