# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Whether a proposed placement keeps the pool's HA failover plan (private to vdc.xenpool).

`pool.ha_compute_hypothetical_max_host_failures_to_tolerate` takes protection levels, not placements: it plans over
where the VMs run now. A balancing move changes where they run, and xapi refuses a migration that would leave no
plan for `ha_host_failures_to_tolerate` failures (`message_forwarding.ml` `check_vm_preserves_ha_plan`), so the
planner asks the same question of each proposed placement itself, the way xapi's planner does (`binpack.ml`):
every ordered combination of r host failures when there are few (`bin_pack_every_combination`, under 3,500
orderings in pools of at most 32 hosts), else the conservative worst case of `approximate_bin_pack` (every failed
VM as big as the biggest, the hosts with most protected VMs fail, the roomiest hosts are gone). Failed VMs are
placed biggest first on the host with most free memory (`biggest_fit_decreasing`).
"""

from __future__ import annotations

import itertools
import math
import typing as t

EXHAUSTIVE_LIMIT = 3500
EXHAUSTIVE_MAX_HOSTS = 32


def biggest_fit_decreasing(sizes: dict[str, int], free: dict[str, int]) -> dict[str, int] | None:
    """Free memory per host after packing the VMs, or None when one does not fit."""
    left = dict(free)
    for vm in sorted(sizes, key=lambda v: (-sizes[v], v)):
        if not left:
            return None
        host = max(sorted(left), key=lambda h: left[h])
        if left[host] < sizes[vm]:
            return None
        left[host] -= sizes[vm]
    return left


def _survives(order: t.Sequence[str], free: dict[str, int], placement: dict[str, str], sizes: dict[str, int]) -> bool:
    """Fail the hosts one after the other; each time the failed host's protected VMs must fit on the others."""
    free = dict(free)
    placement = dict(placement)
    for dead in order:
        free.pop(dead, None)
        failed = {vm: sizes[vm] for vm, host in placement.items() if host == dead}
        packed = biggest_fit_decreasing(failed, free) if failed else free
        if packed is None:
            return False
        for vm in failed:  # where they went does not matter to what is left: only the free memory does
            placement[vm] = ""
        free = packed
    return True


def plan_exists(free: dict[str, int], placement: dict[str, str], sizes: dict[str, int], failures: int, total_hosts: int) -> bool:
    """xapi's plan_always_possible for `failures` host failures; free is per live host, placement per protected VM."""
    if failures <= 0:
        return True
    hosts = sorted(free)
    if len(hosts) < failures or (len(hosts) == failures and sizes):
        return False
    if not sizes:
        return True
    if total_hosts <= EXHAUSTIVE_MAX_HOSTS and math.comb(total_hosts, failures) * math.factorial(failures) < EXHAUSTIVE_LIMIT:
        return all(_survives(order, free, placement, sizes) for combo in itertools.combinations(hosts, failures)
                   for order in itertools.permutations(combo))
    biggest = max(sizes.values())
    slots = sorted((free[h] // biggest if biggest else 0 for h in hosts), reverse=True)
    counts = sorted((sum(1 for host in placement.values() if host == h) for h in hosts), reverse=True)
    return sum(counts[:failures]) <= sum(slots[failures:])


class FailoverCheck:
    """Guards each move with the pool's HA plan, when HA is on, overcommit is not allowed and a plan exists now.

    Whether a plan exists now is xapi's answer (`capacity_now`, from one
    `pool.ha_compute_hypothetical_max_host_failures_to_tolerate` call) when the reader asked it; each move is then
    checked here, since that call cannot be asked about a placement.
    """

    def __init__(self, ha: dict[str, t.Any], balancer: t.Any) -> None:
        self.balancer = balancer
        self.failures = int(ha.get("host_failures_to_tolerate") or 0)
        self.notes: list[str] = []
        self.active = bool(ha.get("enabled")) and not ha.get("allow_overcommit") and self.failures > 0
        # xapi's own count for the placement now, when it was read, rules whether there is a plan to keep
        capacity = ha.get("capacity_now")
        if self.active and not (capacity >= self.failures if capacity is not None else self.holds()):
            self.notes.append("HA cannot tolerate %d host failure(s) with the VMs where they run now; moves are not held to "
                              "the failover plan (vdc.xenpool.ha shows the capacity)" % self.failures)
            self.active = False

    def holds(self) -> bool:
        b = self.balancer
        free = {u: int(h["memory_total_mib"] - h["memory_used_mib"]) for u, h in b.hosts.items() if h.get("enabled") and h.get("live")}
        protected = {u: vm for u, vm in b.vms.items() if vm.get("running") and vm.get("protected")}
        return plan_exists(free, {u: vm["host"] for u, vm in protected.items()},
                           {u: int(vm["memory_mib"]) for u, vm in protected.items()}, self.failures, len(b.hosts))

    def keeps_plan(self, vm: str, target: str) -> bool:
        """Whether the failover plan still holds with the VM moved to the target (tried, then undone)."""
        if not self.active:
            return True
        b = self.balancer
        source = b.vms[vm]["host"]
        memory = b.vms[vm]["memory_mib"]
        b.vms[vm]["host"] = target
        b.hosts[source]["memory_used_mib"] -= memory
        b.hosts[target]["memory_used_mib"] += memory
        try:
            return self.holds()
        finally:
            b.vms[vm]["host"] = source
            b.hosts[source]["memory_used_mib"] += memory
            b.hosts[target]["memory_used_mib"] -= memory
