# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host failure on the `ha` data centre (4 AMD hosts, 12 running VMs on one shared SR).

Sources: ocaml/xapi/xapi_ha_vm_failover.ml restart_auto_run_vms (HA_HOST_FAILED, force_state_reset to Halted,
update_pool_status, the plan started by `order` groups, a retry, HA_PROTECTED_VM_RESTART_FAILED, best-effort
VMs of the dead host), xapi_vm_helpers.ml start_delay, xapi_ha.ml on_master_failure / Monitor
(prevent_restarts_for), xapi_vm.ml power_state_reset, xapi_host.ml is_host_alive, xapi_globs.ml
host_assumed_dead_interval, ocaml/xapi-consts/api_messages.ml.
"""
from __future__ import annotations

import http.client
import time

import pytest
import XenAPI

from conftest import connect, password, start_sim

NULL = "OpaqueRef:NULL"


@pytest.fixture(name="ha_dc")
def ha_dc_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "hafail", "ha.yml")
    yield sim
    sim.stop()


def wait_for(check, timeout=30.0):
    """Poll (real seconds; the simulator runs at --time-scale 0.01) until check() is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in %.0f s" % timeout)


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


class Pool:
    """The `ha` data centre seen through the master: names -> refs."""

    def __init__(self, sim, host_index=0):
        self.x = connect(sim, host_index).xenapi
        self.pool = self.x.pool.get_all()[0]
        self.hosts = {self.x.host.get_name_label(h): h for h in self.x.host.get_all()}
        self.vms = {r["name_label"]: ref for ref, r in self.x.VM.get_all_records().items()
                    if not r["is_a_template"] and not r["is_control_domain"]}
        self.sr = self.x.SR.get_by_name_label("ha-shared")[0]

    def on(self, host):
        return sorted(n for n, v in self.vms.items() if self.x.VM.get_resident_on(v) == self.hosts[host])

    def state(self, name):
        rec = self.x.VM.get_record(self.vms[name])
        where = self.x.host.get_name_label(rec["resident_on"]) if rec["resident_on"] != NULL else None
        return rec["power_state"], where

    def messages(self):
        return sorted((m["name"], m["body"]) for m in self.x.message.get_all_records().values())

    def protect(self, name, priority, order=0, delay=0):
        self.x.VM.set_ha_restart_priority(self.vms[name], priority)
        self.x.VM.set_order(self.vms[name], str(order))
        self.x.VM.set_start_delay(self.vms[name], str(delay))


def enable(p, tolerate="1"):
    p.x.pool.enable_ha([p.sr], {"timeout": "30"})
    p.x.pool.set_ha_host_failures_to_tolerate(p.pool, tolerate)


def test_enable_fills_host_fields_and_recomputes_on_every_change(ha_dc):
    """xapi_ha.ml Monitor: host.ha_statefiles / ha_network_peers; update_pool_status after each change."""
    p = Pool(ha_dc)
    enable(p)
    statefiles = p.x.pool.get_ha_statefiles(p.pool)
    uuids = sorted(p.x.host.get_uuid(h) for h in p.hosts.values())
    for host in p.hosts.values():
        assert p.x.host.get_ha_statefiles(host) == statefiles
        assert sorted(p.x.host.get_ha_network_peers(host)) == uuids
    assert p.x.pool.get_ha_plan_exists_for(p.pool) == "1"
    for name in sorted(p.vms):
        p.x.VM.set_ha_restart_priority(p.vms[name], "restart")
    assert p.x.pool.get_ha_plan_exists_for(p.pool) == "1", "every VM protected still fits one failure"
    assert details(p.x.pool.set_ha_host_failures_to_tolerate, p.pool, "2") == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    assert details(p.x.host.disable, p.hosts["xen-amd-04"]) == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    for name in sorted(p.vms)[3:]:
        p.x.VM.set_ha_restart_priority(p.vms[name], "")
    p.x.host.disable(p.hosts["xen-amd-04"])
    assert p.x.pool.get_ha_plan_exists_for(p.pool) == "1" and p.x.pool.get_ha_overcommitted(p.pool) is False
    p.x.pool.set_ha_allow_overcommit(p.pool, True)
    for name in sorted(p.vms)[3:]:
        p.x.VM.set_ha_restart_priority(p.vms[name], "restart")
    assert p.x.pool.get_ha_overcommitted(p.pool) is True and p.x.pool.get_ha_plan_exists_for(p.pool) == "0", \
        "a protection change recomputes at once"
    assert "HA_POOL_OVERCOMMITTED" in [m[0] for m in p.messages()]
    assert ("HA_POOL_DROP_IN_PLAN_EXISTS_FOR", "0") in p.messages()
    p.x.host.enable(p.hosts["xen-amd-04"])
    assert p.x.pool.get_ha_overcommitted(p.pool) is False and p.x.pool.get_ha_plan_exists_for(p.pool) == "1", \
        "enabling the host again restores the plan"
    p.x.host.disable(p.hosts["xen-amd-04"])
    assert p.x.pool.get_ha_overcommitted(p.pool) is True
    for name in sorted(p.vms)[:9]:
        p.x.VM.hard_shutdown(p.vms[name])  # ha_always_run=false: no longer protected
    assert p.x.pool.get_ha_overcommitted(p.pool) is False and p.x.pool.get_ha_plan_exists_for(p.pool) == "1", \
        "VM stops recompute"
    p.x.VM.start(p.vms[sorted(p.vms)[0]], False, False)  # allowed (overcommit on) and recomputed
    p.x.VM.set_memory_limits(p.vms[sorted(p.vms)[1]], str(2 ** 30), str(40 * 2 ** 30), str(40 * 2 ** 30),
                             str(40 * 2 ** 30))
    p.x.pool.set_ha_allow_overcommit(p.pool, False)
    p.x.pool.disable_ha()
    for host in p.hosts.values():
        assert p.x.host.get_ha_statefiles(host) == [] and p.x.host.get_ha_network_peers(host) == []


