# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Live migration and storage motion inside one pool, with xapi's checks and error codes.

Upstream: xen-api `ocaml/xapi/message_forwarding.ml` (`VM.pool_migrate`: CPU check unless `force`, the
pool_migrate operation, `reserve_memory_for_vm`; `VM.migrate_send`; `VDI.pool_migrate`: VDI_NEEDS_VM_FOR_MIGRATE and
the migrate_send operation), `xapi_vm_migrate.ml` (`assert_can_migrate`: `check_vdi_map`, `assert_sr_support_operations`,
`assert_can_boot_here ~do_sr_check:false`, no VIF map inside a pool; `migrate_send'`: copy mode refused inside a pool,
snapshot VDIs follow their disk; `vdi_pool_migrate`: the VM's other disks stay, the destination is the VM's host when
it sees every SR), `xapi_host.ml` (`migrate_receive`), `xapi_vm_helpers.ml` (`assert_can_boot_here`),
`cpuid_helpers.ml` (`assert_vm_is_compatible`).

Time: a migration costs the time model's `pool_migrate` plus `pool_migrate_per_gib` per GiB of memory_dynamic_max;
each disk that moves adds `vdi_mirror_per_gib` (destination SR type) per GiB of virtual size.
Cross-pool migration is not simulated: a destination that is not a host of the VM's pool gets the answer xapi gives
when it cannot reach the destination pool, CANNOT_CONTACT_HOST [address].
"""
from __future__ import annotations

from urllib.parse import urlparse

from . import sessions
from .dispatch import Context, handler
from .handlers_devices import SM_CAPABILITIES, _account_sr, _new_vdi_like, refresh_vbd_operations
from .handlers_ha import refresh_plan
from .handlers_vm import _ha_guard, _rules, run_op
from .model import GIB, duration, host_problem, refresh_memory
from .spec import NULL_REF, XapiError

# xapi_vm_migrate.ml assert_can_migrate: required_src_sr_operations / required_dst_sr_operations (Smint features)
MIGRATION_SR_FEATURES = ("VDI_SNAPSHOT", "VDI_MIRROR")
VIF_MAP_REFUSED = "VIF mapping is not allowed for intra-pool migration -all VIFs must be on the same network"
COPY_REFUSED = ("Copy mode is disallowed on intra pool storage migration, try efficient alternatives, "
                "for example, VM.copy/clone.")


def _true(options: dict, key: str) -> bool:
    return str(options.get(key, "")).lower() == "true"


def migration_seconds(world, rec: dict) -> float:
    """The memory copy of a live migration: a fixed part plus a part per GiB of memory_dynamic_max."""
    return duration(world, "pool_migrate") + duration(world, "pool_migrate_per_gib") * rec["memory_dynamic_max"] / GIB


def mirror_seconds(ctx: Context, moves: dict) -> float:
    """Storage motion: every moved VDI is copied to its destination SR, per GiB of virtual size."""
    db = ctx.db
    return sum(duration(ctx.world, "vdi_mirror_per_gib", db.get("SR", sr)["type"]) * db.get("VDI", vdi)["virtual_size"] / GIB
               for vdi, sr in moves.items())


# --------------------------------------------------------------------------- VM.pool_migrate
def migrate(ctx: Context, vm: str, host: str, options: dict) -> None:
    """message_forwarding.ml VM.pool_migrate: assert_can_boot_here on the destination with the CPU vendor check
    unless options force=true (VM_INCOMPATIBLE_WITH_THIS_HOST), networks (VM_REQUIRES_NETWORK), SRs
    (VM_REQUIRES_SR) and memory (HOST_NOT_ENOUGH_FREE_MEMORY [needed, available]); the HA plan must survive; then
    the memory copy, and a VM_MIGRATED message naming both hosts."""
    force = _true(options, "force")

    def prepare():
        db = ctx.db
        err = host_problem(db, vm, host, cpu=not force)
        if err is not None:
            raise err
        _ha_guard(ctx, vm, host)
        db.set("VM", vm, "scheduled_to_be_resident_on", host)
        return db.get("VM", vm)["resident_on"]

    def apply(source):
        _arrive(ctx, vm, source, host)
    try:
        run_op(ctx, vm, "pool_migrate", migration_seconds(ctx.world, ctx.db.get("VM", vm)), prepare, apply)
    finally:
        _clear_schedule(ctx, vm)


def _clear_schedule(ctx: Context, vm: str) -> None:
    with ctx.world.lock:
        if vm in ctx.db.tables["VM"]:
            ctx.db.set("VM", vm, "scheduled_to_be_resident_on", NULL_REF)


def _arrive(ctx: Context, vm: str, source: str, host: str) -> None:
    db = ctx.db
    db.update("VM", vm, {"resident_on": host, "scheduled_to_be_resident_on": NULL_REF})
    refresh_memory(db, source, host)
    refresh_plan(db)
    rec = db.get("VM", vm)
    src = db.tables["host"].get(source) or {"name_label": "", "uuid": ""}
    dst = db.get("host", host)
    body = "VM '%s' (uuid: %s) migrated from host '%s' (uuid: %s) to host '%s' (uuid: %s)" % (
        rec["name_label"], rec["uuid"], src["name_label"], src["uuid"], dst["name_label"], dst["uuid"])
    db.create("message", {"name": "VM_MIGRATED", "priority": 5, "cls": "VM", "obj_uuid": rec["uuid"],
                          "timestamp": ctx.world.clock.now_dt(), "body": body})
    for vbd in rec["VBDs"]:
        refresh_vbd_operations(ctx, vbd)


@handler("VM", "pool_migrate", locked=False)
def vm_pool_migrate(ctx: Context, vm, host, options):
    migrate(ctx, vm, host, options)


# --------------------------------------------------------------------------- host.migrate_receive
@handler("host", "migrate_receive", write=False)
def host_migrate_receive(ctx: Context, host, network, _options):
    """xapi_host.ml migrate_receive: the host's PIF on the network (HOST_CANNOT_ATTACH_NETWORK [host, network]) with
    an address (PIF_HAS_NO_NETWORK_CONFIGURATION / INTERFACE_HAS_NO_IP [pif]); a new session on the destination;
    the SM and xenops URLs on that address, the host ref and the coordinator's URL. The call log counts it as a
    read: it only opens a session, as a login does, so a check-mode migration check stays write-free."""
    db = ctx.db
    db.get("network", network)
    pif = next((p for p in db.get("network", network)["PIFs"] if db.get("PIF", p)["host"] == host), None)
    if pif is None:
        raise XapiError("HOST_CANNOT_ATTACH_NETWORK", host, network)
    prec = db.get("PIF", pif)
    if not prec["IP"]:
        raise XapiError("PIF_HAS_NO_NETWORK_CONFIGURATION" if prec["ip_configuration_mode"] == "None"
                        else "INTERFACE_HAS_NO_IP", pif)
    now = ctx.world.clock.now_dt()
    session = db.create("session", {"this_host": host, "last_active": now, "validation_time": now, "pool": False,
                                    "is_local_superuser": True, "originator": "migrate_receive",
                                    "auth_user_name": "root"})
    ctx.world.sessions[session] = db
    sessions.touch(ctx.world, db, session)
    master = db.get("host", db.get("pool", db.one("pool"))["master"])["address"]
    url = "http://%s/services/%%s?session_id=%s" % (prec["IP"], session)
    return {"SM": url % "SM", "host": host, "xenops": url % "xenops", "session_id": session,
            "master": "http://%s" % master}


# --------------------------------------------------------------------------- VM.assert_can_migrate
def _dest_host(ctx: Context, dest: dict) -> str:
    """The destination host of a dest map; one outside this pool is a cross-pool migration (not simulated)."""
    host = dest.get("host", "")
    if host in ctx.db.tables["host"]:
        return host
    raise XapiError("CANNOT_CONTACT_HOST", urlparse(dest.get("xenops", "") or dest.get("master", "")).hostname or "")


def disk_vdis(db, vm: str) -> list[str]:
    """xapi_vm_migrate.ml vdi_filter: the VDIs of the VM's non-empty, non-CD VBDs."""
    out = []
    for vbd in db.get("VM", vm)["VBDs"]:
        vrec = db.get("VBD", vbd)
        if not vrec["empty"] and vrec["type"] != "CD" and vrec["VDI"] in db.tables["VDI"]:
            out.append(vrec["VDI"])
    return out


