# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""High availability: enable/disable and the failover planner (xapi `xapi_ha.ml`, `xapi_ha_vm_failover.ml`)."""
from __future__ import annotations

import itertools
import math

from .dispatch import Context, handler
from .model import MIB, host_compute_free_memory, memory_overhead
from .spec import NULL_REF, XapiError
from .state import Database

VALID_PRIORITIES = ("restart", "best-effort", "")
ENABLE_SECONDS_PER_HOST = 3.0


def _facts(ctx: Context) -> dict:
    return ctx.spec.runtime["ha"]


# --------------------------------------------------------------------------- planner
def vm_size(rec: dict) -> int:
    """Bytes needed to start the VM at static_max (footprint = target + overhead, MiB rounded up)."""
    return int(math.ceil(rec["memory_static_max"] / float(MIB))) * MIB + memory_overhead(rec)


def host_free(db: Database, host: str) -> int:
    hrec = db.get("host", host)
    total = db.get("host_metrics", hrec["metrics"])["memory_total"] if hrec["metrics"] in db.tables["host_metrics"] else 0
    used = hrec["memory_overhead"]
    for rec in db.tables["VM"].values():
        if host in (rec["resident_on"], rec["scheduled_to_be_resident_on"]):
            used += rec["memory_static_max"] + rec["memory_overhead"]
    return max(0, total - used)


def is_agile(db: Database, vm: str) -> bool:
    rec = db.get("VM", vm)
    enabled = [h for h in db.refs("host") if db.get("host", h)["enabled"]]
    for vbd in rec["VBDs"]:
        vrec = db.get("VBD", vbd)
        if vrec["empty"] or vrec["VDI"] not in db.tables["VDI"]:
            continue
        sr = db.get("SR", db.get("VDI", vrec["VDI"])["SR"])
        if not sr["shared"]:
            return False
        attached = {db.get("PBD", p)["host"] for p in sr["PBDs"] if db.get("PBD", p)["currently_attached"]}
        if not set(enabled) <= attached:
            return False
    for vif in rec["VIFs"]:
        net = db.get("VIF", vif)["network"]
        pifs = [db.get("PIF", p) for p in db.get("network", net)["PIFs"]] if net in db.tables["network"] else []
        hosts = {p["host"] for p in pifs if p["bond_slave_of"] == NULL_REF}
        if not set(enabled) <= hosts:
            return False
    return True


def binpack(vms: list[tuple[str, int]], hosts: list[list]) -> tuple[dict, bool]:
    """Biggest-fit-decreasing; hosts is a list of [host, free] updated in place. Returns (placement, all placed)."""
    order = sorted(vms, key=lambda v: -v[1])
    ranked = sorted(hosts, key=lambda h: -h[1])
    placement, ok = {}, True
    for vm, size in order:
        if not ranked or ranked[0][1] - size < 0:
            ok = False
            continue
        best = ranked.pop(0)
        best[1] -= size
        placement[vm] = best[0]
        index = next((i for i, h in enumerate(ranked) if h[1] <= best[1]), len(ranked))
        ranked.insert(index, best)
    return placement, ok


