# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import join as joinlib
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import master
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import pool as poolsvc
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_pool_world import World


@pytest.fixture
def world():
    w = World()
    for i in range(1, 4):
        w.standalone("xen-intel-%02d" % i, "10.0.0.%d" % i)
    w.standalone("xen-amd-01", "10.0.1.1", vendor="AuthenticAMD")
    w.standalone("xen-amd-02", "10.0.1.2", vendor="AuthenticAMD")
    return w


def members(world, *addresses):
    return [poolsvc.Member(a, "root", world.password) for a in addresses]


def opener(world):
    return lambda m: world.client(m.address, m.username, m.password)


def run(world, desired=None, mem=None, check=False, **kwargs):
    """plan (+ apply unless check) like the module does; returns the plan."""
    client = world.client("10.0.0.1")
    state = poolsvc.read(client)
    plan = poolsvc.plan(state, desired or {}, mem, opener(world), **kwargs)
    if check or not plan.changed:
        poolsvc.close_all(plan)
    else:
        poolsvc.apply(client, state, plan, "root", world.password, kwargs.get("force_join", False),
                      kwargs.get("purge_other_config", False), 30, lambda a: world.client(urlsplit(a).hostname or a))
    return state, plan


def test_plan_reads_only_and_predicts_joins(world):
    state, plan = run(world, {"name": "pool-intel"}, members(world, "10.0.0.3", "10.0.0.2"), check=True)
    assert world.writes() == []
    assert sorted(c.name for c in plan.joiners) == ["xen-intel-02", "xen-intel-03"]
    after = poolsvc.predicted(state, plan)
    assert after["members"] == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert after["name"] == "pool-intel"
    assert poolsvc.view(state)["name"] == ""


def test_apply_joins_then_noop(world):
    run(world, {"name": "pool-intel"}, members(world, "10.0.0.2", "10.0.0.3"))
    assert world.member_names("10.0.0.1") == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert world.pool_of("10.0.0.1")["name_label"] == "pool-intel"
    joins = world.calls("Async.pool.join")
    assert sorted(c[0] for c in joins) == ["10.0.0.2", "10.0.0.3"]  # each from its own endpoint
    assert all(c[2][0] == "10.0.0.1" for c in joins)  # naming the master's address
    world.log.clear()
    _state, plan = run(world, {"name": "pool-intel"}, members(world, "10.0.0.3", "10.0.0.2"))
    assert not plan.changed
    assert world.writes() == []


def test_amd_host_in_intel_pool_fails_before_any_join(world):
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(world, {}, members(world, "10.0.0.2", "10.0.1.1", "10.0.1.2"))
    text = str(info.value)
    assert "xen-amd-01" in text and "xen-amd-02" in text
    assert "CPUs differ" in text and "AuthenticAMD" in text
    assert "xen-intel-02" not in text
    assert world.writes() == []
    assert world.member_names("10.0.0.1") == ["xen-intel-01"]


def test_every_problem_of_every_host_is_listed(world):
    World.add_vm(world.db_of("10.0.1.1"), next(iter(world.db_of("10.0.1.1")["host"])), "busy-vm")
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(world, {}, members(world, "10.0.1.1", "10.0.1.2"))
    text = str(info.value)
    assert "JOINING_HOST_CANNOT_HAVE_RUNNING_VMS running VMs: busy-vm" in text
    assert text.count("HOSTS_NOT_HOMOGENEOUS") >= 2
    # xapi's order: running VMs are checked before homogeneity
    assert text.index("JOINING_HOST_CANNOT_HAVE_RUNNING_VMS") < text.index("HOSTS_NOT_HOMOGENEOUS")


def test_force_join_skips_only_homogeneity_and_says_so(world):
    _state, plan = run(world, {}, members(world, "10.0.1.1"), force_join=True)
    assert plan.forced and plan.forced[0]["host"] == "xen-amd-01"
    assert {f["code"] for f in plan.forced} == {"HOSTS_NOT_HOMOGENEOUS"}
    assert world.calls("Async.pool.join_force")
    assert "xen-amd-01" in world.member_names("10.0.0.1")


def test_force_join_does_not_skip_running_vms(world):
    World.add_vm(world.db_of("10.0.1.1"), next(iter(world.db_of("10.0.1.1")["host"])), "busy-vm")
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(world, {}, members(world, "10.0.1.1"), force_join=True)
    assert info.value.code == "JOINING_HOST_CANNOT_HAVE_RUNNING_VMS"
    assert world.writes() == []


def test_cpu_feature_difference_is_a_note_not_a_failure(world):
    world.db_of("10.0.0.2")["host"][next(iter(world.db_of("10.0.0.2")["host"]))]["cpu_info"]["features_hvm"] = "0000-1111"
    _state, plan = run(world, {}, members(world, "10.0.0.2"), check=True)
    assert plan.notes and "levelled down" in plan.notes[0]


def test_purge_members_ejects_only_with_purge(world):
    run(world, {}, members(world, "10.0.0.2", "10.0.0.3"))
    world.log.clear()
    _state, plan = run(world, {}, members(world, "10.0.0.2"))
    assert not plan.eject and not plan.changed
    _state, plan = run(world, {}, members(world, "10.0.0.2"), purge_members=True)
    assert world.calls("Async.pool.eject")
    assert world.member_names("10.0.0.1") == ["xen-intel-01", "xen-intel-02"]
    assert world.member_names("10.0.0.3") == ["xen-intel-03"]