def migration_problem(ctx: Context, vm: str, host: str, vdi_map: dict, vif_map: dict, options: dict) -> XapiError | None:
    """xapi_vm_migrate.ml assert_can_migrate for a destination inside the pool, in its order. Besides xapi, the
    SRs the disks will be on (vdi_map) must be plugged on the destination (VM_REQUIRES_SR): xapi finds that out
    when the mirror fails to attach, the simulator says it before anything moves."""
    db = ctx.db
    vdis = disk_vdis(db, vm)
    for vdi in vdis:
        if vdi not in vdi_map:
            return XapiError("VDI_NOT_IN_MAP", vdi)
    for vdi, sr in vdi_map.items():
        db.get("VDI", vdi)
        db.get("SR", sr)
        src = db.get("VDI", vdi)["SR"]
        if src == sr:
            continue
        for end in (src, sr):
            caps = SM_CAPABILITIES.get(db.get("SR", end)["type"], ())
            missing = [f for f in MIGRATION_SR_FEATURES if f not in caps]
            if missing:
                return XapiError("SR_DOES_NOT_SUPPORT_MIGRATION", end, ";".join(missing))
    srs = [vdi_map[v] for v in vdis]
    err = host_problem(db, vm, host, cpu=not _true(options, "force"), srs=srs)
    if err is not None:
        return err
    if vif_map:
        return XapiError("OPERATION_NOT_ALLOWED", VIF_MAP_REFUSED)
    for vdi in vdi_map:
        if db.get("VDI", vdi).get("cbt_enabled"):
            return XapiError("VDI_CBT_ENABLED", vdi)
    return None


