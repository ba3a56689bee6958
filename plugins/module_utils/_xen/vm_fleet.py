# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A pool's whole declared VM list: one read, one plan per VM, bounded parallel apply (private to vdc.xenpool).

Every plan is made, and every refusal raised, before the first write: a fleet half-converged
because VM 57 had a typo is worse than a clear error. Apply then runs up to `max_parallel` VMs at a
time, each through its own XenAPI session (a session is one HTTP connection and not thread-safe),
and reports every VM's outcome, failures included.
"""

from __future__ import annotations

import concurrent.futures
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError, PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import PENDING_PREFIX, is_listed, is_managed, is_pending, pending_vms
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_apply import VmApplier, marker_for
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_plan import destroy_step, plan_vm


class FleetPlan:
    """One plan per declared VM, plus the prune plans of managed VMs no longer declared."""

    def __init__(self) -> None:
        self.items: list[tuple[str, dict[str, t.Any] | None, Plan]] = []

    @property
    def changed(self) -> bool:
        return any(plan.changed for _name, _want, plan in self.items)


def plan_fleet(state: PoolState, wanted: list[dict[str, t.Any]], prune: bool = False,
               destroy_disks: bool = False) -> FleetPlan:
    """Plans for every VM; a refusal names the VM and stops everything before any write."""
    names = [w["name"] for w in wanted]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PlanError("DUPLICATE_NAME", "declared more than once: %s" % ", ".join(dupes),
                        "Each VM of a pool needs its own name")
    macs = [n["mac"] for w in wanted for n in (w.get("nics") or []) if n.get("mac")]
    mac_dupes = sorted({m for m in macs if macs.count(m) > 1})
    if mac_dupes:
        raise PlanError("MAC_IN_USE", "MAC declared for more than one NIC: %s" % ", ".join(mac_dupes), "Give each NIC its own MAC")
    fleet = FleetPlan()
    marker = marker_for(state)
    for want in wanted:
        try:
            fleet.items.append((want["name"], want, plan_vm(state, want, marker)))
        except PlanError as err:
            if "'%s'" % want["name"] in err.message:
                raise
            raise PlanError(err.code, "VM '%s': %s" % (want["name"], err.message), err.hint) from None
    if prune:
        _prune_pending(state, fleet, set(names))
        declared = set(names) | {w.get("uuid") for w in wanted if w.get("uuid")}
        for ref, rec in sorted(state.all("VM").items(), key=lambda item: item[1].get("name_label", "")):
            if is_pending(rec) or not is_listed(rec) or not is_managed(rec):
                continue
            if rec.get("name_label") in declared or rec.get("uuid") in declared:
                continue
            plan = Plan(before={"name": rec.get("name_label"), "uuid": rec.get("uuid")}, after={})
            destroy_step(state, plan, ref, destroy_disks)
            plan.ref = ref  # type: ignore[attr-defined]
            fleet.items.append((rec.get("name_label", ""), None, plan))
    return fleet


def _prune_pending(state: PoolState, fleet: FleetPlan, names: set[str]) -> None:
    """Unfinished creations of VMs no longer declared: nobody will finish them, so prune cleans them up."""
    for ref, rec in pending_vms(state):
        name = str(rec.get("name_label", ""))[len(PENDING_PREFIX):]
        if name in names:
            continue  # that VM's own plan cleans it up first
        plan = Plan(before={"name": rec.get("name_label"), "uuid": rec.get("uuid")}, after={})
        plan.add("clean up", "unfinished creation", rec.get("uuid"), op="cleanup_pending", ref=ref, destructive=True)
        plan.ref = None  # type: ignore[attr-defined]
        fleet.items.append((rec.get("name_label", ""), None, plan))


def apply_fleet(new_client: t.Callable[[], t.Any], state: PoolState, fleet: FleetPlan, max_parallel: int = 4,
                timeout: float = 600) -> list[dict[str, t.Any]]:
    """Apply the changed plans, up to max_parallel at a time; [{name, after, error}] in declaration order."""
    jobs = [(name, want, plan) for name, want, plan in fleet.items if plan.changed]
    outcomes: dict[int, dict[str, t.Any]] = {}

    def one(name: str, want: dict[str, t.Any] | None, plan: Plan) -> dict[str, t.Any]:
        client = new_client()
        try:
            client.login()
            applier = VmApplier(client, state, timeout=timeout)
            after = applier.apply(plan, getattr(plan, "ref", None), wait_for_ip=bool(want and want.get("wait_for_ip")))
            return {"name": name, "after": after, "error": None}
        except CollectionError as err:
            return {"name": name, "after": None, "error": err}
        finally:
            client.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, max_parallel)) as pool:
        futures = {pool.submit(one, *job): index for index, job in enumerate(jobs)}
        for future in concurrent.futures.as_completed(futures):
            outcomes[futures[future]] = future.result()
    return [outcomes[i] for i in range(len(jobs))]
