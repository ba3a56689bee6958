# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one VM concept of the collection (private to vdc.xenpool).

XenAPI's VM class holds guests, templates, snapshots and control domains alike. `pool_info`, the
`xen_vms` inventory and the VM modules must agree on which records are VMs, on how a VM is found
by a user's name, and on which VMs this collection owns; all of that lives here, over a PoolState
read in bulk, so that none of them spends a call per VM.
"""

from __future__ import annotations

import typing as t
import weakref

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import MIB, to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, is_null

# The classes a VM module reads, one get_all_records each, whatever the number of VMs.
VM_CLASSES: tuple[str, ...] = (
    "pool", "host", "host_metrics", "SR", "PBD", "network", "VM", "VM_metrics", "VM_guest_metrics", "VBD", "VDI", "VIF",
)

# Ownership marker written into other_config at creation: prune and retries only ever touch these.
MARKER = "xenpool_managed"
MARKER_POOL = "xenpool_pool"
# A VM being created carries this name prefix until its last configuration step; a run that was
# killed half-way leaves a VM with it, which the next run destroys (with the disks it made) and redoes.
PENDING_PREFIX = "xenpool-pending: "

KINDS = ("vm", "template", "snapshot", "control_domain")


def kind(vm: dict[str, t.Any]) -> str:
    """What a VM record really is; a snapshot is also a template in XenAPI, so test it first."""
    if vm.get("is_control_domain"):
        return "control_domain"
    if vm.get("is_a_snapshot"):
        return "snapshot"
    if vm.get("is_a_template"):
        return "template"
    return "vm"


def is_listed(vm: dict[str, t.Any], include_templates: bool = False) -> bool:
    """Whether a record is shown as a VM: guests always, templates on request, snapshots and dom0 never.

    This is the one rule behind pool_info's and the inventory's `include_templates` option.
    Unfinished creations (PENDING_PREFIX) are not VMs yet.
    """
    what = kind(vm)
    if str(vm.get("name_label") or "").startswith(PENDING_PREFIX):
        return False
    return what == "vm" or (include_templates and what == "template")


def is_managed(vm: dict[str, t.Any]) -> bool:
    return (vm.get("other_config") or {}).get(MARKER) == "true"


def is_pending(vm: dict[str, t.Any]) -> bool:
    """The name alone marks an unfinished creation: it is the first thing a clone gets, before any marker."""
    return str(vm.get("name_label") or "").startswith(PENDING_PREFIX) and kind(vm) in ("vm", "template")


def pending_name(name: str) -> str:
    return PENDING_PREFIX + name


def pending_vms(state: PoolState, name: str | None = None) -> list[tuple[str, dict[str, t.Any]]]:
    """Creations a killed run left behind (all, or those of one declared name)."""
    vms = state.all("VM")
    if name is not None:
        return [(ref, vms[ref]) for ref in index(state, "name").get(pending_name(name), []) if is_pending(vms[ref])]
    return [(ref, rec) for ref, rec in vms.items() if is_pending(rec)]


_INDEXES: "weakref.WeakKeyDictionary[PoolState, dict[str, dict[str, list[str]]]]" = weakref.WeakKeyDictionary()


def index(state: PoolState, what: str) -> dict[str, list[str]]:
    """name -> VM refs, uuid -> VM ref, MAC -> VIF refs of a state, built once: a fleet of 2,000 VMs is
    planned against one read, and a scan of the pool per declared VM would make that quadratic."""
    built = _INDEXES.get(state)
    if built is None:
        built = {"name": {}, "uuid": {}, "mac": {}}
        for ref, rec in state.all("VM").items():
            built["name"].setdefault(rec.get("name_label") or "", []).append(ref)
            built["uuid"].setdefault(rec.get("uuid") or "", []).append(ref)
        for ref, rec in state.all("VIF").items():
            built["mac"].setdefault(str(rec.get("MAC", "")).lower(), []).append(ref)
        _INDEXES[state] = built
    return built[what]


def find_vm(state: PoolState, name: str | None, uuid: str | None = None) -> tuple[str, dict[str, t.Any]] | None:
    """The VM with this uuid, else the one VM with this name; two VMs of that name are an error, never a guess."""
    vms = state.all("VM")
    if uuid:
        refs = index(state, "uuid").get(uuid, [])
        if not refs or kind(vms[refs[0]]) != "vm":
            return None
        return refs[0], vms[refs[0]]
    matches = [(ref, vms[ref]) for ref in index(state, "name").get(name or "", []) if is_listed(vms[ref])]
    if len(matches) > 1:
        raise PlanError("VM_NAME_AMBIGUOUS", "%d VMs are named '%s' (uuids %s)" % (
            len(matches), name, ", ".join(sorted(rec.get("uuid", "") for _ref, rec in matches))),
            "Give the uuid of the VM to manage, or rename the others")
    return matches[0] if matches else None


def find_source(state: PoolState, name: str, what: str) -> tuple[str, dict[str, t.Any]]:
    """A template, snapshot or VM to create from, by uuid or exact name; missing or ambiguous is an error."""
    found = [(ref, rec) for ref, rec in state.all("VM").items()
             if kind(rec) == what and name in (rec.get("uuid"), rec.get("name_label"))]
    if not found:
        raise PlanError("%s_NOT_FOUND" % what.upper(), "no %s named '%s' in the pool" % (what, name),
                        "Check the name (it is matched exactly) or give its uuid")
    if len(found) > 1:
        raise PlanError("%s_NAME_AMBIGUOUS" % what.upper(), "%d %ss are named '%s'" % (len(found), what, name),
                        "Give the uuid instead of the name")
    return found[0]


def _mib(value: t.Any) -> int:
    return (to_int(value, 0) or 0) // MIB


def disk_views(state: PoolState, vm: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The VM's disks by position (userdevice), with their VDI and SR; CD drives are not disks."""
    disks = []
    for ref in vm.get("VBDs") or []:
        vbd = state.get("VBD", ref)
        vdi = state.get("VDI", vbd.get("VDI")) if vbd else None
        if not vbd or vbd.get("type") != "Disk" or not vdi:
            continue
        disks.append({"position": str(vbd.get("userdevice", "")), "name": vdi.get("name_label", ""),
                      "size_bytes": to_int(vdi.get("virtual_size"), 0), "size_gib": round((to_int(vdi.get("virtual_size"), 0) or 0) / 1024 ** 3, 2),
                      "sr": state.name_of("SR", vdi.get("SR")), "uuid": vdi.get("uuid", ""),
                      "attached": bool(vbd.get("currently_attached")), "unpluggable": bool(vbd.get("unpluggable", True)),
                      "online_resize": "resize_online" in (vdi.get("allowed_operations") or []),
                      "vbd_ref": ref, "vdi_ref": vbd.get("VDI")})
    return sorted(disks, key=lambda d: (to_int(d["position"], 99), d["uuid"]))


