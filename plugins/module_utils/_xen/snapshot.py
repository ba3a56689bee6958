# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""VM snapshots: create, revert, delete and retention (private to vdc.xenpool).

A snapshot is a VM record with is_a_snapshot and snapshot_of (see `_xen/vm.kind`); its disks are VDIs
that VM.destroy leaves behind, so deleting a snapshot destroys them explicitly. Everything is planned
from one bulk read, then applied; the plan is what check mode shows.

Power state after a revert (xapi_vm_snapshot.ml `revert`: force_state_reset to the snapshot's own
power_state): a disk-only snapshot is Halted, so the VM ends Halted (a running domain is destroyed);
a checkpoint (VM.checkpoint, memory included) is Suspended, so the VM ends Suspended and resumes where
the checkpoint was taken.
"""

from __future__ import annotations

import datetime
import re
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import POWER_OFF, Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import disk_views, find_vm, kind

SNAPSHOT_CLASSES: tuple[str, ...] = ("host", "SR", "VM", "VBD", "VDI")
AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
NEW = "(new)"


def parse_time(value: t.Any) -> datetime.datetime:
    """A XenAPI dateTime (xmlrpc DateTime or its text, with or without Z) as an aware UTC datetime."""
    text = str(getattr(value, "value", value) or "").strip().rstrip("Z")
    for fmt in ("%Y%m%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y%m%dT%H%M%S"):
        try:
            return datetime.datetime.strptime(text[:19] if "-" in text else text[:17], fmt).replace(tzinfo=datetime.timezone.utc)
        except ValueError:
            continue
    return datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def parse_age(value: t.Any) -> int | None:
    """'30d', '12h', '90m', '45s', '2w' or a number of seconds; None when not given. Bad text is an error."""
    if value in (None, ""):
        return None
    match = re.fullmatch(r"\s*(\d+)\s*([smhdw]?)\s*", str(value))
    if not match:
        raise PlanError("INVALID_MAX_AGE", "max_age is '%s'" % value, "Give a whole number with a unit s, m, h, d or w (e.g. 7d)")
    return int(match.group(1)) * AGE_UNITS[match.group(2) or "s"]


def iso(moment: datetime.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def snapshots_of(state: PoolState, vm_ref: str) -> list[tuple[str, dict[str, t.Any]]]:
    """The VM's snapshots, oldest first (ties by uuid, so the order is stable)."""
    found = [(ref, rec) for ref, rec in state.all("VM").items() if kind(rec) == "snapshot" and rec.get("snapshot_of") == vm_ref]
    return sorted(found, key=lambda item: (parse_time(item[1].get("snapshot_time")), item[1].get("uuid", "")))


def snapshot_view(state: PoolState, ref: str) -> dict[str, t.Any]:
    """What the module returns for a snapshot: uuid, time, the VM, whether memory is in it, the disks."""
    rec = state.all("VM")[ref]
    vm = state.get("VM", rec.get("snapshot_of")) or {}
    return {"name": rec.get("name_label", ""), "uuid": rec.get("uuid", ""), "time": iso(parse_time(rec.get("snapshot_time"))),
            "vm": vm.get("name_label", ""), "vm_uuid": vm.get("uuid", ""),
            "checkpoint": str(rec.get("power_state", "")).lower() == "suspended",
            "power_state_at_snapshot": str((rec.get("snapshot_info") or {}).get("power-state-at-snapshot", "")).lower(),
            "disks": [{k: d[k] for k in ("position", "name", "size_gib", "sr", "uuid")} for d in disk_views(state, rec)]}


def snapshot_vdis(state: PoolState, rec: dict[str, t.Any]) -> list[str]:
    """The VDIs a snapshot owns: its disk VDIs and, for a checkpoint, the suspend image."""
    refs = [d["vdi_ref"] for d in disk_views(state, rec)]
    if state.get("VDI", rec.get("suspend_VDI")) is not None:
        refs.append(rec["suspend_VDI"])
    return refs


