# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pool high availability: protection levels, agility, the capacity check and the plan (private to vdc.xenpool).

The failover capacity of a pool is xapi's to compute: `pool.ha_compute_hypothetical_max_host_failures_to_tolerate`
runs the pool's own planner (xapi `xapi_ha_vm_failover.ml`, `compute_restart_plan`) over a map VM -> restart
priority, and is a read. This service asks it about the *desired* protection set before any write, so that a
declaration the pool cannot honour is refused with the shortfall instead of half-applied, and before xapi would
refuse a later change with `HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN`.

Agility (xapi `agility.ml`): a protected VM can restart elsewhere only if every disk lives on a shared SR plugged on
every enabled host and every NIC's network has a PIF on every enabled host. xapi does not refuse `restart` on a
non-agile VM, but such a VM leaves the pool without a plan; the result says which VM and why.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import MIB, to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, is_null, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task

# xapi constants.ml `ha_valid_restart_priorities`; the collection's names for them follow XenCenter's HA screen.
PRIORITIES = {"restart": "restart", "best-effort": "best-effort", "do-not-restart": ""}
LABELS = {"restart": "Protected", "best-effort": "Restart if possible", "": "Do not restart"}
HA_CLASSES = ("pool", "host", "host_metrics", "SR", "PBD", "VM", "VBD", "VDI", "VIF", "network", "PIF")
MIN_TIMEOUT = 10  # xapi_ha.ml: the HA timeout is at least 10 s


def read(client: t.Any) -> PoolState:
    return read_pool_state(client, HA_CLASSES)


def guests(state: PoolState) -> dict[str, dict[str, t.Any]]:
    """ref -> record of the VMs HA can protect: not templates, snapshots or control domains."""
    return {ref: vm for ref, vm in state.all("VM").items()
            if not vm.get("is_a_template") and not vm.get("is_a_snapshot") and not vm.get("is_control_domain")}


def enabled_hosts(state: PoolState) -> dict[str, dict[str, t.Any]]:
    return {ref: h for ref, h in state.all("host").items() if h.get("enabled")}


def agility(state: PoolState, vm: dict[str, t.Any]) -> list[str]:
    """Why a VM cannot restart on another host (empty when it is agile), in agility.ml's terms."""
    return agility_check(state)(vm)


def agility_check(state: PoolState) -> t.Callable[[dict[str, t.Any]], list[str]]:
    """agility() for every VM of one read: whether each SR and network reaches every enabled host is worked out
    once per SR and network, not once per disk and NIC, so that 2,000 VMs cost a pass over their devices."""
    hosts = set(enabled_hosts(state))
    srs: dict[t.Any, bool] = {}
    networks: dict[t.Any, bool] = {}

    def sr_everywhere(ref: t.Any, sr: dict[str, t.Any]) -> bool:
        if ref not in srs:
            plugged = {(state.get("PBD", p) or {}).get("host") for p in sr.get("PBDs", [])
                       if (state.get("PBD", p) or {}).get("currently_attached")}
            srs[ref] = bool(sr.get("shared")) and hosts <= plugged
        return srs[ref]

    def network_everywhere(ref: t.Any, net: dict[str, t.Any]) -> bool:
        if ref not in networks:
            networks[ref] = hosts <= {(state.get("PIF", p) or {}).get("host") for p in net.get("PIFs", [])}
        return networks[ref]

    def check(vm: dict[str, t.Any]) -> list[str]:
        reasons = []
        for vbd_ref in vm.get("VBDs", []):
            vbd = state.get("VBD", vbd_ref) or {}
            vdi = state.get("VDI", vbd.get("VDI"))
            if vbd.get("empty") or vdi is None:
                continue
            sr = state.get("SR", vdi.get("SR")) or {}
            if not sr_everywhere(vdi.get("SR"), sr):
                reasons.append("disk '%s' is on SR '%s', which is not shared and plugged on every host"
                               % (vdi.get("name_label"), sr.get("name_label")))
        for vif_ref in vm.get("VIFs", []):
            net_ref = (state.get("VIF", vif_ref) or {}).get("network")
            net = state.get("network", net_ref) or {}
            if not network_everywhere(net_ref, net):
                reasons.append("network '%s' is not on every host" % net.get("name_label"))
        return reasons

    return check


