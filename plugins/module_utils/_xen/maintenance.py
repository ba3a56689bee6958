# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rolling maintenance of a pool's hosts: the order, the evacuation check, the reboot and the wait (private to vdc.xenpool).

Disabling and evacuating a host is the `host` module's maintenance state; what this service adds is what
comes around it. Before a host is touched: xapi's own list of VMs that would prevent the evacuation
(host.get_vms_which_prevent_evacuation) and, with HA on, whether the failover plan still holds without the
host (pool.ha_compute_vm_failover_plan with the host as failed). Then host.reboot, which xapi accepts only
for a disabled host (xapi_host.ml prepare_for_poweroff_precheck) and which kills any VM still there
(Vm_evacuation.ensure_no_vms), so it is refused here while a guest runs on the host. The host is back when
it is live, every PBD is plugged and its boot_time (other_config, dbsync_slave.ml) is new.
"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout, wait_until
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import kind

MAINTENANCE_CLASSES: tuple[str, ...] = ("pool", "host", "host_metrics", "PBD", "SR", "VM")
LIVE_STATES = ("running", "paused")


def order(state: PoolState, names: t.Sequence[str] | None = None) -> list[str]:
    """Host refs in maintenance order: the members by name, the master last (the pool keeps its master while the
    others reboot, and a member already rebooted is there to take the master's VMs). Unknown names are an error."""
    hosts = state.all("host")
    by_name = {rec.get("name_label"): ref for ref, rec in hosts.items()}
    wanted = list(names) if names else sorted(by_name)
    unknown = [n for n in wanted if n not in by_name]
    if unknown:
        raise PlanError("HOST_NOT_FOUND", "no host %s in the pool" % ", ".join("'%s'" % n for n in unknown),
                        "Check the host names (name labels, matched exactly)")
    master = state.master_ref
    refs = [by_name[n] for n in wanted]
    return sorted(refs, key=lambda r: (r == master, hosts[r].get("name_label", "")))


def guests_on(state: PoolState, host_ref: str) -> list[tuple[str, dict[str, t.Any]]]:
    """The guests running (or paused) on a host; the control domain is not one."""
    return sorted(((ref, rec) for ref, rec in state.all("VM").items()
                   if rec.get("resident_on") == host_ref and kind(rec) == "vm" and str(rec.get("power_state", "")).lower() in LIVE_STATES),
                  key=lambda item: item[1].get("name_label", ""))


def check_host(client: t.Any, state: PoolState, host_ref: str) -> dict[str, t.Any]:
    """Whether the host can be evacuated now: {host, vms, blockers (VM -> xapi's reason), moves (VM -> host, from the
    HA plan when HA is on)}. Two calls at most, whatever the number of VMs."""
    name = state.name_of("host", host_ref)
    guests = guests_on(state, host_ref)
    blockers: dict[str, str] = {}
    for vm_ref, reason in (client.call("host.get_vms_which_prevent_evacuation", host_ref) or {}).items():
        blockers[state.name_of("VM", vm_ref) or vm_ref] = " ".join(str(p) for p in (reason or []))
    moves: dict[str, str] = {}
    pool = state.pool or {}
    protected = [ref for ref, rec in guests if rec.get("ha_restart_priority") == "restart"]
    if pool.get("ha_enabled") and protected:
        plan = client.call("pool.ha_compute_vm_failover_plan", [host_ref], protected) or {}
        for vm_ref, answer in plan.items():
            vm_name = state.name_of("VM", vm_ref) or vm_ref
            if answer.get("error_code"):
                blockers.setdefault(vm_name, "HA failover plan: %s" % answer["error_code"])
            elif answer.get("host"):
                moves[vm_name] = state.name_of("host", answer["host"]) or answer["host"]
    return {"host": name, "vms": [rec.get("name_label", "") for _r, rec in guests], "blockers": blockers, "moves": moves,
            "enabled": bool(state.all("host")[host_ref].get("enabled")), "ha_enabled": bool(pool.get("ha_enabled"))}


