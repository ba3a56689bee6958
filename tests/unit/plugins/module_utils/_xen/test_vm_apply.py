# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The applier's call order, which is what makes a killed run recoverable: a scripted client, no network."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import vm as vmc
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_apply import VmApplier
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_plan import plan_vm
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_vm_plan import vm_record, want, world


class ScriptedClient:
    """Answers the few reads the applier makes; records every call; Async tasks finish at once."""

    def __init__(self, records: dict, busy: int = 0) -> None:
        self.records = records
        self.log: list[tuple] = []
        self.busy = busy  # how many Async.VM.clone answer OTHER_OPERATION_IN_PROGRESS first

    def call(self, method: str, *args):
        self.log.append((method,) + args)
        if method == "task.get_record":
            return self.tasks[args[0]]
        if method == "VM.get_record":
            return self.records["VM"][args[0]]
        if method == "VBD.get_record":
            return self.records["VBD"][args[0]]
        if method == "VDI.get_record":
            return self.records["VDI"][args[0]]
        if method == "VIF.get_record":
            return self.records["VIF"][args[0]]
        if method == "VM.get_other_config":
            return dict(self.records["VM"][args[0]].get("other_config") or {})
        if method in ("SR.get_uuid", "VM.get_uuid"):
            return "uuid-of-" + args[0]
        if method == "VM.get_is_a_template":
            return True
        if method == "VM.get_power_state":
            return self.records["VM"].get(args[0], {}).get("power_state", "Halted")
        return None

    tasks: dict = {}

    def call_async(self, method: str, *args) -> str:
        self.log.append(("Async." + method,) + args)
        ref = "task%d" % len(self.log)
        if method == "VM.clone" and self.busy:
            self.busy -= 1
            self.tasks[ref] = {"status": "failure", "error_info": ["OTHER_OPERATION_IN_PROGRESS", "VDI", "x", "clone"]}
            return ref
        result = ""
        if method in ("VM.clone", "VM.copy"):
            result = "<value>new</value>"
            self.records["VM"]["new"] = vm_record(args[1], is_a_template=True, other_config=dict(
                self.records["VM"][args[0]].get("other_config") or {}))
        self.tasks[ref] = {"status": "success", "result": result}
        return ref


def methods(client: ScriptedClient) -> list[str]:
    return [entry[0] for entry in client.log if not entry[0].startswith(("task.", "VBD.get", "VDI.get", "VIF.get"))]


def test_create_names_last_and_rewrites_the_provisioning_sr():
    state = world()
    plan = plan_vm(state, want(name="db1", template="CentOS 7", memory_mib=768, power_state="running"),
                   {vmc.MARKER_POOL: "pool-uuid"})
    client = ScriptedClient(state.records)
    VmApplier(client, state, timeout=5, sleep=lambda _s: None).apply(plan, None)
    calls = methods(client)
    assert calls[0] == "Async.VM.clone" and client.log[0][2] == vmc.pending_name("db1")
    assert calls.index("VM.add_to_other_config") < calls.index("Async.VM.provision")
    disks = [c for c in client.log if c[0] == "VM.add_to_other_config" and c[2] == "disks"]
    assert disks and 'sr="uuid-of-sr1"' in disks[0][3]
    assert calls.index("VM.set_name_label") > calls.index("VM.set_memory_limits")
    writes = [c for c in calls if ".get_" not in c]
    assert writes[-2:] == ["VM.set_name_label", "Async.VM.start"]
    assert ("VM.set_name_label", "new", "db1") in client.log


def test_busy_template_is_retried_not_failed():
    state = world()
    plan = plan_vm(state, want(name="db1", template="CentOS 7"), {})
    client = ScriptedClient(state.records, busy=2)
    VmApplier(client, state, timeout=5, sleep=lambda _s: None).apply(plan, None)
    assert methods(client).count("Async.VM.clone") == 3


def test_pending_cleanup_destroys_disks_before_the_vm():
    state = world()
    state.records["VM"]["half"] = vm_record(vmc.pending_name("db1"), is_a_template=True, vbds=["vbdh"], uuid="half-uuid")
    state.records["VBD"]["vbdh"] = {"VM": "half", "VDI": "vdih", "type": "Disk", "userdevice": "0", "empty": False}
    state.records["VDI"]["vdih"] = {"uuid": "vdih-uuid", "name_label": "0", "SR": "sr1", "virtual_size": "1", "VBDs": ["vbdh"]}
    state.records["VDI"]["loose"] = {"uuid": "loose-uuid", "name_label": "data", "SR": "sr1", "virtual_size": "1", "VBDs": [],
                                     "other_config": {"xenpool_vm": "half-uuid", "xenpool_position": "1"}}
    plan = Plan(steps=[])
    plan.add("clean up", "unfinished creation", None, op="cleanup_pending", ref="half")
    client = ScriptedClient(state.records)
    VmApplier(client, state, timeout=5).apply(plan, None)
    destroys = [c for c in client.log if c[0].endswith("destroy")]
    assert destroys == [("VDI.destroy", "loose"), ("VDI.destroy", "vdih"), ("VM.destroy", "half")]


def test_other_failures_are_not_retried():
    state = world()
    plan = plan_vm(state, want(name="db1", template="CentOS 7"), {})
    client = ScriptedClient(state.records)
    original = client.call_async

    def failing(method, *args):
        ref = original(method, *args)
        client.tasks[ref] = {"status": "failure", "error_info": ["SR_BACKEND_FAILURE_44", "", "no space", ""]}
        return ref

    client.call_async = failing
    try:
        VmApplier(client, state, timeout=5, sleep=lambda _s: None).apply(plan, None)
    except XapiError as err:
        assert err.code == "SR_BACKEND_FAILURE_44"
    else:  # pragma: no cover - the test fails if no error is raised
        raise AssertionError("expected SR_BACKEND_FAILURE_44")
    assert methods(client).count("Async.VM.clone") == 1
