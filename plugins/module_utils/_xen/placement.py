# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Where a VM runs and where its disks live: XenMotion, planned and applied (private to vdc.xenpool).

`resident_on` names the host a VM should run on (not `host`, which is the alias of the connection
option `hostname` in every module of the group). A running VM resident elsewhere moves there live
with `VM.pool_migrate` (xapi `xapi_vm_migrate.ml` `pool_migrate`: the domain keeps running, paused
only for the last copy round); a VM the plan starts or resumes starts there (`VM.start_on`,
`VM.resume_on`); a VM that stays halted or suspended keeps the host as its `affinity`, the host xapi
tries first when it is started later, because nothing else about a halted VM says where it runs.
A declared disk whose `sr` differs from its SR moves live with `VDI.pool_migrate` (`xapi_vm_migrate.ml`
`vdi_pool_migrate`: storage motion of a running VM's disk, a new VDI on the target SR). The disks of a
VM that will not be running are refused with a hint rather than copied and swapped behind its back.

Every check xapi makes before moving memory or storage that one bulk read can answer is made here,
while planning, so a bad placement is refused with one message and nothing written: the host exists,
is enabled and live, has a PIF on each of the VM's networks (`VM_REQUIRES_NETWORK`), sees each of its
SRs (`VM_REQUIRES_SR`) and has the memory (`memory_check.ml`
`host_compute_free_memory_with_maximum_compression`); a target SR has the space. Memory and space are
claimed as plans are made, so that ten VMs of a fleet sent to one host are checked together. What a
fleet frees by moving VMs away is not counted: its migrations run in parallel, in no fixed order.
"""

from __future__ import annotations

import typing as t
import weakref

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import MIB, to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import LIVE, Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, is_null
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import disk_views
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_devices import match_disk
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_spec import find_ref, lookup, missing

# VM.pool_migrate's options: a live migration (xe vm-migrate live=true).
LIVE_MIGRATION = {"live": "true"}
# File-based SRs store a VHD as big as what the guest wrote (sm's FileSR family); block SRs allocate the whole disk.
FILE_SR_TYPES = ("nfs", "ext", "file", "smb", "cifs")
RUNNING = ("running", "restarted")

_CLAIMS: "weakref.WeakKeyDictionary[PoolState, dict[str, dict[str, int]]]" = weakref.WeakKeyDictionary()


def _claims(state: PoolState) -> dict[str, dict[str, int]]:
    """Memory per host and space per SR that plans made against this state have already promised."""
    claims = _CLAIMS.get(state)
    if claims is None:
        claims = {"host": {}, "SR": {}, "used": _used_memory(state)}
        _CLAIMS[state] = claims
    return claims


def _used_memory(state: PoolState) -> dict[str, int]:
    """host ref -> memory of the VMs resident on or scheduled to it, one pass over the VMs already read."""
    used: dict[str, int] = {}
    for vm in state.all("VM").values():
        for host in dict.fromkeys((vm.get("resident_on"), vm.get("scheduled_to_be_resident_on"))):
            if not is_null(host):
                used[host] = used.get(host, 0) + to_int(vm.get("memory_dynamic_min"), 0) + to_int(vm.get("memory_overhead"), 0)
    return used


def host_free_memory(state: PoolState, host: str) -> int:
    """Bytes a VM may still take on a host, as xapi's start and migrate checks compute them (memory_check.ml
    `host_compute_free_memory_with_maximum_compression`): total minus the host's overhead minus dynamic_min plus
    overhead of every VM resident on or scheduled to it (its control domain too). Only when the host reports no
    total is `host_metrics.memory_free` taken, which recent xapi no longer keeps up to date."""
    rec = state.get("host", host) or {}
    metrics = state.get("host_metrics", rec.get("metrics")) or {}
    total = to_int(metrics.get("memory_total"), 0) or 0
    claims = _claims(state)
    if not total:
        free = to_int(metrics.get("memory_free"), 0) or 0
    else:
        free = total - (to_int(rec.get("memory_overhead"), 0) or 0) - claims["used"].get(host, 0)
    return max(0, free - claims["host"].get(host, 0))


def start_memory(after: dict[str, t.Any], rec: dict[str, t.Any] | None) -> int:
    """memory_check.ml `vm_compute_start_memory`: dynamic_min (static_max for pv_in_pvh) plus the VM's overhead."""
    mib = after.get("memory_mib") if after.get("domain_type") == "pv_in_pvh" else after.get("memory_dynamic_min_mib")
    return (to_int(mib, 0) or 0) * MIB + (to_int((rec or {}).get("memory_overhead"), 0) or 0)


