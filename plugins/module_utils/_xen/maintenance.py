# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Rolling maintenance of a pool's hosts: the order, the evacuation check, the evacuation, the reboot and the wait
(private to vdc.xenpool).

Before a batch of hosts is touched: xapi's own list of VMs that would prevent each evacuation
(host.get_vms_which_prevent_evacuation) and xapi's bin-packer for all the batch's VMs at once, the batch away
(pool.ha_compute_vm_failover_plan with the batch as failed: with HA on, the restart plan if they failed). The
evacuation disables the batch first, so that no VM lands on a host about to go; with HA on, xapi's host.evacuate
refuses unprotected running VMs (HOST_EVACUATE_VM_NOT_HA_PROTECTED, xapi_host.ml compute_evacuation_plan_no_wlb), so
they are live-migrated here first (VM.pool_migrate). Then host.reboot, which xapi accepts only for a disabled host
(xapi_host.ml prepare_for_poweroff_precheck) and which kills any VM still there (Vm_evacuation.ensure_no_vms), so it
is refused here while a guest runs on the host. The host is back when it is live, every PBD is plugged and its
boot_time (other_config, dbsync_slave.ml) is new.
"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout, wait_until
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenError, XenPlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_all, wait_task
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


def booted_after(state: PoolState, host_ref: str, since: float) -> bool:
    """Whether the host booted after `since` (epoch seconds; other_config boot_time, written by xapi at every start-up,
    dbsync_slave.ml): such a host has had its maintenance already, and a re-run skips it."""
    try:
        boot = float((state.all("host")[host_ref].get("other_config") or {}).get("boot_time") or 0)
    except ValueError:
        return False
    return since > 0 and boot > since


def protected(rec: dict[str, t.Any]) -> bool:
    """xapi's `Helpers.vm_should_always_run`: restart priority `restart` and ha_always_run (set by VM.start)."""
    return rec.get("ha_restart_priority") == "restart" and bool(rec.get("ha_always_run"))


def _away(state: PoolState, host_refs: t.Sequence[str]) -> list[str]:
    """The hosts that take no VM while the batch is maintained: the batch and every other disabled host."""
    return sorted(set(host_refs) | {ref for ref, rec in state.all("host").items() if not rec.get("enabled")})


def check_batch(client: t.Any, state: PoolState, host_refs: t.Sequence[str]) -> dict[str, dict[str, t.Any]]:
    """Whether the hosts can be evacuated together now: host name -> {host, vms, blockers (VM -> reason), moves (VM ->
    host), enabled, ha_enabled}. Blockers are xapi's (host.get_vms_which_prevent_evacuation, one call per host), and
    the VMs xapi's bin-packer cannot place on the hosts that stay in service, all batch hosts away at once
    (pool.ha_compute_vm_failover_plan, one call for the batch: with HA on, the restart plan if they failed).
    HOST_EVACUATE_VM_NOT_HA_PROTECTED is not a blocker: with HA on xapi's host.evacuate leaves the unprotected VMs
    to the caller (xapi_host.ml compute_evacuation_plan_no_wlb), and evacuate_batch live-migrates them itself."""
    pool = state.pool or {}
    out: dict[str, dict[str, t.Any]] = {}
    guests: list[str] = []
    for ref in host_refs:
        on_host = guests_on(state, ref)
        guests += [vm for vm, _rec in on_host]
        blockers = {}
        for vm_ref, reason in (client.call("host.get_vms_which_prevent_evacuation", ref) or {}).items():
            if (reason or [""])[0] != "HOST_EVACUATE_VM_NOT_HA_PROTECTED":
                blockers[state.name_of("VM", vm_ref) or vm_ref] = " ".join(str(p) for p in (reason or []))
        out[state.name_of("host", ref)] = {"host": state.name_of("host", ref), "vms": [rec.get("name_label", "") for _r, rec in on_host],
                                           "blockers": blockers, "moves": {}, "enabled": bool(state.all("host")[ref].get("enabled")),
                                           "ha_enabled": bool(pool.get("ha_enabled"))}
    plan = client.call("pool.ha_compute_vm_failover_plan", _away(state, host_refs), guests) if guests else {}
    for vm_ref, answer in (plan or {}).items():
        rec = state.get("VM", vm_ref) or {}
        check = out.get(state.name_of("host", rec.get("resident_on", "")))
        if check is None:
            continue
        vm_name = rec.get("name_label") or vm_ref
        if answer.get("host"):
            check["moves"][vm_name] = state.name_of("host", answer["host"]) or answer["host"]
        else:
            check["blockers"].setdefault(vm_name, "%s: no room on the hosts that stay in service" % answer.get("error_code", "NO_HOSTS_AVAILABLE"))
    for check in out.values():
        for vm_name in check["vms"]:
            if vm_name not in check["moves"]:
                check["blockers"].setdefault(vm_name, "not placed by xapi's plan")
    return out