@handler("VM", "assert_can_migrate", write=False)
def vm_assert_can_migrate(ctx: Context, vm, dest, _live, vdi_map, vif_map, options, _vgpu_map=None):
    err = migration_problem(ctx, vm, _dest_host(ctx, dest), vdi_map, vif_map, options)
    if err is not None:
        raise err


# --------------------------------------------------------------------------- VM.migrate_send, VDI.pool_migrate
def _moves(db, vm: str, vdi_map: dict) -> dict:
    """VDI -> SR for the disks that change SR, with the snapshots' disks following theirs (migrate_send')."""
    moves = {vdi: sr for vdi, sr in vdi_map.items() if db.get("VDI", vdi)["SR"] != sr}
    for snap in db.get("VM", vm)["snapshots"]:
        for vdi in disk_vdis(db, snap):
            origin = db.get("VDI", vdi)["snapshot_of"]
            if origin in moves and db.get("VDI", vdi)["SR"] != moves[origin]:
                moves[vdi] = moves[origin]
    return moves


def _move_disks(ctx: Context, moves: dict) -> dict:
    """The mirror is complete: every moved VDI is a new VDI on its new SR, the VBDs point at it, the old one is
    gone. Returns old -> new."""
    db = ctx.db
    renamed: dict = {}
    for vdi, sr in moves.items():
        new = _new_vdi_like(ctx, vdi, sr)
        renamed[vdi] = new
    for old, new in renamed.items():
        rec = db.get("VDI", old)
        if rec["is_a_snapshot"]:
            db.update("VDI", new, {"is_a_snapshot": True, "snapshot_time": rec["snapshot_time"],
                                   "snapshot_of": renamed.get(rec["snapshot_of"], rec["snapshot_of"])})
        for vbd in list(rec["VBDs"]):
            db.set("VBD", vbd, "VDI", new)
        source_sr = rec["SR"]
        db.destroy("VDI", old)
        _account_sr(ctx, source_sr)
        _account_sr(ctx, db.get("VDI", new)["SR"])
    return renamed


