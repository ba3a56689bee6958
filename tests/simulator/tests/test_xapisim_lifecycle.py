# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM lifecycle, provisioning, tasks and events."""
from __future__ import annotations

import time

import pytest
import XenAPI

from conftest import connect, start_sim

NULL = "OpaqueRef:NULL"


def wait_for(predicate, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError("condition not reached in %.1f s" % timeout)


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


def the_vm(x):
    return [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]


def template(x, name):
    return x.VM.get_by_name_label(name)[0]


def test_power_state_rules_and_allowed_operations(xs):
    vm = the_vm(xs)
    assert xs.VM.get_power_state(vm) == "Halted"
    ops = xs.VM.get_allowed_operations(vm)
    assert "start" in ops and "clone" in ops and "destroy" in ops
    assert "clean_shutdown" not in ops and "hard_shutdown" not in ops and "provision" not in ops
    assert "shutdown" not in ops and "changing_VCPUs" not in ops, "internal operations are never listed"
    assert details(xs.VM.clean_shutdown, vm) == ["VM_BAD_POWER_STATE", vm, "running", "halted"]
    assert details(xs.VM.resume, vm, False, False) == ["VM_BAD_POWER_STATE", vm, "suspended", "halted"]
    xs.VM.start(vm, False, False)
    rec = xs.VM.get_record(vm)
    assert rec["power_state"] == "Running" and rec["resident_on"] != NULL and int(rec["domid"]) > 0
    assert all(xs.VBD.get_currently_attached(v) for v in rec["VBDs"])
    assert details(xs.VM.start, vm, False, False) == ["VM_BAD_POWER_STATE", vm, "halted", "running"]
    assert details(xs.VM.destroy, vm) == ["VM_BAD_POWER_STATE", vm, "halted, suspended", "running"]
    assert details(xs.VM.set_memory_limits, vm, "1", "2", "2", "2")[0] == "VM_BAD_POWER_STATE"
    ops = xs.VM.get_allowed_operations(vm)
    assert "hard_shutdown" in ops and "start" not in ops
    assert "pool_migrate" not in ops, "an HVM guest without PV drivers cannot migrate (check_op_for_feature)"
    wait_for(lambda: xs.VM.get_guest_metrics(vm) != NULL, 10)
    assert "pool_migrate" in xs.VM.get_allowed_operations(vm)
    xs.VM.hard_shutdown(vm)
    rec = xs.VM.get_record(vm)
    assert rec["power_state"] == "Halted" and rec["resident_on"] == NULL and rec["domid"] == "-1"
    assert rec["guest_metrics"] == NULL


def test_template_rules(xs):
    tpl = template(xs, "Debian Bookworm 12")
    assert details(xs.VM.start, tpl, False, False) == ["VM_IS_TEMPLATE", tpl, "start"]
    assert details(xs.VM.destroy, tpl) == ["VM_IS_TEMPLATE", tpl, "destroy"], "default templates cannot be destroyed"
    vm = the_vm(xs)
    assert details(xs.VM.provision, vm) == ["PROVISION_ONLY_ALLOWED_ON_TEMPLATE"]


def test_guest_metrics_appear_after_boot(xs):
    vm = the_vm(xs)
    xs.VM.start(vm, False, False)
    wait_for(lambda: xs.VM.get_guest_metrics(vm) != NULL, 10)
    gm = xs.VM.get_guest_metrics(vm)
    networks = xs.VM_guest_metrics.get_networks(gm)
    assert networks["0/ip"] == networks["0/ipv4/0"] and networks["0/ip"].startswith("10.")
    assert "0/ipv6/0" in networks
    assert "clean_shutdown" in xs.VM.get_allowed_operations(vm), "guest agent enables clean shutdown"
    assert xs.VM.query_data_source(vm, "cpu0") >= 0.0
    assert xs.host.query_data_source(xs.host.get_all()[0], "memory_free_kib") > 0
    with pytest.raises(XenAPI.Failure):
        xs.VM.query_data_source(vm, "no_such_source")
    xs.VM.clean_shutdown(vm)
    assert xs.VM.get_power_state(vm) == "Halted"


def test_clean_shutdown_needs_guest_feature(xs):
    vm = the_vm(xs)
    xs.VM.add_to_other_config(vm, "xapisim_guest_agent", "false")
    try:
        xs.VM.start(vm, False, False)
        # an HVM guest without PV drivers / feature flags cannot be shut down cleanly
        assert "clean_shutdown" not in xs.VM.get_allowed_operations(vm)
        assert details(xs.VM.clean_shutdown, vm) == ["VM_LACKS_FEATURE", vm]
        assert details(xs.VM.clean_reboot, vm) == ["VM_LACKS_FEATURE", vm]
        xs.VM.hard_shutdown(vm)
    finally:
        xs.VM.remove_from_other_config(vm, "xapisim_guest_agent")


def test_clone_provision_start_flow(xs):
    tpl = template(xs, "Debian Bookworm 12")
    sr = xs.pool.get_default_SR(xs.pool.get_all()[0])
    clone = xs.VM.clone(tpl, "provisioned-vm")
    rec = xs.VM.get_record(clone)
    assert rec["is_a_template"] is True and rec["is_default_template"] is False
    assert rec["other_config"]["base_template_name"] == "Debian Bookworm 12"
    assert "default_template" not in rec["other_config"]
    assert rec["other_config"]["mac_seed"] != xs.VM.get_other_config(tpl)["mac_seed"]
    assert details(xs.VM.provision, clone) == ["UUID_INVALID", "sr", ""], "empty sr attribute is looked up by uuid"
    assert xs.VM.get_is_a_template(clone) is False, "xapi_vm.ml provision clears is_a_template first"
    xs.VM.set_is_a_template(clone, True)
    disks = rec["other_config"]["disks"].replace('sr=""', 'sr="%s"' % xs.SR.get_uuid(sr))
    xs.VM.remove_from_other_config(clone, "disks")
    xs.VM.add_to_other_config(clone, "disks", disks)
    xs.VM.provision(clone)
    rec = xs.VM.get_record(clone)
    assert rec["is_a_template"] is False and "disks" not in rec["other_config"]
    assert len(rec["VBDs"]) == 1
    vbd = xs.VBD.get_record(rec["VBDs"][0])
    assert vbd["userdevice"] == "0" and vbd["bootable"] is True and vbd["mode"] == "RW"
    assert xs.VDI.get_virtual_size(vbd["VDI"]) == str(10 * 1024 ** 3)
    assert details(xs.VM.provision, clone) == ["PROVISION_ONLY_ALLOWED_ON_TEMPLATE"]
    net = [n for n, r in xs.network.get_all_records().items() if r["bridge"] == "xenbr0"][0]
    assert xs.VM.get_allowed_VIF_devices(clone)[0] == "0"
    vif = xs.VIF.create({"device": "0", "network": net, "VM": clone, "MAC": "", "MTU": "1500", "other_config": {},
                         "qos_algorithm_type": "", "qos_algorithm_params": {}})
    assert xs.VIF.get_MAC_autogenerated(vif) is True and len(xs.VIF.get_MAC(vif)) == 17
    assert details(xs.VIF.create, {"device": "0", "network": net, "VM": clone, "MAC": "", "MTU": "1500", "other_config": {},
                                   "qos_algorithm_type": "", "qos_algorithm_params": {}}) == ["DEVICE_ALREADY_EXISTS", "0"]
    assert details(xs.VIF.create, {"device": "1", "network": net, "VM": clone, "MAC": "zz", "MTU": "1500", "other_config": {},
                                   "qos_algorithm_type": "", "qos_algorithm_params": {}}) == ["MAC_INVALID", "zz"]
    xs.VM.set_memory_limits(clone, str(512 * 1024 ** 2), str(2 * 1024 ** 3), str(1024 ** 3), str(1024 ** 3))
    assert details(xs.VM.set_memory_limits, clone, "4", "3", "2", "1") == ["MEMORY_CONSTRAINT_VIOLATION_ORDER"]
    assert xs.VM.get_memory_dynamic_max(clone) == str(1024 ** 3)
    assert details(xs.VM.set_VCPUs_at_startup, clone, "4")[0] == "INVALID_VALUE"
    xs.VM.set_VCPUs_max(clone, "2")
    xs.VM.set_VCPUs_at_startup(clone, "2")
    xs.VM.start(clone, False, False)
    assert xs.VM.get_power_state(clone) == "Running"
    xs.VM.hard_shutdown(clone)
    xs.VM.destroy(clone)
    assert clone not in xs.VM.get_all()


def test_start_checks_memory_and_disabled_host(xs):
    vm = the_vm(xs)
    host = xs.host.get_all()[0]
    xs.host.disable(host)
    try:
        assert details(xs.VM.start_on, vm, host, False, False) == ["HOST_DISABLED", host]
        assert details(xs.VM.start, vm, False, False) == ["NO_HOSTS_AVAILABLE"]
    finally:
        xs.host.enable(host)
    big = xs.VM.clone(vm, "too-big")
    huge = str(1024 ** 4)
    xs.VM.set_memory_limits(big, huge, huge, huge, huge)
    err = details(xs.VM.start_on, big, host, False, False)
    assert err[0] == "HOST_NOT_ENOUGH_FREE_MEMORY" and int(err[1]) > int(err[2])
    xs.VM.destroy(big)


def test_async_task_lifecycle(xs):
    vm = the_vm(xs)
    task = xs.Async.VM.clone(vm, "async-clone")
    assert task.startswith("OpaqueRef:")
    wait_for(lambda: xs.task.get_status(task) != "pending")
    rec = xs.task.get_record(task)
    assert rec["status"] == "success" and rec["progress"] == 1.0 and rec["error_info"] == []
    assert rec["result"].startswith("<value>OpaqueRef:") and rec["result"].endswith("</value>")
    new_vm = rec["result"][len("<value>"):-len("</value>")]
    assert xs.VM.get_name_label(new_vm) == "async-clone"
    assert rec["finished"].value != "19700101T00:00:00Z"
    task = xs.Async.VM.destroy(new_vm)
    wait_for(lambda: xs.task.get_status(task) != "pending")
    assert xs.task.get_result(task) == "<value></value>", "void results serialise as an empty value"
    failed = xs.Async.VM.clean_shutdown(vm)
    wait_for(lambda: xs.task.get_status(failed) != "pending")
    assert xs.task.get_status(failed) == "failure"
    assert xs.task.get_error_info(failed) == ["VM_BAD_POWER_STATE", vm, "running", "halted"]
    xs.task.destroy(failed)
    assert details(xs.task.get_record, failed) == ["HANDLE_INVALID", "task", failed]


def test_event_from_tokens(xs):
    event_from = getattr(xs.event, "from")
    first = event_from(["vm"], "", 1.0)
    assert first["events"] and all(e["operation"] == "add" and e["class"] == "vm" for e in first["events"])
    assert isinstance(first["valid_ref_counts"]["vm"], int)
    assert first["valid_ref_counts"]["vm"] == len(xs.VM.get_all())
    token = first["token"]
    assert len(token.split(",")) == 2 and all(len(p) == 20 for p in token.split(","))
    started = time.time()
    quiet = event_from(["vm"], token, 0.3)
    assert quiet["events"] == [] and time.time() - started >= 0.25
    vm = the_vm(xs)
    xs.VM.set_name_description(vm, "changed")
    started = time.time()
    changed = event_from(["VM"], quiet["token"], 5.0)
    assert time.time() - started < 2.0, "event.from returns as soon as something changed"
    assert [(e["class"], e["operation"], e["ref"]) for e in changed["events"]] == [("vm", "mod", vm)]
    assert changed["events"][0]["snapshot"]["name_description"] == "changed"
    new = xs.VM.clone(vm, "event-clone")
    xs.VM.destroy(new)
    after = event_from(["vm/%s" % new], changed["token"], 0.3)
    assert after["events"] == [], "objects created and deleted since the token are not reported"
    other = xs.VM.clone(vm, "event-clone-2")
    mark = event_from(["vm"], after["token"], 1.0)
    assert ("add", other) in [(e["operation"], e["ref"]) for e in mark["events"]]
    assert ("mod", vm) in [(e["operation"], e["ref"]) for e in mark["events"]], "the source's current_operations moved"
    xs.VM.destroy(other)
    gone = event_from(["*"], mark["token"], 1.0)
    dels = [e for e in gone["events"] if e["operation"] == "del" and e["class"] == "vm"]
    assert {"vm_metrics", "vbd", "vif"} <= {e["class"] for e in gone["events"] if e["operation"] == "del"}
    assert [e["ref"] for e in dels] == [other] and "snapshot" not in dels[0]
    injected = xs.event.inject("VM", vm)
    again = event_from(["vm"], gone["token"], 1.0)
    assert any(e["ref"] == vm and e["operation"] == "mod" for e in again["events"]) and injected
    assert details(event_from, ["vm"], "garbage", 0.1) == ["EVENT_FROM_TOKEN_PARSE_FAILURE", "garbage"]


def test_task_cancel(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "slow", "small.yml", ["--time-scale", "0.2"])
    try:
        x = connect(sim).xenapi
        vm = the_vm(x)
        task = x.Async.VM.copy(vm, "slow-copy", NULL)
        time.sleep(0.2)
        assert "cancel" in x.task.get_allowed_operations(task)
        x.task.cancel(task)
        wait_for(lambda: x.task.get_status(task) in ("cancelled", "failure", "success"), 10)
        assert x.task.get_status(task) == "cancelled"
        assert x.task.get_error_info(task) == ["TASK_CANCELLED", task]
        assert x.VM.get_by_name_label("slow-copy") == []
        assert x.VM.get_current_operations(vm) == {}
    finally:
        sim.stop()


def test_snapshot_and_revert(xs):
    vm = the_vm(xs)
    xs.VM.start(vm, False, False)
    snap = xs.VM.snapshot(vm, "snap-1")
    rec = xs.VM.get_record(snap)
    assert rec["is_a_snapshot"] is True and rec["is_a_template"] is True and rec["snapshot_of"] == vm
    assert rec["power_state"] == "Halted" and rec["snapshot_info"]["power-state-at-snapshot"] == "Running"
    assert snap in xs.VM.get_snapshots(vm) and xs.VM.get_parent(vm) == snap
    disk_vbd = [v for v in rec["VBDs"] if xs.VBD.get_type(v) == "Disk"][0]
    assert xs.VDI.get_is_a_snapshot(xs.VBD.get_VDI(disk_vbd)) is True
    assert details(xs.VM.start, snap, False, False) == ["VM_IS_SNAPSHOT", snap, "start"]
    assert details(xs.VM.revert, vm) == ["REVERT_ONLY_ALLOWED_ON_SNAPSHOT"]
    old_disk = [xs.VBD.get_VDI(v) for v in xs.VM.get_VBDs(vm) if xs.VBD.get_type(v) == "Disk"][0]
    xs.VM.set_name_description(vm, "after snapshot")
    xs.VM.revert(snap)
    assert xs.VM.get_power_state(vm) == "Halted"
    new_disk = [xs.VBD.get_VDI(v) for v in xs.VM.get_VBDs(vm) if xs.VBD.get_type(v) == "Disk"][0]
    assert new_disk != old_disk and old_disk not in xs.VDI.get_all()
    assert xs.VM.get_name_description(vm) == rec["name_description"]
    xs.VM.destroy(snap)


def test_concurrent_operations_are_refused(xs):
    vm = the_vm(xs)
    first = xs.Async.VM.start(vm, False, False)
    second = xs.Async.VM.start(vm, False, False)
    wait_for(lambda: "pending" not in (xs.task.get_status(first), xs.task.get_status(second)))
    statuses = sorted([xs.task.get_status(first), xs.task.get_status(second)])
    assert statuses == ["failure", "success"]
    failed = first if xs.task.get_status(first) == "failure" else second
    winner = second if failed == first else first
    err = xs.task.get_error_info(failed)
    assert err in (["OTHER_OPERATION_IN_PROGRESS", "VM", vm, "start", winner], ["VM_BAD_POWER_STATE", vm, "halted", "running"])
    assert xs.VM.get_current_operations(vm) == {}
    xs.VM.hard_shutdown(vm)