def nic_views(state: PoolState, vm: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    nics = []
    for ref in vm.get("VIFs") or []:
        vif = state.get("VIF", ref)
        if vif:
            nics.append({"position": str(vif.get("device", "")), "network": state.name_of("network", vif.get("network")),
                         "mac": str(vif.get("MAC", "")).lower(), "attached": bool(vif.get("currently_attached")),
                         "vif_ref": ref})
    return sorted(nics, key=lambda n: (to_int(n["position"], 99), n["mac"]))


def cdrom_view(state: PoolState, vm: dict[str, t.Any]) -> dict[str, t.Any] | None:
    """The first CD drive: {'iso': name or '' when empty}; None when the VM has no CD drive."""
    for ref in vm.get("VBDs") or []:
        vbd = state.get("VBD", ref)
        if vbd and vbd.get("type") == "CD":
            vdi = None if vbd.get("empty") else state.get("VDI", vbd.get("VDI"))
            return {"iso": vdi.get("name_label", "") if vdi else "", "vbd_ref": ref,
                    "position": str(vbd.get("userdevice", ""))}
    return None


def guest_ips(state: PoolState, vm: dict[str, t.Any]) -> list[str]:
    guest = state.get("VM_guest_metrics", vm.get("guest_metrics")) or {}
    networks = guest.get("networks") or {}
    found = [networks[k] for k in sorted(networks) if networks[k] and (k.endswith("/ip") or "/ipv4/" in k)]
    return list(dict.fromkeys(found))


def vm_view(state: PoolState, ref: str) -> dict[str, t.Any]:
    """A VM as the modules manage it: user units, names instead of refs, uuids kept (refs kept under _refs)."""
    vm = state.all("VM")[ref]
    boot = vm.get("HVM_boot_params") or {}
    cdrom = cdrom_view(state, vm)
    ips = guest_ips(state, vm)
    other = dict(vm.get("other_config") or {})
    return {
        "name": vm.get("name_label", ""), "uuid": vm.get("uuid", ""), "description": vm.get("name_description", ""),
        "power_state": str(vm.get("power_state", "")).lower(), "managed": is_managed(vm), "kind": kind(vm),
        "vcpus": to_int(vm.get("VCPUs_at_startup"), 0), "vcpus_max": to_int(vm.get("VCPUs_max"), 0),
        "memory_mib": _mib(vm.get("memory_static_max")), "memory_static_min_mib": _mib(vm.get("memory_static_min")),
        "memory_dynamic_min_mib": _mib(vm.get("memory_dynamic_min")),
        "memory_dynamic_max_mib": _mib(vm.get("memory_dynamic_max")),
        "domain_type": vm.get("domain_type") or ("hvm" if vm.get("HVM_boot_policy") else "pv"),
        "boot_order": boot.get("order", ""), "pv_args": vm.get("PV_args", ""),
        "pv_bootloader": vm.get("PV_bootloader", ""),
        "affinity": state.name_of("host", vm.get("affinity")) or "",
        "host": state.name_of("host", vm.get("resident_on")),
        "tags": sorted(vm.get("tags") or []), "other_config": other,
        "xenstore_data": dict(vm.get("xenstore_data") or {}),
        "ha_restart_priority": vm.get("ha_restart_priority", ""), "order": to_int(vm.get("order"), 0),
        "start_delay": to_int(vm.get("start_delay"), 0),
        "disks": [{k: d[k] for k in ("position", "name", "size_gib", "sr", "uuid")} for d in disk_views(state, vm)],
        "nics": [{k: n[k] for k in ("position", "network", "mac")} for n in nic_views(state, vm)],
        "cdrom": {"iso": cdrom["iso"]} if cdrom else None,
        "ip": ips[0] if ips else None, "ips": ips,
        "vcpu_hotplug": can_hotplug_vcpus(state, vm),
        "has_guest_agent": not is_null(vm.get("guest_metrics")) and state.get("VM_guest_metrics", vm.get("guest_metrics")) is not None,
    }


def can_hotplug_vcpus(state: PoolState, vm: dict[str, t.Any]) -> bool:
    """xapi's check for changing_VCPUs_live (xapi_vm_lifecycle.ml, check_op_for_feature): a guest that
    booted PV/PVH, or has PV drivers, or advertises feature-vcpu-hotplug; otherwise VM_LACKS_FEATURE."""
    metrics = state.get("VM_metrics", vm.get("metrics")) or {}
    guest = state.get("VM_guest_metrics", vm.get("guest_metrics")) or {}
    booted = metrics.get("current_domain_type") or vm.get("domain_type")
    if booted in ("pv", "pvh", "pv_in_pvh"):
        return True
    if guest.get("PV_drivers_version"):
        return True
    return (guest.get("other") or {}).get("feature-vcpu-hotplug") == "1"


def largest_host_memory_mib(state: PoolState) -> int:
    """The biggest host's total memory: no VM larger than that can ever start in this pool."""
    totals = [_mib((state.get("host_metrics", h.get("metrics")) or {}).get("memory_total")) for h in state.all("host").values()]
    return max(totals or [0])