def test_set_ha_restart_priority_guard(ha_dc):
    """xapi_vm.ml set_ha_restart_priority -> assert_new_vm_preserves_ha_plan (only for a non-halted VM becoming
    `restart`, HA on, overcommit not allowed, a plan now and none after)."""
    p = Pool(ha_dc)
    source = p.vms["db-0008"]
    p.x.VM.hard_shutdown(source)
    extra = [p.x.VM.clone(source, "extra-%d" % i) for i in range(3)]
    halted = p.x.VM.clone(source, "halted-one")
    for vm in [source] + extra:
        p.x.VM.start(vm, False, False)
    enable(p)
    refused = None
    for vm in [p.vms[n] for n in sorted(p.vms)] + extra:
        try:
            p.x.VM.set_ha_restart_priority(vm, "restart")
        except XenAPI.Failure as err:
            refused = (vm, err.details)
            break
    assert refused is not None and refused[1] == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    assert p.x.VM.get_ha_restart_priority(refused[0]) == "" and p.x.VM.get_ha_always_run(refused[0]) is False
    p.x.VM.set_ha_restart_priority(refused[0], "best-effort")  # not `restart`: no check
    p.x.VM.set_ha_restart_priority(halted, "restart")  # a halted VM is not checked (it is not protected yet)
    assert p.x.VM.get_ha_always_run(halted) is False
    p.x.pool.set_ha_allow_overcommit(p.pool, True)
    p.x.VM.set_ha_restart_priority(refused[0], "restart")
    assert p.x.VM.get_ha_always_run(refused[0]) is True
    assert p.x.pool.get_ha_overcommitted(p.pool) is True
    p.x.pool.set_ha_allow_overcommit(p.pool, False)
    other = [vm for vm in [p.vms[n] for n in sorted(p.vms)] + extra
             if vm != refused[0] and p.x.VM.get_ha_restart_priority(vm) != "restart"]
    p.x.VM.set_ha_restart_priority(other[0], "restart")  # no plan now: cannot get worse, accepted
    p.x.pool.disable_ha()
    p.x.VM.set_ha_restart_priority(refused[0], "")
    p.x.VM.set_ha_restart_priority(refused[0], "restart")  # HA off: never checked