def declare_host(state: PoolState, want: dict[str, t.Any], power_now: str | None) -> dict[str, t.Any]:
    """Before planning: the host must exist; a VM that will not be running keeps it as its affinity
    (unless `affinity` is declared too, which then says where it starts). In check mode of a whole site a host
    that an earlier step joins is noted and nothing is placed."""
    if not want.get("resident_on"):
        return want
    if find_ref(state, "host", want["resident_on"]) is None:
        missing(state, "host", want["resident_on"], "HOST_NOT_FOUND", "no host named '%s' in the pool" % want["resident_on"],
                "Check resident_on, or join the host to the pool first")
        return dict(want, resident_on=None)
    final = want.get("power_state") or power_now or "halted"
    if final in RUNNING or want.get("affinity") is not None:
        return want
    return dict(want, affinity=want["resident_on"])


def place(state: PoolState, plan: Plan, want: dict[str, t.Any], after: dict[str, t.Any], ref: str | None,
          rec: dict[str, t.Any] | None) -> None:
    """After the power steps: start or resume on the host, or migrate there live; then move disks live.

    `ref` is the VM (None while it is still to be created from `rec`, its source); `after` is its predicted view,
    updated here with the host and the disks' SRs."""
    vm = state.get("VM", ref) if ref else None
    moves = _disk_moves(state, vm, want, after)
    running = after.get("power_state") == "running"
    if moves and not running:
        disk, _vdi, _target = moves[0]
        raise PlanError("DISK_MOVE_NEEDS_RUNNING_VM", "disk %s is declared on SR '%s', but VM '%s' will be %s" % (
            disk["position"], disk["target"], want["name"], after.get("power_state")),
            "Disks move live (VDI.pool_migrate): declare power_state: running for the move, or leave the disk's sr "
            "as it is and copy the disk yourself")
    host = lookup(state, "host", want["resident_on"]) if want.get("resident_on") else None
    start = next((s for s in plan.steps if s.get("op") == "power" and s.get("target") == "running"), None)
    where = (vm or {}).get("resident_on") if start is None else None
    if host and start is not None:
        check_host(state, host, want["name"], after, vm, rec, moves)
        start["host"], start["detail"] = host, "on %s" % state.name_of("host", host)
        where = host
    for disk, vdi, target in moves:
        _check_sr(state, disk, vdi, target, where)
        plan.add("move", "disk %s of %s from SR %s to SR %s" % (disk["position"], want["name"], disk["sr"], disk["target"]),
                 None, LIVE, op="disk_move", vdi=disk["vdi_ref"], sr=target)
    if host and start is None and running and vm and vm.get("resident_on") != host:
        check_host(state, host, want["name"], after, vm, rec, moves)
        plan.add("migrate", "%s from %s to %s" % (want["name"], state.name_of("host", vm.get("resident_on")),
                                                  state.name_of("host", host)), None, LIVE, op="migrate", host=host)
    if host and running:
        after["host"] = state.name_of("host", host)
    elif after.get("power_state") == "halted":
        after["host"] = None


def _disk_moves(state: PoolState, vm: dict[str, t.Any] | None, want: dict[str, t.Any],
                after: dict[str, t.Any]) -> list[tuple[dict[str, t.Any], dict[str, t.Any], str]]:
    """Declared disks that exist on another SR than their declared `sr`: (disk view + target name, VDI, target SR)."""
    if vm is None or not want.get("disks"):
        return []
    have = disk_views(state, vm)
    moves = []
    for declared in want["disks"]:
        found = match_disk(have, declared) if declared.get("sr") else None
        vdi = state.get("VDI", found.get("vdi_ref")) if found else None
        target = lookup(state, "SR", declared["sr"]) if vdi else None
        if vdi is None or is_null(target) or target == vdi.get("SR"):
            continue
        name = state.name_of("SR", target)
        moves.append((dict(found, target=name), vdi, str(target)))
        for disk in after.get("disks") or []:
            if disk.get("position") == found["position"]:
                disk["sr"] = name
    return moves


def _check_sr(state: PoolState, disk: dict[str, t.Any], vdi: dict[str, t.Any], target: str, host: str | None) -> None:
    """The target SR is plugged where the VM runs and has room for the disk (claimed for the next disks)."""
    sr = state.get("SR", target) or {}
    if host and not _sees(state, host, target):
        raise PlanError("VM_REQUIRES_SR", "host '%s', where the VM runs, has no plugged PBD of SR '%s' (disk %s)" % (
            state.name_of("host", host), disk["target"], disk["position"]),
            "Plug the SR on that host (vdc.xenpool.sr), or move the disk to a shared SR")
    thin = (sr.get("sm_config") or {}).get("allocation") == "thin" or sr.get("type") in FILE_SR_TYPES
    needed = to_int(vdi.get("physical_utilisation" if thin else "virtual_size"), 0) or 0
    claims = _claims(state)["SR"]
    free = (to_int(sr.get("physical_size"), 0) or 0) - (to_int(sr.get("physical_utilisation"), 0) or 0) - claims.get(target, 0)
    if needed > free:
        raise PlanError("SR_FULL", "disk %s needs %.1f GiB on SR '%s', which has %.1f GiB free" % (
            disk["position"], needed / 1024.0 ** 3, disk["target"], max(0, free) / 1024.0 ** 3),
            "Free or add space on that SR, or declare another sr for the disk")
    claims[target] = claims.get(target, 0) + needed