def evacuate_batch(client: t.Any, state: PoolState, host_refs: t.Sequence[str], timeout: float) -> dict[str, t.Any]:
    """Disable the hosts, live-migrate their unprotected VMs when HA is on (VM.pool_migrate to the bin-packer's host),
    then host.evacuate each: {left (VM -> host it was on), moved (VM -> host it went to)}. Refused before any write
    when a VM cannot go (check_batch); when xapi refuses half-way the hosts this call disabled are enabled again."""
    checks = check_batch(client, state, host_refs)
    blocked = {n: c["blockers"] for n, c in checks.items() if c["blockers"]}
    if blocked:
        raise cannot_evacuate(blocked)
    left = {rec.get("name_label", ""): state.name_of("host", ref) for ref in host_refs for _vm, rec in guests_on(state, ref)}
    hosts = {rec.get("name_label"): ref for ref, rec in state.all("host").items()}
    disabled: list[str] = []
    try:
        for ref in host_refs:
            if state.all("host")[ref].get("enabled"):
                client.call("host.disable", ref)
                disabled.append(ref)
        if (state.pool or {}).get("ha_enabled"):
            tasks = [client.call_async("VM.pool_migrate", vm, hosts[checks[state.name_of("host", ref)]["moves"][rec.get("name_label")]],
                                       {"live": "true"})
                     for ref in host_refs for vm, rec in guests_on(state, ref) if not protected(rec)]
            wait_all(client, tasks, timeout)
        fresh = read_pool_state(client, ("host", "VM"))
        wait_all(client, [client.call_async("host.evacuate", ref) for ref in host_refs if guests_on(fresh, ref)], timeout)
    except XenError as err:
        for ref in disabled:
            try:
                client.call("host.enable", ref)
            except XenError:
                pass
        names = ", ".join(state.name_of("host", r) for r in host_refs)
        raise XenPlanError(getattr(err, "code", "EVACUATION_FAILED"), "evacuation of %s failed, %s: %s"
                           % (names, "the hosts were enabled again" if disabled else "nothing was disabled", err),
                           hint="Move or shut down the VM named in the error, then run again") from None
    after = read_pool_state(client, ("host", "VM"))
    by_name = {rec.get("name_label"): rec for rec in after.all("VM").values()}
    return {"left": left, "moved": {vm: after.name_of("host", (by_name.get(vm) or {}).get("resident_on", "")) for vm in sorted(left)}}


def cannot_evacuate(blocked: dict[str, dict[str, str]]) -> PlanError:
    """The one refusal for hosts that cannot be emptied, naming every VM and reason."""
    details = "; ".join("%s: %s" % (h, ", ".join("%s (%s)" % kv for kv in sorted(b.items()))) for h, b in sorted(blocked.items()))
    return PlanError("HOST_CANNOT_BE_EVACUATED", details, "Move or shut down those VMs, or free memory on the other hosts, then run again")


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
        out[ref] = {"back": live and plugged and (ref in seen_down or booted != before.get(ref)), "live": live, "pbds_plugged": plugged,
                    "enabled": bool(host.get("enabled"))}
    return out


def reboot_and_wait(client: t.Any, state: PoolState, host_refs: t.Sequence[str], timeout: float,
                    sleep: t.Callable[[float], None] = time.sleep, clock: t.Callable[[], float] = time.monotonic) -> dict[str, t.Any]:
    """Reboot the hosts and wait (bounded) until each is back; name -> {live, pbds_plugged, enabled, seconds}. xapi
    enables a host at start-up unless it was disabled until the next reboot (xapi_host.ml consider_enabling_host)."""
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
                          what="the hosts to come back", timeout=timeout, interval=0.5, max_interval=2.0, sleep=sleep, clock=clock)
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
