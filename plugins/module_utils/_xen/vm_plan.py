# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The VM planner: a declared VM and one bulk read of the pool -> a Plan (private to vdc.xenpool).

Pure: no XenAPI call happens here, so check mode, --diff and apply all come from the same value.
Each step says whether it is `live`, `needs reboot` (written now, seen at the next boot) or
`needs power-off` (xapi refuses it on a running VM). A running VM with power-off steps is refused
unless allow_restart is set or the VM is to be halted anyway: the refusal names the VM, the fields
and the reason, before anything is written.
"""

from __future__ import annotations

import copy
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import LIVE, POWER_OFF, REBOOT, Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.placement import declare_host, place
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import find_source, find_vm, pending_vms, vm_view
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_devices import device_steps, predicted_devices
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_spec import check_against_pool, find_iso, lookup

MIB = 1024 * 1024
# Setters that only change xapi's database, whatever the power state.
METADATA_METHODS = ("VM.set_name_description", "VM.add_tags", "VM.remove_tags", "VM.add_to_other_config",
                    "VM.remove_from_other_config", "VM.set_affinity", "VM.set_ha_restart_priority", "VM.set_order",
                    "VM.set_start_delay", "VDI.set_name_label")
# Fields shown in --diff when managed (the desired value is not None).
DIFF_FIELDS = ("description", "power_state", "vcpus", "vcpus_max", "memory_mib", "memory_static_min_mib",
               "memory_dynamic_min_mib", "memory_dynamic_max_mib", "domain_type", "boot_order", "pv_args", "affinity",
               "resident_on", "tags", "other_config", "xenstore_data", "ha_restart_priority", "order", "start_delay", "disks", "nics", "cdrom")


def plan_vm(state: PoolState, want: dict[str, t.Any], marker: dict[str, str]) -> Plan:
    """The plan of one declared VM; raises PlanError for anything that cannot or may not be done."""
    found = find_vm(state, want["name"], want.get("uuid"))
    plan = Plan(steps=[])
    for ref, rec in pending_vms(state, want["name"]):
        plan.add("clean up", "unfinished creation", rec.get("uuid"), LIVE, op="cleanup_pending", ref=ref)
    if want["state"] == "absent":
        return _absent(state, want, found, plan)
    if found is None:
        return _create(state, declare_host(state, want, None), marker, plan)
    check_against_pool(state, want, found[0])
    current = vm_view(state, found[0])
    want = declare_host(state, want, current["power_state"])
    plan.before = diff_view(current, want)
    steps, after = field_steps(state, found[0], current, want)
    _power(plan, want, current, steps, after, found[0])
    place(state, plan, want, after, found[0], None)
    plan.after = diff_view(after, want)
    plan.ref = found[0]  # type: ignore[attr-defined]
    return plan


def _absent(state: PoolState, want: dict[str, t.Any], found: tuple[str, dict] | None, plan: Plan) -> Plan:
    if found is None:
        plan.before, plan.after = {}, {}
        return plan
    ref, rec = found
    plan.before = {"name": rec.get("name_label"), "uuid": rec.get("uuid"), "power_state": str(rec.get("power_state")).lower()}
    plan.after = {}
    destroy_step(state, plan, ref, want.get("destroy_disks", False))
    plan.ref = ref  # type: ignore[attr-defined]
    return plan


def destroy_step(state: PoolState, plan: Plan, ref: str, destroy_disks: bool) -> None:
    """Stop (hard, the VM is going away) and destroy; its disks only with destroy_disks."""
    rec = state.all("VM")[ref]
    vdis = [state.get("VBD", v).get("VDI") for v in rec.get("VBDs") or []
            if (state.get("VBD", v) or {}).get("type") == "Disk" and state.get("VDI", (state.get("VBD", v) or {}).get("VDI"))]
    if rec.get("power_state") != "Halted":
        plan.add("hard shutdown", rec.get("name_label", ""), None, POWER_OFF, destructive=True, op="power", target="halted",
                 hard=True)
    detail = "and its %d disk(s)" % len(vdis) if destroy_disks else "keeping its %d disk(s)" % len(vdis)
    plan.add("destroy", "VM", detail, LIVE, destructive=True, op="destroy", ref=ref, vdis=vdis if destroy_disks else [])


def _create(state: PoolState, want: dict[str, t.Any], marker: dict[str, str], plan: Plan) -> Plan:
    if want.get("source") is None:
        raise PlanError("SOURCE_MISSING", "the VM does not exist and no template, snapshot or source_vm is given",
                        "Say what to create it from")
    check_against_pool(state, want, None)
    what, name = want["source"]
    src_ref, src = find_source(state, name, {"template": "template", "snapshot": "snapshot", "source_vm": "vm"}[what])
    if what == "source_vm" and src.get("power_state") != "Halted":
        raise PlanError("VM_BAD_POWER_STATE", "source VM '%s' is %s; xapi clones and copies only halted VMs" % (
            name, str(src.get("power_state")).lower()), "Halt it first, or snapshot it and use snapshot instead")
    sr_ref = lookup(state, "SR", want["sr"]) if want.get("sr") else (state.pool or {}).get("default_SR")
    base = source_view(state, src_ref, state.name_of("SR", sr_ref))
    mode = _clone_or_copy(state, src, sr_ref)
    want = with_install(state, want)
    if want.get("description") is None:
        want["description"] = ""  # not the template's "Template which allows VM installation"
    plan.add("create", "VM", "%s of %s '%s'" % (mode, what.replace("source_vm", "VM"), src.get("name_label")), LIVE,
             op="create", source=src_ref, mode=mode, sr=sr_ref, name=want["name"], marker=marker,
             provision=bool((src.get("other_config") or {}).get("disks")) and what == "template", want=want)
    steps, after = field_steps(state, None, base, want)
    for step in steps:
        step["part_of_create"] = True  # shown in the plan; the create step re-plans them on the fresh clone
    plan.steps.extend(steps)
    plan.add("name", "VM", want["name"], LIVE, op="rename", name=want["name"])
    target = want.get("power_state")
    if target in ("running", "restarted"):
        plan.add("start", "VM", None, LIVE, op="power", target="running")
    elif target == "suspended":
        plan.add("start and suspend", "VM", None, LIVE, op="power", target="suspended")
    after["power_state"] = {"restarted": "running"}.get(target or "halted", target or "halted")
    place(state, plan, want, after, None, src)
    if (want.get("install") or {}).get("method") == "iso" and target in ("running", "restarted") and want.get("wait_for_ip"):
        # the guest agent answering means the installed OS booted: the install CD is done with
        plan.add("eject", "install ISO", "once the installed OS reports an IP; boot order c", LIVE, op="eject_install",
                 after_ip=True)
        after["cdrom"], after["boot_order"] = {"iso": ""}, "c"
    after["name"], after["uuid"] = want["name"], None
    plan.before = {}
    plan.after = diff_view(after, want)
    plan.ref = None  # type: ignore[attr-defined]
    return plan


def _clone_or_copy(state: PoolState, src: dict[str, t.Any], sr_ref: str | None) -> str:
    """Clone keeps the disks on their SR (fast, copy-on-write); copy moves them to the chosen SR."""
    for vbd_ref in src.get("VBDs") or []:
        vbd = state.get("VBD", vbd_ref) or {}
        vdi = state.get("VDI", vbd.get("VDI")) if vbd.get("type") == "Disk" else None
        if vdi and sr_ref and vdi.get("SR") != sr_ref:
            return "copy"
    return "clone"


def source_view(state: PoolState, src_ref: str, sr_name: str | None) -> dict[str, t.Any]:
    """What a fresh clone of the source looks like, disks to provision included (the base of a create plan)."""
    import xml.etree.ElementTree as ET  # pylint: disable=import-outside-toplevel

    view = vm_view(state, src_ref)
    view.update({"power_state": "halted", "tags": view["tags"], "ha_restart_priority": "", "order": 0, "start_delay": 0})
    view["nics"] = [dict(n, mac="") for n in view["nics"]]
    xml = (state.all("VM")[src_ref].get("other_config") or {}).get("disks")
    if xml:
        try:
            disks = [d.attrib for d in ET.fromstring(xml).iter("disk")]
        except ET.ParseError:
            disks = []
        for disk in disks:
            view["disks"].append({"position": disk.get("device", "0"), "name": disk.get("device", "0"),
                                  "size_gib": round(int(disk.get("size", "0")) / 1024 ** 3, 2), "sr": sr_name, "uuid": ""})
    view["other_config"] = {k: v for k, v in view["other_config"].items() if k not in ("disks", "default_template")}
    return view


def with_install(state: PoolState, want: dict[str, t.Any]) -> dict[str, t.Any]:
    """The declaration plus what its install method sets once, at creation.

    Never re-applied on later runs: after a kickstart install the eliloader hands the VM over to
    pygrub, and after an ISO install the operator ejects the CD; a second run must not undo that.
    """
    install = want.get("install") or {}
    method = install.get("method")
    out = copy.deepcopy(want)
    if method == "kickstart":
        args = " ".join(x for x in ("ks=%s" % install["kickstart_url"] if install.get("kickstart_url") else "",
                                    install.get("kernel_args") or "") if x)
        out["other_config"] = dict(out.get("other_config") or {}, **{"install-repository": install["repository"]})
        out["pv_args"] = out.get("pv_args") or args or None
    elif method == "iso":
        find_iso(state, install["iso"])
        out["cdrom"] = out.get("cdrom") or {"iso": install["iso"]}
        out["boot_order"] = out.get("boot_order") or "dc"
    elif method == "netboot":
        out["boot_order"] = out.get("boot_order") or "nc"
    return out


def _short(value: t.Any) -> str:
    text = "%s" % (value,)
    return text if len(text) <= 40 else text[:37] + "..."


def _set(plan: list, field: str, cur: t.Any, new: t.Any, impact: str, method: str, *args: t.Any) -> bool:
    if new is None or cur == new:
        return False
    plan.append(dict(action="set", object=field, detail="%s -> %s" % (_short(cur), _short(new)), impact=impact, destructive=False,
                     op="vm", method=method, args=list(args)))
    return True


def field_steps(state: PoolState, ref: str | None, cur: dict[str, t.Any], want: dict[str, t.Any]) -> tuple[list, dict]:
    """Steps for every managed field that differs, and the predicted view after them."""
    running = cur["power_state"] == "running"
    impact_off = POWER_OFF if running else LIVE
    impact_boot = REBOOT if running else LIVE
    steps: list[dict[str, t.Any]] = []
    after = copy.deepcopy(cur)
    _set(steps, "description", cur["description"], want.get("description"), LIVE, "VM.set_name_description", want.get("description"))
    _vcpus(steps, cur, want, running)
    _memory(steps, cur, want, running)
    dtype = want.get("domain_type")
    if dtype and dtype != cur["domain_type"]:
        _set(steps, "domain_type", cur["domain_type"], dtype, impact_off, "VM.set_domain_type", dtype)
    if want.get("boot_order") is not None and want["boot_order"] != cur["boot_order"]:
        params = dict((state.all("VM").get(ref) or {}).get("HVM_boot_params") or {}) if ref else {}
        params["order"] = want["boot_order"]
        _set(steps, "boot_order", cur["boot_order"], want["boot_order"], impact_boot, "VM.set_HVM_boot_params", params)
    _set(steps, "pv_args", cur["pv_args"], want.get("pv_args"), impact_boot, "VM.set_PV_args", want.get("pv_args"))
    if want.get("affinity") is not None and want["affinity"] != cur["affinity"]:
        host = lookup(state, "host", want["affinity"]) if want["affinity"] else "OpaqueRef:NULL"
        _set(steps, "affinity", cur["affinity"], want["affinity"], LIVE, "VM.set_affinity", host)
    _maps(steps, after, cur, want, running)
    for field, method in (("ha_restart_priority", "VM.set_ha_restart_priority"), ("order", "VM.set_order"),
                          ("start_delay", "VM.set_start_delay")):
        _set(steps, field, cur[field], want.get(field), LIVE, method, want.get(field))
    steps.extend(device_steps(state, ref, cur, want, running))
    for key in ("description", "vcpus", "vcpus_max", "domain_type", "boot_order", "pv_args", "affinity",
                "ha_restart_priority", "order", "start_delay") + tuple(k for k in cur if k.startswith("memory_")):
        if want.get(key) is not None:
            after[key] = want[key]
    after.update(predicted_devices(cur, want))
    if cur["power_state"] in ("suspended", "paused"):
        # a suspended domain keeps its memory image and devices: only metadata changes until it is halted
        for step in steps:
            if step.get("method") not in METADATA_METHODS:
                step["impact"] = POWER_OFF
    return [_step(s) for s in steps], after


def _step(raw: dict[str, t.Any]) -> t.Any:
    from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Step  # pylint: disable=import-outside-toplevel

    return Step(raw.pop("action"), raw.pop("object"), raw.pop("detail"), raw.pop("impact"), raw.pop("destructive"), **raw)


def _vcpus(steps: list, cur: dict[str, t.Any], want: dict[str, t.Any], running: bool) -> None:
    """vCPUs up to VCPUs_max are hot-plugged on a running VM; anything else waits for a halted VM."""
    new_max, new = want.get("vcpus_max"), want.get("vcpus")
    eff_max = new_max if new_max is not None else cur["vcpus_max"]
    if new is not None and new_max is None and new > cur["vcpus_max"]:
        new_max = eff_max = new
    grow_max = new_max is not None and new_max > cur["vcpus_max"]
    if grow_max:
        _set(steps, "vcpus_max", cur["vcpus_max"], new_max, POWER_OFF if running else LIVE, "VM.set_VCPUs_max", new_max)
    if new is not None and new != cur["vcpus"]:
        if running and cur.get("vcpu_hotplug", True) and cur["vcpus"] < new <= cur["vcpus_max"]:
            _set(steps, "vcpus", cur["vcpus"], new, LIVE, "VM.set_VCPUs_number_live", new)
        else:
            _set(steps, "vcpus", cur["vcpus"], new, POWER_OFF if running else LIVE, "VM.set_VCPUs_at_startup", new)
    if not grow_max and new_max is not None:
        _set(steps, "vcpus_max", cur["vcpus_max"], new_max, POWER_OFF if running else LIVE, "VM.set_VCPUs_max", new_max)
    if new is not None and new > eff_max:
        raise PlanError("VCPUS_INVALID", "vcpus %d is above vcpus_max %d" % (new, eff_max), "Raise vcpus_max")


def _memory(steps: list, cur: dict[str, t.Any], want: dict[str, t.Any], running: bool) -> None:
    """The static range needs a halted VM; a dynamic range inside it is set live (the balloon driver)."""
    keys = ("memory_static_min_mib", "memory_dynamic_min_mib", "memory_dynamic_max_mib", "memory_mib")
    new = {k: want.get(k) if want.get(k) is not None else cur[k] for k in keys}
    if all(new[k] == cur[k] for k in keys):
        return
    if new["memory_static_min_mib"] > new["memory_dynamic_min_mib"]:
        new["memory_static_min_mib"] = new["memory_dynamic_min_mib"]
    if new["memory_static_min_mib"] > new["memory_dynamic_min_mib"] or new["memory_dynamic_max_mib"] > new["memory_mib"]:
        raise PlanError("MEMORY_CONSTRAINT_VIOLATION_ORDER", "the memory options would break static_min <= dynamic_min "
                        "<= dynamic_max <= static_max", "Set memory_mib and the dynamic range together")
    detail = "%s -> %s MiB" % ("/".join(str(cur[k]) for k in keys), "/".join(str(new[k]) for k in keys))
    static_same = new["memory_mib"] == cur["memory_mib"] and new["memory_static_min_mib"] == cur["memory_static_min_mib"]
    if static_same:
        steps.append(dict(action="set", object="memory dynamic range", detail=detail, impact=LIVE, destructive=False,
                          op="vm", method="VM.set_memory_dynamic_range",
                          args=[new["memory_dynamic_min_mib"] * MIB, new["memory_dynamic_max_mib"] * MIB]))
    else:
        steps.append(dict(action="set", object="memory", detail=detail, impact=POWER_OFF if running else LIVE,
                          destructive=False, op="vm", method="VM.set_memory_limits",
                          args=[new[k] * MIB for k in ("memory_static_min_mib", "memory_mib", "memory_dynamic_min_mib",
                                                       "memory_dynamic_max_mib")]))
    want.update({k: new[k] for k in keys})


def _maps(steps: list, after: dict[str, t.Any], cur: dict[str, t.Any], want: dict[str, t.Any], running: bool) -> None:
    """tags, other_config and xenstore_data: keys leave only with purge_<map>."""
    if want.get("tags") is not None:
        add = [x for x in want["tags"] if x not in cur["tags"]]
        remove = [x for x in cur["tags"] if x not in want["tags"]] if want.get("purge_tags") else []
        for tag in add:
            steps.append(dict(action="add", object="tag", detail=tag, impact=LIVE, destructive=False, op="vm",
                              method="VM.add_tags", args=[tag]))
        for tag in remove:
            steps.append(dict(action="remove", object="tag", detail=tag, impact=LIVE, destructive=False, op="vm",
                              method="VM.remove_tags", args=[tag]))
        after["tags"] = sorted(set(cur["tags"]) - set(remove) | set(add))
    if want.get("other_config") is not None:
        have = cur["other_config"]
        for key, value in sorted(want["other_config"].items()):
            if have.get(key) != str(value):
                if key in have:
                    steps.append(dict(action="remove", object="other_config", detail=key, impact=LIVE, destructive=False,
                                      op="vm", method="VM.remove_from_other_config", args=[key]))
                steps.append(dict(action="set", object="other_config", detail="%s=%s" % (key, value), impact=LIVE,
                                  destructive=False, op="vm", method="VM.add_to_other_config", args=[key, str(value)]))
        protected = ("xenpool_", "mac_seed", "base_template_name", "install-", "import_task")
        remove = [k for k in have if k not in want["other_config"] and not k.startswith(protected)] if want.get("purge_other_config") else []
        for key in remove:
            steps.append(dict(action="remove", object="other_config", detail=key, impact=LIVE, destructive=False, op="vm",
                              method="VM.remove_from_other_config", args=[key]))
        after["other_config"] = {k: v for k, v in dict(have, **{k: str(v) for k, v in want["other_config"].items()}).items()
                                 if k not in remove}
    if want.get("xenstore_data") is not None:
        target = {k: str(v) for k, v in want["xenstore_data"].items()}
        if not want.get("purge_xenstore_data"):
            target = dict(cur["xenstore_data"], **target)
        if target != cur["xenstore_data"]:
            steps.append(dict(action="set", object="xenstore_data", detail=sorted(target), impact=REBOOT if running else LIVE,
                              destructive=False, op="vm", method="VM.set_xenstore_data", args=[target]))
        after["xenstore_data"] = target


def _power(plan: Plan, want: dict[str, t.Any], cur: dict[str, t.Any], steps: list, after: dict[str, t.Any], ref: str) -> None:
    """Order the field steps around the power changes; refuse power-off changes without allow_restart."""
    state, target = cur["power_state"], want.get("power_state")
    off = [s for s in steps if s["impact"] == POWER_OFF]
    reboot = [s for s in steps if s["impact"] == REBOOT]
    if off and target not in ("halted",) and not want.get("allow_restart"):
        raise PlanError("RESTART_REQUIRED", "VM '%s' is %s and %s can only change while it is halted" % (
            want["name"], state, ", ".join(sorted({s["object"] for s in off}))),
            "Set allow_restart: true to let the module shut it down, change it and start it again, or halt it first")
    final = target or state
    if final == "restarted":
        final = "running"
    if off or (target == "halted" and state != "halted"):
        lost = "discards the suspended memory image" if state == "suspended" else None
        plan.add("shut down", "VM", lost, POWER_OFF, destructive=bool(lost), op="power", target="halted")
        state = "halted"
    plan.steps.extend(steps)
    if final != state and final in ("running", "halted", "suspended"):
        plan.add({"running": "resume" if state == "suspended" else "start", "halted": "shut down",
                  "suspended": "suspend"}[final], "VM", None, LIVE, op="power", target=final)
    elif final == "running" and (target == "restarted" or (reboot and want.get("allow_restart"))):
        plan.add("reboot", "VM", "to apply: %s" % ", ".join(s["object"] for s in reboot) if reboot else None, REBOOT,
                 op="power", target="restarted")
    if target == "restarted":
        plan._changed = True  # pylint: disable=protected-access  # a restart is always a change
    after["power_state"] = final


def diff_view(view: dict[str, t.Any], want: dict[str, t.Any]) -> dict[str, t.Any]:
    """name and uuid, plus the fields the declaration manages."""
    out = {"name": view.get("name"), "uuid": view.get("uuid")}
    for key in DIFF_FIELDS:
        value = want.get(key)
        if key == "power_state" and value == "restarted":
            value = "running"
        if value is not None:
            out[key] = view.get("host" if key == "resident_on" else key)  # the view's host is xapi's resident_on
    return out
