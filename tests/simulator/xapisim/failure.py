# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host failure: a simulated host crashes (and comes back), and what xapi does about it.

With HA on, xapi's HA monitor (ocaml/xapi/xapi_ha.ml Monitor, on_master_failure) notices the host left the
live set after the HA timeout and runs xapi_ha_vm_failover.ml restart_auto_run_vms: host_metrics.live=false,
HA_HOST_FAILED, the dead host's VMs forced to Halted (xapi_vm_lifecycle.ml force_state_reset), the pool status
recomputed (update_pool_status), then the protected VMs started on the planned hosts group by group in `order`
(each VM.start waits its start_delay, xapi_vm_helpers.ml start_delay), a last plain VM.start for the ones that
failed (HA_PROTECTED_VM_RESTART_FAILED), then the best-effort VMs of the dead host. A dead master is replaced by a
survivor first. Without HA nothing restarts: Db_gc marks the host not live after host_assumed_dead_interval and its
VMs keep their power state until VM.power_state_reset.
"""
from __future__ import annotations

import itertools
import threading

from .dispatch import Context, handler
from .handlers_ha import (HA_HOST_FAILED, HA_META, HA_PROTECTED_VM_RESTART_FAILED, Planner, alert, live_hosts,
                          mark_overcommitted, protected_vms, refresh_liveset, update_pool_status)
from .handlers_vm import _start, set_halted
from .spec import NULL_REF, XapiError
from .state import Database, World

DEFAULT_HA_TIMEOUT_S = 60.0  # xapi_ha.ml: configuration timeout, default 60 s
HOST_ASSUMED_DEAD_S = 600.0  # xapi_globs.ml host_assumed_dead_interval (Db_gc, HA off)
LIVE_STATES = ("Running", "Paused")
_GENERATION = itertools.count(1)


def down(world: World) -> dict:
    """address -> generation of the crash, for every simulated host that is down (dispatch drops its calls)."""
    return world.__dict__.setdefault("down", {})


def _find(world: World, name: str) -> tuple[str, Database, str]:
    for address, (db, host) in world.hosts.items():
        rec = db.get("host", host)
        if name in (rec["name_label"], rec["hostname"], rec["uuid"], address):
            return address, db, host
    raise LookupError(name)


def _crashed(world: World, db: Database) -> set[str]:
    gone = down(world)
    return {host for address, (hdb, host) in world.hosts.items() if hdb is db and address in gone}


def _hold(db: Database, value: bool) -> None:
    """While xapi resets a dead host's VMs it recomputes the pool status once, afterwards."""
    db.meta.setdefault(HA_META, {})["hold"] = value


def force_halted(ctx: Context, vm: str) -> None:
    """xapi_vm_lifecycle.ml force_state_reset to Halted: devices detached, resident_on cleared; ha_always_run is
    left alone (so a protected VM stays protected, offline)."""
    always_run = ctx.db.get("VM", vm)["ha_always_run"]
    set_halted(ctx, vm)
    ctx.db.set("VM", vm, "ha_always_run", always_run)


# --------------------------------------------------------------------------- crash / recover
def crash(world: World, name: str) -> tuple[int, dict]:
    with world.lock:
        try:
            address, db, host = _find(world, name)
        except LookupError:
            return 404, {"error": "no simulated host %s" % name}
        if address in down(world):
            return 409, {"error": "host %s is already down" % name}
        gen = next(_GENERATION)
        down(world)[address] = gen
        pool = db.get("pool", db.one("pool"))
        if pool["ha_enabled"]:
            config = pool["ha_configuration"]
            delay = float(config.get("timeout") or pool["other_config"].get("default_ha_timeout") or DEFAULT_HA_TIMEOUT_S)
            world.scheduler.at(delay, _guarded, _declare_dead, world, db, address, gen)
        else:
            delay = HOST_ASSUMED_DEAD_S
            world.scheduler.at(delay, _guarded, _assume_dead, world, db, host, address, gen)
        return 200, {"ok": True, "host": host, "address": address, "ha_enabled": pool["ha_enabled"],
                     "declared_dead_after_s": delay}


