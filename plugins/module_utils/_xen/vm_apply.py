# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The VM applier: executes a plan from vm_plan, long operations as Async tasks (private to vdc.xenpool).

Creation is ordered so that a run killed at any point leaves nothing the next run cannot find: the
clone is named `xenpool-pending: <name>` first (vm.PENDING_PREFIX), gets the ownership marker,
its disks and devices, and only its last configuration step gives it its real name. The next run
destroys a pending VM together with the disks its clone made, then creates it again.
"""

from __future__ import annotations

import time
import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import wait_until
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import RETRYABLE_CODES, XapiError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.placement import migrate, move_disk
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import NULL_REF, PoolState, is_null
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import MARKER, MARKER_POOL, pending_name, vm_view
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_devices import VDI_OWNER, VDI_POSITION, loose_vdis
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_plan import field_steps

CLEAN_FALLBACK = ("VM_MISSING_PV_DRIVERS", "VM_LACKS_FEATURE", "VM_LACKS_FEATURE_SHUTDOWN", "VM_SHUTDOWN_TIMEOUT")


def _wire(value: t.Any) -> t.Any:
    """XenAPI int64 values travel as decimal strings (XML-RPC ints stop at 2^31)."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return {k: _wire(v) for k, v in value.items()}
    return value


class VmApplier:
    """Applies one VM's plan through one client; `timeout` bounds every task and the IP wait."""

    def __init__(self, client: t.Any, state: PoolState, timeout: float = 600, sleep: t.Any = None) -> None:
        self.client = client
        self.state = state
        self.timeout = timeout
        self._sleep = sleep
        self.vm: str | None = None

    def call(self, method: str, *args: t.Any) -> t.Any:
        return self.client.call(method, *[_wire(a) for a in args])

    def task(self, method: str, *args: t.Any) -> t.Any:
        """An Async call waited for; refused-while-busy tasks (xapi did nothing) are retried until the timeout.

        Parallel creations from one template meet here: xapi lets one VDI take part in one clone at a
        time (xapi_vdi.ml check_operation_error: OTHER_OPERATION_IN_PROGRESS), so the others wait their turn.
        """
        kwargs = {"sleep": self._sleep} if self._sleep else {}
        deadline = time.monotonic() + self.timeout
        pause = 0.2
        while True:
            ref = self.client.call_async(method, *[_wire(a) for a in args])
            try:
                return wait_task(self.client, ref, timeout=self.timeout, **kwargs)
            except XapiError as err:
                if err.code not in RETRYABLE_CODES or time.monotonic() + pause > deadline:
                    raise
            (self._sleep or time.sleep)(pause)
            pause = min(pause * 1.5, 5.0)

    # ------------------------------------------------------------------ the plan
    def apply(self, plan: Plan, vm_ref: str | None, wait_for_ip: bool = False) -> dict[str, t.Any] | None:
        """Run the steps in order; returns the VM's view read back afterwards (None once destroyed)."""
        self.vm = vm_ref
        for step in plan.steps:
            if not step.get("part_of_create") and not step.get("after_ip"):
                self.run(step)
        if self.vm is None:
            return None
        if wait_for_ip:
            self.wait_for_ip()
            for step in plan.steps:
                if step.get("after_ip"):
                    self.run(step)
        self.state = refresh(self.client, self.state, self.vm)
        return vm_view(self.state, self.vm)

    def run(self, step: dict[str, t.Any]) -> None:
        op = step.get("op")
        if op == "vm":
            self.call(step["method"], self.vm, *step["args"])
        elif op == "call":
            self.call(step["method"], *step["args"])
        elif op == "create":
            self.create(step)
        elif op == "rename":
            self.call("VM.set_name_label", self.vm, step["name"])
        elif op == "power":
            self.power(step["target"], step.get("hard", False), step.get("host"))
        elif op == "cleanup_pending":
            self.cleanup(step["ref"])
        elif op == "destroy":
            self.call("VM.destroy", step["ref"])
            for vdi in step["vdis"]:
                self.call("VDI.destroy", vdi)
            self.vm = None
        else:
            getattr(self, "op_" + str(op))(step)

    # ------------------------------------------------------------------ creation
    def create(self, step: dict[str, t.Any]) -> None:
        """Clone/copy under the pending name, mark, provision, then configure from a fresh read."""
        temp = pending_name(step["name"])
        if step["mode"] == "copy":
            new = self.task("VM.copy", step["source"], temp, step["sr"] or NULL_REF)
        else:
            new = self.task("VM.clone", step["source"], temp)
        self.vm = new
        for key, value in dict(step["marker"], **{MARKER: "true"}).items():
            self.call("VM.remove_from_other_config", new, key)
            self.call("VM.add_to_other_config", new, key, value)
        if step["provision"]:
            self.provision(new, step["sr"])
        elif self.call("VM.get_is_a_template", new):
            self.call("VM.set_is_a_template", new, False)
        self.state = refresh(self.client, self.state, new)
        steps, _after = field_steps(self.state, new, vm_view(self.state, new), step["want"])
        for sub in steps:
            self.run(sub)

    def provision(self, vm: str, sr: str | None) -> None:
        """xapi refuses sr="" in other_config:disks; rewrite it to the chosen SR as `xe vm-install` does."""
        other = self.call("VM.get_other_config", vm)
        xml = other.get("disks", "")
        sr_uuid = self.call("SR.get_uuid", sr) if sr and not is_null(sr) else ""
        if xml and sr_uuid:
            root = ET.fromstring(xml)
            for disk in root.iter("disk"):
                disk.set("sr", sr_uuid)
            self.call("VM.remove_from_other_config", vm, "disks")
            self.call("VM.add_to_other_config", vm, "disks", ET.tostring(root, encoding="unicode"))
        self.task("VM.provision", vm)

    def cleanup(self, ref: str) -> None:
        """Destroy an unfinished creation: its disks first, then the VM, so a kill half-way leaves the
        pending VM (found again next run), never a disk nobody knows about. ISOs (CD drives) are never touched."""
        record = self.call("VM.get_record", ref)
        if record.get("power_state") != "Halted":
            self.task("VM.hard_shutdown", ref)
        vdis = list(loose_vdis(self.state, record.get("uuid")))
        for vbd in record.get("VBDs") or []:
            vbd_rec = self.call("VBD.get_record", vbd)
            if vbd_rec.get("type") == "Disk" and not vbd_rec.get("empty") and not is_null(vbd_rec.get("VDI")):
                vdis.append(vbd_rec["VDI"])
        for vdi in vdis:
            self.call("VDI.destroy", vdi)
        self.call("VM.destroy", ref)

    # ------------------------------------------------------------------ devices
    def op_disk_add(self, step: dict[str, t.Any]) -> None:
        """VDI.create marked with its VM and position, so that a run killed before VBD.create finds it again."""
        owner = {VDI_OWNER: self.call("VM.get_uuid", self.vm), VDI_POSITION: str(step.get("position"))}
        vdi = self.call("VDI.create", {
            "SR": step["sr"], "name_label": step["name"], "name_description": "", "virtual_size": step["size"], "type": "user",
            "sharable": False, "read_only": False, "other_config": owner, "xenstore_data": {}, "sm_config": {}, "tags": []})
        self.op_disk_attach(dict(step, vdi=vdi))

    def op_disk_attach(self, step: dict[str, t.Any]) -> None:
        vbd = self.call("VBD.create", self._vbd(step["vdi"], step.get("position"), "Disk"))
        if step.get("plug"):
            self.call("VBD.plug", vbd)

    def _vbd(self, vdi: str | None, position: str | None, kind: str) -> dict[str, t.Any]:
        return {"VM": self.vm, "VDI": vdi or NULL_REF, "userdevice": position if position is not None else "autodetect",
                "bootable": kind == "CD", "mode": "RO" if kind == "CD" else "RW", "type": kind, "unpluggable": True,
                "empty": vdi is None, "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {},
                "device": "", "currently_attached": False}

    def op_disk_grow(self, step: dict[str, t.Any]) -> None:
        self.task("VDI.resize_online" if step.get("online") else "VDI.resize", step["vdi"], step["size"])

    def op_disk_remove(self, step: dict[str, t.Any]) -> None:
        if step.get("unplug"):
            self.call("VBD.unplug", step["vbd"])
        self.call("VBD.destroy", step["vbd"])
        if step.get("destroy"):
            self.call("VDI.destroy", step["vdi"])

    def op_nic_add(self, step: dict[str, t.Any]) -> None:
        mtu = (self.state.get("network", step["network"]) or {}).get("MTU", "1500")
        vif = self.call("VIF.create", {
            "device": step["position"], "network": step["network"], "VM": self.vm, "MAC": step["mac"], "MTU": mtu,
            "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}, "locking_mode": "network_default",
            "ipv4_allowed": [], "ipv6_allowed": [], "currently_attached": False})
        if step.get("plug"):
            self.call("VIF.plug", vif)

    def op_nic_remove(self, step: dict[str, t.Any]) -> None:
        if step.get("unplug"):
            self.call("VIF.unplug", step["vif"])
        self.call("VIF.destroy", step["vif"])

    def op_eject_install(self, _step: dict[str, t.Any]) -> None:
        """After an ISO install: empty the CD drive and boot from the disk from now on."""
        for vbd in self.call("VM.get_VBDs", self.vm):
            if self.call("VBD.get_type", vbd) == "CD" and not self.call("VBD.get_empty", vbd):
                self.call("VBD.eject", vbd)
        params = dict(self.call("VM.get_HVM_boot_params", self.vm) or {}, order="c")
        self.call("VM.set_HVM_boot_params", self.vm, params)

    def op_migrate(self, step: dict[str, t.Any]) -> None:
        migrate(self, step)

    def op_disk_move(self, step: dict[str, t.Any]) -> None:
        move_disk(self, step)

    def op_cd_add(self, step: dict[str, t.Any]) -> None:
        used = {self.call("VBD.get_userdevice", v) for v in self.call("VM.get_VBDs", self.vm)}
        position = next(str(i) for i in (3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) if str(i) not in used)
        self.call("VBD.create", self._vbd(step.get("vdi"), position, "CD"))

    # ------------------------------------------------------------------ power
    def power(self, target: str, hard: bool = False, host: str | None = None) -> None:
        """To the target power state; with a host, a start or resume goes there (VM.start_on, VM.resume_on)."""
        state = str(self.call("VM.get_power_state", self.vm)).lower()
        if target == "halted" and state != "halted":
            if state == "suspended" or hard:
                self.task("VM.hard_shutdown", self.vm)
            else:
                self._clean_or_hard("VM.clean_shutdown", "VM.hard_shutdown")
        elif target == "running" and state == "halted":
            self.task(*(("VM.start_on", self.vm, host) if host else ("VM.start", self.vm)), False, False)
        elif target == "running" and state == "suspended":
            self.task(*(("VM.resume_on", self.vm, host) if host else ("VM.resume", self.vm)), False, False)
        elif target == "running" and state == "paused":
            self.task("VM.unpause", self.vm)
        elif target == "suspended" and state != "suspended":
            if state == "halted":
                self.task("VM.start", self.vm, False, False)
            self.task("VM.suspend", self.vm)
        elif target == "restarted":
            self._clean_or_hard("VM.clean_reboot", "VM.hard_reboot")

    def _clean_or_hard(self, clean: str, hard: str) -> None:
        """A guest without PV drivers cannot be asked to shut down: fall back to the hard variant."""
        try:
            self.task(clean, self.vm)
        except XapiError as err:
            if err.code not in CLEAN_FALLBACK:
                raise
            self.task(hard, self.vm)

    def wait_for_ip(self) -> str:
        """Until the guest agent reports an IPv4 address, bounded by the same timeout as the tasks."""
        def fetch() -> str | None:
            metrics = self.call("VM.get_guest_metrics", self.vm)
            if is_null(metrics):
                return None
            networks = self.call("VM_guest_metrics.get_networks", metrics) or {}
            return next((v for k, v in sorted(networks.items()) if v and (k.endswith("/ip") or "/ipv4/" in k)), None)

        kwargs = {"sleep": self._sleep} if self._sleep else {}
        return wait_until(fetch, bool, what="an IP address from the guest agent of VM %s" % self.vm,
                          timeout=self.timeout, interval=0.5, max_interval=5.0, **kwargs)