class Planner:
    """compute_restart_plan / plan_for_n_failures over one pool's database."""

    def __init__(self, db: Database, protected: list[str]) -> None:
        self.db = db
        self.hosts = sorted(db.refs("host"), key=lambda h: db.get("host", h)["uuid"])
        self.live = [h for h in self.hosts if db.get("host", h)["enabled"]
                     and db.tables["host_metrics"].get(db.get("host", h)["metrics"], {}).get("live")]
        self.free = {h: host_free(db, h) for h in self.live}
        self.sizes = {vm: vm_size(db.get("VM", vm)) for vm in protected}
        agile = [vm for vm in protected if is_agile(db, vm)]
        self.non_agile = [vm for vm in protected if vm not in agile]
        self.placed: dict[str, list[str]] = {h: [] for h in self.live}
        offline = []
        for vm in agile:
            rec = db.get("VM", vm)
            where = rec["resident_on"] if rec["resident_on"] in self.placed else rec["scheduled_to_be_resident_on"]
            if where in self.placed:
                self.placed[where].append(vm)
            else:
                offline.append(vm)
        self.possible = not any(db.get("VM", vm)["resident_on"] not in self.placed for vm in self.non_agile)
        # compute_restart_plan: where the offline protected VMs go (what the HA monitor starts after a failure)
        self.restart_plan: dict[str, str] = {}
        self.not_restarted = [vm for vm in self.non_agile if db.get("VM", vm)["resident_on"] not in self.placed]
        if offline:
            hosts = [[h, self.free[h]] for h in self.live]
            placement, ok = binpack([(vm, self.sizes[vm]) for vm in offline], hosts)
            self.possible = self.possible and ok
            self.restart_plan = placement
            self.not_restarted += [vm for vm in offline if vm not in placement]
            for vm, host in placement.items():
                self.placed[host].append(vm)
            self.free = dict(hosts)
        self.agile = agile

    def plan_exists(self, r: int) -> bool:
        if not self.possible or self.non_agile:
            return False
        if r == 0:
            return True
        if len(self.live) < r or (len(self.live) == r and self.agile):
            return False
        total = len(self.hosts)
        if total <= 32 and math.comb(total, r) * math.factorial(r) < 3500:
            return self._exhaustive(r)
        return self._approximate(r)

    def _exhaustive(self, r: int) -> bool:
        for subset in itertools.combinations(self.live, r):
            for ordering in itertools.permutations(subset):
                free = dict(self.free)
                placed = {h: list(v) for h, v in self.placed.items()}
                for failed in ordering:
                    moving = placed.pop(failed)
                    free.pop(failed)
                    hosts = [[h, free[h]] for h in self.live if h in free]
                    placement, ok = binpack([(vm, self.sizes[vm]) for vm in moving], hosts)
                    if not ok:
                        return False
                    free = dict(hosts)
                    for vm, host in placement.items():
                        placed[host].append(vm)
        return True

    def _approximate(self, r: int) -> bool:
        if not self.agile:
            return True
        biggest = max(self.sizes[vm] for vm in self.agile)
        slots = sorted((self.free[h] // biggest for h in self.live), reverse=True)
        counts = sorted((len(self.placed[h]) for h in self.live), reverse=True)
        return sum(counts[:r]) <= sum(slots[r:])

    def max_failures(self) -> int:
        lo, hi = 0, len(self.hosts)
        if not self.plan_exists(0):
            return 0
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.plan_exists(mid):
                lo = mid
            else:
                hi = mid - 1
        return lo


def protected_vms(db: Database) -> list[str]:
    return sorted((v for v, r in db.tables["VM"].items() if r["ha_always_run"] and r["ha_restart_priority"] == "restart"
                   and not r["is_a_template"]), key=lambda v: db.get("VM", v)["uuid"])


def alert(db: Database, message: tuple[str, int], cls: str, obj_uuid: str, body: str) -> str:
    """Xapi_alert.add on the master: a message record (api_messages.ml gives name and priority)."""
    name, priority = message
    return db.create("message", {"name": name, "priority": priority, "cls": cls, "obj_uuid": obj_uuid,
                                 "timestamp": db.world.clock.now_dt(), "body": body})


# ocaml/xapi-consts/api_messages.ml
HA_POOL_OVERCOMMITTED = ("HA_POOL_OVERCOMMITTED", 3)
HA_POOL_DROP_IN_PLAN_EXISTS_FOR = ("HA_POOL_DROP_IN_PLAN_EXISTS_FOR", 3)
HA_PROTECTED_VM_RESTART_FAILED = ("HA_PROTECTED_VM_RESTART_FAILED", 2)
HA_HOST_FAILED = ("HA_HOST_FAILED", 3)


def recompute(db: Database) -> int:
    """xapi_pool.ml ha_compute_max_host_failures_to_tolerate: the answer, and with HA on the pool fields
    (a drop of ha_plan_exists_for raises HA_POOL_DROP_IN_PLAN_EXISTS_FOR)."""
    pool_ref = db.one("pool")
    pool = db.get("pool", pool_ref)
    n = Planner(db, protected_vms(db)).max_failures()
    if pool["ha_enabled"]:
        tolerate, planned_for = pool["ha_host_failures_to_tolerate"], pool["ha_plan_exists_for"]
        db.update("pool", pool_ref, {"ha_overcommitted": tolerate > n})
        if planned_for != n:
            db.set("pool", pool_ref, "ha_plan_exists_for", min(tolerate, n))
            if n < planned_for:
                alert(db, HA_POOL_DROP_IN_PLAN_EXISTS_FOR, "Pool", pool["uuid"], str(n))
    return n


def mark_overcommitted(db: Database) -> None:
    """xapi_ha_vm_failover.ml mark_pool_as_overcommitted: ha_plan_exists_for follows the maximum (a drop raises
    HA_POOL_DROP_IN_PLAN_EXISTS_FOR), and the transition to overcommitted raises HA_POOL_OVERCOMMITTED."""
    pool_ref = db.one("pool")
    pool = db.get("pool", pool_ref)
    planned_for, tolerate = pool["ha_plan_exists_for"], pool["ha_host_failures_to_tolerate"]
    n = Planner(db, protected_vms(db)).max_failures()
    if planned_for != n:
        db.set("pool", pool_ref, "ha_plan_exists_for", min(tolerate, n))
        if n < planned_for:
            alert(db, HA_POOL_DROP_IN_PLAN_EXISTS_FOR, "Pool", pool["uuid"], str(n))
    if not pool["ha_overcommitted"]:
        db.set("pool", pool_ref, "ha_overcommitted", True)
        alert(db, HA_POOL_OVERCOMMITTED, "Pool", pool["uuid"],
              "The failover tolerance for pool '%s' has dropped and the initially specified number of host failures "
              "to tolerate can no longer be guaranteed" % pool["name_label"])


def update_pool_status(db: Database) -> None:
    """xapi_ha_vm_failover.ml update_pool_status: a plan for ha_host_failures_to_tolerate -> not overcommitted
    and ha_plan_exists_for = that number; otherwise mark_overcommitted. xapi runs it on the changes that move
    the plan and from the HA monitor every ha_monitor_plan_interval; the simulator runs it on every such change
    (refresh_plan), so the fields are never stale."""
    pool_ref = db.one("pool")
    pool = db.get("pool", pool_ref)
    tolerate = pool["ha_host_failures_to_tolerate"]
    if Planner(db, protected_vms(db)).plan_exists(tolerate):
        db.update("pool", pool_ref, {"ha_overcommitted": False, "ha_plan_exists_for": tolerate})
    else:
        mark_overcommitted(db)


def refresh_plan(db: Database) -> None:
    """After a change that moves the plan (protection, VM memory, host enable/disable, VM start/stop/migrate,
    host failure): the pool fields are recomputed when HA is on."""
    pools = db.tables["pool"]
    if len(pools) != 1 or not next(iter(pools.values()))["ha_enabled"] or getattr(db.world, "bulk", None) is not None:
        return
    if not db.meta.get(HA_META, {}).get("hold"):
        update_pool_status(db)


def live_hosts(db: Database) -> list[str]:
    """The HA live set: hosts whose host_metrics.live is true (a crashed host leaves it once declared dead)."""
    return [h for h in db.refs("host") if db.tables["host_metrics"].get(db.get("host", h)["metrics"], {}).get("live")]


def refresh_liveset(db: Database) -> None:
    """xapi_ha.ml Monitor (process_liveset_on_master): host.ha_statefiles = the pool's statefile VDIs for a host
    with statefile access, else []; host.ha_network_peers = the uuids of the hosts on its heartbeat list (the live
    set). A dead host keeps the peers it last reported."""
    pool = db.get("pool", db.one("pool"))
    live = live_hosts(db)
    peers = sorted(db.get("host", h)["uuid"] for h in live)
    for host in db.refs("host"):
        if host in live:
            db.update("host", host, {"ha_statefiles": list(pool["ha_statefiles"]), "ha_network_peers": list(peers)})
        else:
            db.set("host", host, "ha_statefiles", [])


# --------------------------------------------------------------------------- API
def _heartbeat_problem(ctx: Context, sr: str) -> XapiError | None:
    db = ctx.db
    rec = db.get("SR", sr)
    by_host = {db.get("PBD", p)["host"]: db.get("PBD", p)["currently_attached"] for p in rec["PBDs"]}
    if any(not by_host.get(h, False) for h in db.refs("host")):
        return XapiError("SR_HAS_NO_PBDS", sr)
    if rec["type"] in ("iso", "udev"):
        return XapiError("SR_OPERATION_NOT_SUPPORTED", sr)
    reusable = {db.get("VDI", v)["type"] for v in rec["VDIs"]} >= {"ha_statefile", "redo_log"}
    if not reusable and rec["physical_size"] - rec["physical_utilisation"] < _facts(ctx)["min_free_sr_bytes_when_no_reusable_vdis"]:
        return XapiError("SR_SOURCE_SPACE_INSUFFICIENT", sr)
    return None


@handler("pool", "enable_ha", locked=False)
def pool_enable_ha(ctx: Context, heartbeat_srs, configuration):
    world, db = ctx.world, ctx.db
    with world.lock:
        pool_ref = db.one("pool")
        if db.get("pool", pool_ref)["ha_enabled"]:
            raise XapiError("HA_IS_ENABLED")
        for host in db.refs("host"):
            metrics = db.tables["host_metrics"].get(db.get("host", host)["metrics"])
            if not metrics or not metrics["live"]:
                raise XapiError("HOST_OFFLINE", host)
        unplugged = [p for p, r in db.tables["PIF"].items() if r["disallow_unplug"] and not r["currently_attached"]]
        if unplugged:
            raise XapiError("REQUIRED_PIF_IS_UNPLUGGED", *unplugged)
        timeout = configuration.get("timeout")
        if timeout is not None and (not str(timeout).isdigit() or int(timeout) < 10):
            raise XapiError("INVALID_VALUE", "timeout", timeout)
        candidates = list(heartbeat_srs)[:1] if heartbeat_srs else [s for s, r in db.tables["SR"].items() if r["shared"]]
        chosen, first_error = None, None
        for sr in candidates:
            err = _heartbeat_problem(ctx, sr)
            if err is None:
                chosen = sr
                break
            first_error = first_error or err
        if chosen is None:
            raise first_error if heartbeat_srs and first_error else XapiError("CANNOT_CREATE_STATE_FILE")
    ctx.work(ENABLE_SECONDS_PER_HOST * len(db.refs("host")))
    with world.lock:
        facts = _facts(ctx)
        existing = {db.get("VDI", v)["type"]: v for v in db.get("SR", chosen)["VDIs"]}
        statefile = existing.get("ha_statefile") or db.create("VDI", {
            "name_label": facts["statefile_vdi"]["name_label"], "SR": chosen, "type": "ha_statefile", "sharable": True,
            "managed": True,
            "virtual_size": facts["statefile_min_bytes"], "sm_config": dict(facts["statefile_vdi"]["sm_config"]),
            "location": "statefile-%s" % chosen[-8:]})
        if "redo_log" not in existing:
            db.create("VDI", {"name_label": facts["metadata_vdi"]["name_label"], "SR": chosen, "type": "redo_log", "managed": True,
                              "sharable": True, "virtual_size": facts["metadata_redo_log_vdi_bytes"],
                              "location": "redo-%s" % chosen[-8:]})
        db.update("pool", pool_ref, {"ha_enabled": True, "ha_statefiles": [statefile],
                                     "ha_configuration": dict(configuration), "ha_cluster_stack": "xhad"})
        refresh_liveset(db)
        update_pool_status(db)


@handler("pool", "disable_ha")
def pool_disable_ha(ctx: Context):
    pool_ref = ctx.db.one("pool")
    if not ctx.db.get("pool", pool_ref)["ha_enabled"]:
        raise XapiError("HA_NOT_ENABLED")
    ctx.db.update("pool", pool_ref, {"ha_enabled": False, "ha_plan_exists_for": 0, "ha_statefiles": [],
                                     "ha_overcommitted": False})
    for host in ctx.db.refs("host"):  # xapi_ha.ml ha_release_resources: the host leaves the HA cluster
        ctx.db.update("host", host, {"ha_statefiles": [], "ha_network_peers": []})


@handler("pool", "ha_compute_max_host_failures_to_tolerate")
def pool_ha_compute_max(ctx: Context):
    return recompute(ctx.db)


@handler("pool", "ha_compute_hypothetical_max_host_failures_to_tolerate", write=False)
def pool_ha_compute_hypothetical(ctx: Context, configuration):
    for vm, priority in configuration.items():
        if priority not in VALID_PRIORITIES:
            raise XapiError("INVALID_VALUE", "ha_restart_priority", priority)
        ctx.db.get("VM", vm)
    protected = sorted((vm for vm, p in configuration.items() if p == "restart"), key=lambda v: ctx.db.get("VM", v)["uuid"])
    return Planner(ctx.db, protected).max_failures()


@handler("pool", "ha_failover_plan_exists", write=False)
def pool_ha_failover_plan_exists(ctx: Context, n):
    return Planner(ctx.db, protected_vms(ctx.db)).plan_exists(n) if n <= len(ctx.db.refs("host")) else False


@handler("pool", "set_ha_host_failures_to_tolerate")
def pool_set_ha_host_failures_to_tolerate(ctx: Context, pool, value):
    db = ctx.db
    if value < 0:
        raise XapiError("INVALID_VALUE", "ha_host_failures_to_tolerate", value)
    rec = db.get("pool", pool)
    planner = Planner(db, protected_vms(db))
    if rec["ha_enabled"] and not rec["ha_allow_overcommit"] and rec["ha_plan_exists_for"] > 0 and not planner.plan_exists(value):
        raise XapiError("HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN")
    db.set("pool", pool, "ha_host_failures_to_tolerate", value)
    if rec["ha_enabled"]:
        update_pool_status(db)


def _non_negative(ctx: Context, vm: str, field: str, value: int) -> None:
    if value < 0:
        raise XapiError("INVALID_VALUE", field, value)
    ctx.db.set("VM", vm, field, value)


@handler("VM", "set_order")
def vm_set_order(ctx: Context, vm, value):
    _non_negative(ctx, vm, "order", value)


@handler("VM", "set_start_delay")
def vm_set_start_delay(ctx: Context, vm, value):
    _non_negative(ctx, vm, "start_delay", value)


@handler("VM", "set_shutdown_delay")
def vm_set_shutdown_delay(ctx: Context, vm, value):
    _non_negative(ctx, vm, "shutdown_delay", value)


def assert_preserves_plan(db: Database, changes: list[tuple[str, str, str, object]]) -> None:
    """HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN when HA is on, overcommit is not allowed, a plan
    exists now for ha_plan_exists_for failures and would not once `changes` ((cls, ref, field, value)...)
    are applied. The changes are tried on the live records and rolled back (lock held by the caller)."""
    pool = db.get("pool", db.one("pool"))
    if not pool["ha_enabled"] or pool["ha_allow_overcommit"]:
        return
    n = pool["ha_plan_exists_for"]
    if not Planner(db, protected_vms(db)).plan_exists(n):
        return
    saved = []
    try:
        for cls, ref, field, value in changes:
            rec = db.get(cls, ref)
            saved.append((rec, field, rec[field]))
            rec[field] = value
        ok = Planner(db, protected_vms(db)).plan_exists(n)
    finally:
        for rec, field, value in reversed(saved):
            rec[field] = value
    if not ok:
        raise XapiError("HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN")


# --------------------------------------------------------------------------- agility and failover plans
def agility_problem(db: Database, vm: str) -> XapiError | None:
    """agility.ml caching_vm_t_assert_agile, in its order: vGPU, VUSB, every non-empty VBD's SR properly shared
    (shared, a currently-attached PBD on every enabled host), every VIF's network properly shared (a non-bond-slave
    PIF on every enabled host). SR-IOV networks are not simulated."""
    rec = db.get("VM", vm)
    if rec.get("VGPUs"):
        return XapiError("VM_HAS_VGPU", vm)
    if rec.get("VUSBs"):
        return XapiError("VM_HAS_VUSBS", vm)
    enabled = {h for h in db.refs("host") if db.get("host", h)["enabled"]}
    for vbd in rec["VBDs"]:
        vrec = db.get("VBD", vbd)
        if vrec["empty"] or vrec["VDI"] not in db.tables["VDI"]:
            continue
        sr_ref = db.get("VDI", vrec["VDI"])["SR"]
        sr = db.get("SR", sr_ref)
        attached = {db.get("PBD", p)["host"] for p in sr["PBDs"] if db.get("PBD", p)["currently_attached"]}
        if not sr["shared"] or not enabled <= attached:
            return XapiError("HA_CONSTRAINT_VIOLATION_SR_NOT_SHARED", sr_ref)
    for vif in rec["VIFs"]:
        net = db.get("VIF", vif)["network"]
        pifs = [db.get("PIF", p) for p in db.get("network", net)["PIFs"]] if net in db.tables["network"] else []
        if not enabled <= {p["host"] for p in pifs if p["bond_slave_of"] == NULL_REF}:
            return XapiError("HA_CONSTRAINT_VIOLATION_NETWORK_NOT_SHARED", net)
    return None


@handler("VM", "assert_agile", write=False)
def vm_assert_agile(ctx: Context, vm):
    err = agility_problem(ctx.db, vm)
    if err is not None:
        raise err


def evacuation_size(rec: dict) -> int:
    """xapi_ha_vm_failover.ml vm_memory: start memory with policy dynamic_min (hvm, pv) or static_max (pvh)."""
    target = rec["memory_static_max"] if rec["domain_type"] in ("pvh", "pv_in_pvh") else rec["memory_dynamic_min"]
    return int(math.ceil(target / float(MIB))) * MIB + memory_overhead(rec)


@handler("pool", "ha_compute_vm_failover_plan", write=False)
def pool_ha_compute_vm_failover_plan(ctx: Context, failed_hosts, failed_vms):
    """xapi_pool.ml ha_compute_vm_failover_plan: binpack (compute_evacuation_plan) the failed VMs onto the live
    hosts not in failed_hosts (free memory with maximum compression); a VM left out gets its agility error
    code, or HOST_NOT_ENOUGH_FREE_MEMORY when it is agile. Anti-affinity groups are not simulated."""
    db = ctx.db
    live = [h for h in sorted(db.refs("host"), key=lambda h: db.get("host", h)["uuid"])
            if db.tables["host_metrics"].get(db.get("host", h)["metrics"], {}).get("live") and h not in failed_hosts]
    hosts = [[h, host_compute_free_memory(db, h)] for h in live]
    vms = sorted(set(failed_vms), key=lambda v: db.get("VM", v)["uuid"])
    placement, _ok = binpack([(vm, evacuation_size(db.get("VM", vm))) for vm in vms], hosts)
    out = {}
    for vm in vms:
        if vm in placement:
            out[vm] = {"host": placement[vm]}
        else:
            err = agility_problem(db, vm)
            out[vm] = {"error_code": err.code if err is not None else "HOST_NOT_ENOUGH_FREE_MEMORY"}
    return out


@handler("pool", "ha_prevent_restarts_for")
def pool_ha_prevent_restarts_for(ctx: Context, seconds):
    """xapi_ha.ml Monitor.prevent_restarts_for: no VM restart by the HA monitor before now + seconds (allowed with
    HA off, CA-189075); a value < 1 lifts the block at once."""
    meta = ctx.db.meta.setdefault(HA_META, {})
    meta["prevent_restarts_until"] = ctx.world.clock.elapsed() + max(0, int(seconds))
    ctx.world.clock.advance(0)  # wakes a waiting restart


HA_META = "xapisim:ha"
