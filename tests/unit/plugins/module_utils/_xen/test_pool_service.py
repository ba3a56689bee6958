# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pool service against xapisim in-process: standalone hosts as after a fresh install, each its own pool,
joined, ejected and re-mastered by xapi's own rules (pre_join_checks, HOST_IS_SLAVE, the call log)."""

from __future__ import annotations

import time

import pytest
from xapisim.testing import InProcessXapi, hosts_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import join as joinlib
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import master
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import pool as poolsvc
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client

INTEL = {"xen-intel-01": "127.0.0.11", "xen-intel-02": "127.0.0.12", "xen-intel-03": "127.0.0.13"}
AMD = {"xen-amd-01": "127.0.0.14", "xen-amd-02": "127.0.0.15"}
MASTER = INTEL["xen-intel-01"]


@pytest.fixture(name="xapi")
def xapi_fixture():
    xapi = InProcessXapi(hosts_datacenter(("xen-intel-", 3, "GenuineIntel"), ("xen-amd-", 2, "AuthenticAMD")))
    yield xapi
    xapi.close()


def members(xapi, *addresses):
    return [poolsvc.Member(a, "root", xapi.password) for a in addresses]


def run(xapi, desired=None, mem=None, check=False, **kwargs):
    """plan (+ apply unless check) like the module does; returns the state read and the plan."""
    with client(xapi, MASTER) as master_client:
        state = poolsvc.read(master_client)
        plan = poolsvc.plan(state, desired or {}, mem, lambda m: client(xapi, m.address, m.username, m.password), **kwargs)
        if check or not plan.changed:
            poolsvc.close_all(plan)
        else:
            poolsvc.apply(master_client, state, plan, "root", xapi.password, kwargs.get("force_join", False),
                          kwargs.get("purge_other_config", False), 30, lambda a: client(xapi, a))
    return state, plan


def host_ref(xapi, name, address=MASTER):
    return xapi.find("host", address, name_label=name)


def run_vm_on(xapi, name, host_name, address=MASTER):
    """A VM record xapi shows Running on the host (the pre-checks read records; nothing here boots it)."""
    return xapi.add("VM", address, name_label=name, power_state="Running", resident_on=host_ref(xapi, host_name, address))


def the_pool(xapi, address=MASTER):
    return next(iter(xapi.records("pool", address).values()))


def test_plan_reads_only_and_predicts_joins(xapi):
    state, plan = run(xapi, {"name": "pool-intel"}, members(xapi, INTEL["xen-intel-03"], INTEL["xen-intel-02"]), check=True)
    assert xapi.writes() == []
    assert sorted(c.name for c in plan.joiners) == ["xen-intel-02", "xen-intel-03"]
    after = poolsvc.predicted(state, plan)
    assert after["members"] == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert after["name"] == "pool-intel"
    assert poolsvc.view(state)["name"] == ""
    assert xapi.host_names() == ["xen-intel-01"]


def test_apply_joins_then_noop(xapi):
    run(xapi, {"name": "pool-intel"}, members(xapi, INTEL["xen-intel-02"], INTEL["xen-intel-03"]))
    assert xapi.host_names() == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert the_pool(xapi)["name_label"] == "pool-intel"
    assert sorted(address for address, _method in xapi.calls("Async.pool.join")) == [INTEL["xen-intel-02"], INTEL["xen-intel-03"]]
    assert all("master_address=%s," % MASTER in s and xapi.password not in s for s in xapi.summaries("Async.pool.join"))
    assert all(rec["enabled"] for rec in xapi.records("host").values())
    xapi.reset_calls()
    _state, plan = run(xapi, {"name": "pool-intel"}, members(xapi, INTEL["xen-intel-03"], INTEL["xen-intel-02"]))
    assert not plan.changed
    assert xapi.writes() == []


def test_apply_waits_until_the_joined_host_is_an_enabled_live_member():
    """After pool.join the joiner restarts its toolstack (xapi_pool.ml join_common) and is a disabled, not live member
    without dom0 until dbsync_slave.ml has run: the task after the join (networks, storage, HA) needs it enabled and
    live, so apply waits. A restart of 600 simulated seconds (0.6 s here) keeps that window open long enough to see."""
    xapi = InProcessXapi(hosts_datacenter(("xen-intel-", 2, "GenuineIntel"), time_model={"toolstack_restart": 600}))
    try:
        run(xapi, {}, members(xapi, INTEL["xen-intel-02"]))
        joined = xapi.records("host")[xapi.find("host", name_label="xen-intel-02")]
        assert joined["enabled"] and xapi.records("host_metrics")[joined["metrics"]]["live"]
    finally:
        xapi.close()