def reboot_problems(state: PoolState, host_refs: t.Sequence[str]) -> list[str]:
    """Why these hosts may not be rebooted now (empty when they may): enabled, or guests still on them."""
    problems = []
    for ref in host_refs:
        name = state.name_of("host", ref)
        if state.all("host")[ref].get("enabled"):
            problems.append("host '%s' is enabled (HOST_NOT_DISABLED)" % name)
        guests = [rec.get("name_label", "") for _r, rec in guests_on(state, ref)]
        if guests:
            problems.append("host '%s' still runs %s; a reboot would kill them" % (name, ", ".join(guests)))
    return problems


def _progress(client: t.Any, refs: t.Sequence[str], before: dict[str, str], seen_down: set[str]) -> dict[str, dict[str, t.Any]]:
    """One round: for each host, whether it is back (live, new boot_time or seen down, all PBDs plugged).
    A host (or a master) that does not answer is down; that is expected, not an error."""
    try:
        state = read_pool_state(client, ("host", "host_metrics", "PBD"))
    except XenError:
        seen_down.update(refs)
        return {ref: {"back": False} for ref in refs}
    out = {}
    for ref in refs:
        host = state.get("host", ref) or {}
        live = bool((state.get("host_metrics", host.get("metrics")) or {}).get("live"))
        if not live:
            seen_down.add(ref)
        booted = (host.get("other_config") or {}).get("boot_time", "")
        plugged = all((state.get("PBD", p) or {}).get("currently_attached") for p in host.get("PBDs") or [])
        out[ref] = {"back": live and plugged and (ref in seen_down or booted != before.get(ref)), "live": live, "pbds_plugged": plugged}
    return out


def reboot_and_wait(client: t.Any, state: PoolState, host_refs: t.Sequence[str], timeout: float,
                    sleep: t.Callable[[float], None] = time.sleep, clock: t.Callable[[], float] = time.monotonic) -> dict[str, t.Any]:
    """Reboot the hosts and wait (bounded) until each is back; name -> {live, pbds_plugged, seconds}."""
    problems = reboot_problems(state, host_refs)
    if problems:
        raise PlanError("HOST_NOT_EVACUATED", "; ".join(problems), "Put the host in maintenance first (vdc.xenpool.host state: maintenance)")
    before = {ref: (state.all("host")[ref].get("other_config") or {}).get("boot_time", "") for ref in host_refs}
    started = clock()
    for ref in host_refs:
        client.call("host.reboot", ref)
    seen_down: set[str] = set()
    try:
        last = wait_until(lambda: _progress(client, host_refs, before, seen_down), lambda rounds: all(r["back"] for r in rounds.values()),
                          what="the hosts to come back", timeout=timeout, interval=1.0, max_interval=2.0, sleep=sleep, clock=clock)
    except WaitTimeout:
        last = _progress(client, host_refs, before, seen_down)
        late = [state.name_of("host", r) for r in host_refs if not last[r]["back"]]
        raise PlanError("HOST_REBOOT_TIMEOUT", "%s not back (live with every PBD plugged) after %ds" % (", ".join(late), int(timeout)),
                        "Look at the host's console; raise wait_timeout if it only boots slowly") from None
    seconds = round(clock() - started, 1)
    return {state.name_of("host", r): dict(last[r], seconds=seconds) for r in host_refs}


def migrate_back(client: t.Any, state: PoolState, moves: dict[str, str], timeout: float) -> dict[str, str]:
    """Live-migrate VMs (name -> host name) with VM.pool_migrate, one after the other; a VM already there is skipped."""
    hosts = {rec.get("name_label"): ref for ref, rec in state.all("host").items()}
    vms = {rec.get("name_label"): (ref, rec) for ref, rec in state.all("VM").items() if kind(rec) == "vm"}
    moved = {}
    for vm_name, host_name in sorted(moves.items()):
        if vm_name not in vms or host_name not in hosts:
            continue
        ref, rec = vms[vm_name]
        if rec.get("resident_on") == hosts[host_name] or str(rec.get("power_state", "")).lower() != "running":
            continue
        wait_task(client, client.call("Async.VM.pool_migrate", ref, hosts[host_name], {"live": "true"}), timeout)
        moved[vm_name] = host_name
    return moved