def recover(world: World, name: str) -> tuple[int, dict]:
    """The host boots again: live, enabled, its PBDs plugged, a slave of whoever is master now; VMs the database
    still shows on it are reset (their domains died with the host), and with HA on it rejoins the live set."""
    with world.lock:
        try:
            address, db, host = _find(world, name)
        except LookupError:
            return 404, {"error": "no simulated host %s" % name}
        if address not in down(world):
            return 409, {"error": "host %s is not down" % name}
        del down(world)[address]
        hrec = db.get("host", host)
        ctx = Context(world, db, host, None, "host-recover")
        _hold(db, True)
        try:
            db.set("host_metrics", hrec["metrics"], "live", True)
            db.set("host", host, "enabled", True)
            for pbd in hrec["PBDs"]:
                db.set("PBD", pbd, "currently_attached", True)
            for vm in list(hrec["resident_VMs"]):
                rec = db.get("VM", vm)
                if not rec["is_control_domain"] and rec["power_state"] in LIVE_STATES:
                    force_halted(ctx, vm)
        finally:
            _hold(db, False)
        pool_ref = db.one("pool")
        if db.get("pool", pool_ref)["ha_enabled"]:
            refresh_liveset(db)
            update_pool_status(db)
            _spawn(_monitor_recovered, world, db, world.clock.elapsed())
        return 200, {"ok": True, "host": host, "address": address,
                     "master": db.get("pool", pool_ref)["master"] == host}


def _guarded(func, *args) -> None:
    """A scheduler callback or monitor thread must never take the simulator down: a simulator bug is kept in the
    pool's state (GET /sim/state: dbs[].meta["xapisim:ha"].errors). args are (world, db, ...)."""
    try:
        func(*args)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        with args[0].lock:
            args[1].meta.setdefault(HA_META, {}).setdefault("errors", []).append("%s: %s" % (type(exc).__name__, exc))


def _assume_dead(world: World, db: Database, host: str, address: str, gen: int) -> None:
    """Db_gc without HA: no heartbeat for host_assumed_dead_interval -> host_metrics.live=false. Nothing else."""
    if down(world).get(address) != gen:
        return
    db.set("host_metrics", db.get("host", host)["metrics"], "live", False)


def _declare_dead(world: World, db: Database, address: str, gen: int) -> None:
    """The HA timeout passed (scheduler, lock held): the HA monitor takes it from here on its own thread."""
    _spawn(_monitor, world, db, address, gen, world.clock.elapsed())


def _spawn(func, *args) -> None:
    threading.Thread(target=_guarded, name="xapisim-ha-monitor", args=(func,) + args, daemon=True).start()


def _wait_prevented(world: World, db: Database, base: float) -> float:
    """Monitor: while pool.ha_prevent_restarts_for holds, the live set is not processed at all (a value < 1
    wakes it at once). Returns when the simulated timeline goes on."""
    until = 0.0
    while True:
        until = db.meta.get(HA_META, {}).get("prevent_restarts_until", 0.0)
        if world.clock.elapsed() >= until:
            break
        world.clock.sleep_until(until, lambda u=until: db.meta.get(HA_META, {}).get("prevent_restarts_until", 0.0) != u)
    return max(base, until)


def _monitor(world: World, db: Database, address: str, gen: int, base: float) -> None:
    """process_liveset_on_master after a host left the live set: the failure, then the restarts."""
    base = _wait_prevented(world, db, base)
    with world.lock:
        if down(world).get(address) != gen or not db.get("pool", db.one("pool"))["ha_enabled"]:
            return
        master, plan, complete, best_effort = _host_failed(world, db)
    _restart(world, db, master, plan, complete, best_effort, base)