def test_eject_refused_with_running_vm(world):
    run(world, {}, members(world, "10.0.0.2"))
    db = world.db_of("10.0.0.1")
    host2 = next(r for r, h in db["host"].items() if h["name_label"] == "xen-intel-02")
    World.add_vm(db, host2, "web01")
    world.log.clear()
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(world, {}, [], purge_members=True)
    assert "xen-intel-02: VMs not halted: web01" in str(info.value)
    assert world.writes() == []


def test_other_config_and_tags_keep_unlisted_unless_purged(world):
    pool = world.pool_of("10.0.0.1")
    pool["other_config"] = {"keep": "1", "change": "old"}
    pool["tags"] = ["old"]
    run(world, {"other_config": {"change": "new", "add": "x"}, "tags": ["new"]})
    assert pool["other_config"] == {"keep": "1", "change": "new", "add": "x"}
    assert sorted(pool["tags"]) == ["new", "old"]
    run(world, {"other_config": {"add": "x"}, "tags": ["new"]}, purge_other_config=True, purge_tags=True)
    assert pool["other_config"] == {"add": "x"}
    assert pool["tags"] == ["new"]


def test_master_designation_waits_for_new_master(world):
    run(world, {}, members(world, "10.0.0.2"))
    _state, plan = run(world, {}, members(world, "10.0.0.2"), master="xen-intel-02")
    assert plan.master_name == "xen-intel-02"
    assert world.calls("Async.pool.designate_new_master")
    assert world.master_address(world.db_of("10.0.0.1")) == "10.0.0.2"
    _state, plan = run(world, {}, members(world, "10.0.0.2"), master="xen-intel-02")
    assert plan.master is None


def test_master_must_be_declared(world):
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(world, {}, members(world, "10.0.0.2"), master="xen-intel-09", check=True)
    assert info.value.code == "HOST_NOT_FOUND"


def test_unknown_default_sr_is_an_error(world):
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(world, {"default_sr": "nope"}, check=True)
    assert info.value.code == "SR_NOT_FOUND"


def test_find_host_matches_address_hostname_and_fqdn(world):
    state = poolsvc.read(world.client("10.0.0.1"))
    assert poolsvc.find_host(state, "https://10.0.0.1:443") is not None
    assert poolsvc.find_host(state, "xen-intel-01.dc.example.org") is not None
    assert poolsvc.find_host(state, "xen-intel-02.dc.example.org") is None
    assert poolsvc.find_host(state, "10.0.0.10") is None


def test_precheck_order_matches_xapi():
    pool_state = joinlib.PoolState({"pool": {"p": {"uuid": "P", "cpu_info": {"vendor": "GenuineIntel"}}},
                                    "host": {"m": {"software_version": {"platform_version": "3.4.0"}}},
                                    "PIF": {"x": {"host": "m", "management": True, "VLAN": "-1"}}})
    pool_state.records["pool"]["p"]["master"] = "m"
    cand_state = joinlib.PoolState({"pool": {"q": {"uuid": "Q", "ha_enabled": True}},
                                    "host": {"h": {"software_version": {"platform_version": "3.2.0"}, "cpu_info": {"vendor": "AuthenticAMD"}}},
                                    "PIF": {}, "VM": {}, "SR": {"s": {"shared": True, "name_label": "nfs"}}})
    codes = [p.code for p in joinlib.check_candidate(pool_state, joinlib.Candidate("x", None, cand_state))]
    expected_order = ["HOST_STILL_BOOTING", "HA_IS_ENABLED", "HOSTS_NOT_COMPATIBLE", "HOSTS_NOT_HOMOGENEOUS", "JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS"]
    assert [c for c in codes if c in expected_order] == [c for c in expected_order if c in codes]
    assert set(expected_order) <= set(codes)


class Clock:
    """Advances only when the code under test sleeps."""

    def __init__(self):
        self.now = 0.0

    def sleep(self, seconds):
        self.now += seconds

    def __call__(self):
        return self.now


def designate(world, clock, target="xen-intel-02"):
    client = world.client("10.0.0.1")
    client.login()
    ref = next(r for r, h in client.db["host"].items() if h["name_label"] == target)
    master.designate(client, ref, 900, lambda a: world.client(urlsplit(a).hostname or a), sleep=clock.sleep, clock=clock)


def test_lost_designate_that_never_applied_fails_promptly(world):
    """Issue 9 (8): a designate_new_master whose call was lost was polled for wait_timeout (900 s) before MASTER_TIMEOUT."""
    run(world, {}, members(world, "10.0.0.2"))
    world.lost_answers["Async.pool.designate_new_master"] = "drop"
    clock = Clock()
    with pytest.raises(master.MasterError) as info:
        designate(world, clock)
    assert info.value.code == "MASTER_NOT_CHANGED"
    assert "xen-intel-01" in str(info.value) and "run the module again" in info.value.hint
    assert clock.now <= 2 * master.UNCHANGED_GRACE
    assert world.master_address(world.db_of("10.0.0.1")) == "10.0.0.1"


def test_lost_answer_of_an_applied_designate_is_success(world):
    run(world, {}, members(world, "10.0.0.2"))
    world.lost_answers["Async.pool.designate_new_master"] = "apply"
    clock = Clock()
    designate(world, clock)
    assert world.master_address(world.db_of("10.0.0.1")) == "10.0.0.2"
    assert clock.now < master.UNCHANGED_GRACE