def test_amd_host_in_intel_pool_fails_before_any_join(xapi):
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(xapi, {}, members(xapi, INTEL["xen-intel-02"], AMD["xen-amd-01"], AMD["xen-amd-02"]))
    text = str(info.value)
    assert "xen-amd-01" in text and "xen-amd-02" in text
    assert "CPUs differ" in text and "AuthenticAMD" in text
    assert "xen-intel-02" not in text
    assert xapi.writes() == []
    assert xapi.host_names() == ["xen-intel-01"]


def test_every_problem_of_every_host_is_listed(xapi):
    run_vm_on(xapi, "busy-vm", "xen-amd-01", AMD["xen-amd-01"])
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(xapi, {}, members(xapi, AMD["xen-amd-01"], AMD["xen-amd-02"]))
    text = str(info.value)
    assert "JOINING_HOST_CANNOT_HAVE_RUNNING_VMS running VMs: busy-vm" in text
    assert text.count("HOSTS_NOT_HOMOGENEOUS") >= 2
    # xapi's order: running VMs are checked before homogeneity
    assert text.index("JOINING_HOST_CANNOT_HAVE_RUNNING_VMS") < text.index("HOSTS_NOT_HOMOGENEOUS")


def test_force_join_skips_only_homogeneity_and_says_so(xapi):
    _state, plan = run(xapi, {}, members(xapi, AMD["xen-amd-01"]), force_join=True)
    assert plan.forced and plan.forced[0]["host"] == "xen-amd-01"
    assert {f["code"] for f in plan.forced} == {"HOSTS_NOT_HOMOGENEOUS"}
    assert xapi.calls("Async.pool.join_force") and not xapi.calls("Async.pool.join")
    assert xapi.host_names() == ["xen-amd-01", "xen-intel-01"]


def test_force_join_does_not_skip_running_vms(xapi):
    run_vm_on(xapi, "busy-vm", "xen-amd-01", AMD["xen-amd-01"])
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(xapi, {}, members(xapi, AMD["xen-amd-01"]), force_join=True)
    assert info.value.code == "JOINING_HOST_CANNOT_HAVE_RUNNING_VMS"
    assert xapi.writes() == []


@pytest.mark.parametrize("key", ["features_hvm_host", "features_hvm"])
def test_cpu_feature_difference_is_a_note_not_a_failure(xapi, key):
    # today's xapi keeps the pool's levelled set as features_hvm_host (create_misc.ml create_pool_cpuinfo), an older one
    # as features_hvm: a joining host whose set differs gets a note either way
    pool_ref, pool = next(iter(xapi.records("pool").items()))
    if key != "features_hvm_host":
        cpu_info = {k: v for k, v in pool["cpu_info"].items() if k != "features_hvm_host"}
        xapi.update("pool", pool_ref, cpu_info=dict(cpu_info, features_hvm=pool["cpu_info"]["features_hvm_host"]))
    joiner = INTEL["xen-intel-02"]
    ref = host_ref(xapi, "xen-intel-02", joiner)
    host_cpu = {k: v for k, v in xapi.records("host", joiner)[ref]["cpu_info"].items() if key == k or not k.endswith("_host")}
    xapi.update("host", ref, joiner, cpu_info=dict(host_cpu, **{key: "0000-1111"}))
    _state, plan = run(xapi, {}, members(xapi, joiner), check=True)
    assert plan.notes and "levelled down" in plan.notes[0]


def test_purge_members_ejects_only_with_purge(xapi):
    run(xapi, {}, members(xapi, INTEL["xen-intel-02"], INTEL["xen-intel-03"]))
    xapi.reset_calls()
    _state, plan = run(xapi, {}, members(xapi, INTEL["xen-intel-02"]))
    assert not plan.eject and not plan.changed
    _state, plan = run(xapi, {}, members(xapi, INTEL["xen-intel-02"]), purge_members=True)
    assert [address for address, _method in xapi.calls("Async.pool.eject")] == [MASTER]
    assert xapi.host_names() == ["xen-intel-01", "xen-intel-02"]
    assert xapi.host_names(INTEL["xen-intel-03"]) == ["xen-intel-03"]  # a standalone host again


def test_eject_refused_with_running_vm(xapi):
    run(xapi, {}, members(xapi, INTEL["xen-intel-02"]))
    run_vm_on(xapi, "web01", "xen-intel-02")
    xapi.reset_calls()
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(xapi, {}, [], purge_members=True)
    assert "xen-intel-02: VMs not halted: web01" in str(info.value)
    assert xapi.writes() == []