def _sees(state: PoolState, host: str, sr: str) -> bool:
    return any((state.get("PBD", p) or {}).get("host") == host and (state.get("PBD", p) or {}).get("currently_attached")
               for p in (state.get("SR", sr) or {}).get("PBDs") or [])


def check_host(state: PoolState, host: str, name: str, after: dict[str, t.Any], vm: dict[str, t.Any] | None,
               rec: dict[str, t.Any] | None, moves: list | None = None) -> None:
    """xapi's assert_can_boot_here, in its order, as far as the bulk read answers it; the memory is then claimed."""
    hrec = state.get("host", host) or {}
    label = hrec.get("name_label", host)
    if hrec.get("enabled") is False:
        raise PlanError("HOST_DISABLED", "host '%s' is disabled" % label,
                        "Enable it (vdc.xenpool.host) or choose another host; a host in maintenance takes no VMs")
    if (state.get("host_metrics", hrec.get("metrics")) or {}).get("live") is False:
        raise PlanError("HOST_NOT_LIVE", "host '%s' is not live" % label, "Bring the host back or choose another")
    for sr in _srs(state, vm, after, moves or []):
        if not _sees(state, host, sr):
            raise PlanError("VM_REQUIRES_SR", "host '%s' has no plugged PBD of SR '%s', which VM '%s' uses" % (
                label, state.name_of("SR", sr), name), "Plug the SR on that host (vdc.xenpool.sr) or choose another host")
    for network in _networks(state, after):
        pifs = set((state.get("network", network) or {}).get("PIFs") or [])
        if pifs and not pifs & set(hrec.get("PIFs") or []):
            raise PlanError("VM_REQUIRES_NETWORK", "host '%s' has no PIF on network '%s', which VM '%s' uses" % (
                label, state.name_of("network", network), name),
                "Choose a host on that network, or give this host a PIF on it (vdc.xenpool.network)")
    needed, free = start_memory(after, vm or rec), host_free_memory(state, host)
    if vm and vm.get("resident_on") == host:
        free += (to_int(vm.get("memory_dynamic_min"), 0) or 0) + (to_int(vm.get("memory_overhead"), 0) or 0)  # restarted here
    if needed > free:
        raise PlanError("HOST_NOT_ENOUGH_FREE_MEMORY", "VM '%s' needs %d MiB on host '%s', which has %d MiB free" % (
            name, -(-needed // MIB), label, free // MIB),
            "Choose another host, make room there (move or stop VMs), or lower the VM's memory_dynamic_min_mib")
    claims = _claims(state)["host"]
    claims[host] = claims.get(host, 0) + needed


def _srs(state: PoolState, vm: dict[str, t.Any] | None, after: dict[str, t.Any], moves: list) -> list[str]:
    """SRs of the VM's disks and CD after the moves (VBD by VBD, as xapi checks them); of a VM still to be
    created, the SRs its declaration names."""
    if vm is None:
        refs = [lookup(state, "SR", d["sr"]) for d in after.get("disks") or [] if d.get("sr")]
        return sorted({r for r in refs if not is_null(r)})
    moved = {disk["vdi_ref"]: target for disk, _vdi, target in moves}
    out = set()
    for vbd_ref in vm.get("VBDs") or []:
        vbd = state.get("VBD", vbd_ref) or {}
        vdi = state.get("VDI", vbd.get("VDI")) if not vbd.get("empty") else None
        if vdi and not is_null(vdi.get("SR")):
            out.add(moved.get(vbd.get("VDI"), vdi["SR"]))
    return sorted(out)


def _networks(state: PoolState, after: dict[str, t.Any]) -> list[str]:
    refs = [lookup(state, "network", n["network"]) for n in after.get("nics") or [] if n.get("network")]
    return sorted({r for r in refs if not is_null(r)})


# ---------------------------------------------------------------------- apply (through a VmApplier)
def migrate(applier: t.Any, step: dict[str, t.Any]) -> None:
    """xapi's own boot checks against the host as it is now (a clear error before any memory moves), then the move."""
    applier.call("VM.assert_can_boot_here", applier.vm, step["host"])
    applier.task("VM.pool_migrate", applier.vm, step["host"], dict(LIVE_MIGRATION))


def move_disk(applier: t.Any, step: dict[str, t.Any]) -> None:
    """The VDI is mirrored to the SR while the VM runs; xapi swaps the VBD over to the new VDI at the end."""
    applier.task("VDI.pool_migrate", step["vdi"], step["sr"], {})
