# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM checkpoints, reverts as xapi does them, and host reboots as a real down-and-up in simulated time.

Upstream: xen-api `ocaml/xapi/xapi_vm_snapshot.ml` (`checkpoint`, `revert`, `revert_vm_fields` with its
`do_not_copy` list and the `ha_always_run` override), `xapi_vm.ml` (`revert`, `checkpoint`), `xapi_host.ml`
(`reboot` = `shutdown_and_reboot_common`, `prepare_for_poweroff_precheck` = `assert_host_disabled`,
`prepare_for_poweroff`: `Vm_evacuation.ensure_no_vms`, `Xapi_ha.before_clean_shutdown_or_reboot`,
`Xapi_pbd.unplug_all_pbds`). This module is imported after handlers_vm, so its registration of VM.revert
replaces that one; host.reboot is registered here only.
"""
from __future__ import annotations

import copy

from . import failure
from .dispatch import Context, handler
from .handlers_ha import refresh_liveset, refresh_plan, update_pool_status
from .handlers_storage import pbd_plug
from .handlers_vm import _clone_work, clone_vm_records, run_op, set_halted, vm_revert
from .model import duration
from .spec import NULL_REF, XapiError

MIB = 1024 ** 2
META = "xapisim:lifecycle"
# Simulated seconds of a host reboot: xapi's 10 s delay before /sbin/shutdown -r, the shutdown, firmware and Xen
# boot, dom0 and xapi start-up (a blade of the reference estate needs about three minutes).
HOST_REBOOT_S = {"shutdown_delay": 10.0, "down": 170.0}
# xapi_vm_snapshot.ml do_not_copy: the fields a revert keeps from the VM (besides devices and runtime state)
KEPT_ON_REVERT = ("tags", "affinity", "groups")


def _lifecycle(db) -> dict:
    meta = db.meta.setdefault(META, {"reboots": [], "checkpoints": 0})
    meta.setdefault("shutdowns", [])
    return meta


# --------------------------------------------------------------------------- VM.checkpoint
def _suspend_image(ctx: Context, vm: str, name: str) -> str:
    """The memory image a checkpoint keeps: a suspend VDI on the pool's suspend_image_SR (or the VM's disk SR)."""
    db = ctx.db
    rec = db.get("VM", vm)
    sr = db.get("pool", db.one("pool"))["suspend_image_SR"]
    if sr not in db.tables["SR"]:
        sr = next((db.get("VDI", db.get("VBD", b)["VDI"])["SR"] for b in rec["VBDs"]
                   if db.get("VBD", b)["type"] == "Disk" and db.get("VBD", b)["VDI"] in db.tables["VDI"]), NULL_REF)
    return db.create("VDI", {"name_label": "Suspend image", "name_description": "checkpoint %s" % name, "SR": sr,
                             "type": "suspend", "location": str(len(db.tables["VDI"])), "managed": True,
                             "virtual_size": rec["memory_static_max"] + 4 * MIB, "is_a_snapshot": True})


@handler("VM", "checkpoint", locked=False)
def vm_checkpoint(ctx: Context, vm, new_name):
    """xapi_vm_snapshot.ml checkpoint: a Running VM is suspended (VM_LACKS_FEATURE / VM_NON_SUSPENDABLE as for
    VM.suspend, via the checkpoint operation's checks), its disks are snapshotted with the memory image, and it is
    resumed where it was; the snapshot record is Suspended with snapshot_info power-state-at-snapshot Running.
    A Halted VM gives a plain Halted snapshot."""
    world = ctx.world

    def prepare():
        return ctx.db.get("VM", vm)["power_state"]

    def work(state):
        live = state == "Running"
        if live:
            ctx.work(duration(world, "suspend"))
        _clone_work(ctx, vm, "snapshot")(state)
        if live:
            ctx.work(duration(world, "resume"))

    def apply(state):
        db = ctx.db
        snap = clone_vm_records(ctx, vm, new_name, None, False, snapshot=True)
        info = dict(db.get("VM", snap)["snapshot_info"], **{"power-state-at-snapshot": state})
        values = {"snapshot_info": info}
        if state in ("Running", "Suspended"):
            values.update(power_state="Suspended", suspend_VDI=_suspend_image(ctx, vm, new_name))
            db.meta.setdefault(snap, {})["checkpoint_of_running"] = True
        db.update("VM", snap, values)
        db.set("VM", vm, "parent", snap)
        _lifecycle(db)["checkpoints"] += 1
        world.rules.refresh(db, snap)
        return snap
    return run_op(ctx, vm, "checkpoint", work, prepare, apply)


# --------------------------------------------------------------------------- VM.revert
@handler("VM", "revert", locked=False)
def vm_revert_as_xapi(ctx: Context, snapshot):
    """handlers_vm.vm_revert (disks and settings), then what xapi_vm_snapshot.ml does besides: other_config comes
    back from the snapshot (it is not in do_not_copy), tags/affinity/groups stay the VM's, ha_always_run is false,
    and the VM ends in the snapshot's power state (force_state_reset): Suspended, with a copy of the memory image,
    for a checkpoint of a running VM."""
    db = ctx.db
    with ctx.world.lock:
        snap = db.get("VM", snapshot)
        target = snap["snapshot_of"]
        kept = {f: copy.deepcopy(db.get("VM", target)[f]) for f in KEPT_ON_REVERT
                if target in db.tables["VM"] and f in db.get("VM", target)}
    vm_revert(ctx, snapshot)
    with ctx.world.lock:
        snap = db.get("VM", snapshot)
        other = dict(snap["other_config"])
        db.update("VM", target, dict(kept, other_config=other, ha_always_run=False))
        image = snap["suspend_VDI"]
        if snap["power_state"] == "Suspended" and image in db.tables["VDI"]:
            vdi = db.create("VDI", {k: copy.deepcopy(v) for k, v in db.get("VDI", image).items()
                                    if k in ("name_label", "SR", "type", "managed", "virtual_size")} | {"location": image[10:] + "-r"})
            db.update("VM", target, {"power_state": "Suspended", "suspend_VDI": vdi})
        ctx.world.rules.refresh(db, target)


# --------------------------------------------------------------------------- host.reboot
def _address_of(world, db, host: str) -> str | None:
    return next((a for a, (hdb, h) in world.hosts.items() if hdb is db and h == host), None)


def _power_off(ctx: Context, host: str, reboot: bool) -> None:
    db, world = ctx.db, ctx.world
    if db.get("host", host)["enabled"]:
        raise XapiError("HOST_NOT_DISABLED")
    address = _address_of(world, db, host)
    if address in failure.down(world):
        raise XapiError("HOST_OFFLINE", host)
    ops = dict(db.get("host", host)["current_operations"], **{"xapisim-reboot": "reboot" if reboot else "shutdown"})
    db.set("host", host, "current_operations", ops)
    world.scheduler.at(HOST_REBOOT_S["shutdown_delay"], failure._guarded, _go_down, world, db, host, address, reboot)


@handler("host", "shutdown")
def host_shutdown(ctx: Context, host):
    """xapi_host.ml shutdown (shutdown_and_reboot_common, as reboot): HOST_NOT_DISABLED unless disabled; 10 s later
    the host goes down as for a reboot and stays down (powering it on again is not simulated)."""
    _power_off(ctx, host, reboot=False)


@handler("host", "reboot")
def host_reboot(ctx: Context, host):
    """xapi_host.ml reboot: HOST_NOT_DISABLED unless disabled (prepare_for_poweroff_precheck); the call returns at
    once and the host goes down 10 s later. prepare_for_poweroff: VMs still resident are shut down
    (Vm_evacuation.ensure_no_vms - rebooting a host that was not evacuated kills its VMs), HA excludes the host
    cleanly (no HA_HOST_FAILED, no restarts), PBDs unplugged. Then the host does not answer until it is back:
    live, PBDs plugged, enabled (xapi's consider_enabling_host at start-up), a member of the HA live set again."""
    _power_off(ctx, host, reboot=True)


def _go_down(world, db, host: str, address: str, reboot: bool = True) -> None:
    ctx = Context(world, db, host, None, "host-reboot")
    rec = db.get("host", host)
    killed = []
    for vm in list(rec["resident_VMs"]):
        vrec = db.get("VM", vm)
        if not vrec["is_control_domain"] and vrec["power_state"] in ("Running", "Paused"):
            set_halted(ctx, vm)
            killed.append(vrec["name_label"])
    for pbd in rec["PBDs"]:
        db.set("PBD", pbd, "currently_attached", False)
    db.set("host_metrics", rec["metrics"], "live", False)
    failure.down(world)[address] = "reboot" if reboot else "shutdown"
    _lifecycle(db)["reboots" if reboot else "shutdowns"].append(
        {"host": rec["name_label"], "down_at": world.clock.elapsed(), "vms_shut_down": killed})
    if db.get("pool", db.one("pool"))["ha_enabled"]:
        refresh_liveset(db)
        update_pool_status(db)
    refresh_plan(db)
    if reboot:
        world.scheduler.at(HOST_REBOOT_S["down"], failure._guarded, _come_up, world, db, host, address)


def _come_up(world, db, host: str, address: str) -> None:
    failure.down(world).pop(address, None)
    rec = db.get("host", host)
    ctx = Context(world, db, host, None, "host-boot")
    db.set("host_metrics", rec["metrics"], "live", True)
    failed = []
    for pbd in rec["PBDs"]:
        try:
            pbd_plug(ctx, pbd)
        except XapiError as err:
            failed.append("%s: %s" % (db.get("SR", db.get("PBD", pbd)["SR"])["name_label"], err.description))
    ops = {k: v for k, v in rec["current_operations"].items() if k != "xapisim-reboot"}
    # a host whose PBDs did not all plug stays disabled (the operator looks at it first)
    # dbsync_slave.ml refresh_localhost_info: other_config boot_time (and agent_start_time) at every start-up
    other = dict(rec["other_config"], boot_time="%d" % int(world.clock.wall()), agent_start_time="%d" % int(world.clock.wall()))
    db.update("host", host, {"enabled": not failed, "current_operations": ops, "other_config": other})
    # Hosts of one batch reboot together: this host's open record, not simply the newest one.
    name = rec["name_label"]
    record = next((r for r in reversed(_lifecycle(db)["reboots"]) if r["host"] == name and "up_at" not in r), None)
    if record is not None:
        record.update(up_at=world.clock.elapsed(), pbd_failures=failed)
    if db.get("pool", db.one("pool"))["ha_enabled"]:
        refresh_liveset(db)
        update_pool_status(db)
    refresh_plan(db)
