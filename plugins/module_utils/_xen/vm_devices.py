# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Planning a VM's disks, NICs and CD drive (private to vdc.xenpool).

Disks are matched by position (userdevice) or by name; they grow, never shrink; a disk that is no
longer declared is detached only with purge_disks and its VDI destroyed only with destroy_disks,
because a VDI holds data that no declaration can bring back. NICs are matched by position; a NIC
whose network or MAC differs is replaced. Everything here is hot-pluggable on a running VM except
growing a disk on an SR without online resize.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import GIB
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import LIVE, POWER_OFF
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import cdrom_view, disk_views, nic_views
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_spec import find_iso, lookup

# other_config keys of the VDIs the collection creates: which VM and which position they are for.
VDI_OWNER = "xenpool_vm"
VDI_POSITION = "xenpool_position"
# Sizes are rounded up by the SR (2 MiB extents on LVM); a difference below this is not a change.
SIZE_SLACK = 8 * 1024 * 1024


def _step(action: str, obj: str, detail: t.Any, impact: str = LIVE, destructive: bool = False, **extra: t.Any) -> dict:
    return dict(action=action, object=obj, detail=detail, impact=impact, destructive=destructive, **extra)


def match_disk(disks: list[dict[str, t.Any]], want: dict[str, t.Any]) -> dict[str, t.Any] | None:
    """The existing disk a declared one means: by position when it has one, else by name."""
    if want.get("position") is not None:
        return next((d for d in disks if d["position"] == str(want["position"])), None)
    return next((d for d in disks if d["name"] == want.get("name")), None)


def device_steps(state: PoolState, ref: str | None, cur: dict[str, t.Any], want: dict[str, t.Any], running: bool) -> list[dict]:
    """Steps for disks, NICs and the CD drive (ref None: a VM still to be created from `cur`)."""
    rec = state.all("VM").get(ref) if ref else None
    steps: list[dict] = []
    if want.get("disks") is not None:
        steps += _disk_steps(state, disk_views(state, rec) if rec else cur["disks"], want, running,
                             rec.get("uuid") if rec else None)
    if want.get("nics") is not None:
        steps += _nic_steps(state, nic_views(state, rec) if rec else cur["nics"], want, running)
    if want.get("cdrom") is not None:
        steps += _cd_steps(state, cdrom_view(state, rec) if rec else cur.get("cdrom"), want["cdrom"]["iso"])
    return steps


def _default_sr(state: PoolState, want: dict[str, t.Any], disk: dict[str, t.Any]) -> str | None:
    name = disk.get("sr") or want.get("sr")
    if name:
        return lookup(state, "SR", name)
    default = (state.pool or {}).get("default_SR")
    if not default or default == "OpaqueRef:NULL":
        raise PlanError("SR_NOT_FOUND", "disk %s has no sr and the pool has no default SR" % disk.get("position", disk.get("name")),
                        "Give sr for the VM or the disk")
    return default


def loose_vdis(state: PoolState, vm_uuid: str | None, disk: dict[str, t.Any] | None = None) -> list[str]:
    """VDIs this collection made for a VM (other_config marker) that no VBD uses: a run was killed between
    VDI.create and VBD.create. They are attached on the next run, or destroyed with a pending VM."""
    if not vm_uuid:
        return []
    out = []
    for ref, vdi in state.all("VDI").items():
        other = vdi.get("other_config") or {}
        if other.get(VDI_OWNER) != vm_uuid or vdi.get("VBDs"):
            continue
        if disk is not None and other.get(VDI_POSITION) != str(disk.get("position")) and vdi.get("name_label") != disk.get("name"):
            continue
        out.append(ref)
    return sorted(out)


def _disk_steps(state: PoolState, have: list[dict[str, t.Any]], want: dict[str, t.Any], running: bool,
                cur_uuid: str | None = None) -> list[dict]:
    steps: list[dict] = []
    kept = set()
    for disk in want["disks"]:
        found = match_disk(have, disk)
        label = "disk %s" % (disk.get("position") if disk.get("position") is not None else disk.get("name"))
        size = int(round(disk["size_gib"] * GIB)) if disk.get("size_gib") is not None else None
        if found is None:
            if size is None:
                raise PlanError("DISK_SIZE_MISSING", "%s does not exist and has no size_gib" % label, "Give size_gib")
            loose = loose_vdis(state, cur_uuid, disk)
            if loose:
                steps.append(_step("attach", label, "VDI %s left by an interrupted run" % state.uuid_of("VDI", loose[0]),
                                   op="disk_attach", vdi=loose[0], position=disk.get("position"), plug=running))
                continue
            sr = _default_sr(state, want, disk)
            steps.append(_step("add", label, "%s GiB on %s" % (disk["size_gib"], state.name_of("SR", sr)), op="disk_add",
                               position=disk.get("position"), size=size, sr=sr, name=disk.get("name") or "%s %s" % (want["name"], label),
                               plug=running))
            continue
        kept.add(found["uuid"] or found["position"])
        if running and found.get("vbd_ref") and not found.get("attached", True):
            steps.append(_step("plug", label, None, op="call", method="VBD.plug", args=[found["vbd_ref"]]))
        cur_size = found.get("size_bytes", int(round(found["size_gib"] * GIB)))
        if size is not None and size + SIZE_SLACK < cur_size:
            raise PlanError("DISK_SHRINK", "%s is %s GiB; shrinking it to %s GiB is not possible" % (label, found["size_gib"],
                            disk["size_gib"]), "Disks only grow: keep size_gib at or above the current size")
        if size is not None and size > cur_size + SIZE_SLACK:
            online = found.get("online_resize", False)
            impact = LIVE if not running or online or not found.get("attached", True) else POWER_OFF
            steps.append(_step("grow", label, "%s -> %s GiB" % (found["size_gib"], disk["size_gib"]), impact, op="disk_grow",
                               vdi=found.get("vdi_ref"), size=size, online=running and online))
        if disk.get("name") and disk.get("position") is not None and disk["name"] != found["name"] and found.get("vdi_ref"):
            steps.append(_step("rename", label, disk["name"], op="call", method="VDI.set_name_label",
                               args=[found["vdi_ref"], disk["name"]]))
    if want.get("purge_disks"):
        for found in have:
            if (found["uuid"] or found["position"]) in kept:
                continue
            impact = POWER_OFF if running and found.get("attached") and not found.get("unpluggable") else LIVE
            steps.append(_step("detach", "disk %s" % found["position"], "VDI %s%s" % (
                found["uuid"], " (destroyed)" if want.get("destroy_disks") else " (kept)"), impact, destructive=True,
                op="disk_remove", vbd=found.get("vbd_ref"), vdi=found.get("vdi_ref"),
                unplug=running and found.get("attached", False), destroy=bool(want.get("destroy_disks"))))
    return steps