def select_vms(state: PoolState, request: dict[str, t.Any]) -> list[tuple[str, dict[str, t.Any]]]:
    """One VM (name or uuid) or a selection (names and/or tags); every name must exist."""
    vms = state.all("VM")
    if request.get("vm") or request.get("vm_uuid"):
        found = find_vm(state, request.get("vm"), request.get("vm_uuid"))
        if found is None:
            raise PlanError("VM_NOT_FOUND", "no VM '%s' in the pool" % (request.get("vm_uuid") or request.get("vm")),
                            "Check the name (matched exactly) or give its uuid")
        return [found]
    chosen: dict[str, dict[str, t.Any]] = {}
    for name in request.get("vms") or []:
        found = find_vm(state, name)
        if found is None:
            raise PlanError("VM_NOT_FOUND", "no VM '%s' in the pool" % name, "Check the names in vms (matched exactly)")
        chosen[found[0]] = found[1]
    tags = set(request.get("tags") or [])
    if tags:
        chosen.update({ref: rec for ref, rec in vms.items() if kind(rec) == "vm" and tags & set(rec.get("tags") or [])})
    return sorted(chosen.items(), key=lambda item: (item[1].get("name_label", ""), item[1].get("uuid", "")))


def find_snapshot(state: PoolState, vm_ref: str, name: str) -> tuple[str, dict[str, t.Any]] | None:
    """The VM's snapshot with this name or uuid. A snapshot of that name belonging to another VM is an error."""
    mine = [(ref, rec) for ref, rec in snapshots_of(state, vm_ref) if name in (rec.get("name_label"), rec.get("uuid"))]
    if len(mine) > 1:
        raise PlanError("SNAPSHOT_NAME_AMBIGUOUS", "%d snapshots of the VM are named '%s'" % (len(mine), name),
                        "Give the snapshot's uuid instead of its name")
    return mine[0] if mine else None


def _other_owner(state: PoolState, name: str) -> str | None:
    for rec in state.all("VM").values():
        if kind(rec) == "snapshot" and name in (rec.get("name_label"), rec.get("uuid")):
            return state.name_of("VM", rec.get("snapshot_of")) or "a deleted VM"
    return None


def expired(state: PoolState, vm_ref: str, request: dict[str, t.Any], now: datetime.datetime,
            created: int = 0) -> list[tuple[str, dict[str, t.Any]]]:
    """Snapshots retention drops: beyond the newest `keep` (counting `created` new ones) or older than max_age.
    Only snapshots whose name starts with `name_prefix` take part, so hand-made ones can be left alone."""
    prefix = request.get("name_prefix") or ""
    candidates = [item for item in snapshots_of(state, vm_ref) if str(item[1].get("name_label", "")).startswith(prefix)]
    drop: dict[str, dict[str, t.Any]] = {}
    keep = request.get("keep")
    if keep is not None:
        survivors = max(keep - created, 0)
        for ref, rec in candidates[:max(len(candidates) - survivors, 0)]:
            drop[ref] = rec
    max_age = request.get("max_age_seconds")
    if max_age is not None:
        for ref, rec in candidates:
            if (now - parse_time(rec.get("snapshot_time"))).total_seconds() > max_age:
                drop[ref] = rec
    return [item for item in candidates if item[0] in drop]


