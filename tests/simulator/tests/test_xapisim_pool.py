# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pool membership on the 18-host reference datacenter: join, join_force, eject, evacuate."""
from __future__ import annotations

import time
import xmlrpc.client

import pytest
import XenAPI

from conftest import connect, password

NULL = "OpaqueRef:NULL"


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


def index_of(sim, name):
    return [h["name"] for h in sim.ready["hosts"]].index(name)


def addr(sim, name):
    return sim.ready["hosts"][index_of(sim, name)]["address"]


def login(sim, name):
    return connect(sim, index_of(sim, name)).xenapi


def member_ready(x, name):
    """The coordinator creates a joiner disabled and not live (xapi_pool.ml update_non_vm_metadata -> Host.create);
    wait for its toolstack restart to enable it (bounded: 60 s)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        host = (x.host.get_by_name_label(name) or [None])[0]
        if host and x.host.get_enabled(host) and x.host_metrics.get_live(x.host.get_metrics(host)):
            return host
        time.sleep(0.05)
    raise AssertionError("%s is not an enabled, live member" % name)


def test_reference_layout(ref_sim):
    hosts = ref_sim.ready["hosts"]
    assert len(hosts) == 18
    assert sum(h["cpu_vendor"] == "GenuineIntel" for h in hosts) == 14
    assert sum(h["cpu_vendor"] == "AuthenticAMD" for h in hosts) == 4
    assert [h["address"] for h in hosts[:2]] == ["127.0.0.11", "127.0.0.12"]
    assert len({h["url_https"].rsplit(":", 1)[1] for h in hosts}) == 1, "all hosts share one port"
    x = login(ref_sim, "xen-amd-02")
    pool = x.pool.get_all()[0]
    host = x.host.get_all()[0]
    assert x.pool.get_master(pool) == host, "every host starts as its own pool"
    assert x.host.get_cpu_info(host)["vendor"] == "AuthenticAMD"
    assert len(x.host.get_host_CPUs(host)) == 8
    names = {r["name_label"] for r in x.VM.get_all_records().values() if r["is_a_template"]}
    assert {"Debian Bookworm 12", "CentOS Stream 9", "Windows Server 2022 (64-bit)", "Other install media"} <= names
    nets = {r["name_label"]: r["bridge"] for r in x.network.get_all_records().values()}
    assert nets["Pool-wide network associated with eth0"] == "xenbr0"
    mgmt = [r for r in x.PIF.get_all_records().values() if r["management"]]
    assert len(mgmt) == 1 and mgmt[0]["IP"] == addr(ref_sim, "xen-amd-02")
    dom0 = [r for r in x.VM.get_all_records().values() if r["is_control_domain"]]
    assert len(dom0) == 1 and dom0[0]["power_state"] == "Running"
    srs = x.SR.get_all_records().values()
    assert [(r["type"], r["content_type"], r["shared"]) for r in srs] == [
        ("lvm", "user", False), ("udev", "disk", False), ("udev", "iso", False), ("iso", "iso", True), ("iso", "iso", False)], \
        "local storage, the installer's removable-storage and DVD SRs, the Tools SR and the datacenter file's ISO library"


def test_join_check_order_and_join_force(ref_sim):
    master = "xen-intel-01"
    joiner = login(ref_sim, "xen-amd-01")
    pw = password(ref_sim)
    # a running VM on the joiner is reported before the CPU vendor difference (check 9 before 13)
    tpl = joiner.VM.get_by_name_label("Other install media")[0]
    vm = joiner.VM.clone(tpl, "amd-guest")
    joiner.VM.provision(vm)
    joiner.VM.start(vm, False, False)
    assert details(joiner.pool.join, addr(ref_sim, master), "root", pw) == ["JOINING_HOST_CANNOT_HAVE_RUNNING_VMS"]
    joiner.VM.hard_shutdown(vm)
    assert details(joiner.pool.join, addr(ref_sim, master), "root", pw) == ["HOSTS_NOT_HOMOGENEOUS", "CPUs differ"]
    assert details(joiner.pool.join, addr(ref_sim, master), "root", "wrong")[0] == "SESSION_AUTHENTICATION_FAILED"
    assert details(joiner.pool.join, "127.0.0.250", "root", pw) == ["JOINING_HOST_SERVICE_FAILED"]
    joiner.pool.join_force(addr(ref_sim, master), "root", pw)
    with pytest.raises(XenAPI.Failure) as info:
        login(ref_sim, "xen-amd-01")
    assert info.value.details == ["HOST_IS_SLAVE", addr(ref_sim, master)]
    x = login(ref_sim, master)
    member_ready(x, "xen-amd-01")  # its dom0 comes with its toolstack restart
    assert sorted(x.host.get_name_label(h) for h in x.host.get_all()) == ["xen-amd-01", "xen-intel-01"]
    assert len(x.pool.get_all()) == 1
    assert x.pool.get_cpu_info(x.pool.get_all()[0])["vendor"] == "GenuineIntel"
    assert x.pool.get_cpu_info(x.pool.get_all()[0])["cpu_count"] == "16"
    assert len(x.VM.get_by_name_label("amd-guest")) == 1, "the joiner's VMs are carried over"
    assert len(x.VM.get_by_name_label("Debian Bookworm 12")) == 1, "default templates are not duplicated"
    assert len([r for r in x.VM.get_all_records().values() if r["is_control_domain"]]) == 2
    amd = x.host.get_by_name_label("xen-amd-01")[0]
    assert len(x.host.get_PIFs(amd)) == 4
    eth0 = [p for p in x.host.get_PIFs(amd) if x.PIF.get_device(p) == "eth0"][0]
    assert x.network.get_name_label(x.PIF.get_network(eth0)) == "Pool-wide network associated with eth0"
    assert len(x.network.get_by_name_label("Pool-wide network associated with eth0")) == 1
    assert len([r for r in x.SR.get_all_records().values() if r["name_label"] == "Local storage"]) == 2
    # joining yourself / a member
    assert details(x.pool.join, addr(ref_sim, master), "root", pw) == ["OPERATION_NOT_ALLOWED", "Host cannot become slave of itself"]
    other = login(ref_sim, "xen-intel-02")
    assert details(other.pool.join, addr(ref_sim, "xen-amd-01"), "root", pw) == ["HOST_IS_SLAVE", addr(ref_sim, master)]


def test_join_same_vendor_then_eject(ref_sim):
    master = "xen-intel-03"
    joiner = login(ref_sim, "xen-intel-04")
    joiner.pool.join(addr(ref_sim, master), "root", password(ref_sim))
    x = login(ref_sim, master)
    member = x.host.get_by_name_label("xen-intel-04")[0]
    assert member in x.host.get_all()
    assert details(x.pool.eject, x.pool.get_master(x.pool.get_all()[0]))[0] == "INTERNAL_ERROR"
    member_pif = next(p for p in x.host.get_PIFs(member) if x.PIF.get_device(p) == "eth1")
    vlan_net = x.network.create({"name_label": "vlan-77", "name_description": "", "other_config": {}, "tags": []})
    x.VLAN.create(member_pif, "77", vlan_net)
    assert len(x.VLAN.get_all()) == 1
    x.pool.eject(member)
    assert [x.host.get_name_label(h) for h in x.host.get_all()] == ["xen-intel-03"]
    assert x.VLAN.get_all() == [], "the ejected host's VLAN went with its PIFs"
    assert all(x.PIF.get_host(p) != member for p in x.PIF.get_all())
    again = login(ref_sim, "xen-intel-04")
    assert len(again.host.get_all()) == 1, "the ejected host is standalone again"
    assert again.pool.get_master(again.pool.get_all()[0]) == again.host.get_all()[0]


def test_designate_new_master(ref_sim):
    old, new = "xen-intel-05", "xen-intel-06"
    login(ref_sim, new).pool.join(addr(ref_sim, old), "root", password(ref_sim))
    x = login(ref_sim, old)
    target = x.host.get_by_name_label(new)[0]
    x.pool.designate_new_master(target)
    with pytest.raises(XenAPI.Failure) as info:
        login(ref_sim, old)
    assert info.value.details == ["HOST_IS_SLAVE", addr(ref_sim, new)]
    y = login(ref_sim, new)
    assert y.pool.get_master(y.pool.get_all()[0]) == target


def test_evacuate_and_migrate(ref_sim):
    a, b = "xen-intel-07", "xen-intel-08"
    solo = login(ref_sim, a)
    tpl = solo.VM.get_by_name_label("Other install media")[0]
    vm = solo.VM.clone(tpl, "evac-guest")
    solo.VM.provision(vm)
    # a PV guest is migratable without PV drivers (an HVM one without guest agent is VM_LACKS_FEATURE)
    solo.VM.set_domain_type(vm, "pv")
    solo.VM.start(vm, False, False)
    host_a = solo.host.get_all()[0]
    assert solo.host.get_vms_which_prevent_evacuation(host_a) == {vm: ["NO_HOSTS_AVAILABLE", vm]}
    assert details(solo.host.evacuate, host_a) == ["NO_HOSTS_AVAILABLE", vm]
    solo.VM.hard_shutdown(vm)
    login(ref_sim, b).pool.join(addr(ref_sim, a), "root", password(ref_sim))
    x = login(ref_sim, a)
    host_b = member_ready(x, b)
    x.VM.start_on(vm, host_a, False, False)
    x.VM.pool_migrate(vm, host_b, {})
    assert x.VM.get_resident_on(vm) == host_b
    assert any(r["name"] == "VM_MIGRATED" for r in x.message.get_all_records().values())
    x.VM.pool_migrate(vm, host_a, {})
    x.host.disable(host_a)
    assert x.host.get_enabled(host_a) is False
    assert x.host.get_vms_which_prevent_evacuation(host_a) == {}
    x.host.evacuate(host_a)
    assert x.VM.get_resident_on(vm) == host_b
    assert details(x.VM.start_on, x.VM.clone(tpl, "c2"), host_a, False, False)[0] in ("VM_IS_TEMPLATE",)
    x.host.enable(host_a)
    x.VM.hard_shutdown(vm)
    assert details(x.host.reboot, host_a) == ["HOST_NOT_DISABLED"]


def test_placement_errors_in_a_pool(ref_sim):
    a, b = "xen-intel-09", "xen-intel-10"
    login(ref_sim, b).pool.join(addr(ref_sim, a), "root", password(ref_sim))
    x = login(ref_sim, a)
    host_a = x.host.get_by_name_label(a)[0]
    host_b = member_ready(x, b)
    local_a = [sr for sr in x.SR.get_all() if x.PBD.get_host(x.SR.get_PBDs(sr)[0]) == host_a][0]
    tpl = x.VM.get_by_name_label("Debian Bookworm 12")[0]
    vm = x.VM.clone(tpl, "local-disk-vm")
    disks = x.VM.get_other_config(vm)["disks"].replace('sr=""', 'sr="%s"' % x.SR.get_uuid(local_a))
    x.VM.remove_from_other_config(vm, "disks")
    x.VM.add_to_other_config(vm, "disks", disks)
    x.VM.provision(vm)
    assert details(x.VM.start_on, vm, host_b, False, False) == ["VM_REQUIRES_SR", vm, local_a]
    assert details(x.VM.assert_can_boot_here, vm, host_b) == ["VM_REQUIRES_SR", vm, local_a]
    x.VM.set_affinity(vm, host_b)
    x.VM.start(vm, False, False)
    assert x.VM.get_resident_on(vm) == host_a, "placement skips hosts that cannot see the disks"
    # a VM too big for the other host blocks evacuation with the per-VM error
    x.VM.hard_shutdown(vm)
    gib = 1024 ** 3
    x.VM.set_memory_limits(vm, str(gib), str(14 * gib), str(14 * gib), str(14 * gib))
    # xapi_host.ml compute_evacuation_plan_no_wlb: the pool_migrate operation check comes last and wins, so an HVM
    # guest without an agent (this disk holds no OS) would be VM_LACKS_FEATURE; a PV guest is migratable
    x.VM.set_domain_type(vm, "pv")
    x.VM.start_on(vm, host_a, False, False)
    problems = x.host.get_vms_which_prevent_evacuation(host_a)
    assert problems == {vm: ["VM_REQUIRES_SR", vm, local_a]}
    err = details(x.host.assert_can_evacuate, host_a)
    assert err == ["CANNOT_EVACUATE_HOST", "VM_REQUIRES_SR,%s,%s" % (vm, local_a)]
    x.VM.hard_shutdown(vm)
    other = x.VM.clone(x.VM.get_by_name_label("Other install media")[0], "big-diskless")
    x.VM.provision(other)
    x.VM.set_domain_type(other, "pv")
    x.VM.set_memory_limits(other, str(gib), str(14 * gib), str(14 * gib), str(14 * gib))
    x.VM.start_on(other, host_a, False, False)
    blocker = x.VM.clone(x.VM.get_by_name_label("Other install media")[0], "blocker")
    x.VM.provision(blocker)
    x.VM.set_memory_limits(blocker, str(gib), str(8 * gib), str(8 * gib), str(8 * gib))
    x.VM.start_on(blocker, host_b, False, False)
    assert x.host.get_vms_which_prevent_evacuation(host_a) == {other: ["HOST_NOT_ENOUGH_FREE_MEMORY", other]}
    err = details(x.VM.pool_migrate, other, host_b, {})
    assert err[0] == "HOST_NOT_ENOUGH_FREE_MEMORY" and int(err[1]) > int(err[2])
    metrics_b = x.host.get_metrics(host_b)
    assert int(x.host_metrics.get_record(metrics_b)["memory_free"]) < 8 * gib
    assert details(x.host_metrics.get_memory_free, metrics_b) == ["MESSAGE_REMOVED"]


def test_sessions_are_pool_local(ref_sim):
    a = connect(ref_sim, index_of(ref_sim, "xen-intel-11"))
    ref = a._session  # pylint: disable=protected-access
    other = xmlrpc.client.ServerProxy(ref_sim.ready["hosts"][index_of(ref_sim, "xen-intel-12")]["url_http"])
    assert other.pool.get_all(ref) == {"Status": "Failure", "ErrorDescription": ["SESSION_INVALID", ref]}
    assert a.xenapi.pool.get_all()
