# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Templates made from prototype VMs (private to vdc.xenpool).

A prototype VM becomes a template with VM.set_is_a_template, which xapi allows only for a Halted VM
(the make_into_template operation), so a running prototype is shut down first, and only on request.
A template goes back to being a VM the same way. VM.copy makes a full copy of a template whose disks
land on another SR, so that clones made there are fast (copy-on-write on the same SR).
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import POWER_OFF, Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import disk_views, kind

TEMPLATE_CLASSES: tuple[str, ...] = ("pool", "host", "SR", "VM", "VM_guest_metrics", "VBD", "VDI")


def find_record(state: PoolState, name: str | None, uuid: str | None) -> tuple[str, dict[str, t.Any]] | None:
    """The VM or (non-default) template with this uuid or name; a name shared by two of them is an error."""
    found = [(ref, rec) for ref, rec in state.all("VM").items()
             if kind(rec) in ("vm", "template") and not rec.get("is_default_template")
             and ((uuid and rec.get("uuid") == uuid) or (not uuid and rec.get("name_label") == name))]
    if len(found) > 1:
        raise PlanError("NAME_AMBIGUOUS", "%d VMs or templates are named '%s' (uuids %s)" % (
            len(found), name, ", ".join(sorted(rec.get("uuid", "") for _r, rec in found))), "Give the uuid instead")
    return found[0] if found else None


def view(state: PoolState, ref: str | None) -> dict[str, t.Any]:
    if ref is None:
        return {}
    rec = state.all("VM")[ref]
    return {"name": rec.get("name_label", ""), "uuid": rec.get("uuid", ""), "kind": kind(rec),
            "power_state": str(rec.get("power_state", "")).lower(),
            "srs": sorted({d["sr"] for d in disk_views(state, rec) if d["sr"]}),
            "disks": [{k: d[k] for k in ("position", "name", "size_gib", "sr", "uuid")} for d in disk_views(state, rec)]}


def _sr(state: PoolState, name: str) -> str:
    found = [ref for ref, rec in state.all("SR").items() if name in (rec.get("name_label"), rec.get("uuid"))]
    if len(found) != 1:
        raise PlanError("SR_NOT_FOUND" if not found else "SR_NAME_AMBIGUOUS", "%d SRs are named '%s'" % (len(found), name),
                        "Check the SR's name (matched exactly) or give its uuid")
    if state.all("SR")[found[0]].get("content_type") == "iso":
        raise PlanError("SR_IS_ISO", "SR '%s' is an ISO library" % name, "Copy the template to an SR for VM disks")
    return found[0]


def plan_template(state: PoolState, request: dict[str, t.Any]) -> Plan:
    """Steps to reach the declared kind (template or vm) and, for a template, its copy on another SR."""
    if not str(request.get("name") or "").strip() and not request.get("uuid"):
        raise PlanError("INVALID_NAME", "name is empty", "Set name to the name label of the prototype VM or template")
    found = find_record(state, request.get("name"), request.get("uuid"))
    label = request.get("name") or request.get("uuid")
    if found is None:
        raise PlanError("VM_NOT_FOUND", "no VM or template '%s' in the pool" % label,
                        "Check the name (matched exactly); default templates are never converted")
    ref, rec = found
    plan = Plan(before=view(state, ref))
    after = dict(plan.before)
    want = request["state"]
    if want == "template" and kind(rec) == "vm":
        power = str(rec.get("power_state", "")).lower()
        if power != "halted":
            if not request.get("shutdown") or power != "running":
                raise PlanError("VM_NOT_HALTED", "VM '%s' is %s; xapi makes only a halted VM into a template" % (label, power),
                                "Shut it down first, or set shutdown: true to let the module shut it down cleanly")
            plan.add("shut down VM", label, impact=POWER_OFF, destructive=True, vm_ref=ref)
        plan.add("make into template", label, vm_ref=ref, value=True)
        after.update(kind="template", power_state="halted")
    elif want == "vm" and kind(rec) == "template":
        plan.add("make into VM", label, vm_ref=ref, value=False)
        after.update(kind="vm")
    plan.after = after
    if request.get("copy_to_sr"):
        _plan_copy(state, plan, ref, rec, request, label)
    return plan


def _plan_copy(state: PoolState, plan: Plan, ref: str, rec: dict[str, t.Any], request: dict[str, t.Any], label: str) -> None:
    if request["state"] != "template":
        raise PlanError("COPY_NEEDS_TEMPLATE", "copy_to_sr is only for state=template", "Drop copy_to_sr, or set state: template")
    sr_ref = _sr(state, request["copy_to_sr"])
    sr_name = state.name_of("SR", sr_ref)
    copy_name = request.get("copy_name") or "%s (%s)" % (rec.get("name_label"), sr_name)
    existing = [(r, c) for r, c in state.all("VM").items() if kind(c) == "template" and c.get("name_label") == copy_name]
    if len(existing) > 1:
        raise PlanError("NAME_AMBIGUOUS", "%d templates are named '%s'" % (len(existing), copy_name), "Rename or remove the extra ones")
    if existing:
        srs = view(state, existing[0][0])["srs"]
        if srs and srs != [sr_name]:
            raise PlanError("COPY_ON_OTHER_SR", "template '%s' exists with disks on %s, not on %s" % (copy_name, ", ".join(srs), sr_name),
                            "Name another copy_name, or remove that template")
        plan.after = dict(plan.after, copy=view(state, existing[0][0]))
        plan.before = dict(plan.before, copy=view(state, existing[0][0]))
        return
    plan.add("copy template", label, "to %s as %s" % (sr_name, copy_name), vm_ref=ref, sr_ref=sr_ref, name=copy_name)
    plan.before = dict(plan.before, copy={})
    plan.after = dict(plan.after, copy={"name": copy_name, "kind": "template", "srs": [sr_name]})


def apply_template(client: t.Any, plan: Plan, timeout: float) -> None:
    """The steps in order. A copy is made after the conversion, so it is a copy of the template."""
    for step in plan.steps:
        if step["action"] == "shut down VM":
            wait_task(client, client.call("Async.VM.clean_shutdown", step["vm_ref"]), timeout)
        elif step["action"] in ("make into template", "make into VM"):
            client.call("VM.set_is_a_template", step["vm_ref"], step["value"])
        elif step["action"] == "copy template":
            wait_task(client, client.call("Async.VM.copy", step["vm_ref"], step["name"], step["sr_ref"]), timeout)


def result(state: PoolState, request: dict[str, t.Any], plan: Plan) -> dict[str, t.Any]:
    """The record after the run, from a fresh read, with its copy when one was asked for."""
    found = find_record(state, request.get("name"), request.get("uuid"))
    out = view(state, found[0] if found else None)
    if request.get("copy_to_sr") and isinstance(plan.after, dict) and plan.after.get("copy", {}).get("name"):
        name = plan.after["copy"]["name"]
        copies = [r for r, c in state.all("VM").items() if kind(c) == "template" and c.get("name_label") == name]
        out["copy"] = view(state, copies[0]) if copies else {}
    return out