def check_request(request: dict[str, t.Any]) -> None:
    """Refusals that need no pool."""
    if request.get("vm") is not None and not str(request["vm"]).strip() and not request.get("vm_uuid"):
        raise PlanError("INVALID_NAME", "vm is empty", "Set vm to the VM's name label, or give vm_uuid")
    if request.get("keep") is not None and request["keep"] < 0:
        raise PlanError("INVALID_RETENTION", "keep is %s" % request["keep"], "Set keep to 0 or more (the number of newest snapshots kept)")
    if request["state"] in ("reverted", "absent") and not request.get("snapshot"):
        raise PlanError("SNAPSHOT_REQUIRED", "state=%s needs a snapshot" % request["state"], "Set snapshot to the snapshot's name or uuid")
    if request["state"] == "reverted" and not (request.get("vm") or request.get("vm_uuid")):
        raise PlanError("VM_REQUIRED", "a revert needs the one VM", "Set vm (or vm_uuid); a revert never applies to a selection")
    if request["state"] == "present" and not request.get("snapshot") and request.get("keep") is None \
            and request.get("max_age_seconds") is None:
        raise PlanError("NOTHING_TO_DO", "neither snapshot nor retention is given", "Set snapshot to create one, or keep/max_age")


def plan_snapshots(state: PoolState, request: dict[str, t.Any], now: datetime.datetime) -> Plan:
    """The steps for every selected VM: create (if missing), revert, delete, retention; before/after are
    VM name -> snapshot names, oldest first."""
    check_request(request)
    targets = select_vms(state, request)
    if not targets:
        raise PlanError("VM_NOT_FOUND", "the selection matches no VM", "Check vms and tags")
    plan = Plan(before={}, after={})
    for vm_ref, vm in targets:
        label = vm.get("name_label", "")
        names = [rec.get("name_label", "") for _ref, rec in snapshots_of(state, vm_ref)]
        power = str(vm.get("power_state", "")).lower()
        plan.before[label] = {"snapshots": list(names), "power_state": power}
        after = list(names)
        verb = request["state"]
        if verb == "reverted":
            power = _plan_revert(state, plan, vm_ref, vm, request)
        elif verb == "absent":
            found = find_snapshot(state, vm_ref, request["snapshot"])
            if found is not None:
                _plan_delete(state, plan, found, label)
                after.remove(found[1].get("name_label", ""))
        created = 0
        if verb == "present" and request.get("snapshot") and find_snapshot(state, vm_ref, request["snapshot"]) is None:
            _plan_create(plan, vm_ref, vm, request)
            after.append(request["snapshot"])
            created = 1
        if verb == "present" and (request.get("keep") is not None or request.get("max_age_seconds") is not None):
            for item in expired(state, vm_ref, request, now, created):
                _plan_delete(state, plan, item, label, "retention")
                after.remove(item[1].get("name_label", ""))
        plan.after[label] = {"snapshots": after, "power_state": power}
    return plan


def _plan_create(plan: Plan, vm_ref: str, vm: dict[str, t.Any], request: dict[str, t.Any]) -> None:
    memory = bool(request.get("memory"))
    if memory and "checkpoint" not in (vm.get("allowed_operations") or []):
        running = str(vm.get("power_state", "")).lower()
        raise PlanError("CHECKPOINT_NOT_ALLOWED", "VM '%s' (%s) does not allow VM.checkpoint now" % (vm.get("name_label"), running),
                        "Take a disk-only snapshot (memory: false), or make the guest suspendable (PV drivers or feature-suspend)")
    if not memory and "snapshot" not in (vm.get("allowed_operations") or []):
        raise PlanError("SNAPSHOT_NOT_ALLOWED", "VM '%s' does not allow VM.snapshot now (busy or %s)" % (
            vm.get("name_label"), str(vm.get("power_state", "")).lower()), "Run the module again once its current operation is done")
    plan.add("create checkpoint" if memory else "create snapshot", vm.get("name_label", ""), request["snapshot"],
             vm_ref=vm_ref, name=request["snapshot"], memory=memory)


def _plan_delete(state: PoolState, plan: Plan, item: tuple[str, dict[str, t.Any]], label: str, why: str = "") -> None:
    ref, rec = item
    vdis = snapshot_vdis(state, rec)
    detail = "%s (%s, %d VDI%s)%s" % (rec.get("name_label", ""), iso(parse_time(rec.get("snapshot_time"))), len(vdis),
                                      "" if len(vdis) == 1 else "s", " by " + why if why else "")
    plan.add("delete snapshot", label, detail, destructive=True, snapshot_ref=ref, vdi_refs=vdis)