def refresh(client: t.Any, state: PoolState, vm: str) -> PoolState:
    """A copy of the pool state with one VM and its devices read again (a handful of calls, one VM)."""
    records = {cls: dict(recs) for cls, recs in state.records.items()}
    record = client.call("VM.get_record", vm)
    records.setdefault("VM", {})[vm] = record
    for cls, refs in (("VBD", record.get("VBDs") or []), ("VIF", record.get("VIFs") or [])):
        for ref in refs:
            records.setdefault(cls, {})[ref] = client.call("%s.get_record" % cls, ref)
    for ref in record.get("VBDs") or []:
        vdi = records["VBD"][ref].get("VDI")
        if not is_null(vdi) and vdi not in records.get("VDI", {}):
            records.setdefault("VDI", {})[vdi] = client.call("VDI.get_record", vdi)
        elif not is_null(vdi):
            records["VDI"][vdi] = client.call("VDI.get_record", vdi)
    if not is_null(record.get("guest_metrics")):
        records.setdefault("VM_guest_metrics", {})[record["guest_metrics"]] = client.call(
            "VM_guest_metrics.get_record", record["guest_metrics"])
    return PoolState(records)


def marker_for(state: PoolState) -> dict[str, str]:
    """The ownership marker of this pool (MARKER itself is added at creation)."""
    return {MARKER_POOL: (state.pool or {}).get("uuid", "")}
