# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Every network of a pool in one run: one read, one plan per network, applied in order (private to vdc.xenpool).

A pool's networks depend on each other (a VLAN on the bond network declared beside it), and a run per
network reads the whole pool each time: six networks cost six logins and six reads for a no-op. Here the
pool is read once, every declaration is planned (and every refusal raised) before the first write, and
only when a write happened is the pool read again before the next network's plan, because that plan
may rest on what the write created (the bond's interface that carries the VLAN).
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network as netsvc
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState


class FleetItem:
    """One declared network, its plan and, once applied, the network's ref."""

    def __init__(self, desired: dict[str, t.Any], plan: netsvc.NetworkPlan) -> None:
        self.desired = desired
        self.plan = plan
        self.net: str | None = plan.net
        self.applied = False

    @property
    def name(self) -> str:
        return str(self.desired["name"])


def order(wanted: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Networks that carry other networks' VLANs first (in the order given), then those VLANs."""
    names = {w["name"] for w in wanted}
    carried = [w for w in wanted if w.get("parent_network") in names]
    return [w for w in wanted if w not in carried] + carried


def plan_one(state: PoolState, want: dict[str, t.Any], pending_parent: bool) -> netsvc.NetworkPlan:
    """One network's plan, its refusals named after the network."""
    try:
        return netsvc.plan(state, want, want.get("purge_other_config") or False, want.get("allow_management_interface") or False,
                           pending_parent=pending_parent)
    except netsvc.NetworkError as err:
        raise netsvc.NetworkError(err.code, "network '%s': %s" % (want["name"], err.message), hint=err.hint) from None


def plan_fleet(state: PoolState, wanted: list[dict[str, t.Any]], pending: bool = False) -> list[FleetItem]:
    """A plan per declared network; NetworkError / InputError for the first impossible one, before any write.

    pending: check mode, where every parent network missing from the pool is taken as created earlier in
    the run. Otherwise only a parent declared in the same list is (the real run re-plans once it exists).
    """
    names = [w["name"] for w in wanted]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise netsvc.NetworkError("DUPLICATE_NAME", "declared more than once: %s" % ", ".join(dupes),
                                  hint="Declare each network once, with its VLAN or bond and its ip_configuration together")
    return [FleetItem(want, plan_one(state, want, pending or want.get("parent_network") in names)) for want in order(wanted)]


def apply_fleet(client: t.Any, items: list[FleetItem]) -> bool:
    """Apply the changed plans in order; once something was written, each next changed network is planned again
    from a fresh read (its plan may rest on what was just created). True when anything was written."""
    wrote = False
    for item in items:
        if not item.plan.changed:
            continue
        if wrote:
            item.plan = plan_one(netsvc.read(client), item.desired, False)
            if not item.plan.changed:
                continue
        try:
            item.net = netsvc.apply(client, item.plan)
        except netsvc.NetworkError as err:
            raise netsvc.NetworkError(err.code, "network '%s': %s" % (item.name, err.message), hint=err.hint) from None
        item.applied = wrote = True
    return wrote


def view(state: PoolState, item: FleetItem) -> dict[str, t.Any]:
    """The network in the pool as read after the writes."""
    if item.plan.destroy:
        return {"state": "absent"}
    return netsvc.view(state, item.net if item.net is not None else netsvc.find_network(state, item.name))