def _monitor_recovered(world: World, db: Database, base: float) -> None:
    """The live set grew: offline protected VMs (reset while the host was down but not yet declared dead) start."""
    base = _wait_prevented(world, db, base)
    with world.lock:
        if not db.get("pool", db.one("pool"))["ha_enabled"]:
            return
        master = db.get("pool", db.one("pool"))["master"]
        planner = Planner(db, protected_vms(db))
        plan = sorted(planner.restart_plan.items(), key=lambda item: db.get("VM", item[0])["uuid"])
    if plan or planner.not_restarted:
        _restart(world, db, master, plan, not planner.not_restarted, [], base)


def _host_failed(world: World, db: Database) -> tuple[str, list, bool, list]:
    """Master election, then restart_auto_run_vms' first half (lock held). Returns what the restarts need."""
    pool_ref = db.one("pool")
    pool = db.get("pool", pool_ref)
    crashed = _crashed(world, db)
    if pool["master"] in crashed:
        # xapi_ha.ml on_master_failure: survivors propose themselves, xhad grants one; the simulator picks the
        # live survivor with the lowest uuid
        survivors = sorted((h for h in live_hosts(db) if h not in crashed), key=lambda h: db.get("host", h)["uuid"])
        if survivors:
            db.set("pool", pool_ref, "master", survivors[0])
    master = db.get("pool", pool_ref)["master"]
    ctx = Context(world, db, master, None, "ha-monitor")
    reset = []
    _hold(db, True)
    try:
        for host in sorted(crashed, key=lambda h: db.get("host", h)["uuid"]):
            hrec = db.get("host", host)
            if not db.get("host_metrics", hrec["metrics"])["live"]:
                continue
            alert(db, HA_HOST_FAILED, "Host", hrec["uuid"], "Server '%s' has failed" % hrec["name_label"])
            db.set("host_metrics", hrec["metrics"], "live", False)
            reset += [vm for vm in hrec["resident_VMs"] if not db.get("VM", vm)["is_control_domain"]]
        for vm in reset:
            if db.get("VM", vm)["power_state"] in LIVE_STATES:
                force_halted(ctx, vm)
    finally:
        _hold(db, False)
    refresh_liveset(db)
    if reset:
        update_pool_status(db)
    planner = Planner(db, protected_vms(db))
    plan = sorted(planner.restart_plan.items(), key=lambda item: db.get("VM", item[0])["uuid"])
    best_effort = [vm for vm in reset if db.get("VM", vm)["ha_restart_priority"] == "best-effort"]
    return master, plan, not planner.not_restarted, best_effort


# --------------------------------------------------------------------------- restarts
def order_key(rec: dict) -> int:
    """xapi_ha_vm_failover.ml order_f: ascending `order`, a negative order last."""
    return rec["order"] if rec["order"] >= 0 else 2 ** 63 - 1


def _start_one(world: World, db: Database, master: str, vm: str, host: str | None, base: float,
               out: dict, protected: bool) -> None:
    ctx = Context(world, db, master, None, "VM.start_on" if host else "VM.start")
    ctx.cursor = base
    for attempt in (1, 2):
        try:
            _start(ctx, vm, host, False, "start_on" if host else "start")
            with world.lock:
                delay = db.get("VM", vm)["start_delay"]
            if delay > 0:
                ctx.work(float(delay), steps=1)
            out[vm] = (True, ctx.cursor)
            return
        except XapiError as err:
            # restart_vm: HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN -> mark the pool overcommitted and try once more
            if protected and attempt == 1 and err.code == "HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN":
                with world.lock:
                    mark_overcommitted(db)
                continue
            with world.lock:
                db.meta.setdefault(HA_META, {}).setdefault("restart_errors", {})[vm] = err.description
            out[vm] = (False, base)
            return