def storage_motion(ctx: Context, vm: str, host: str, vdi_map: dict, vif_map: dict, options: dict) -> dict:
    """migrate_send inside the pool: the checks of assert_can_migrate, the HA plan for a live VM, the disks'
    copy and (live) the memory copy in simulated time, then disks and VM in their new places. Returns old -> new
    VDI refs."""
    def prepare():
        db = ctx.db
        if _true(options, "copy"):
            raise XapiError("OPERATION_NOT_ALLOWED", COPY_REFUSED)
        err = migration_problem(ctx, vm, host, vdi_map, vif_map, options)
        if err is not None:
            raise err
        rec = db.get("VM", vm)
        live = rec["power_state"] == "Running"
        if live:
            _ha_guard(ctx, vm, host)
            db.set("VM", vm, "scheduled_to_be_resident_on", host)
        return live, rec["resident_on"], _moves(db, vm, vdi_map)

    def work(state):
        live, _source, moves = state
        ctx.work(mirror_seconds(ctx, moves) + (migration_seconds(ctx.world, ctx.db.get("VM", vm)) if live else 0.0))

    def apply(state):
        live, source, moves = state
        renamed = _move_disks(ctx, moves)
        if live:
            _arrive(ctx, vm, source, host)
        _rules(ctx).refresh(ctx.db, vm)
        return renamed
    try:
        return run_op(ctx, vm, "migrate_send", work, prepare, apply)
    finally:
        _clear_schedule(ctx, vm)


@handler("VM", "migrate_send", locked=False)
def vm_migrate_send(ctx: Context, vm, dest, _live, vdi_map, vif_map, options, _vgpu_map=None, _vdi_format_map=None):
    with ctx.world.lock:
        host = _dest_host(ctx, dest)
    storage_motion(ctx, vm, host, vdi_map, vif_map, options)
    return vm


def _sees(db, host: str, srs: list[str]) -> bool:
    return all(any(db.get("PBD", p)["host"] == host and db.get("PBD", p)["currently_attached"]
                   for p in db.get("SR", sr)["PBDs"]) for sr in srs)


@handler("VDI", "pool_migrate", locked=False)
def vdi_pool_migrate(ctx: Context, vdi, sr, options):
    """message_forwarding.ml / xapi_vm_migrate.ml VDI.pool_migrate: the VDI's VM (VDI_NEEDS_VM_FOR_MIGRATE [vdi]
    without one) is storage-migrated with this disk mapped to `sr` and its other disks left where they are, to the
    VM's own host when that host sees every SR, else to the first host that does (NO_HOSTS_AVAILABLE). Returns the
    VDI's new ref (the same ref when `sr` is already its SR)."""
    with ctx.world.lock:
        db = ctx.db
        rec = db.get("VDI", vdi)
        db.get("SR", sr)
        if not rec["VBDs"]:
            raise XapiError("VDI_NEEDS_VM_FOR_MIGRATE", vdi)
        vm = db.get("VBD", rec["VBDs"][0])["VM"]
        _rules(ctx).check(db, vm, "migrate_send")
        if rec["type"] == "cbt_metadata":
            raise XapiError("VDI_INCOMPATIBLE_TYPE", vdi, "cbt_metadata")
        vdi_map = {v: db.get("VDI", v)["SR"] for v in disk_vdis(db, vm)}
        vdi_map[vdi] = sr
        reqd = sorted(set(vdi_map.values()))
        vrec = db.get("VM", vm)
        here = vrec["resident_on"] if vrec["resident_on"] in db.tables["host"] else db.get("pool", db.one("pool"))["master"]
        hosts = [here] + sorted((h for h in db.refs("host") if h != here), key=lambda h: db.get("host", h)["uuid"])
        host = next((h for h in hosts if _sees(db, h, reqd)), None)
        if host is None:
            raise XapiError("NO_HOSTS_AVAILABLE")
    renamed = storage_motion(ctx, vm, host, vdi_map, {}, {})
    return renamed.get(vdi, vdi)
