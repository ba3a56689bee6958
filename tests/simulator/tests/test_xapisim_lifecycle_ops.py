# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""xapisim/handlers_lifecycle.py: VM.checkpoint, VM.revert as xapi_vm_snapshot.ml does it, host.reboot down and up."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest
import XenAPI

from conftest import connect, start_sim

NULL = "OpaqueRef:NULL"


@pytest.fixture(name="small", scope="module")
def small_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "lifecycle-small", "small.yml")
    yield sim
    sim.stop()


@pytest.fixture(name="ha_dc")
def ha_dc_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "lifecycle-ha", "ha.yml")
    yield sim
    sim.stop()


def wait_for(check, timeout=30.0):
    """Poll (real seconds; the simulator runs at --time-scale 0.01) until check() is truthy."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except (OSError, XenAPI.Failure):
            value = None
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in %.0f s" % timeout)


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


def the_vm(x):
    return [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]


def lifecycle_meta(sim):
    with urllib.request.urlopen(sim.ready["control"] + "/state", timeout=30) as answer:  # nosec - local simulator
        state = json.loads(answer.read())
    return [db["meta"].get("xapisim:lifecycle", {}) for db in state["dbs"] if db["tables"].get("pool")]


def test_checkpoint_of_a_running_vm_and_revert_to_it(small):
    x = connect(small).xenapi
    vm = the_vm(x)
    x.VM.start(vm, False, False)
    wait_for(lambda: x.VM.get_guest_metrics(vm) != NULL)  # the agent: PV drivers, so the guest can be suspended
    domid = x.VM.get_domid(vm)
    x.VM.add_to_other_config(vm, "state", "at-checkpoint")
    snap = x.VM.checkpoint(vm, "cp-1")
    rec = x.VM.get_record(snap)
    assert rec["is_a_snapshot"] and rec["snapshot_of"] == vm and rec["power_state"] == "Suspended"
    assert rec["snapshot_info"]["power-state-at-snapshot"] == "Running"
    assert rec["suspend_VDI"] != NULL and x.VDI.get_type(rec["suspend_VDI"]) == "suspend"
    assert x.VM.get_power_state(vm) == "Running", "checkpoint resumes the VM (xapi_vm_snapshot.ml checkpoint)"
    assert x.VM.get_domid(vm) == domid or int(x.VM.get_domid(vm)) > 0
    x.VM.add_to_other_config(vm, "broken", "yes")
    x.VM.add_tags(vm, "kept")
    x.VM.revert(snap)
    after = x.VM.get_record(vm)
    assert after["power_state"] == "Suspended", "force_state_reset to the checkpoint's own power state"
    assert after["suspend_VDI"] not in (NULL, rec["suspend_VDI"]), "a copy of the memory image; the snapshot keeps its own"
    assert "broken" not in after["other_config"] and after["other_config"]["state"] == "at-checkpoint"
    assert "kept" in after["tags"], "tags are in revert's do_not_copy"
    x.VM.resume(vm, False, False)
    assert x.VM.get_power_state(vm) == "Running"
    x.VM.hard_shutdown(vm)
    x.VM.destroy(snap)


def test_disk_only_snapshot_reverts_to_halted(small):
    x = connect(small).xenapi
    vm = the_vm(x)
    if x.VM.get_power_state(vm) == "Halted":
        x.VM.start(vm, False, False)
    snap = x.VM.snapshot(vm, "disk-1")
    x.VM.add_to_other_config(vm, "marker", "after")
    x.VM.revert(snap)
    rec = x.VM.get_record(vm)
    assert rec["power_state"] == "Halted" and "marker" not in rec["other_config"]
    assert x.VM.get_ha_always_run(vm) is False
    assert details(x.VM.checkpoint, vm, "cp-halted") == ["VM_BAD_POWER_STATE", vm, "paused, suspended, running", "halted"]
    x.VM.destroy(snap)


def test_checkpoint_of_a_guest_without_suspend_support_is_refused(small):
    x = connect(small).xenapi
    vm = the_vm(x)
    x.VM.add_to_other_config(vm, "xapisim_guest_agent", "false")
    try:
        x.VM.start(vm, False, False)
        problem = details(x.VM.checkpoint, vm, "cp-x")
        assert problem[0] in ("VM_LACKS_FEATURE", "VM_NON_SUSPENDABLE") and problem[1] == vm
    finally:
        x.VM.hard_shutdown(vm)
        x.VM.remove_from_other_config(vm, "xapisim_guest_agent")


def test_host_reboot_is_a_down_and_up(ha_dc):
    x = connect(ha_dc).xenapi
    hosts = {x.host.get_name_label(h): h for h in x.host.get_all()}
    host = hosts["xen-amd-04"]
    assert details(x.host.reboot, host) == ["HOST_NOT_DISABLED"]
    x.host.disable(host)
    x.host.evacuate(host)
    assert [v for v in x.host.get_resident_VMs(host) if not x.VM.get_is_control_domain(v)] == []
    x.host.reboot(host)
    member = connect(ha_dc, 3, login=False)
    wait_for(lambda: not x.host_metrics.get_live(x.host.get_metrics(host)))
    with pytest.raises(OSError):
        member.xenapi.login_with_password("root", "x", "1.0", "pytest")
    pbds = x.host.get_PBDs(host)
    assert not any(x.PBD.get_currently_attached(p) for p in pbds)
    wait_for(lambda: x.host_metrics.get_live(x.host.get_metrics(host)) and x.host.get_enabled(host), timeout=30)
    assert all(x.PBD.get_currently_attached(p) for p in pbds)
    (meta,) = lifecycle_meta(ha_dc)
    (reboot,) = meta["reboots"]
    assert reboot["host"] == "xen-amd-04" and reboot["vms_shut_down"] == [] and reboot["pbd_failures"] == []
    assert 165 <= reboot["up_at"] - reboot["down_at"] <= 200, "about three simulated minutes from the call to the host back"


def test_reboot_of_a_host_that_was_not_evacuated_kills_its_vms(ha_dc):
    x = connect(ha_dc).xenapi
    hosts = {x.host.get_name_label(h): h for h in x.host.get_all()}
    host = hosts["xen-amd-03"]
    victims = [v for v in x.host.get_resident_VMs(host) if not x.VM.get_is_control_domain(v)]
    assert victims
    x.host.disable(host)
    x.host.reboot(host)
    wait_for(lambda: all(x.VM.get_power_state(v) == "Halted" for v in victims))
    wait_for(lambda: x.host.get_enabled(host), timeout=30)
    (meta,) = lifecycle_meta(ha_dc)
    assert sorted(meta["reboots"][0]["vms_shut_down"]) == sorted(x.VM.get_name_label(v) for v in victims)


def test_hosts_rebooted_together_each_get_their_own_record(ha_dc):
    """Two hosts of one maintenance batch go down and come back; each reboot record is closed by its own host."""
    x = connect(ha_dc).xenapi
    hosts = {x.host.get_name_label(h): h for h in x.host.get_all()}
    pair = [hosts["xen-amd-03"], hosts["xen-amd-04"]]
    for host in pair:
        x.host.disable(host)
    for host in pair:
        x.host.reboot(host)
    wait_for(lambda: all(x.host_metrics.get_live(x.host.get_metrics(h)) and x.host.get_enabled(h) for h in pair),
             timeout=60)
    (meta,) = lifecycle_meta(ha_dc)
    closed = {r["host"]: r for r in meta["reboots"]}
    assert sorted(closed) == ["xen-amd-03", "xen-amd-04"]
    assert all("up_at" in r and r["pbd_failures"] == [] for r in closed.values())
