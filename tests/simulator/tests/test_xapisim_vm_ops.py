# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What VM modules rely on: placement and provisioning as xapi does them, VCPU/memory setters, VDI resize,
CD insert/eject, hot-plug, VIF MACs, the datacenter templates/ISOs/golden template, and the time model
(clone, copy, boot, installs, the SR lock) measured on a simulated clock."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import pytest
import XenAPI

from conftest import SIM_ROOT, connect, password, start_sim
from xapisim import datacenter

NULL = "OpaqueRef:NULL"
GIB = 1024 ** 3
MIB = 1024 ** 2
VCPU_RULE = "VCPU values must satisfy: 0 < VCPUs_at_startup \u2264 VCPUs_max"
VCPU_LIVE_RULE = "VCPU values must satisfy: 0 < VCPUs \u2264 VCPUs_max"


# --------------------------------------------------------------------------- fixtures and helpers
@pytest.fixture(scope="module", name="vm_sim")
def vm_sim_fixture(tmp_path_factory):
    """small.yml at 1/100 of real time: one host, one halted VM, templates, ISO library, sl5-golden."""
    sim = start_sim(tmp_path_factory, "vmops", "small.yml")
    yield sim
    sim.stop()


@pytest.fixture(scope="module", name="rt_sim")
def rt_sim_fixture(tmp_path_factory):
    """small.yml in real time: durations are measured by jumping the simulated clock (POST /sim/time)."""
    sim = start_sim(tmp_path_factory, "vmops-rt", "small.yml", ["--time-scale", "1.0"])
    yield sim
    sim.stop()


@pytest.fixture(scope="module", name="gen_sim")
def gen_sim_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "vmops-gen", None, ["--generate", "hosts=2,vms=6"])
    yield sim
    sim.stop()


@pytest.fixture(name="x")
def x_fixture(vm_sim):
    session = connect(vm_sim)
    yield session.xenapi
    session.xenapi.session.logout()


@pytest.fixture(name="rt")
def rt_fixture(rt_sim):
    session = connect(rt_sim)
    yield session.xenapi
    session.xenapi.session.logout()


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in %.1f s" % timeout)


def xapi_gen_mac(seed: str, device: int) -> str:
    """xapi_vif_helpers.ml gen_mac, written independently of the simulator."""
    data = seed.encode()
    for _round in range(2 * device + 1):
        data = hashlib.md5(data).digest()  # nosec
    second = hashlib.md5(data).digest()  # nosec
    first = (data[0] | 2) & 0xFE
    return "%02x:%02x:%02x:%02x:%02x:%02x" % (first, data[1], data[2], data[3], second[1], second[2])


def template(x, name):
    return [v for v in x.VM.get_by_name_label(name) if x.VM.get_is_a_template(v)][0]


def local_sr(x):
    return [s for s, r in x.SR.get_all_records().items() if r["type"] == "lvm"][0]


def iso_vdi(x, name):
    return x.VDI.get_by_name_label(name)[0]


def network(x):
    return [n for n, r in x.network.get_all_records().items() if r["bridge"] == "xenbr0"][0]


def install(x, name, new_name, sr=None, vif=True):
    """A client's VM install (as xe vm-install does it): clone, disks pointed at the SR, provision, one VIF."""
    vm = x.VM.clone(template(x, name), new_name)
    disks = x.VM.get_other_config(vm).get("disks")
    if disks:
        x.VM.remove_from_other_config(vm, "disks")
        x.VM.add_to_other_config(vm, "disks", disks.replace('sr=""', 'sr="%s"' % x.SR.get_uuid(sr or local_sr(x))))
    x.VM.provision(vm)
    if vif:
        x.VIF.create(vif_record(vm, network(x)))
    return vm


def installed(x, new_name):
    """A copy of the datacenter's small-vm-0001 (Debian Bookworm 12, installed, one VIF): its disk clone keeps the OS."""
    source = [v for v, r in x.VM.get_all_records().items() if r["name_label"] == "small-vm-0001"][0]
    return x.VM.clone(source, new_name)


def vif_record(vm, net, device="0", mac=""):
    return {"device": device, "network": net, "VM": vm, "MAC": mac, "MTU": "1500", "other_config": {},
            "qos_algorithm_type": "", "qos_algorithm_params": {}}