def run_groups(world: World, db: Database, master: str, todo: list, base: float, protected: bool) -> tuple[dict, float]:
    """map_parallel: the VMs of one `order` start in parallel, the next group once all of them returned
    (start plus start_delay). Returns ({vm: started}, end of the last group on the simulated timeline)."""
    results: dict = {}
    with world.lock:
        keyed = sorted(todo, key=lambda item: order_key(db.get("VM", item[0])))
    for _order, group in itertools.groupby(keyed, key=lambda item: order_key(db.get("VM", item[0]))):
        out: dict = {}
        threads = [threading.Thread(target=_start_one, args=(world, db, master, vm, host, base, out, protected),
                                    daemon=True) for vm, host in group]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        base = max([base] + [end for _ok, end in out.values()])
        results.update({vm: ok for vm, (ok, _end) in out.items()})
    return results, base


def _restart(world: World, db: Database, master: str, plan: list, complete: bool, best_effort: list,
             base: float) -> None:
    """restart_auto_run_vms' second half: the plan (or, when it is incomplete, every Halted protected VM with a
    plain VM.start), one more VM.start for each failure, then the best-effort VMs of the dead hosts."""
    with world.lock:
        todo = list(plan) if complete else [(vm, None) for vm in protected_vms(db)
                                            if db.get("VM", vm)["power_state"] == "Halted"]
    results, base = run_groups(world, db, master, todo, base, True)
    retry = [(vm, None) for vm, ok in results.items() if not ok]
    if retry:
        again, base = run_groups(world, db, master, retry, base, True)
        with world.lock:
            failed = db.meta.setdefault(HA_META, {}).setdefault("restart_failed", [])
            for vm, ok in again.items():
                if not ok and vm not in failed and vm in db.tables["VM"]:
                    failed.append(vm)
                    alert(db, HA_PROTECTED_VM_RESTART_FAILED, "VM", db.get("VM", vm)["uuid"], "")
    with world.lock:
        todo = [(vm, None) for vm in best_effort if vm in db.tables["VM"]
                and db.get("VM", vm)["power_state"] == "Halted" and db.get("VM", vm)["ha_restart_priority"] == "best-effort"]
    run_groups(world, db, master, todo, base, False)


# --------------------------------------------------------------------------- VM.power_state_reset
def _host_alive(world: World, db: Database, host: str) -> bool:
    """xapi_host.ml is_host_alive: not live in the database -> dead; else ask the host (a crashed one does not answer)."""
    if host not in db.tables["host"]:
        return False
    metrics = db.tables["host_metrics"].get(db.get("host", host)["metrics"])
    return bool(metrics and metrics["live"]) and host not in _crashed(world, db)


@handler("VM", "power_state_reset")
def vm_power_state_reset(ctx: Context, vm):
    """xapi_vm.ml power_state_reset: never a control domain (CANNOT_RESET_CONTROL_DOMAIN); a Running/Paused VM
    whose domain runs here (DOMAIN_EXISTS) or on a host that is alive (HOST_IS_LIVE [host]) keeps its state;
    otherwise it is forced to Halted."""
    db = ctx.db
    rec = db.get("VM", vm)
    if rec["is_control_domain"]:
        raise XapiError("CANNOT_RESET_CONTROL_DOMAIN", vm)
    if rec["power_state"] in LIVE_STATES and rec["resident_on"] != NULL_REF:
        if rec["resident_on"] == ctx.host:
            raise XapiError("DOMAIN_EXISTS", vm)
        if _host_alive(ctx.world, db, rec["resident_on"]):
            raise XapiError("HOST_IS_LIVE", rec["resident_on"])
    force_halted(ctx, vm)


def control(world: World, method: str, route: str) -> tuple[int, dict]:
    """POST /sim/hosts/<name>/crash | /recover (name: name_label, hostname, uuid or address)."""
    parts = route.split("/")
    if method != "POST" or len(parts) != 3 or parts[2] not in ("crash", "recover"):
        return 404, {"error": "unknown control route %s /sim/%s" % (method, route)}
    return (crash if parts[2] == "crash" else recover)(world, parts[1])