def protection_view(state: PoolState) -> list[dict[str, t.Any]]:
    """The talk's HA screen as data: one row per VM, sorted by name."""
    rows = []
    agility_of = agility_check(state)
    for vm in guests(state).values():
        priority = vm.get("ha_restart_priority") or ""
        reasons = agility_of(vm)
        rows.append({"name": vm.get("name_label"), "uuid": vm.get("uuid"), "restart_priority": _user_priority(priority),
                     "protection": LABELS.get(priority, priority), "order": to_int(vm.get("order"), 0),
                     "start_delay": to_int(vm.get("start_delay"), 0), "agile": not reasons, "not_agile_because": reasons,
                     "memory_mib": to_int(vm.get("memory_static_max"), 0) // MIB, "power_state": vm.get("power_state")})
    return sorted(rows, key=lambda r: (str(r["name"]), str(r["uuid"])))


def _user_priority(priority: str) -> str:
    return next((k for k, v in PRIORITIES.items() if v == priority), priority)


def view(state: PoolState, max_failures: int | None = None) -> dict[str, t.Any]:
    pool = state.pool or {}
    statefile_srs = sorted({state.name_of("SR", (state.get("VDI", v) or {}).get("SR")) or "" for v in pool.get("ha_statefiles", [])
                            if state.get("VDI", v)} - {""})
    result = {
        "enabled": bool(pool.get("ha_enabled")),
        "heartbeat_srs": statefile_srs,
        "host_failures_to_tolerate": to_int(pool.get("ha_host_failures_to_tolerate"), 0),
        "plan_exists_for": to_int(pool.get("ha_plan_exists_for"), 0),
        "overcommitted": bool(pool.get("ha_overcommitted")),
        "allow_overcommit": bool(pool.get("ha_allow_overcommit")),
        "timeout": to_int((pool.get("ha_configuration") or {}).get("timeout")),
        "vms": protection_view(state),
    }
    if max_failures is not None:
        result["max_host_failures_to_tolerate"] = max_failures
        result["summary"] = ("the number of server failures that could be tolerated in this pool given these HA "
                             "protection levels is %d" % max_failures)
    return result


def resolve_protection(state: PoolState, declared: list[dict[str, t.Any]] | None) -> dict[str, dict[str, t.Any]]:
    """VM ref -> declared protection; every name must name exactly one VM of the pool."""
    found: dict[str, dict[str, t.Any]] = {}
    vms = guests(state)
    for item in declared or []:
        name = item["name"]
        refs = [ref for ref, vm in vms.items() if vm.get("name_label") == name or vm.get("uuid") == name]
        if not refs:
            raise PlanError("VM_NOT_FOUND", "no VM named '%s' in the pool" % name,
                            "Declare protection only for VMs that exist (create them first, or fix the name)")
        if len(refs) > 1:
            raise PlanError("VM_NAME_AMBIGUOUS", "%d VMs are named '%s'" % (len(refs), name),
                            "Give the VM's uuid instead of its name")
        found[refs[0]] = item
    return found


def hypothetical(state: PoolState, declared: dict[str, dict[str, t.Any]]) -> dict[str, str]:
    """The pool's protection map after the declaration: VM ref -> xapi priority string."""
    config = {ref: vm.get("ha_restart_priority") or "" for ref, vm in guests(state).items()}
    for ref, item in declared.items():
        if item.get("restart_priority") is not None:
            config[ref] = PRIORITIES[item["restart_priority"]]
    return config


def shortfall(state: PoolState, config: dict[str, str], wanted: int, possible: int) -> str:
    """Name the protected VMs, their memory, the hosts and their free memory: what an operator needs to decide."""
    protected = sorted((state.get("VM", ref) or {}).get("name_label", ref) + " (%d MiB)" % (
        to_int((state.get("VM", ref) or {}).get("memory_static_max"), 0) // MIB) for ref, p in config.items() if p == "restart")
    hosts = []
    for ref, host in sorted(state.all("host").items(), key=lambda kv: kv[1].get("name_label", "")):
        metrics = state.get("host_metrics", host.get("metrics")) or {}
        hosts.append("%s (%d MiB free)" % (host.get("name_label"), to_int(metrics.get("memory_free"), 0) // MIB))
    return ("%d host failure(s) requested but the pool can tolerate %d with %d protected VM(s): %s; hosts: %s"
            % (wanted, possible, len(protected), ", ".join(protected) or "none", ", ".join(hosts)))


def heartbeat_refs(state: PoolState, names: list[str], notes: list[str] | None = None) -> list[str]:
    """SR refs of the heartbeat SRs, each shared and plugged on every host (xha_statefile.ml's conditions)."""
    refs = []
    for name in names:
        matches = state.by_name("SR", name) or ([state.by_uuid("SR", name)] if state.by_uuid("SR", name) else [])
        if not matches and notes is not None:
            notes.append("heartbeat SR '%s' does not exist yet (the storage step creates it); HA would be enabled on it" % name)
            continue
        if len(matches) != 1:
            raise PlanError("SR_NOT_FOUND" if not matches else "SR_NAME_AMBIGUOUS",
                            "heartbeat SR '%s' matches %d SRs" % (name, len(matches)),
                            "Create the heartbeat SR first (role vdc.xenpool.ha does) or give its uuid")
        ref, sr = matches[0]
        plugged = {(state.get("PBD", p) or {}).get("host") for p in sr.get("PBDs", [])
                   if (state.get("PBD", p) or {}).get("currently_attached")}
        missing = sorted(h.get("name_label", r) for r, h in state.all("host").items() if r not in plugged)
        if not sr.get("shared") or missing:
            raise PlanError("SR_HAS_NO_PBDS", "heartbeat SR '%s' is not shared and plugged on every host (missing: %s)"
                            % (name, ", ".join(missing) or "none; the SR is not shared"),
                            "Attach the SR on every host of the pool (role vdc.xenpool.san_storage)")
        refs.append(ref)
    return refs


def validate(state: PoolState, desired: dict[str, t.Any], notes: list[str] | None = None) -> None:
    """Refuse bad input; with `notes` (check mode) what depends on hosts not joined yet is noted, not refused."""
    hosts = len(state.all("host"))
    failures = desired.get("host_failures_to_tolerate")
    if failures is not None and failures >= max(hosts, 1) and failures >= 0 and notes is not None:
        notes.append("the pool has %d host(s) now; %d failure(s) to tolerate can only be checked once its members have joined"
                     % (hosts, failures))
    elif failures is not None and not 0 <= failures < max(hosts, 1):
        raise PlanError("INVALID_VALUE", "host_failures_to_tolerate %d with %d host(s) in the pool" % (failures, hosts),
                        "Use a value from 0 to %d (the pool must keep at least one host)" % max(hosts - 1, 0))
    timeout = desired.get("timeout")
    if timeout is not None and timeout < MIN_TIMEOUT:
        raise PlanError("INVALID_VALUE", "timeout %d s" % timeout, "xapi needs an HA timeout of at least %d s" % MIN_TIMEOUT)
    if desired["state"] == "enabled" and not desired.get("heartbeat_srs") and not (state.pool or {}).get("ha_enabled"):
        raise PlanError("MISSING_HEARTBEAT_SR", "no heartbeat SR given", "Name a shared SR in heartbeat_srs")


def managed(state: PoolState, declared: dict[str, dict[str, t.Any]]) -> dict[str, t.Any]:
    """The fields the module manages, for --diff: the pool's HA settings and the declared VMs' protection."""
    full = view(state)
    rows = {}
    for ref in declared:
        vm = state.get("VM", ref) or {}
        rows[vm.get("name_label", ref)] = {"restart_priority": _user_priority(vm.get("ha_restart_priority") or ""),
                                           "order": to_int(vm.get("order"), 0), "start_delay": to_int(vm.get("start_delay"), 0)}
    keys = ("enabled", "heartbeat_srs", "host_failures_to_tolerate", "allow_overcommit", "timeout")
    return dict({k: full[k] for k in keys}, vms=rows)


StepArgs = t.Tuple[str, str, str, str, t.List[t.Any]]


def _protection_steps(state: PoolState, declared: dict[str, dict[str, t.Any]],
                      after: dict[str, t.Any]) -> tuple[list[StepArgs], list[StepArgs]]:
    """Lower protections first (they free capacity), raise them last, as xapi checks the plan on each call."""
    lowering, raising = [], []
    for ref, item in declared.items():
        vm = state.get("VM", ref) or {}
        name = vm.get("name_label", ref)
        row = after["vms"][name]
        want = item.get("restart_priority")
        if want is not None and PRIORITIES[want] != (vm.get("ha_restart_priority") or ""):
            bucket = raising if want == "restart" else lowering
            bucket.append(("set protection", name, "%s -> %s" % (row["restart_priority"], want),
                           "VM.set_ha_restart_priority", [ref, PRIORITIES[want]]))
            row["restart_priority"] = want
        for field, call in (("order", "VM.set_order"), ("start_delay", "VM.set_start_delay")):
            if item.get(field) is not None and item[field] != row[field]:
                lowering.append(("set %s" % field.replace("_", " "), name, "%s -> %s" % (row[field], item[field]),
                                 call, [ref, str(item[field])]))
                row[field] = item[field]
    return lowering, raising


def plan(client: t.Any, state: PoolState, desired: dict[str, t.Any], predict: bool = False) -> tuple[Plan, int | None]:
    """(plan, the pool's max tolerable failures under the desired protection, when HA is to be on).

    With `predict` (check mode), objects that earlier steps of a run create (the heartbeat SR, pool members) may be
    missing: the plan then notes what it cannot know yet instead of refusing, and the real run checks it."""
    notes: list[str] = []
    validate(state, desired, notes if predict else None)
    declared = resolve_protection(state, desired.get("vms"))
    pool_ref, pool = state.pool_ref, state.pool or {}
    before = managed(state, declared)
    after = {k: (dict(v) if k == "vms" else v) for k, v in before.items()}
    after["vms"] = {name: dict(row) for name, row in before["vms"].items()}
    result = Plan(before=before, after=after)
    result.notes = notes
    lowering, raising = _protection_steps(state, declared, after)
    if desired["state"] == "disabled":
        for action, name, detail, call, args in lowering + raising:
            result.add(action, name, detail, call=call, args=args)
        if pool.get("ha_enabled"):
            result.add("disable HA", pool.get("name_label", ""), call="pool.disable_ha", args=[], run_async=True)
            after["enabled"] = False
        return result, None
    config = hypothetical(state, declared)
    possible = to_int(client.call("pool.ha_compute_hypothetical_max_host_failures_to_tolerate", config), 0)
    wanted = desired.get("host_failures_to_tolerate")
    wanted = before["host_failures_to_tolerate"] if wanted is None else wanted
    overcommit = desired.get("allow_overcommit")
    if wanted > possible and notes:
        notes.append("the pool can tolerate %d failure(s) now; the capacity is checked again when the run applies" % possible)
    elif wanted > possible and not (overcommit if overcommit is not None else before["allow_overcommit"]):
        raise PlanError("HA_CAPACITY_SHORTFALL", shortfall(state, config, wanted, possible),
                        "Lower host_failures_to_tolerate, protect fewer VMs (restart_priority: best-effort), add hosts or "
                        "memory, or set allow_overcommit: true")
    if overcommit is not None and overcommit != before["allow_overcommit"]:
        result.add("set allow_overcommit", pool.get("name_label", ""), overcommit, call="pool.set_ha_allow_overcommit",
                   args=[pool_ref, overcommit])
        after["allow_overcommit"] = overcommit
    srs = desired.get("heartbeat_srs")
    sr_refs = heartbeat_refs(state, srs, notes if predict else None) if srs else None
    timeout = desired.get("timeout")
    reconfigure = pool.get("ha_enabled") and (
        (srs is not None and sorted(srs) != before["heartbeat_srs"]) or (timeout is not None and timeout != before["timeout"]))
    for action, name, detail, call, args in lowering:
        result.add(action, name, detail, call=call, args=args)
    if reconfigure:
        result.add("disable HA to change its heartbeat SR or timeout", pool.get("name_label", ""), call="pool.disable_ha",
                   args=[], run_async=True)
    if not pool.get("ha_enabled") or reconfigure:
        configuration = {"timeout": str(timeout)} if timeout is not None else {}
        result.add("enable HA", pool.get("name_label", ""), {"heartbeat_srs": srs, "timeout": timeout},
                   call="pool.enable_ha", args=[sr_refs or [], configuration], run_async=True)
        after.update(enabled=True, heartbeat_srs=sorted(srs or before["heartbeat_srs"]),
                     timeout=timeout if timeout is not None else before["timeout"])
    if wanted != before["host_failures_to_tolerate"]:
        result.add("set host failures to tolerate", pool.get("name_label", ""), "%d -> %d" % (before["host_failures_to_tolerate"], wanted),
                   call="pool.set_ha_host_failures_to_tolerate", args=[pool_ref, str(wanted)])
        after["host_failures_to_tolerate"] = wanted
    for action, name, detail, call, args in raising:
        result.add(action, name, detail, call=call, args=args)
    return result, possible


def apply(client: t.Any, the_plan: Plan, wait: bool = True, timeout: float = 600) -> list[str]:
    """Run the steps in order; with wait false only a final Async step (enable/disable) is left running.

    Returns the refs of the tasks not waited for, so that the caller can report them."""
    pending = []
    for index, step in enumerate(the_plan.steps):
        if not step.get("run_async"):
            client.call(step["call"], *step["args"])
            continue
        task = client.call_async(step["call"], *step["args"])
        if wait or index < len(the_plan.steps) - 1:
            wait_task(client, task, timeout=timeout)
        else:
            pending.append(task)
    return pending


def current_capacity(client: t.Any, state: PoolState) -> int:
    """The pool's max tolerable failures for its current protection levels (a read; compute_max also writes flags)."""
    if is_null(state.pool_ref):
        return 0
    return to_int(client.call("pool.ha_compute_hypothetical_max_host_failures_to_tolerate", hypothetical(state, {})), 0)


def guard_protection_changes(client: t.Any, state: PoolState, plans: t.Iterable[tuple[str | None, Plan]]) -> None:
    """Refuse, before any write, VM protection changes that would break the pool's failover plan.

    xapi refuses `VM.set_ha_restart_priority` to `restart` on a VM that is not halted when HA is on, overcommit is not
    allowed and a plan exists now but none would after (`xapi_vm.ml`, `message_forwarding.ml`
    `check_vm_preserves_ha_plan`). The VM modules ask the same planner about all their protection changes at once, so
    that a fleet is refused as a whole instead of failing half-way.
    """
    pool = state.pool or {}
    if not pool.get("ha_enabled") or pool.get("ha_allow_overcommit"):
        return
    changes: dict[str, str] = {}
    for ref, plan in plans:
        for step in plan.steps:
            if ref and step.get("method") == "VM.set_ha_restart_priority":
                changes[ref] = str(step["args"][-1])
    raising = [ref for ref, value in changes.items()
               if value == "restart" and (state.get("VM", ref) or {}).get("power_state") != "Halted"]
    if not raising:
        return
    config = hypothetical(state, {})
    config.update(changes)
    wanted = to_int(pool.get("ha_host_failures_to_tolerate"), 0)
    now = to_int(pool.get("ha_plan_exists_for"), 0)
    possible = to_int(client.call("pool.ha_compute_hypothetical_max_host_failures_to_tolerate", config), 0)
    if possible < wanted and now >= min(wanted, 1):
        raise PlanError("HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN", shortfall(state, config, wanted, possible),
                        "Protect fewer VMs (ha_restart_priority: best-effort), lower host_failures_to_tolerate or add "
                        "capacity with vdc.xenpool.ha, or set allow_overcommit there (nothing was changed)")