def cd_vbd(x, vm, vdi=NULL, userdevice="3"):
    return x.VBD.create({"VM": vm, "VDI": vdi, "userdevice": userdevice, "bootable": False, "mode": "RO", "type": "CD",
                         "empty": vdi == NULL, "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}})


def disk_vdi(x, vm):
    return [x.VBD.get_VDI(v) for v in x.VM.get_VBDs(vm) if x.VBD.get_type(v) == "Disk"][0]


def settle(x, task, timeout=5.0):
    wait_for(lambda: x.task.get_status(task) != "pending", timeout)
    rec = x.task.get_record(task)
    x.task.destroy(task)
    assert rec["status"] == "success", rec["error_info"]
    return rec["result"][len("<value>"):-len("</value>")] if rec["result"] else ""


def advance(sim, x, task, seconds, done):
    """Jump the simulated clock; the task must then be finished (done=True) or still pending."""
    time.sleep(0.15)  # the task's worker is asleep on the simulated clock by now
    sim.control.advance(seconds)
    if done:
        return settle(x, task)
    time.sleep(0.3)
    assert x.task.get_status(task) == "pending"
    return None


# --------------------------------------------------------------------------- 1a: placement
def test_start_without_memory_is_refused_by_the_reservation(x):
    """choose_host_for_vm retries without the memory check, so VM.start gets xenopsd's
    HOST_NOT_ENOUGH_FREE_MEMORY [needed, free] (bytes), not NO_HOSTS_AVAILABLE."""
    host = x.host.get_all()[0]
    vm = x.VM.clone(template(x, "Other install media"), "too-big")
    x.VM.provision(vm)
    x.VM.set_memory_limits(vm, str(GIB), str(32 * GIB), str(32 * GIB), str(32 * GIB))
    free = int(x.host.compute_free_memory(host))
    needed = 32 * GIB + int(x.VM.compute_memory_overhead(vm))
    assert details(x.VM.start, vm, False, False) == ["HOST_NOT_ENOUGH_FREE_MEMORY", str(needed), str(free)]
    assert details(x.VM.start_on, vm, host, False, False) == ["HOST_NOT_ENOUGH_FREE_MEMORY", str(needed), str(free)]
    assert details(x.VM.assert_can_boot_here, vm, host) == ["HOST_NOT_ENOUGH_FREE_MEMORY", str(needed), str(free)]
    rec = x.VM.get_record(vm)
    assert rec["power_state"] == "Halted" and rec["scheduled_to_be_resident_on"] == NULL and rec["current_operations"] == {}
    # a problem that is not memory: no host at all (start) / the problem itself (start_on)
    x.VM.set_memory_limits(vm, str(GIB), str(GIB), str(GIB), str(GIB))
    x.VM.set_VCPUs_max(vm, "8")
    assert details(x.VM.start_on, vm, host, False, False) == ["HOST_NOT_ENOUGH_PCPUS", "8", "4"]
    assert details(x.VM.start, vm, False, False) == ["NO_HOSTS_AVAILABLE"]
    x.VM.add_to_platform(vm, "vcpu-unrestricted", "true")
    x.VM.start(vm, False, False)
    x.VM.hard_shutdown(vm)
    x.VM.destroy(vm)


def test_start_validation_order(x):
    """validate_basic_parameters is part of assert_can_boot_here: start_on names it, start finds no host."""
    host = x.host.get_all()[0]
    vm = x.VM.create({"name_label": "bad-vcpus", "name_description": "", "user_version": "1", "is_a_template": False,
                      "affinity": NULL, "memory_static_max": str(GIB), "memory_dynamic_max": str(GIB),
                      "memory_dynamic_min": str(GIB), "memory_static_min": str(GIB), "VCPUs_params": {},
                      "VCPUs_max": "1", "VCPUs_at_startup": "2", "actions_after_shutdown": "destroy",
                      "actions_after_reboot": "restart", "actions_after_crash": "restart", "PV_bootloader": "",
                      "PV_kernel": "", "PV_ramdisk": "", "PV_args": "", "PV_bootloader_args": "", "PV_legacy_args": "",
                      "HVM_boot_policy": "BIOS order", "HVM_boot_params": {}, "platform": {}, "PCI_bus": "",
                      "other_config": {}, "recommendations": ""})
    assert x.VM.get_other_config(vm)["mac_seed"], "VM.create adds a mac_seed"
    assert details(x.VM.start_on, vm, host, False, False) == ["VALUE_NOT_SUPPORTED", "VCPUs-at-startup", "2",
                                                              "value greater than VCPUs-max"]
    assert details(x.VM.start, vm, False, False) == ["NO_HOSTS_AVAILABLE"]
    x.VM.destroy(vm)


# --------------------------------------------------------------------------- 1b: provision
def test_failed_provision_leaves_a_vm_not_a_template(x):
    tpl = template(x, "Debian Bookworm 12")
    vm = x.VM.clone(tpl, "prov-fail")
    assert x.VM.get_is_a_template(vm) is True
    assert details(x.VM.provision, vm) == ["UUID_INVALID", "sr", ""]
    rec = x.VM.get_record(vm)
    assert rec["is_a_template"] is False and rec["VBDs"] == [] and "disks" in rec["other_config"]
    assert details(x.VM.provision, vm) == ["PROVISION_ONLY_ALLOWED_ON_TEMPLATE"]
    x.VM.destroy(vm)
    # a provision spec xapi cannot parse fails in the forwarding layer: the VM stays a template
    vm = x.VM.clone(tpl, "prov-parse")
    x.VM.remove_from_other_config(vm, "disks")
    x.VM.add_to_other_config(vm, "disks", '<provision><disk device="0"/></provision>')
    assert details(x.VM.provision, vm) == ["INTERNAL_ERROR", "Xapi_templates.Parse_failure"]
    assert x.VM.get_is_a_template(vm) is True
    # pre_install creates the disks outside provision's clean-up: disks made before a failing one stay
    sr_uuid = x.SR.get_uuid(local_sr(x))
    x.VM.remove_from_other_config(vm, "disks")
    x.VM.add_to_other_config(vm, "disks", '<provision><disk device="0" size="1073741824" sr="%s" bootable="true" '
                             'type="system"/><disk device="1" size="1073741824" sr="nope" bootable="false" '
                             'type="user"/></provision>' % sr_uuid)
    assert details(x.VM.provision, vm) == ["UUID_INVALID", "sr", "nope"]
    vbds = x.VM.get_VBDs(vm)
    assert len(vbds) == 1 and x.VM.get_is_a_template(vm) is False
    vbd = x.VBD.get_record(vbds[0])
    vdi = x.VDI.get_record(vbd["VDI"])
    assert vbd["userdevice"] == "0" and vbd["bootable"] is True and vbd["unpluggable"] is False
    assert vbd["other_config"] == {"owner": ""} and vbd["mode"] == "RW"
    assert vdi["name_label"] == "0" and vdi["name_description"] == "Created by template provisioner"
    assert vdi["sm_config"]["vmhint"] == x.VM.get_uuid(vm) and vdi["type"] == "system"
    x.VDI.destroy(vbd["VDI"])
    x.VM.destroy(vm)


# --------------------------------------------------------------------------- 1c: datacenter VMs
def check_running_vm(x, vm):
    rec = x.VM.get_record(vm)
    assert rec["power_state"] == "Running" and int(rec["domid"]) > 0
    gm = x.VM_guest_metrics.get_record(rec["guest_metrics"])
    assert gm["networks"]["0/ip"] == gm["networks"]["0/ipv4/0"] and gm["PV_drivers_detected"] is True
    metrics = x.VM_metrics.get_record(rec["metrics"])
    assert metrics["VCPUs_CPU"] and metrics["VCPUs_number"] == rec["VCPUs_at_startup"]
    assert metrics["hvm"] is (rec["domain_type"] == "hvm") and metrics["current_domain_type"] == rec["domain_type"]
    assert rec["last_boot_CPU_flags"]["vendor"] == "GenuineIntel" and rec["last_boot_CPU_flags"]["features"]
    disks = [x.VBD.get_record(v) for v in rec["VBDs"] if x.VBD.get_type(v) == "Disk"]
    assert [d["device"] for d in disks] == ["xvda", "xvdb"][:len(disks)] and all(d["currently_attached"] for d in disks)
    vif = x.VIF.get_record(rec["VIFs"][0])
    assert vif["currently_attached"] is True and vif["MAC_autogenerated"] is True
    assert vif["MAC"] == xapi_gen_mac(rec["other_config"]["mac_seed"], 0)
    return rec


def test_datacenter_vms_look_like_api_vms(gen_sim):
    x = connect(gen_sim).xenapi
    vms = {v: r for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]}
    assert len(vms) == 6
    seeds = {r["other_config"]["mac_seed"] for r in vms.values()}
    assert len(seeds) == 6, "every VM has its own mac_seed (clones get a new one)"
    shared = [s for s, r in x.SR.get_all_records().items() if r["shared"] and not r["is_tools_sr"]][0]
    for vm, rec in vms.items():
        check_running_vm(x, vm)
        vdi = x.VDI.get_record(disk_vdi(x, vm))
        assert vdi["SR"] == shared and vdi["sm_config"]["vmhint"] == rec["uuid"]
        assert int(vdi["virtual_size"]) // GIB in {shape[2] for shape in datacenter.GENERATED_SHAPES}
        assert rec["other_config"]["base_template_name"] == "Debian Bookworm 12" and "disks" not in rec["other_config"]
    assert {r["resident_on"] for r in vms.values()} == set(x.host.get_all()), "spread round-robin"
    shapes = datacenter.GENERATED_SHAPES[:6]
    assert sorted(int(r["memory_static_max"]) >> 20 for r in vms.values()) == sorted(shape[1] for shape in shapes)
    assert sum(len(r["VIFs"]) for r in vms.values()) == sum(shape[4] for shape in shapes), "the shapes' NICs"
    # a VM built through the API the same way has the same shape
    vm = install(x, "Debian Bookworm 12", "api-built", sr=shared)
    x.VM.start(vm, False, False)  # blank disk, boot order "cdn": the network install runs, then the OS boots
    gen_sim.control.advance(1200 + 30)
    wait_for(lambda: x.VM.get_guest_metrics(vm) != NULL)
    api = check_running_vm(x, vm)
    dc = next(iter(vms.values()))
    assert sorted(k for k, v in api.items() if v not in ("", {}, [], NULL)) == \
        sorted(k for k, v in dc.items() if v not in ("", {}, [], NULL))


def test_generate_is_fast():
    """--generate hosts=64,vms=2000 builds in under 3 s of CPU time (in-process, no listeners)."""
    code = ("import sys, time; sys.path.insert(0, %r)\n"
            "from xapisim import app, datacenter\n"
            "from xapisim.spec import Spec\nfrom xapisim.state import World\n"
            "w = World(Spec(), 0.01)\nt = time.process_time()\n"
            "with w.lock:\n    datacenter.build(w, datacenter.generated('hosts=64,vms=2000'))\n"
            "print(time.process_time() - t, len(w.dbs[0].tables['VM_guest_metrics']), len(w.dbs[0].tables['VBD']))\n"
            "w.scheduler.stop()\n" % SIM_ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True).stdout.split()
    disks = sum(1 + (datacenter.GENERATED_SHAPES[i % len(datacenter.GENERATED_SHAPES)][3] > 0) for i in range(2000))
    assert float(out[0]) < 3.0 and out[1:] == ["2000", str(disks)], out


def test_join_with_a_duplicate_mac_seed_drops_the_joiners_vms(ref_sim):
    """The joiner's VMs come over by a metadata import (restore=true): import.ml assert_can_restore_backup refuses
    a duplicate mac_seed with DUPLICATE_MAC_SEED and xapi_pool.ml join_common ignores that error - the join
    succeeds without the joiner's VMs."""
    def login(name):
        index = [h["name"] for h in ref_sim.ready["hosts"]].index(name)
        return connect(ref_sim, index).xenapi, ref_sim.ready["hosts"][index]["address"]
    master, master_addr = login("xen-intel-13")
    joiner, _addr = login("xen-intel-14")
    keeper = master.VM.clone(template(master, "Other install media"), "master-vm")
    seed = master.VM.get_other_config(keeper)["mac_seed"]
    clash = joiner.VM.clone(template(joiner, "Other install media"), "clashing-vm")
    joiner.VM.provision(clash)
    joiner.VM.remove_from_other_config(clash, "mac_seed")
    joiner.VM.add_to_other_config(clash, "mac_seed", seed)
    joiner.pool.join(master_addr, "root", password(ref_sim))
    master, _addr = login("xen-intel-13")
    names = {r["name_label"] for r in master.VM.get_all_records().values()}
    assert "master-vm" in names and "clashing-vm" not in names
    assert len(master.host.get_all()) == 2, "the join itself succeeded"
    # without a clash the joiner's VMs (and golden template) come along
    master, master_addr = login("xen-amd-03")
    joiner, _addr = login("xen-amd-04")
    joiner.VM.clone(template(joiner, "Other install media"), "travelling-vm")
    joiner.pool.join(master_addr, "root", password(ref_sim))
    master, _addr = login("xen-amd-03")
    assert "travelling-vm" in {r["name_label"] for r in master.VM.get_all_records().values()}


# --------------------------------------------------------------------------- 2: VCPUs
def test_vcpu_setters(x):
    vm = installed(x, "vcpus")
    x.VM.set_VCPUs_max(vm, "4")
    assert details(x.VM.set_VCPUs_max, vm, "0") == ["INVALID_VALUE", VCPU_RULE, "0"]
    x.VM.set_VCPUs_at_startup(vm, "2")
    assert details(x.VM.set_VCPUs_max, vm, "1") == ["INVALID_VALUE", VCPU_RULE, "1"]
    assert details(x.VM.set_VCPUs_at_startup, vm, "5") == ["INVALID_VALUE", VCPU_RULE, "5"]
    assert details(x.VM.set_VCPUs_number_live, vm, "3") == ["VM_BAD_POWER_STATE", vm, "running", "halted"]
    x.VM.add_to_other_config(vm, "xapisim_guest_agent", "false")
    x.VM.start(vm, False, False)
    # an HVM guest without PV drivers and without feature-vcpu-hotplug
    assert details(x.VM.set_VCPUs_number_live, vm, "3") == ["VM_LACKS_FEATURE", vm]
    assert "changing_VCPUs_live" not in x.VM.get_allowed_operations(vm)
    assert details(x.VM.set_VCPUs_max, vm, "4") == ["VM_BAD_POWER_STATE", vm, "halted", "running"]
    x.VM.set_VCPUs_at_startup(vm, "1")  # no operation check: it takes effect at the next boot
    x.VM.set_VCPUs_at_startup(vm, "2")
    x.VM.hard_shutdown(vm)
    x.VM.remove_from_other_config(vm, "xapisim_guest_agent")
    x.VM.start(vm, False, False)
    wait_for(lambda: x.VM.get_guest_metrics(vm) != NULL)
    assert "changing_VCPUs_live" in x.VM.get_allowed_operations(vm)
    assert details(x.VM.set_VCPUs_number_live, vm, "5") == ["INVALID_VALUE", VCPU_LIVE_RULE, "4"]
    assert details(x.VM.set_VCPUs_number_live, vm, "0") == ["INVALID_VALUE", VCPU_LIVE_RULE, "4"]
    x.VM.set_VCPUs_number_live(vm, "3")
    assert x.VM.get_VCPUs_at_startup(vm) == "3"
    metrics = x.VM_metrics.get_record(x.VM.get_metrics(vm))
    assert metrics["VCPUs_number"] == "3" and sorted(metrics["VCPUs_CPU"]) == ["0", "1", "2"]
    dom0 = [v for v, r in x.VM.get_all_records().items() if r["is_control_domain"]][0]
    expected = ["OPERATION_NOT_ALLOWED", "set_VCPUs_at_startup is not allowed on dom0"]
    assert details(x.VM.set_VCPUs_at_startup, dom0, "2") == expected
    x.VM.hard_shutdown(vm)
    x.VM.destroy(vm)


# --------------------------------------------------------------------------- 2: memory
def test_memory_setters(x):
    host = x.host.get_all()[0]
    vm = install(x, "CentOS 7", "memory")
    x.VM.set_memory_limits(vm, str(512 * MIB), str(4 * GIB), str(GIB), str(2 * GIB))
    assert details(x.VM.set_memory_limits, vm, str(GIB), str(4 * GIB), str(512 * MIB), str(2 * GIB)) == \
        ["MEMORY_CONSTRAINT_VIOLATION_ORDER"]
    assert details(x.VM.set_memory_static_range, vm, str(3 * GIB), str(4 * GIB)) == ["MEMORY_CONSTRAINT_VIOLATION_ORDER"]
    assert details(x.VM.set_memory_dynamic_range, vm, str(GIB), str(8 * GIB)) == ["MEMORY_CONSTRAINT_VIOLATION_ORDER"]
    free_before = int(x.host.compute_free_memory(host))
    x.VM.start(vm, False, False)
    overhead = int(x.VM.get_memory_overhead(vm))
    assert int(x.host.compute_free_memory(host)) == free_before - GIB - overhead, "dynamic_min + overhead are reserved"
    assert details(x.VM.set_memory_limits, vm, str(512 * MIB), str(4 * GIB), str(GIB), str(GIB)) == \
        ["VM_BAD_POWER_STATE", vm, "halted", "running"]
    assert details(x.VM.set_memory_static_range, vm, str(512 * MIB), str(8 * GIB)) == \
        ["VM_BAD_POWER_STATE", vm, "halted", "running"]
    assert details(x.VM.set_memory, vm, str(GIB)) == ["VM_BAD_POWER_STATE", vm, "halted", "running"]
    x.VM.set_memory_dynamic_range(vm, str(1536 * MIB), str(3 * GIB))
    rec = x.VM.get_record(vm)
    assert rec["memory_dynamic_min"] == str(1536 * MIB) and rec["memory_target"] == str(1536 * MIB)
    assert x.VM_metrics.get_memory_actual(rec["metrics"]) == str(3 * GIB)
    x.VM.set_memory_dynamic_max(vm, str(4 * GIB))
    assert details(x.VM.set_memory_dynamic_min, vm, str(5 * GIB)) == ["MEMORY_CONSTRAINT_VIOLATION_ORDER"]
    x.VM.hard_shutdown(vm)
    x.VM.set_memory(vm, str(3 * GIB))
    rec = x.VM.get_record(vm)
    assert (rec["memory_static_min"], rec["memory_static_max"], rec["memory_dynamic_min"], rec["memory_dynamic_max"]) == \
        (str(512 * MIB), str(3 * GIB), str(3 * GIB), str(3 * GIB))
    dom0 = [v for v, r in x.VM.get_all_records().items() if r["is_control_domain"]][0]
    d = x.VM.get_record(dom0)
    assert details(x.VM.set_memory_dynamic_range, dom0, str(int(d["memory_static_max"]) // 2), d["memory_static_max"]) == \
        ["MEMORY_CONSTRAINT_VIOLATION_MAXPIN", "control domain"]
    x.VM.destroy(vm)


def test_dynamic_range_needs_room_on_the_host(x):
    host = x.host.get_all()[0]
    vm = x.VM.clone(template(x, "Other install media"), "balloon")
    x.VM.provision(vm)
    x.VM.set_memory_limits(vm, str(GIB), str(64 * GIB), str(GIB), str(GIB))
    x.VM.start(vm, False, False)
    free = int(x.host.compute_free_memory(host))
    assert details(x.VM.set_memory_dynamic_range, vm, str(40 * GIB), str(40 * GIB)) == \
        ["HOST_NOT_ENOUGH_FREE_MEMORY", str(39 * GIB // 1024), str(free // 1024)]
    x.VM.hard_shutdown(vm)
    x.VM.destroy(vm)


# --------------------------------------------------------------------------- 2: VDI resize
def test_vdi_resize(x):
    vm = install(x, "CentOS 7", "resize")
    vdi = disk_vdi(x, vm)
    sr = x.VDI.get_SR(vdi)
    assert details(x.VDI.resize, vdi, str(GIB)) == ["SR_BACKEND_FAILURE_79", "", "VDI Invalid size [opterr=shrinking not allowed]", ""]
    x.VDI.resize(vdi, str(12 * GIB + 1))
    assert x.VDI.get_virtual_size(vdi) == str(12 * GIB + 2 * MIB), "rounded up to the 2 MiB VHD block"
    assert details(x.VDI.resize, vdi, str(2041 * GIB)) == \
        ["SR_BACKEND_FAILURE_79", "", "VDI Invalid size [opterr=VDI size must be between 1 MB and 2088960 MB]", ""]
    assert details(x.VDI.resize, vdi, str(1000 * GIB))[:2] == ["SR_BACKEND_FAILURE_44", ""]
    assert details(x.VDI.resize_online, vdi, str(14 * GIB)) == ["SR_OPERATION_NOT_SUPPORTED", sr], \
        "no SM driver advertises VDI_RESIZE_ONLINE"
    x.VM.start(vm, False, False)
    assert details(x.VDI.resize, vdi, str(14 * GIB)) == ["VDI_IN_USE", vdi, "resize"]
    assert details(x.VDI.resize_online, vdi, str(14 * GIB)) == ["SR_OPERATION_NOT_SUPPORTED", sr]
    x.VM.hard_shutdown(vm)
    iso = iso_vdi(x, "Fedora-11-x86_64-DVD.iso")
    assert details(x.VDI.resize, iso, str(8 * GIB)) == ["SR_OPERATION_NOT_SUPPORTED", x.VDI.get_SR(iso)]
    x.VM.destroy(vm)


# --------------------------------------------------------------------------- 2: CD drives
def test_cd_insert_and_eject(x):
    vm = installed(x, "cd-drive")
    fedora, tools = iso_vdi(x, "Fedora-11-x86_64-DVD.iso"), iso_vdi(x, "xs-tools.iso")
    assert details(x.VBD.create, {"VM": vm, "VDI": NULL, "userdevice": "3", "bootable": False, "mode": "RW", "type": "CD",
                                  "empty": True, "other_config": {}, "qos_algorithm_type": "",
                                  "qos_algorithm_params": {}}) == ["VBD_CDS_MUST_BE_READONLY"]
    cd = cd_vbd(x, vm)
    assert x.VBD.get_empty(cd) is True and "insert" in x.VBD.get_allowed_operations(cd)
    assert details(x.VBD.eject, cd) == ["VBD_IS_EMPTY", cd]
    x.VBD.insert(cd, fedora)
    assert x.VBD.get_VDI(cd) == fedora and x.VBD.get_empty(cd) is False
    assert details(x.VBD.insert, cd, tools) == ["VBD_NOT_EMPTY", cd]
    disk = [v for v in x.VM.get_VBDs(vm) if x.VBD.get_type(v) == "Disk"][0]
    assert details(x.VBD.insert, disk, tools) == ["VBD_NOT_REMOVABLE_MEDIA", disk]
    assert details(x.VBD.eject, disk) == ["VBD_NOT_REMOVABLE_MEDIA", disk]
    x.VBD.eject(cd)
    assert x.VBD.get_VDI(cd) == NULL and x.VBD.get_empty(cd) is True
    # on a running HVM guest the emulated drive stays attached while media change
    x.VBD.insert(cd, tools)
    x.VM.start(vm, False, False)
    assert x.VBD.get_currently_attached(cd) is True and x.VBD.get_device(cd) == "xvdd"
    x.VBD.eject(cd)
    x.VBD.insert(cd, fedora)
    assert x.VBD.get_currently_attached(cd) is True and x.VBD.get_VDI(cd) == fedora
    assert details(x.VBD.unplug, cd) == ["VM_MISSING_PV_DRIVERS", vm]
    wait_for(lambda: x.VM.get_guest_metrics(vm) != NULL)
    assert details(x.VBD.unplug, cd) == ["OPERATION_NOT_ALLOWED",
                                         "HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected"]
    x.VM.hard_shutdown(vm)
    x.VM.destroy(vm)


def test_suspend_and_resume_carry_on(x):
    """A suspended guest resumes where it was (its agent reports again at once, nothing boots); CD drives of
    a suspended VM take no media changes."""
    vm = installed(x, "suspend-me")
    cd = cd_vbd(x, vm)
    x.VM.start(vm, False, False)
    wait_for(lambda: x.VM.get_guest_metrics(vm) != NULL)
    x.VM.suspend(vm)
    assert x.VM.get_power_state(vm) == "Suspended" and x.VM.get_suspend_VDI(vm) != NULL
    assert details(x.VBD.insert, cd, iso_vdi(x, "xs-tools.iso")) == ["VM_BAD_POWER_STATE", vm, "halted, running", "suspended"]
    x.VM.resume(vm, False, False)
    wait_for(lambda: x.VM.get_guest_metrics(vm) != NULL, 2)
    assert x.VM.get_suspend_VDI(vm) == NULL
    x.VM.clean_shutdown(vm)
    x.VM.destroy(vm)


# --------------------------------------------------------------------------- 2: hot-plug
def test_hotplug_rules(x):
    vm = installed(x, "hotplug")
    net = network(x)
    vif = x.VM.get_VIFs(vm)[0]
    assert details(x.VIF.plug, vif) == ["VM_BAD_POWER_STATE", vm, "running", "halted"]
    disk = [v for v in x.VM.get_VBDs(vm) if x.VBD.get_type(v) == "Disk"][0]
    assert details(x.VBD.plug, disk) == ["VM_BAD_POWER_STATE", vm, "running", "halted"]
    assert details(x.VBD.unplug, disk) == ["VBD_NOT_UNPLUGGABLE", disk], "system disks are not unpluggable"
    x.VM.add_to_other_config(vm, "xapisim_guest_agent", "false")
    x.VM.start(vm, False, False)
    assert x.VIF.get_currently_attached(vif) is True
    assert details(x.VIF.plug, vif) == ["DEVICE_ALREADY_ATTACHED", vif]
    second = x.VIF.create(vif_record(vm, net, device="1"))
    assert x.VIF.get_currently_attached(second) is False, "VIF.create does not plug"
    assert details(x.VIF.plug, second) == ["VM_MISSING_PV_DRIVERS", vm], "HVM guest without PV drivers"
    assert x.VIF.get_allowed_operations(second) == ["attach"]
    x.VM.hard_shutdown(vm)
    x.VM.remove_from_other_config(vm, "xapisim_guest_agent")
    x.VM.start(vm, False, False)
    wait_for(lambda: x.VM.get_guest_metrics(vm) != NULL)
    x.VIF.unplug(second)
    assert details(x.VIF.unplug, second) == ["DEVICE_ALREADY_DETACHED", second]
    x.VIF.plug(second)
    assert x.VIF.get_currently_attached(second) is True
    data = x.VDI.create({"name_label": "data", "name_description": "", "SR": local_sr(x), "virtual_size": str(GIB),
                         "type": "user", "sharable": False, "read_only": False, "other_config": {}})
    vbd = x.VBD.create({"VM": vm, "VDI": data, "userdevice": "1", "bootable": False, "mode": "RW", "type": "Disk",
                        "empty": False, "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}})
    assert x.VBD.get_currently_attached(vbd) is False and x.VBD.get_device(vbd) == ""
    x.VBD.plug(vbd)
    assert x.VBD.get_currently_attached(vbd) is True and x.VBD.get_device(vbd) == "xvdb"
    assert details(x.VBD.plug, vbd) == ["DEVICE_ALREADY_ATTACHED", vbd]
    assert details(x.VBD.destroy, vbd)[0] == "OPERATION_NOT_ALLOWED"
    x.VBD.unplug(vbd)
    assert details(x.VBD.unplug, vbd) == ["DEVICE_ALREADY_DETACHED", vbd]
    x.VBD.destroy(vbd)
    x.VDI.destroy(data)
    x.VM.hard_shutdown(vm)
    x.VM.destroy(vm)


def test_vif_create_mac(x):
    vm = x.VM.clone(template(x, "Other install media"), "macs")
    x.VM.provision(vm)
    net = network(x)
    seed = x.VM.get_other_config(vm)["mac_seed"]
    vif = x.VIF.create(vif_record(vm, net, device="2"))
    assert x.VIF.get_MAC(vif) == xapi_gen_mac(seed, 2) and x.VIF.get_MAC_autogenerated(vif) is True
    given = x.VIF.create(vif_record(vm, net, device="3", mac="AA:bb:CC:00:11:22"))
    assert x.VIF.get_MAC(given) == "AA:bb:CC:00:11:22" and x.VIF.get_MAC_autogenerated(given) is False
    for bad in ("aa:bb:cc:dd:ee", "aa-bb-cc-dd-ee-ff", "aa:bb:cc:dd:ee:fg", "aabb.ccdd.eeff", "a:bb:cc:dd:ee:ff"):
        assert details(x.VIF.create, vif_record(vm, net, device="4", mac=bad)) == ["MAC_INVALID", bad]
    # xapi's order: INVALID_DEVICE, then MAC_INVALID, then DEVICE_ALREADY_EXISTS
    assert details(x.VIF.create, vif_record(vm, net, device="eth0", mac="zz")) == ["INVALID_DEVICE", "eth0"]
    assert details(x.VIF.create, vif_record(vm, net, device="2", mac="zz")) == ["MAC_INVALID", "zz"]
    assert details(x.VIF.create, vif_record(vm, net, device="2")) == ["DEVICE_ALREADY_EXISTS", "2"]
    x.VM.remove_from_other_config(vm, "mac_seed")
    assert details(x.VIF.create, vif_record(vm, net, device="5")) == ["MAC_INVALID", ""], "no seed: no generated MAC"
    # clones get new MACs from their new seed, snapshots keep them
    x.VM.add_to_other_config(vm, "mac_seed", seed)
    clone = x.VM.clone(vm, "macs-clone")
    cseed = x.VM.get_other_config(clone)["mac_seed"]
    macs = {x.VIF.get_device(v): x.VIF.get_MAC(v) for v in x.VM.get_VIFs(clone)}
    assert cseed != seed and macs["2"] == xapi_gen_mac(cseed, 2) and macs["3"] == xapi_gen_mac(cseed, 3)
    snap = x.VM.snapshot(vm, "macs-snap")
    assert {x.VIF.get_MAC(v) for v in x.VM.get_VIFs(snap)} == {x.VIF.get_MAC(v) for v in x.VM.get_VIFs(vm)}
    assert x.VM.get_other_config(snap)["mac_seed"] == seed
    for ref in (snap, clone, vm):
        x.VM.destroy(ref)


def test_boot_setters(x):
    vm = x.VM.clone(template(x, "Other install media"), "boot-settings")
    x.VM.provision(vm)
    x.VM.set_HVM_boot_params(vm, {"order": "dc", "firmware": "bios"})
    x.VM.add_to_HVM_boot_params(vm, "foo", "bar")
    assert x.VM.get_HVM_boot_params(vm) == {"order": "dc", "firmware": "bios", "foo": "bar"}
    x.VM.set_HVM_boot_policy(vm, "")
    assert x.VM.get_domain_type(vm) == "pv"
    x.VM.set_PV_bootloader(vm, "pygrub")
    x.VM.set_PV_args(vm, "ks=http://repo/ks.cfg")
    x.VM.set_PV_bootloader_args(vm, "--kernel /vmlinuz")
    assert (x.VM.get_PV_bootloader(vm), x.VM.get_PV_args(vm)) == ("pygrub", "ks=http://repo/ks.cfg")
    x.VM.set_domain_type(vm, "hvm")
    assert x.VM.get_HVM_boot_policy(vm) == "BIOS order"
    expected = ["VALUE_NOT_SUPPORTED", "domain_type", "unspecified", "Must not be unspecified"]
    assert details(x.VM.set_domain_type, vm, "unspecified") == expected
    assert details(x.VM.set_HVM_shadow_multiplier, vm, "0.5") == ["INVALID_VALUE", "multiplier", "0.5"]
    x.VM.set_HVM_shadow_multiplier(vm, "2.0")
    assert x.VM.get_HVM_shadow_multiplier(vm) == 2.0
    x.VM.destroy(vm)


def test_device_metrics_classes_are_gone(x):
    """VBD_metrics / VIF_metrics were removed (tampa): no class, the ref fields stay NULL."""
    vm = [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]
    vbd = x.VM.get_VBDs(vm)[0]
    assert x.VBD.get_record(vbd)["metrics"] == NULL
    assert details(x.VBD.get_metrics, vbd) == ["MESSAGE_REMOVED"]
    assert details(x.VBD_metrics.get_all)[0] == "MESSAGE_METHOD_UNKNOWN"
    assert details(x.VIF_metrics.get_all_records)[0] == "MESSAGE_METHOD_UNKNOWN"


# --------------------------------------------------------------------------- 3: templates, ISOs, golden template
def test_datacenter_templates_and_media(ref_sim):
    x = connect(ref_sim).xenapi
    tpls = {r["name_label"]: r for r in x.VM.get_all_records().values() if r["is_a_template"] and r["is_default_template"]}
    for name in ("CentOS 7", "Debian Buster 10", "Red Hat Enterprise Linux 7", "SUSE Linux Enterprise Server 12 SP5 (64-bit)",
                 "Windows Server 2008 R2 (64-bit)", "Windows Server 2003 (32-bit)", "Other install media",
                 "Solaris 10 (experimental)", "CentOS 5 (64-bit)"):
        assert name in tpls, name
    centos = tpls["CentOS 7"]
    assert centos["other_config"]["disks"] == ('<provision><disk size="10737418240" sr="" bootable="true" type="system" '
                                               'device="0"/></provision>')
    assert centos["other_config"]["install-methods"] == "cdrom,nfs,http,ftp" and centos["HVM_boot_params"]["order"] == "cdn"
    assert (centos["memory_static_min"], centos["memory_static_max"]) == (str(2 * GIB), str(4 * GIB))
    win = tpls["Windows Server 2008 R2 (64-bit)"]
    assert win["HVM_boot_params"]["order"] == "dc" and win["platform"]["viridian"] == "true" and win["VCPUs_max"] == "2"
    assert 'bootable="false"' in win["other_config"]["disks"] and win["other_config"]["install-methods"] == "cdrom"
    el5 = tpls["CentOS 5 (64-bit)"]
    assert el5["PV_bootloader"] == "eliloader" and el5["HVM_boot_policy"] == "" and el5["domain_type"] == "pv"
    assert el5["other_config"]["install-distro"] == "rhlike" and el5["PV_args"] == "graphical utf8"
    assert el5["other_config"]["disks"].startswith('<provision><disk device="0" size="8589934592" sr=""')
    sol = tpls["Solaris 10 (experimental)"]
    assert sol["platform"]["nx"] == "true" and "viridian" not in sol["platform"]
    assert tpls["Other install media"]["other_config"].get("disks") is None
    isosr = [s for s, r in x.SR.get_all_records().items() if r["type"] == "iso" and not r["is_tools_sr"]][0]
    iso = x.SR.get_record(isosr)
    assert iso["content_type"] == "iso" and iso["shared"] is False and iso["name_label"] == "ISO library"
    pbd = x.PBD.get_record(iso["PBDs"][0])
    assert pbd["currently_attached"] and pbd["device_config"] == {"location": "/var/opt/xen/iso_import", "legacy_mode": "true"}
    names = {x.VDI.get_name_label(v): x.VDI.get_record(v) for v in iso["VDIs"]}
    assert {"Fedora-11-x86_64-DVD.iso", "sol-10-u11-ga-x86-dvd.iso", "xs-tools.iso"} <= set(names)
    assert all(r["read_only"] and r["location"] == n for n, r in names.items())
    assert names["xs-tools.iso"]["sm_config"]["xs-tools"] == "true"
    golden = [r for r in x.VM.get_all_records().values() if r["name_label"] == "sl5-golden"]
    assert len(golden) == 1, "xen-intel-01 has one golden template"
    golden = golden[0]
    assert golden["is_a_template"] and not golden["is_default_template"] and golden["PV_bootloader"] == "pygrub"
    assert "install-distro" not in golden["other_config"] and golden["other_config"]["base_template_name"] == "CentOS 5 (64-bit)"
    disk = [x.VBD.get_record(v) for v in golden["VBDs"] if x.VBD.get_type(v) == "Disk"][0]
    assert disk["bootable"] is True and x.VDI.get_virtual_size(disk["VDI"]) == str(8 * GIB)
    assert len(golden["VIFs"]) == 1
    other = connect(ref_sim, 1).xenapi
    assert not [r for r in other.VM.get_all_records().values() if r["name_label"] == "sl5-golden"]


def test_xenapi_client_reads_a_provisioned_running_vm(vm_sim, x):
    """The official client parses every record of a cloned + provisioned + started VM."""
    vm = install(x, "Debian Bookworm 12", "readback")
    cd_vbd(x, vm, iso_vdi(x, "Fedora-11-x86_64-DVD.iso"))  # boot order "cdn": the DVD installs Fedora 11
    x.VM.start(vm, False, False)
    vm_sim.control.advance(900 + 30)
    wait_for(lambda: x.VM.get_guest_metrics(vm) != NULL)
    rec = x.VM.get_record(vm)
    assert x.VM.get_by_uuid(rec["uuid"]) == vm and rec["power_state"] == "Running"
    gm = x.VM_guest_metrics.get_record(rec["guest_metrics"])
    assert gm["os_version"]["name"] == "Fedora 11" and gm["networks"]["0/ip"].startswith("10.")
    metrics = x.VM_metrics.get_record(rec["metrics"])
    assert isinstance(metrics["VCPUs_CPU"], dict) and isinstance(metrics["start_time"], xmlrpc_datetime())
    for vbd in rec["VBDs"]:
        vrec = x.VBD.get_record(vbd)
        assert vrec["currently_attached"] and vrec["device"] in ("xvda", "xvdd")
        x.VDI.get_record(vrec["VDI"])
    for vif in rec["VIFs"]:
        assert x.VIF.get_record(vif)["MAC"] == xapi_gen_mac(rec["other_config"]["mac_seed"], 0)
    where = x.VM.get_all_records_where('field "name__label" = "readback"')
    assert list(where) == [vm]
    x.VM.clean_shutdown(vm)
    x.VM.destroy(vm)


def xmlrpc_datetime():
    import xmlrpc.client  # pylint: disable=import-outside-toplevel
    return xmlrpc.client.DateTime


# --------------------------------------------------------------------------- 4: the time model
def test_golden_clone_to_guest_agent_takes_about_fifty_seconds(rt_sim, rt):
    """sl5-golden (8 GiB on local LVM): VM.clone 1 s + LVHD VDI.clone 6 s + 0.02 s/GiB; VM.start 8 s; the PV guest's
    agent 30 s later: ~46 s of API-visible time, ~50 s to a login with the client's own calls."""
    golden = template(rt, "sl5-golden")
    task = rt.Async.VM.clone(golden, "from-golden")
    advance(rt_sim, rt, task, 5.0, done=False)
    vm = advance(rt_sim, rt, task, 2.5, done=True)
    task = rt.Async.VM.provision(vm)
    advance(rt_sim, rt, task, 1.5, done=True)
    assert rt.VM.get_is_a_template(vm) is False and len(rt.VM.get_VBDs(vm)) == 1, "nothing left to provision"
    task = rt.Async.VM.start(vm, False, False)
    advance(rt_sim, rt, task, 5.0, done=False)
    advance(rt_sim, rt, task, 3.5, done=True)
    assert rt.VM.get_PV_bootloader(vm) == "pygrub" and rt.VM.get_guest_metrics(vm) == NULL
    rt_sim.control.advance(26)
    time.sleep(0.3)
    assert rt.VM.get_guest_metrics(vm) == NULL
    rt_sim.control.advance(5)
    gm = wait_for(lambda: rt.VM.get_guest_metrics(vm) if rt.VM.get_guest_metrics(vm) != NULL else None, 5)
    assert rt.VM_guest_metrics.get_os_version(gm)["name"] == "Scientific Linux 5.11"
    assert rt.VM_metrics.get_current_domain_type(rt.VM.get_metrics(vm)) == "pv"
    task = rt.Async.VM.hard_shutdown(vm)
    advance(rt_sim, rt, task, 3, done=True)
    rt.VM.destroy(vm)


def test_parallel_clones_queue_on_the_sr_lock(rt_sim, rt):
    """LVHD VDI.clone holds the SR lock (sm LVHDSR OPS_EXCLUSIVE): two clones of one 8 GiB disk on one SR take
    7.16 s and 13.3 s, not 7.16 s each."""
    golden = template(rt, "sl5-golden")
    first, second = rt.Async.VM.clone(golden, "par-1"), rt.Async.VM.clone(golden, "par-2")
    time.sleep(0.2)
    rt_sim.control.advance(8)
    vm1 = settle(rt, first)
    time.sleep(0.3)
    assert rt.task.get_status(second) == "pending", "the second clone waited for the SR lock"
    rt_sim.control.advance(6)
    vm2 = settle(rt, second)
    for vm in (vm1, vm2):
        for vdi in [rt.VBD.get_VDI(v) for v in rt.VM.get_VBDs(vm)]:
            rt.VBD.destroy(rt.VDI.get_VBDs(vdi)[0])
            task = rt.Async.VDI.destroy(vdi)
            advance(rt_sim, rt, task, 2, done=True)
        rt.VM.destroy(vm)


def test_copy_costs_per_gib(rt_sim, rt):
    """VM.copy of the 10 GiB small VM onto local LVM: vdi_create 1.5 s + 9 s/GiB + 1 s of metadata."""
    vm = [v for v, r in rt.VM.get_all_records().items() if r["name_label"] == "small-vm-0001"][0]
    task = rt.Async.VM.copy(vm, "full-copy", local_sr(rt))
    advance(rt_sim, rt, task, 85, done=False)
    new = advance(rt_sim, rt, task, 9, done=True)
    assert rt.VDI.get_virtual_size(disk_vdi(rt, new)) == str(10 * GIB) and disk_vdi(rt, new) != disk_vdi(rt, vm)
    rt.VM.destroy(new)


def provision_rt(sim, x, name, new_name):
    task = x.Async.VM.clone(template(x, name), new_name)
    sim.control.advance(10)
    vm = settle(x, task)
    disks = x.VM.get_other_config(vm).get("disks")
    if disks:
        x.VM.remove_from_other_config(vm, "disks")
        x.VM.add_to_other_config(vm, "disks", disks.replace('sr=""', 'sr="%s"' % x.SR.get_uuid(local_sr(x))))
    task = x.Async.VM.provision(vm)
    sim.control.advance(5)
    settle(x, task)
    x.VIF.create(vif_record(vm, network(x)))
    return vm


def start_rt(sim, x, vm):
    task = x.Async.VM.start(vm, False, False)
    sim.control.advance(9)
    settle(x, task)


def test_kickstart_install_hands_over_to_pygrub(rt_sim, rt):
    vm = provision_rt(rt_sim, rt, "CentOS 5 (64-bit)", "kickstarted")
    assert details(rt.VM.start, vm, False, False) == \
        ["BOOTLOADER_FAILED", vm, "UNSUPPORTED_INSTALL_METHOD\nother-config:install-repository was not set to an "
         "appropriate value, and this is required for the selected distribution type.\n"]
    assert rt.VM.get_power_state(vm) == "Halted"
    rt.VM.add_to_other_config(vm, "install-repository", "http://mirror.example/centos/5/os/x86_64")
    rt.VM.set_PV_args(vm, "graphical utf8 ks=http://mirror.example/ks/web.cfg")
    start_rt(rt_sim, rt, vm)
    rec = rt.VM.get_record(vm)
    assert rec["PV_bootloader"] == "pygrub", "eliloader switches EL installs to pygrub in the install boot"
    assert "install-distro" not in rec["other_config"] and "install-round" not in rec["other_config"]
    domid = rec["domid"]
    rt_sim.control.advance(590)
    time.sleep(0.3)
    assert rt.VM.get_guest_metrics(vm) == NULL and rt.VM.get_domid(vm) == domid, "still installing"
    rt_sim.control.advance(12)
    wait_for(lambda: rt.VM.get_domid(vm) != domid, 5)
    assert rt.VM.get_power_state(vm) == "Running", "the installer rebooted the guest (actions_after_reboot restart)"
    rt_sim.control.advance(31)
    gm = wait_for(lambda: rt.VM.get_guest_metrics(vm) if rt.VM.get_guest_metrics(vm) != NULL else None, 5)
    assert rt.VM_guest_metrics.get_os_version(gm)["name"] == "CentOS 5 (64-bit)"
    task = rt.Async.VM.hard_shutdown(vm)
    advance(rt_sim, rt, task, 3, done=True)
    # the disk holds the OS now: pygrub boots it straight away
    start_rt(rt_sim, rt, vm)
    rt_sim.control.advance(31)
    wait_for(lambda: rt.VM.get_guest_metrics(vm) != NULL, 5)
    task = rt.Async.VM.hard_shutdown(vm)
    advance(rt_sim, rt, task, 3, done=True)
    rt.VM.destroy(vm)


def test_interactive_and_sles_installs(rt_sim, rt):
    """Without ks= the installer waits for a human forever; SLES needs two eliloader rounds."""
    vm = provision_rt(rt_sim, rt, "CentOS 5 (64-bit)", "interactive")
    rt.VM.add_to_other_config(vm, "install-repository", "nfs:server:/centos5")
    start_rt(rt_sim, rt, vm)
    rt_sim.control.advance(3000)
    time.sleep(0.3)
    assert rt.VM.get_guest_metrics(vm) == NULL and rt.VM.get_power_state(vm) == "Running"
    task = rt.Async.VM.hard_shutdown(vm)
    advance(rt_sim, rt, task, 3, done=True)
    assert details(rt.VM.start, vm, False, False) == \
        ["BOOTLOADER_FAILED", vm, "Unable to find partition containing kernel"], "pygrub on a blank disk"
    rt.VM.set_PV_bootloader(vm, "grub-legacy")
    err = details(rt.VM.start, vm, False, False)
    assert err[0] == "INTERNAL_ERROR" and err[1].endswith("Bootloader.Unknown_bootloader grub-legacy")
    rt.VM.destroy(vm)
    sles = provision_rt(rt_sim, rt, "SUSE Linux Enterprise Server 11 SP1 (64-bit)", "sles")
    rt.VM.add_to_other_config(sles, "install-repository", "http://mirror.example/sles11")
    rt.VM.set_PV_args(sles, "console=ttyS0 xencons=ttyS autoyast=http://mirror.example/ay.xml")
    start_rt(rt_sim, rt, sles)
    rec = rt.VM.get_record(sles)
    assert rec["PV_bootloader"] == "eliloader" and rec["other_config"]["install-round"] == "2"
    rt_sim.control.advance(601)
    wait_for(lambda: rt.VM.get_PV_bootloader(sles) == "pygrub", 5)
    assert "install-round" not in rt.VM.get_other_config(sles)
    rt_sim.control.advance(31)
    wait_for(lambda: rt.VM.get_guest_metrics(sles) != NULL, 5)
    task = rt.Async.VM.hard_shutdown(sles)
    advance(rt_sim, rt, task, 3, done=True)
    rt.VM.destroy(sles)


def test_hvm_install_from_iso_and_by_network_boot(rt_sim, rt):
    sol = provision_rt(rt_sim, rt, "Solaris 10 (experimental)", "solaris")
    cd_vbd(rt, sol, iso_vdi(rt, "sol-10-u11-ga-x86-dvd.iso"))
    assert rt.VM.get_HVM_boot_params(sol)["order"] == "dc"
    start_rt(rt_sim, rt, sol)
    rt_sim.control.advance(895)
    time.sleep(0.3)
    assert rt.VM.get_guest_metrics(sol) == NULL
    rt_sim.control.advance(6 + 61)
    gm = wait_for(lambda: rt.VM.get_guest_metrics(sol) if rt.VM.get_guest_metrics(sol) != NULL else None, 5)
    assert rt.VM_guest_metrics.get_os_version(gm)["name"] == "Solaris 10 1/13"
    win = provision_rt(rt_sim, rt, "Windows Server 2008 R2 (64-bit)", "netboot")
    rt.VM.remove_from_HVM_boot_params(win, "order")
    rt.VM.add_to_HVM_boot_params(win, "order", "nc")
    start_rt(rt_sim, rt, win)
    rt_sim.control.advance(1205)
    time.sleep(0.3)
    assert rt.VM.get_guest_metrics(win) == NULL, "Windows' agent takes 75 s after the post-install boot"
    rt_sim.control.advance(80)
    gm = wait_for(lambda: rt.VM.get_guest_metrics(win) if rt.VM.get_guest_metrics(win) != NULL else None, 5)
    assert rt.VM_guest_metrics.get_os_version(gm)["distro"] == "windows"
    # a blank disk and no boot media: the BIOS finds nothing, the guest never reports
    blank = provision_rt(rt_sim, rt, "CentOS 7", "blank")
    rt.VM.remove_from_HVM_boot_params(blank, "order")
    rt.VM.add_to_HVM_boot_params(blank, "order", "c")
    start_rt(rt_sim, rt, blank)
    rt_sim.control.advance(2000)
    time.sleep(0.3)
    assert rt.VM.get_guest_metrics(blank) == NULL
    for vm in (sol, win, blank):
        task = rt.Async.VM.hard_shutdown(vm)
        advance(rt_sim, rt, task, 3, done=True)
        rt.VM.destroy(vm)


def test_time_model_from_the_datacenter_file():
    code = ("import sys; sys.path.insert(0, %r)\n"
            "from xapisim import app, datacenter\nfrom xapisim.model import duration\n"
            "from xapisim.spec import Spec\nfrom xapisim.state import World\n"
            "w = World(Spec(), 0.01)\nconf = datacenter.load(%r)\n"
            "conf['time_model'] = {'start': 3, 'vdi_clone': {'lvm': 1.25}, 'boot_to_agent': {'windows': 90}}\n"
            "with w.lock:\n    datacenter.build(w, conf)\n"
            "print(duration(w, 'start'), duration(w, 'vdi_clone', 'lvm'), duration(w, 'vdi_clone', 'nfs'),"
            " duration(w, 'boot_to_agent', 'windows'), duration(w, 'boot_to_agent', 'linux'))\n"
            "w.scheduler.stop()\n" % (SIM_ROOT, os.path.join(SIM_ROOT, "datacenters", "small.yml")))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert out == ["3.0", "1.25", "2.0", "90.0", "30.0"]


# --------------------------------------------------------------------------- 5: module layering
def test_no_import_cycle_between_vm_and_pool_handlers():
    code = ("import sys; sys.path.insert(0, %r)\nimport xapisim.handlers_vm\n"
            "assert 'xapisim.handlers_pool' not in sys.modules, sorted(m for m in sys.modules if m.startswith('xapisim'))\n"
            "import xapisim.handlers_pool\nprint('ok')\n" % SIM_ROOT)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert out.stdout.strip() == "ok", out.stderr