def _nic_steps(state: PoolState, have: list[dict[str, t.Any]], want: dict[str, t.Any], running: bool) -> list[dict]:
    steps: list[dict] = []
    wanted = {str(n["position"]) for n in want["nics"]}
    for nic in have:
        if nic["position"] in wanted or not want.get("purge_nics"):
            continue
        steps.append(_step("remove", "NIC %s" % nic["position"], nic["network"], op="nic_remove", vif=nic.get("vif_ref"),
                           unplug=running and nic.get("attached", False)))
    for nic in want["nics"]:
        position = str(nic["position"])
        found = next((n for n in have if n["position"] == position), None)
        if found and found["network"] == nic["network"] and (not nic.get("mac") or nic["mac"] == found["mac"]):
            continue
        if found:
            steps.append(_step("remove", "NIC %s" % position, "%s %s" % (found["network"], found["mac"]), op="nic_remove",
                               vif=found.get("vif_ref"), unplug=running and found.get("attached", False)))
        steps.append(_step("add", "NIC %s" % position, "%s%s" % (nic["network"], " " + nic["mac"] if nic.get("mac") else ""),
                           op="nic_add", position=position, network=lookup(state, "network", nic["network"]),
                           mac=nic.get("mac") or "", plug=running))
    return steps


def _cd_steps(state: PoolState, cd: dict[str, t.Any] | None, iso: str) -> list[dict]:
    """The everyday ISO mounting: insert or eject live; a CD drive is created when the VM has none."""
    current = cd["iso"] if cd else None
    if current == iso or (cd is None and not iso):
        return []
    vdi = find_iso(state, iso) if iso else None
    if cd is None:
        return [_step("add", "CD drive", iso, op="cd_add", vdi=vdi)]
    steps = []
    if current:
        steps.append(_step("eject", "CD", current, op="call", method="VBD.eject", args=[cd.get("vbd_ref")]))
    if iso:
        steps.append(_step("insert", "CD", iso, op="call", method="VBD.insert", args=[cd.get("vbd_ref"), vdi]))
    return steps


def predicted_devices(cur: dict[str, t.Any], want: dict[str, t.Any]) -> dict[str, t.Any]:
    """The disks/NICs/CD views after the steps above (check mode's `after`)."""
    out: dict[str, t.Any] = {}
    if want.get("disks") is not None:
        disks = {d["position"]: dict(d) for d in cur["disks"]}
        keep = set()
        for disk in want["disks"]:
            found = match_disk(list(disks.values()), disk)
            if found is None:
                found = {"position": disk.get("position") or "", "name": disk.get("name") or "", "size_gib": disk.get("size_gib"),
                         "sr": disk.get("sr") or want.get("sr"), "uuid": ""}
                disks[found["position"] or found["name"]] = found
            elif disk.get("size_gib") and disk["size_gib"] > found["size_gib"]:
                found["size_gib"] = disk["size_gib"]
            keep.add(found["position"] or found["name"])
        out["disks"] = [d for k, d in disks.items() if k in keep or not want.get("purge_disks")]
    if want.get("nics") is not None:
        nics = {n["position"]: n for n in cur["nics"]} if not want.get("purge_nics") else {}
        for nic in want["nics"]:
            old = next((n for n in cur["nics"] if n["position"] == str(nic["position"])), {})
            same = old.get("network") == nic["network"]
            nics[str(nic["position"])] = {"position": str(nic["position"]), "network": nic["network"],
                                          "mac": nic.get("mac") or (old.get("mac", "") if same else "")}
        out["nics"] = [nics[k] for k in sorted(nics, key=lambda p: int(p) if p.isdigit() else 99)]
    if want.get("cdrom") is not None:
        out["cdrom"] = {"iso": want["cdrom"]["iso"]} if cur.get("cdrom") or want["cdrom"]["iso"] else None
    return out