def test_other_config_and_tags_keep_unlisted_unless_purged(xapi):
    pool_ref = next(iter(xapi.records("pool")))
    xapi.update("pool", pool_ref, other_config={"keep": "1", "change": "old"}, tags=["old"])
    run(xapi, {"other_config": {"change": "new", "add": "x"}, "tags": ["new"]})
    assert the_pool(xapi)["other_config"] == {"keep": "1", "change": "new", "add": "x"}
    assert sorted(the_pool(xapi)["tags"]) == ["new", "old"]
    run(xapi, {"other_config": {"add": "x"}, "tags": ["new"]}, purge_other_config=True, purge_tags=True)
    assert the_pool(xapi)["other_config"] == {"add": "x"}
    assert the_pool(xapi)["tags"] == ["new"]


def test_master_designation_waits_for_new_master(xapi):
    run(xapi, {}, members(xapi, INTEL["xen-intel-02"]))
    _state, plan = run(xapi, {}, members(xapi, INTEL["xen-intel-02"]), master="xen-intel-02")
    assert plan.master_name == "xen-intel-02"
    assert xapi.calls("Async.pool.designate_new_master")
    assert xapi.master == INTEL["xen-intel-02"]
    _state, plan = run(xapi, {}, members(xapi, INTEL["xen-intel-02"]), master="xen-intel-02")
    assert plan.master is None


def test_master_must_be_declared(xapi):
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(xapi, {}, members(xapi, INTEL["xen-intel-02"]), master="xen-intel-09", check=True)
    assert info.value.code == "HOST_NOT_FOUND"


def test_unknown_default_sr_is_an_error(xapi):
    with pytest.raises(poolsvc.PoolPlanError) as info:
        run(xapi, {"default_sr": "nope"}, check=True)
    assert info.value.code == "SR_NOT_FOUND"


def test_find_host_matches_address_hostname_and_fqdn(xapi):
    with client(xapi, MASTER) as master_client:
        state = poolsvc.read(master_client)
    assert poolsvc.find_host(state, "https://%s:443" % MASTER) is not None
    assert poolsvc.find_host(state, "xen-intel-01.dc.example.org") is not None
    assert poolsvc.find_host(state, "xen-intel-02.dc.example.org") is None
    assert poolsvc.find_host(state, "127.0.0.110") is None


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
    """Advances only when the code under test sleeps, and moves the simulator's clock along with it."""

    def __init__(self, xapi):
        self.xapi = xapi
        self.now = 0.0

    def sleep(self, seconds):
        self.now += seconds
        self.xapi.advance(seconds)
        time.sleep(0.001)  # let xapisim's task thread run (the simulated designate finishes on it)

    def __call__(self):
        return self.now


def designate(xapi, clock, target="xen-intel-02"):
    with client(xapi, MASTER) as master_client:
        master.designate(master_client, host_ref(xapi, target), 900, lambda a: client(xapi, a), sleep=clock.sleep, clock=clock)


def test_lost_designate_that_never_applied_fails_promptly(xapi):
    """Issue 9 (8): a designate_new_master whose call was lost was polled for wait_timeout (900 s) before MASTER_TIMEOUT."""
    run(xapi, {}, members(xapi, INTEL["xen-intel-02"]))
    xapi.fail("Async.pool.designate_new_master", action="drop", when="before")
    clock = Clock(xapi)
    with pytest.raises(master.MasterError) as info:
        designate(xapi, clock)
    assert info.value.code == "MASTER_NOT_CHANGED"
    assert "xen-intel-01" in str(info.value) and "run the module again" in info.value.hint
    assert clock.now <= 2 * master.UNCHANGED_GRACE
    assert xapi.master == MASTER


def test_lost_answer_of_an_applied_designate_is_success(xapi):
    """The answer is lost after xapi took the call: the new master is waited for (xapi's 8 s takeover), not refused
    with MASTER_NOT_CHANGED (the designate task runs meanwhile) nor with MASTER_TIMEOUT. How long the simulated
    takeover takes on the fake clock depends on how soon xapisim's task thread gets the CPU, so it is not bounded here."""
    run(xapi, {}, members(xapi, INTEL["xen-intel-02"]))
    xapi.fail("Async.pool.designate_new_master", action="drop", when="after")
    clock = Clock(xapi)
    designate(xapi, clock)
    assert xapi.master == INTEL["xen-intel-02"]
    assert [address for address, _method in xapi.calls("Async.pool.designate_new_master")] == [MASTER]