def _plan_revert(state: PoolState, plan: Plan, vm_ref: str, vm: dict[str, t.Any], request: dict[str, t.Any]) -> str:
    """The revert step (always a change: it discards the VM's current disks), and a start on request;
    returns the power state the VM ends in."""
    name = request["snapshot"]
    found = find_snapshot(state, vm_ref, name)
    if found is None:
        owner = _other_owner(state, name)
        if owner is not None:
            raise PlanError("SNAPSHOT_OF_ANOTHER_VM", "snapshot '%s' belongs to VM '%s', not to '%s'" % (name, owner, vm.get("name_label")),
                            "Name a snapshot of this VM (see the module's snapshots result)")
        raise PlanError("SNAPSHOT_NOT_FOUND", "VM '%s' has no snapshot '%s'" % (vm.get("name_label"), name),
                        "Check the snapshot's name (matched exactly) or give its uuid")
    snap_ref, snap = found
    checkpoint = str(snap.get("power_state", "")).lower() == "suspended"
    running = str(vm.get("power_state", "")).lower() in ("running", "paused", "suspended")
    ends = "suspended" if checkpoint else "halted"
    plan.add("revert", vm.get("name_label", ""), "to %s; the VM ends %s" % (snap.get("name_label", ""), ends),
             impact=POWER_OFF if running else "live", destructive=True, snapshot_ref=snap_ref, vm_ref=vm_ref)
    if running:
        plan.notes.append("VM '%s' is %s: the revert destroys its running domain and leaves it %s" % (
            vm.get("name_label"), str(vm.get("power_state", "")).lower(), ends))
    if request.get("start"):
        plan.add("resume VM" if checkpoint else "start VM", vm.get("name_label", ""), vm_ref=vm_ref)
    return "running" if request.get("start") else ends


def apply_snapshots(client: t.Any, plan: Plan, timeout: float) -> None:
    """Execute the plan's steps in order, each Async and bounded by timeout. A deleted snapshot's VDIs are
    destroyed after its record, because VM.destroy of a snapshot leaves them (xapi_vm.ml destroy)."""
    for step in plan.steps:
        action = step["action"]
        if action in ("create snapshot", "create checkpoint"):
            method = "Async.VM.checkpoint" if step["memory"] else "Async.VM.snapshot"
            wait_task(client, client.call(method, step["vm_ref"], step["name"]), timeout)
        elif action == "revert":
            wait_task(client, client.call("Async.VM.revert", step["snapshot_ref"]), timeout)
        elif action == "start VM":
            wait_task(client, client.call("Async.VM.start", step["vm_ref"], False, False), timeout)
        elif action == "resume VM":
            wait_task(client, client.call("Async.VM.resume", step["vm_ref"], False, False), timeout)
        elif action == "delete snapshot":
            client.call("VM.destroy", step["snapshot_ref"])
            for vdi in step["vdi_refs"]:
                wait_task(client, client.call("Async.VDI.destroy", vdi), timeout)


def result_views(state: PoolState, plan: Plan, request: dict[str, t.Any]) -> dict[str, t.Any]:
    """VM name -> its snapshots (oldest first), and the named snapshot of a single VM, from a fresh read."""
    views: dict[str, list[dict[str, t.Any]]] = {}
    named = None
    for vm_ref, vm in select_vms(state, request):
        views[vm.get("name_label", "")] = [snapshot_view(state, ref) for ref, _rec in snapshots_of(state, vm_ref)]
        if request.get("snapshot") and request["state"] != "absent":
            found = find_snapshot(state, vm_ref, request["snapshot"])
            named = snapshot_view(state, found[0]) if found else named
    return {"snapshots": views, "snapshot": named or {}}