def test_agility_failover_plan_and_prevent_restarts(ha_dc):
    """agility.ml vm_assert_agile; xapi_pool.ml ha_compute_vm_failover_plan; xapi_ha.ml prevent_restarts_for."""
    p = Pool(ha_dc)
    vm = p.vms["spamfilter0001"]
    p.x.VM.assert_agile(vm)
    local = [s for s in p.x.SR.get_all() if p.x.SR.get_type(s) == "lvm"
             and p.x.PBD.get_host(p.x.SR.get_PBDs(s)[0]) == p.x.VM.get_resident_on(vm)][0]
    vdi = p.x.VDI.create({"name_label": "local", "name_description": "", "SR": local, "virtual_size": str(2 ** 30),
                          "type": "user", "sharable": False, "read_only": False, "other_config": {}})
    p.x.VBD.create({"VM": vm, "VDI": vdi, "userdevice": "5", "bootable": False, "mode": "RW", "type": "Disk",
                    "empty": False, "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}})
    assert details(p.x.VM.assert_agile, vm) == ["HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED", local]
    failed = p.hosts["xen-amd-01"]
    on_failed = [p.vms[n] for n in p.on("xen-amd-01")]
    plan = p.x.pool.ha_compute_vm_failover_plan([failed], on_failed)
    assert sorted(plan) == sorted(on_failed)
    assert plan[vm] == {"error_code": "HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED"} or plan[vm]["host"] != failed
    for ref in on_failed:
        assert plan[ref].get("host", failed) != failed
    # all four hosts failing: nothing to go to, agile VMs get HOST_NOT_ENOUGH_FREE_MEMORY
    plan = p.x.pool.ha_compute_vm_failover_plan(list(p.hosts.values()), [p.vms["db-0002"]])
    assert plan == {p.vms["db-0002"]: {"error_code": "HOST_NOT_ENOUGH_FREE_MEMORY"}}
    p.x.pool.ha_prevent_restarts_for("0")  # allowed with HA off (CA-189075)


def test_crash_with_ha_restarts_by_plan_and_order(ha_dc):
    """restart_auto_run_vms on a slave's failure: exactly what ha_compute_vm_failover_plan promised."""
    p = Pool(ha_dc)
    enable(p)
    victim = "xen-amd-02"
    names = p.on(victim)
    assert names == ["canary-0002", "db-0002", "db-0006", "spamfilter0002"]
    p.protect("spamfilter0002", "restart", order=1, delay=300)
    p.protect("canary-0002", "restart", order=2)
    p.protect("db-0006", "best-effort")
    p.protect("db-0002", "")  # do not restart
    protected = [p.vms["spamfilter0002"], p.vms["canary-0002"]]
    promise = p.x.pool.ha_compute_vm_failover_plan([p.hosts[victim]], protected)
    assert all("host" in v for v in promise.values())
    p.x.pool.ha_prevent_restarts_for("100000")
    answer = ha_dc.control.request("POST", "hosts/%s/crash" % victim)
    assert answer["ok"] and answer["declared_dead_after_s"] == 30.0
    with pytest.raises(RuntimeError, match="409"):
        ha_dc.control.request("POST", "hosts/%s/crash" % victim)
    with pytest.raises(http.client.HTTPException):
        connect(ha_dc, 1)  # the crashed host's address does not answer
    time.sleep(0.6)  # 60 s simulated: past the 30 s HA timeout, but the monitor is held back
    assert p.x.host_metrics.get_live(p.x.host.get_metrics(p.hosts[victim])) is True
    assert p.state("spamfilter0002") == ("Running", victim), "ha_prevent_restarts_for: the live set is not processed"
    p.x.pool.ha_prevent_restarts_for("0")
    # order 1 (with a 300 s start_delay) runs first; the order-2 VM waits for it, Halted and still protected
    wait_for(lambda: p.state("spamfilter0002")[0] == "Running" and p.state("spamfilter0002")[1] != victim)
    assert p.x.host_metrics.get_live(p.x.host.get_metrics(p.hosts[victim])) is False
    assert p.state("canary-0002") == ("Halted", None) and p.state("db-0006") == ("Halted", None)
    assert p.x.VM.get_ha_always_run(p.vms["canary-0002"]) is True, "force_state_reset keeps protection"
    assert p.messages() == [("HA_HOST_FAILED", "Server '%s' has failed" % victim)], "the plan for 1 still holds"
    assert p.x.host.get_ha_statefiles(p.hosts[victim]) == []
    survivors = sorted(p.x.host.get_uuid(p.hosts[h]) for h in p.hosts if h != victim)
    assert sorted(p.x.host.get_ha_network_peers(p.hosts["xen-amd-01"])) == survivors
    wait_for(lambda: p.state("canary-0002")[0] == "Running")
    wait_for(lambda: p.state("db-0006")[0] == "Running")
    time.sleep(0.5)
    for vm in protected:
        assert p.x.VM.get_resident_on(vm) == promise[vm]["host"], "the restart plan is the promise"
    assert p.state("db-0006")[1] not in (None, victim), "best-effort: capacity remained"
    assert p.state("db-0002") == ("Halted", None), "do not restart"
    assert p.x.pool.get_ha_overcommitted(p.pool) is False and p.x.pool.get_ha_plan_exists_for(p.pool) == "1"
    assert not [db["meta"]["xapisim:ha"].get("errors") for db in ha_dc.control.state()["dbs"]
                if db["meta"].get("xapisim:ha", {}).get("errors")], "no simulator error in the HA monitor"
    names = ["spamfilter0002", "canary-0002"]
    metrics = {n: p.x.VM_metrics.get_start_time(p.x.VM.get_metrics(p.vms[n])).value for n in names}
    assert metrics["spamfilter0002"] < metrics["canary-0002"], "restart order"
    assert p.state("db-0003")[0] == "Running"
    recovered = ha_dc.control.request("POST", "hosts/%s/recover" % victim)
    assert recovered == {"ok": True, "host": p.hosts[victim], "address": answer["address"], "master": False}
    h = p.hosts[victim]
    assert p.x.host_metrics.get_live(p.x.host.get_metrics(h)) is True and p.x.host.get_enabled(h) is True
    assert all(p.x.PBD.get_currently_attached(pbd) for pbd in p.x.host.get_PBDs(h))
    assert sorted(p.x.host.get_ha_network_peers(h)) == sorted(p.x.host.get_uuid(r) for r in p.hosts.values())
    slave = connect(ha_dc, 1, login=False)
    with pytest.raises(XenAPI.Failure) as info:
        slave.xenapi.login_with_password("root", "x", "1.0", "pytest")
    assert info.value.details[0] == "HOST_IS_SLAVE"


def test_crash_do_not_restart_and_capacity(ha_dc):
    """An incomplete plan: plain VM.start of every protected VM, HA_PROTECTED_VM_RESTART_FAILED for the one that
    cannot start; best-effort VMs start only where memory remains; do-not-restart VMs stay Halted."""
    p = Pool(ha_dc)
    victim = "xen-amd-03"
    assert p.on(victim) == ["canary-0003", "db-0003", "db-0007", "spamfilter0003"]
    source = p.vms["db-0001"]
    p.x.VM.hard_shutdown(source)
    gib = str(12 * 2 ** 30)
    for number in ("01", "02", "04"):  # free memory left: 21 GiB on 01, 5 GiB on 02 and 04
        vm = p.x.VM.clone(source, "filler-%s" % number)
        p.x.VM.set_memory_limits(vm, str(2 ** 30), gib, gib, gib)
        p.x.VM.start_on(vm, p.hosts["xen-amd-" + number], False, False)
    enable(p, "0")
    p.protect("spamfilter0003", "restart")
    p.protect("db-0003", "best-effort")
    p.protect("db-0007", "")
    promise = p.x.pool.ha_compute_vm_failover_plan([p.hosts[victim]], [p.vms["spamfilter0003"]])
    assert promise == {p.vms["spamfilter0003"]: {"host": p.hosts["xen-amd-01"]}}
    # a protected VM with a disk on the victim's local SR: not agile, it cannot restart anywhere
    canary = p.vms["canary-0003"]
    local = [s for s in p.x.SR.get_all() if p.x.SR.get_type(s) == "lvm"
             and p.x.PBD.get_host(p.x.SR.get_PBDs(s)[0]) == p.hosts[victim]][0]
    vdi = p.x.VDI.create({"name_label": "local", "name_description": "", "SR": local, "virtual_size": str(2 ** 30),
                          "type": "user", "sharable": False, "read_only": False, "other_config": {}})
    p.x.VBD.create({"VM": canary, "VDI": vdi, "userdevice": "5", "bootable": False, "mode": "RW", "type": "Disk",
                    "empty": False, "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}})
    assert details(p.x.VM.set_ha_restart_priority, canary, "restart") == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    p.x.pool.set_ha_allow_overcommit(p.pool, True)
    p.x.VM.set_ha_restart_priority(canary, "restart")
    assert p.x.pool.get_ha_overcommitted(p.pool) is True, "a non-agile protected VM leaves no plan"
    ha_dc.control.request("POST", "hosts/%s/crash" % victim)
    wait_for(lambda: p.state("spamfilter0003") == ("Running", "xen-amd-01"))
    wait_for(lambda: ("HA_PROTECTED_VM_RESTART_FAILED", "") in p.messages())
    time.sleep(0.5)
    assert p.state("canary-0003") == ("Halted", None)
    failed = [m for m in p.x.message.get_all_records().values() if m["name"] == "HA_PROTECTED_VM_RESTART_FAILED"]
    assert [(m["cls"], m["obj_uuid"], m["priority"]) for m in failed] == [("VM", p.x.VM.get_uuid(canary), "2")]
    assert p.state("db-0003") == ("Halted", None), "best-effort: no host has 16 GiB left"
    assert p.state("db-0007") == ("Halted", None), "do not restart: left Halted"
    assert p.x.VM.get_ha_always_run(p.vms["spamfilter0003"]) is True


def test_master_crash_elects_a_survivor(ha_dc):
    """xapi_ha.ml on_master_failure: a survivor becomes master; HOST_IS_SLAVE now names it."""
    p = Pool(ha_dc)
    enable(p)
    p.protect("spamfilter0001", "restart")
    old_master = p.x.pool.get_master(p.pool)
    ha_dc.control.request("POST", "hosts/xen-amd-01/crash")
    with pytest.raises(http.client.HTTPException):
        connect(ha_dc, 0)
    slave = connect(ha_dc, 3, login=False)

    old_address = ha_dc.ready["hosts"][0]["address"]

    def master_address():
        try:
            slave.xenapi.login_with_password("root", password(ha_dc), "1.0", "pytest")
        except XenAPI.Failure as err:
            return err.details[1] if err.details[0] == "HOST_IS_SLAVE" and err.details[1] != old_address else None
        return ha_dc.ready["hosts"][3]["address"]
    address = wait_for(master_address)
    entry = [h for h in ha_dc.ready["hosts"] if h["address"] == address][0]
    new = connect(ha_dc, ha_dc.ready["hosts"].index(entry)).xenapi
    pool = new.pool.get_all()[0]
    assert new.pool.get_master(pool) != old_master
    vm = new.VM.get_by_name_label("spamfilter0001")[0]
    wait_for(lambda: new.VM.get_power_state(vm) == "Running" and new.VM.get_resident_on(vm) != old_master)
    assert any(m["name"] == "HA_HOST_FAILED" for m in new.message.get_all_records().values())
    ha_dc.control.request("POST", "hosts/xen-amd-01/recover")
    assert new.pool.get_master(pool) != old_master, "the old master comes back as a slave"
    with pytest.raises(XenAPI.Failure) as info:
        connect(ha_dc, 0)
    assert info.value.details == ["HOST_IS_SLAVE", address]


def test_crash_without_ha_needs_power_state_reset(ha_dc):
    """HA off: VMs keep the state xapi last knew; VM.power_state_reset (xapi_vm.ml) once the host is dead."""
    p = Pool(ha_dc)
    victim = "xen-amd-04"
    names = p.on(victim)
    answer = ha_dc.control.request("POST", "hosts/%s/crash" % victim)
    assert answer["ha_enabled"] is False and answer["declared_dead_after_s"] == 600.0
    time.sleep(0.5)
    assert p.state(names[0]) == ("Running", victim), "xapi still believes the VM runs"
    dom0 = [v for v, r in p.x.VM.get_all_records().items() if r["is_control_domain"]][0]
    assert details(p.x.VM.power_state_reset, dom0) == ["CANNOT_RESET_CONTROL_DOMAIN", dom0]
    elsewhere = p.vms["db-0002"]
    assert details(p.x.VM.power_state_reset, elsewhere) == ["HOST_IS_LIVE", p.hosts["xen-amd-02"]]
    on_master = p.vms["db-0001"]
    assert details(p.x.VM.power_state_reset, on_master) == ["DOMAIN_EXISTS", on_master]
    p.x.VM.power_state_reset(p.vms[names[0]])
    assert p.state(names[0]) == ("Halted", None)
    ha_dc.control.advance(600)
    wait_for(lambda: p.x.host_metrics.get_live(p.x.host.get_metrics(p.hosts[victim])) is False)
    assert p.state(names[1]) == ("Running", victim), "without HA nothing is reset or restarted"
    assert not [m for m in p.messages() if m[0].startswith("HA_")]
    ha_dc.control.request("POST", "hosts/%s/recover" % victim)
    assert p.state(names[1]) == ("Halted", None), "the host came back without its domains"
    assert p.x.host_metrics.get_live(p.x.host.get_metrics(p.hosts[victim])) is True
    with pytest.raises(RuntimeError, match="404"):
        ha_dc.control.request("POST", "hosts/no-such-host/crash")
    with pytest.raises(RuntimeError, match="409"):
        ha_dc.control.request("POST", "hosts/%s/recover" % victim)
