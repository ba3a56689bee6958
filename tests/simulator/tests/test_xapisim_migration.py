# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""xapisim/handlers_migration.py and the evacuation guard: live migration time, VM.assert_can_migrate and
VM.pool_migrate with xapi's checks, storage motion (VDI.pool_migrate, VM.migrate_send with host.migrate_receive),
HA's refusal of an evacuation that breaks the failover plan, and the one host.reboot.

Every test names the xen-api source it follows. ha.yml: a built 4-host AMD pool (64 GiB each) on one shared
lvmoiscsi SR with 16 running Debian VMs (4 x 8 GiB, 8 x 16 GiB, 4 canaries of 2 GiB).
"""
from __future__ import annotations

import os
import re
import time

import pytest
import XenAPI

from conftest import SIM_ROOT, connect, password, start_sim
from test_xapisim_host_failure import details, wait_for  # the suite's failure and polling helpers
from test_xapisim_pool import member_ready

NULL = "OpaqueRef:NULL"
GIB = 1024 ** 3


@pytest.fixture(name="ha_dc")
def ha_dc_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "migration-ha", "ha.yml")
    yield sim
    sim.stop()


@pytest.fixture(name="rt_dc", scope="module")
def rt_dc_fixture(tmp_path_factory):
    """ha.yml in real time: durations are measured by jumping the simulated clock (POST /sim/time)."""
    sim = start_sim(tmp_path_factory, "migration-rt", "ha.yml", ["--time-scale", "1.0"])
    yield sim
    sim.stop()


def guests(x):
    return {r["name_label"]: v for v, r in x.VM.get_all_records().items()
            if not r["is_a_template"] and not r["is_control_domain"]}


def hosts_by_name(x):
    return {x.host.get_name_label(h): h for h in x.host.get_all()}


def target_for(x, vm):
    """Another host the running VM can boot on (memory included)."""
    here = x.VM.get_resident_on(vm)
    for host in sorted(x.host.get_all()):
        if host == here:
            continue
        try:
            x.VM.assert_can_boot_here(vm, host)
            return host
        except XenAPI.Failure:
            continue
    raise AssertionError("no host can take the VM")


def disks(x, vm):
    return [x.VBD.get_VDI(b) for b in x.VM.get_VBDs(vm) if x.VBD.get_type(b) == "Disk" and not x.VBD.get_empty(b)]


def same_sr_map(x, vm):
    return {vdi: x.VDI.get_SR(vdi) for vdi in disks(x, vm)}


def pool_network(x):
    return next(n for n, r in x.network.get_all_records().items() if r["bridge"] == "xenbr0")


def local_sr(x, host):
    return next(sr for sr, r in x.SR.get_all_records().items()
                if r["type"] == "lvm" and any(x.PBD.get_host(p) == host for p in r["PBDs"]))


def settle(x, task, timeout=30.0):
    wait_for(lambda: x.task.get_status(task) != "pending", timeout)
    rec = x.task.get_record(task)
    x.task.destroy(task)
    assert rec["status"] == "success", rec["error_info"]


# --------------------------------------------------------------------------- time
def test_live_migration_time_is_proportional_to_memory(rt_dc):
    """xapi_vm_migrate.ml pool_migrate copies the guest's memory (xenopsd VM.migrate): the time model's
    pool_migrate (4 s) plus pool_migrate_per_gib (9 s) per GiB of memory_dynamic_max, so a 2 GiB canary takes
    22 simulated seconds and a 16 GiB database VM 148."""
    x = connect(rt_dc).xenapi
    names = guests(x)
    for name, expected in (("canary-0001", 22.0), ("db-0001", 148.0)):
        vm = names[name]
        assert int(x.VM.get_memory_dynamic_max(vm)) == (2 if name.startswith("canary") else 16) * GIB
        dest = target_for(x, vm)
        task = x.Async.VM.pool_migrate(vm, dest, {})
        wait_for(lambda: x.VM.get_scheduled_to_be_resident_on(vm) == dest or x.task.get_status(task) != "pending")
        time.sleep(0.1)  # the worker is asleep on the simulated clock by now
        rt_dc.control.advance(expected - 2.0)
        time.sleep(0.3)
        assert x.task.get_status(task) == "pending", "%s: not done %g s before its %g s" % (name, 2.0, expected)
        rt_dc.control.advance(3.0)
        settle(x, task)
        assert x.VM.get_resident_on(vm) == dest


# --------------------------------------------------------------------------- checks
def test_assert_can_migrate_answers_xapis_codes(ha_dc):
    """xapi_vm_migrate.ml assert_can_migrate (intra-pool): check_vdi_map (VDI_NOT_IN_MAP [vdi]), then
    xapi_vm_helpers.ml assert_can_boot_here on the destination: networks (xapi_network_attach_helpers.ml
    assert_can_see_named_networks: VM_REQUIRES_NETWORK [vm, network]) and memory (assert_enough_memory_available:
    HOST_NOT_ENOUGH_FREE_MEMORY [needed, available]); a VIF map inside a pool is OPERATION_NOT_ALLOWED.
    message_forwarding.ml VM.pool_migrate runs the same assert_can_boot_here."""
    x = connect(ha_dc).xenapi
    names = guests(x)
    vm = names["canary-0002"]
    src = x.VM.get_resident_on(vm)
    dest_host = target_for(x, vm)
    net = pool_network(x)
    dest = x.host.migrate_receive(dest_host, net, {})
    assert dest["host"] == dest_host and set(dest) == {"SM", "host", "xenops", "session_id", "master"}
    assert dest["xenops"].startswith("http://%s/services/xenops?session_id=" % x.host.get_address(dest_host))
    assert details(x.VM.assert_can_migrate, vm, dest, True, {}, {}, {}) == ["VDI_NOT_IN_MAP", disks(x, vm)[0]]
    x.VM.assert_can_migrate(vm, dest, True, same_sr_map(x, vm), {}, {})
    vif = x.VM.get_VIFs(vm)[0]
    assert details(x.VM.assert_can_migrate, vm, dest, True, same_sr_map(x, vm), {vif: net}, {}) == [
        "OPERATION_NOT_ALLOWED", "VIF mapping is not allowed for intra-pool migration -all VIFs must be on the same network"]
    # a network whose only PIF is on the VM's host (a VLAN on that host alone)
    lonely = x.network.create({"name_label": "vlan-only-here", "name_description": "", "MTU": "1500", "other_config": {}})
    eth1 = next(p for p in x.host.get_PIFs(src) if x.PIF.get_device(p) == "eth1" and x.PIF.get_VLAN(p) == "-1")
    x.VLAN.create(eth1, "77", lonely)
    x.VIF.create({"VM": vm, "network": lonely, "device": "3", "MAC": "", "MTU": "1500", "other_config": {},
                  "qos_algorithm_type": "", "qos_algorithm_params": {}})
    assert details(x.VM.assert_can_migrate, vm, dest, True, same_sr_map(x, vm), {}, {}) == ["VM_REQUIRES_NETWORK", vm, lonely]
    assert details(x.VM.pool_migrate, vm, dest_host, {}) == ["VM_REQUIRES_NETWORK", vm, lonely]
    assert x.VM.get_resident_on(vm) == src and x.VM.get_current_operations(vm) == {}
    # memory: a 40 GiB guest on a host emptied for it, then asked to move to a host with less room
    residents = [v for v in x.host.get_resident_VMs(src) if not x.VM.get_is_control_domain(v)]
    big = next(v for v in residents if x.VM.get_name_label(v).startswith("db-"))
    for other in residents:
        x.VM.hard_shutdown(other)
    x.VM.set_memory_limits(big, str(GIB), str(40 * GIB), str(40 * GIB), str(40 * GIB))
    x.VM.start_on(big, src, False, False)
    wait_for(lambda: x.VM.get_guest_metrics(big) != NULL)
    needed = 40 * GIB + int(x.VM.compute_memory_overhead(big))
    for host in [h for h in x.host.get_all() if h != src]:
        available = int(x.host.compute_free_memory(host))
        assert available < needed
        there = x.host.migrate_receive(host, net, {})
        assert details(x.VM.assert_can_migrate, big, there, True, same_sr_map(x, big), {}, {}) == [
            "HOST_NOT_ENOUGH_FREE_MEMORY", str(needed), str(available)]
        assert details(x.VM.pool_migrate, big, host, {}) == ["HOST_NOT_ENOUGH_FREE_MEMORY", str(needed), str(available)]


def test_migrate_receive_and_cross_pool(ha_dc):
    """xapi_host.ml migrate_receive: HOST_CANNOT_ATTACH_NETWORK [host, network] without a PIF of the network on the
    host. xapi_vm_migrate.ml migrate_send': copy mode inside a pool is OPERATION_NOT_ALLOWED. A destination outside
    the pool is a cross-pool migration, which the simulator does not model: it answers as xapi does when it cannot
    reach the destination (remote_of_dest: CANNOT_CONTACT_HOST [address])."""
    x = connect(ha_dc).xenapi
    vm = guests(x)["canary-0003"]
    dest_host = target_for(x, vm)
    empty = x.network.create({"name_label": "no-pifs", "name_description": "", "MTU": "1500", "other_config": {}})
    assert details(x.host.migrate_receive, dest_host, empty, {}) == ["HOST_CANNOT_ATTACH_NETWORK", dest_host, empty]
    dest = x.host.migrate_receive(dest_host, pool_network(x), {})
    vdi_map = same_sr_map(x, vm)
    assert details(x.VM.migrate_send, vm, dest, True, vdi_map, {}, {"copy": "true"})[0] == "OPERATION_NOT_ALLOWED"
    elsewhere = dict(dest, host="OpaqueRef:00000000-0000-0000-0000-000000000000", xenops="http://127.0.0.99/services/xenops")
    assert details(x.VM.assert_can_migrate, vm, elsewhere, True, vdi_map, {}, {}) == ["CANNOT_CONTACT_HOST", "127.0.0.99"]
    assert x.VM.get_current_operations(vm) == {}


def test_storage_motion_moves_disks_and_vm(ha_dc):
    """message_forwarding.ml / xapi_vm_migrate.ml VDI.pool_migrate: a disk without a VM is
    VDI_NEEDS_VM_FOR_MIGRATE [vdi]; otherwise the VM is storage-migrated with that disk mapped to the SR and the
    others where they are, on its own host when that host sees every SR, and the call returns the disk's new VDI.
    Then assert_can_boot_here's SR check (assert_can_see_SRs: VM_REQUIRES_SR [vm, sr]) stops a migration to a host
    that cannot see the local SR, and VM.migrate_send with a vdi_map moves disk and VM together."""
    x = connect(ha_dc).xenapi
    vm = guests(x)["canary-0004"]
    host = x.VM.get_resident_on(vm)
    shared = x.VDI.get_SR(disks(x, vm)[0])
    loose = x.VDI.create({"name_label": "loose", "name_description": "", "SR": shared, "virtual_size": str(GIB),
                          "type": "user", "sharable": False, "read_only": False, "other_config": {}})
    assert details(x.VDI.pool_migrate, loose, local_sr(x, host), {}) == ["VDI_NEEDS_VM_FOR_MIGRATE", loose]
    (vdi,) = disks(x, vm)
    size = int(x.VDI.get_virtual_size(vdi))
    local = local_sr(x, host)
    moved = x.VDI.pool_migrate(vdi, local, {})
    assert moved != vdi and disks(x, vm) == [moved]
    assert x.VDI.get_SR(moved) == local and int(x.VDI.get_virtual_size(moved)) == size
    assert details(x.VDI.get_record, vdi)[0] == "HANDLE_INVALID", "the mirror's source is gone"
    assert x.VM.get_resident_on(vm) == host and x.VM.get_power_state(vm) == "Running"
    other = next(h for h in x.host.get_all() if h != host)
    assert details(x.VM.pool_migrate, vm, other, {}) == ["VM_REQUIRES_SR", vm, local]
    dest = x.host.migrate_receive(other, pool_network(x), {})
    assert details(x.VM.assert_can_migrate, vm, dest, True, {moved: local}, {}, {}) == ["VM_REQUIRES_SR", vm, local]
    assert x.VM.migrate_send(vm, dest, True, {moved: shared}, {}, {}) == vm
    (back,) = disks(x, vm)
    assert x.VDI.get_SR(back) == shared and x.VM.get_resident_on(vm) == other
    assert x.VDI.pool_migrate(back, shared, {}) == back, "already there: nothing moves"


def test_cpu_vendor_check_unless_forced(tmp_path_factory):
    """message_forwarding.ml VM.pool_migrate: Cpuid_helpers.assert_vm_is_compatible unless options force=true
    (cpuid_helpers.ml: VM_INCOMPATIBLE_WITH_THIS_HOST [vm, host, "VM last booted on a host which had a CPU from a
    different vendor."]); VM.assert_can_migrate runs it through assert_can_boot_here ~do_cpuid_check:(not force)."""
    sim = start_sim(tmp_path_factory, "migration-ref", "reference.yml")
    try:
        index = {h["name"]: i for i, h in enumerate(sim.ready["hosts"])}
        amd, intel = "xen-amd-01", "xen-intel-01"
        joiner = connect(sim, index[intel]).xenapi
        joiner.pool.join_force(sim.ready["hosts"][index[amd]]["address"], "root", password(sim))
        x = connect(sim, index[amd]).xenapi
        member_ready(x, intel)
        hosts = hosts_by_name(x)
        vm = x.VM.clone(x.VM.get_by_name_label("Other install media")[0], "vendor-guest")
        x.VM.provision(vm)
        x.VM.set_domain_type(vm, "pv")
        x.VM.start_on(vm, hosts[amd], False, False)
        reason = "VM last booted on a host which had a CPU from a different vendor."
        assert details(x.VM.pool_migrate, vm, hosts[intel], {}) == ["VM_INCOMPATIBLE_WITH_THIS_HOST", vm, hosts[intel], reason]
        dest = x.host.migrate_receive(hosts[intel], pool_network(x), {})
        assert details(x.VM.assert_can_migrate, vm, dest, True, {}, {}, {}) == ["VM_INCOMPATIBLE_WITH_THIS_HOST", vm, hosts[intel], reason]
        x.VM.assert_can_migrate(vm, dest, True, {}, {}, {"force": "true"})
        x.VM.pool_migrate(vm, hosts[intel], {"force": "true"})
        assert x.VM.get_resident_on(vm) == hosts[intel]
    finally:
        sim.stop()


# --------------------------------------------------------------------------- HA and evacuation
def test_evacuation_that_breaks_the_failover_plan_is_refused(ha_dc):
    """message_forwarding.ml Host.evacuate calls Xapi_ha_vm_failover.assert_host_disable_preserves_ha_plan first:
    HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN when the plan for ha_plan_exists_for failures would not survive the
    host's protected VMs moving off it. xapi_host.ml compute_evacuation_plan_no_wlb (what
    get_vms_which_prevent_evacuation answers) has no such check, but with HA on it names every VM that is not
    protected: HOST_EVACUATE_VM_NOT_HA_PROTECTED [vm]."""
    x = connect(ha_dc).xenapi
    names = guests(x)
    unprotected = names["canary-0001"]
    for name, vm in names.items():
        if vm != unprotected:
            x.VM.set_ha_restart_priority(vm, "restart")
    pool = x.pool.get_all()[0]
    shared = next(sr for sr, r in x.SR.get_all_records().items() if r["shared"] and r["type"] == "lvmoiscsi")
    x.pool.enable_ha([shared], {})
    x.pool.set_ha_host_failures_to_tolerate(pool, "1")
    assert x.pool.get_ha_plan_exists_for(pool) == "1"
    host = x.VM.get_resident_on(unprotected)
    assert x.host.get_vms_which_prevent_evacuation(host) == {unprotected: ["HOST_EVACUATE_VM_NOT_HA_PROTECTED", unprotected]}
    before = {v: x.VM.get_resident_on(v) for v in names.values()}
    assert details(x.host.evacuate, host) == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    assert details(x.host.disable, host) == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    assert {v: x.VM.get_resident_on(v) for v in names.values()} == before, "nothing moved"
    # with the tolerance at 0 nothing is at stake: the plan's first error (the unprotected VM) is the answer
    x.pool.set_ha_host_failures_to_tolerate(pool, "0")
    assert details(x.host.evacuate, host) == ["HOST_EVACUATE_VM_NOT_HA_PROTECTED", unprotected]
    x.VM.hard_shutdown(unprotected)
    x.host.evacuate(host)
    assert [v for v in x.host.get_resident_VMs(host) if not x.VM.get_is_control_domain(v)] == []


def test_host_shutdown_goes_down_and_stays_down(ha_dc):
    """xapi_host.ml shutdown (shutdown_and_reboot_common, like reboot): HOST_NOT_DISABLED for an enabled host;
    prepare_for_poweroff shuts down what still runs there and unplugs the PBDs; the host is gone until someone
    powers it on (not simulated), so a reboot of it is HOST_OFFLINE."""
    x = connect(ha_dc).xenapi
    host = hosts_by_name(x)["xen-amd-04"]
    assert details(x.host.shutdown, host) == ["HOST_NOT_DISABLED"]
    x.host.disable(host)
    x.host.evacuate(host)
    x.host.shutdown(host)
    wait_for(lambda: not x.host_metrics.get_live(x.host.get_metrics(host)))
    ha_dc.control.advance(600)  # far past a reboot's three minutes
    time.sleep(0.3)
    assert not x.host_metrics.get_live(x.host.get_metrics(host)) and not x.host.get_enabled(host)
    assert not any(x.PBD.get_currently_attached(p) for p in x.host.get_PBDs(host))
    assert details(x.host.reboot, host) == ["HOST_OFFLINE", host]


def test_one_host_reboot_handler():
    """xapi_host.ml reboot is one call: the simulator registers host.reboot once, in handlers_lifecycle.py (down and
    up in simulated time, HOST_NOT_DISABLED for an enabled host); the stale instant copy in handlers_pool.py is gone,
    and host.shutdown lives beside it."""
    package = os.path.join(SIM_ROOT, "xapisim")
    found = []
    for name in sorted(os.listdir(package)):
        if name.endswith(".py"):
            with open(os.path.join(package, name), encoding="utf-8") as handle:
                matches = (re.match(r'@handler\("host", "(reboot|shutdown)"', line.strip()) for line in handle)
                found += [(name, m.group(1)) for m in matches if m]
    assert found == [("handlers_lifecycle.py", "shutdown"), ("handlers_lifecycle.py", "reboot")]


def test_migration_checks_are_reads_in_the_call_log():
    """Check mode must make no write call: host.migrate_receive only opens a session (as a login does) and
    VM.assert_can_migrate changes nothing, so a module may check a migration in check mode; the moves are writes."""
    from xapisim import app  # noqa: F401  pylint: disable=import-outside-toplevel,unused-import
    from xapisim.dispatch import is_write  # pylint: disable=import-outside-toplevel
    assert not is_write("host", "migrate_receive", None) and not is_write("VM", "assert_can_migrate", None)
    assert all(is_write(cls, msg, None) for cls, msg in (("VM", "pool_migrate"), ("VM", "migrate_send"),
                                                         ("VDI", "pool_migrate"), ("host", "evacuate")))
