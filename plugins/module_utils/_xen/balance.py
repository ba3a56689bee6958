# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Workload balancing of one pool: a placement plan from the pool's load (private to vdc.xenpool).

The planner is pure: it takes the pool as plain dicts (hosts and VMs with memory and CPU figures, see
balance_read.model) and returns the moves, so that every decision can be unit-tested without a pool and check
mode reports exactly what apply will do. It is greedy and deterministic: while a host is over a threshold or an
anti-affinity group has two members on one host, it moves the VM that best reduces the problem to the least
loaded host that can take it, every list sorted by name so that a second run over the result plans nothing.

Each move strictly lowers (anti-affinity violations, total excess over the thresholds), lexicographically, so the
loop ends. A host that can take a VM is the one xapi would accept for `VM.pool_migrate` (live and enabled, a PIF on
each of the VM's networks and a plugged PBD for each of its SRs, free memory: xapi `xapi_vm_helpers.ml`
`assert_can_boot_here`), that stays under both thresholds, keeps every anti-affinity group apart and, when HA is
on, keeps the pool's failover plan for `ha_host_failures_to_tolerate` (see balance_ha).
"""

from __future__ import annotations

import fnmatch
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.balance_ha import FailoverCheck

Record = t.Dict[str, t.Any]


def _by_name(items: t.Iterable[Record]) -> list[Record]:
    return sorted(items, key=lambda r: (str(r.get("name", "")), str(r.get("uuid", ""))))


def validate(options: Record) -> None:
    """Refuse option values no pool could honour, before anything is read."""
    for key in ("memory_threshold", "cpu_threshold"):
        value = options.get(key)
        if value is None or not 0 < value <= 100:
            raise PlanError("INVALID_VALUE", "%s is %s" % (key, value), "Set %s to a percentage from 1 to 100" % key)
    for key in ("max_parallel", "max_moves"):
        value = options.get(key)
        if value is not None and value < 1:
            raise PlanError("INVALID_VALUE", "%s is %s" % (key, value), "Set %s to 1 or more (or leave max_moves unset)" % key)
    for group in options.get("anti_affinity") or []:
        if not (group.get("vms") or group.get("match") or group.get("tag")):
            raise PlanError("INVALID_VALUE", "anti-affinity group '%s' selects no VM" % group.get("name"),
                            "Give the group vms (exact names), match (name patterns) or a tag")


def usable(host: Record) -> bool:
    return bool(host.get("enabled")) and bool(host.get("live"))


def resolve_groups(pool: Record, groups: t.Sequence[Record]) -> list[tuple[str, set[str]]]:
    """(group name, uuids of its running VMs) per group; exact names must exist, patterns and tags may match nothing."""
    vms = pool["vms"]
    names = {vm["name"] for vm in vms}
    hosts = [h for h in pool["hosts"] if usable(h)]
    out = []
    for group in groups:
        label = str(group.get("name") or "")
        missing = sorted(set(group.get("vms") or []) - names)
        if missing:
            raise PlanError("VM_NOT_FOUND", "anti-affinity group '%s' names %s, not in the pool" % (label, ", ".join(missing)),
                            "Fix the names (matched exactly), or use match: for name patterns")
        members = {vm["uuid"] for vm in vms if vm.get("running") and (
            vm["name"] in (group.get("vms") or [])
            or any(fnmatch.fnmatchcase(vm["name"], p) for p in group.get("match") or [])
            or (group.get("tag") and group["tag"] in (vm.get("tags") or [])))}
        if len(members) > len(hosts):
            raise PlanError("ANTI_AFFINITY_IMPOSSIBLE", "anti-affinity group '%s' has %d running VMs but the pool has %d hosts "
                            "that can run them" % (label, len(members), len(hosts)),
                            "Add hosts to the pool, split the group '%s' in two or shut down %d of its VMs (nothing was changed)"
                            % (label, len(members) - len(hosts)))
        out.append((label, members))
    return out


class Balancer:
    """The pool as the planner moves VMs around: per-host memory and CPU, placement, groups, HA check."""

    def __init__(self, pool: Record, options: Record) -> None:
        validate(options)
        self.options = options
        self.hosts = {h["uuid"]: dict(h) for h in _by_name(pool["hosts"])}
        self.vms = {vm["uuid"]: dict(vm) for vm in _by_name(pool["vms"])}
        wanted = list(options.get("hosts") or [])
        unknown = sorted(set(wanted) - {h["name"] for h in self.hosts.values()})
        if unknown:
            raise PlanError("HOST_NOT_FOUND", "no host %s in the pool" % ", ".join("'%s'" % n for n in unknown),
                            "Check the names in hosts (name labels, matched exactly)")
        self.scope = {u for u, h in self.hosts.items() if not wanted or h["name"] in wanted}
        names = {vm["name"] for vm in self.vms.values()}
        missing = sorted(set(options.get("exclude") or []) - names)
        if missing:
            raise PlanError("VM_NOT_FOUND", "exclude names %s, not in the pool" % ", ".join(missing), "Fix the names (matched exactly)")
        self.excluded = {u for u, vm in self.vms.items() if vm["name"] in (options.get("exclude") or [])}
        self.groups = resolve_groups(pool, options.get("anti_affinity") or [])
        self.ha = FailoverCheck(pool.get("ha") or {}, self)
        self.notes: list[str] = []

    # ---------------------------------------------------------------- load
    def memory_percent(self, host: str) -> float:
        h = self.hosts[host]
        return 100.0 * h["memory_used_mib"] / h["memory_total_mib"] if h.get("memory_total_mib") else 0.0

    def cpu_percent(self, host: str) -> float | None:
        return self.hosts[host].get("cpu_percent")

    def cpu_share(self, vm: str, host: str) -> float:
        """What the VM adds to a host's CPU figure: its own use over its vCPUs, spread over the host's CPUs."""
        v = self.vms[vm]
        count = self.hosts[host].get("cpu_count") or 0
        if v.get("cpu_percent") is None or not count:
            return 0.0
        return float(v["cpu_percent"]) * int(v.get("vcpus") or 1) / count

    def excess(self, host: str) -> float:
        """Percentage points over the thresholds (memory plus CPU); 0 when the host is within both."""
        cpu = self.cpu_percent(host)
        over = max(0.0, self.memory_percent(host) - self.options["memory_threshold"])
        return over + (max(0.0, cpu - self.options["cpu_threshold"]) if cpu is not None else 0.0)

    def residents(self, host: str) -> list[str]:
        return [u for u, vm in self.vms.items() if vm.get("running") and vm.get("host") == host]

    def load(self) -> dict[str, dict[str, t.Any]]:
        """Host name -> memory %, CPU % and VM count, the before/after view of the plan."""
        out = {}
        for uuid, h in self.hosts.items():
            cpu = self.cpu_percent(uuid)
            out[h["name"]] = {"memory_percent": round(self.memory_percent(uuid), 1),
                              "cpu_percent": round(cpu, 1) if cpu is not None else None,
                              "memory_used_mib": int(h["memory_used_mib"]), "memory_total_mib": int(h["memory_total_mib"]),
                              "vm_count": len(self.residents(uuid))}
        return out

    # ---------------------------------------------------------------- problems
    def violations(self) -> list[tuple[str, str, list[str]]]:
        """(group, host, member uuids) for every group with two or more running members on one host in scope."""
        found = []
        for label, members in self.groups:
            by_host: dict[str, list[str]] = {}
            for uuid in sorted(members, key=lambda u: self.vms[u]["name"]):
                by_host.setdefault(self.vms[uuid]["host"], []).append(uuid)
            for host, uuids in sorted(by_host.items(), key=lambda kv: self.hosts.get(kv[0], {}).get("name", "")):
                if len(uuids) > 1 and host in self.scope:
                    found.append((label, host, uuids))
        return found

    def overloaded(self) -> list[str]:
        hosts = [u for u in self.scope if self.excess(u) > 0]
        return sorted(hosts, key=lambda u: (-self.excess(u), self.hosts[u]["name"]))

    def mates(self, vm: str) -> set[str]:
        """The other members of every group the VM belongs to."""
        out: set[str] = set()
        for _label, members in self.groups:
            if vm in members:
                out |= members - {vm}
        return out

    # ---------------------------------------------------------------- moves
    def movable(self, vm: str) -> bool:
        return vm not in self.excluded and bool(self.vms[vm].get("running"))

    def fits(self, vm: str, target: str) -> bool:
        """Whether the target can take the VM and stay within both thresholds and every anti-affinity group (HA's plan
        is asked last, in target_for, of the best candidates only: it is the expensive question)."""
        v, h = self.vms[vm], self.hosts[target]
        if target == v["host"] or target not in self.scope or not usable(h) or not h.get("memory_total_mib"):
            return False
        if not set(v.get("networks") or []) <= set(h.get("networks") or []) or not set(v.get("srs") or []) <= set(h.get("srs") or []):
            return False
        if h["memory_total_mib"] - h["memory_used_mib"] < v["memory_mib"]:
            return False
        if 100.0 * (h["memory_used_mib"] + v["memory_mib"]) / h["memory_total_mib"] > self.options["memory_threshold"]:
            return False
        cpu = self.cpu_percent(target)
        if cpu is not None and cpu + self.cpu_share(vm, target) > self.options["cpu_threshold"]:
            return False
        return not any(self.vms[m]["host"] == target for m in self.mates(vm))

    def target_for(self, vm: str) -> str | None:
        """The least loaded host that fits, after the move (memory or CPU, whichever is higher), then by name."""
        def after(host: str) -> tuple[float, str]:
            h = self.hosts[host]
            memory = 100.0 * (h["memory_used_mib"] + self.vms[vm]["memory_mib"]) / h["memory_total_mib"]
            cpu = (self.cpu_percent(host) or 0.0) + self.cpu_share(vm, host)
            return max(memory, cpu), h["name"]
        fitting = sorted((u for u in self.hosts if self.fits(vm, u)), key=after)
        return next((u for u in fitting if self.ha.keeps_plan(vm, u)), None)

    def move(self, vm: str, target: str) -> None:
        v = self.vms[vm]
        source = v["host"]
        for host, sign in ((source, -1), (target, 1)):
            h = self.hosts[host]
            h["memory_used_mib"] += sign * v["memory_mib"]
            if h.get("cpu_percent") is not None:
                h["cpu_percent"] = max(0.0, h["cpu_percent"] + sign * self.cpu_share(vm, host))
        v["host"] = target

    def relief(self, vm: str) -> float:
        """How much moving the VM off its host lowers the host's excess."""
        host = self.vms[vm]["host"]
        h = self.hosts[host]
        before = self.excess(host)
        saved = dict(h)
        h["memory_used_mib"] -= self.vms[vm]["memory_mib"]
        if h.get("cpu_percent") is not None:
            h["cpu_percent"] -= self.cpu_share(vm, host)
        after = self.excess(host)
        self.hosts[host] = saved
        return before - after

    def try_candidates(self, candidates: t.Iterable[str], reason: str) -> Record | None:
        for vm in candidates:
            target = self.target_for(vm)
            if target is not None:
                source = self.vms[vm]["host"]
                self.move(vm, target)
                return {"vm": self.vms[vm]["name"], "vm_uuid": vm, "from": self.hosts[source]["name"],
                        "to": self.hosts[target]["name"], "memory_mib": self.vms[vm]["memory_mib"], "reason": reason}
        return None

    def next_move(self, skipped: set[tuple[str, str]]) -> Record | None:
        """One move for the first problem that has one: anti-affinity first (a hard rule), then the most loaded host."""
        for label, host, uuids in self.violations():
            if ("group", label + host) in skipped:
                continue
            candidates = sorted((u for u in uuids if self.movable(u)), key=lambda u: (self.vms[u]["memory_mib"], self.vms[u]["name"]))
            found = self.try_candidates(candidates, "anti-affinity group '%s' on %s" % (label, self.hosts[host]["name"]))
            if found:
                return found
            skipped.add(("group", label + host))
        for host in self.overloaded():
            if ("host", host) in skipped:
                continue
            ranked = [(self.relief(u), u) for u in self.residents(host) if self.movable(u)]
            candidates = [u for relief, u in sorted(ranked, key=lambda r: (-r[0], self.vms[r[1]]["memory_mib"], self.vms[r[1]]["name"]))
                          if relief > 0]
            found = self.try_candidates(candidates, "%s over threshold (memory %.1f%%, CPU %s)" % (
                self.hosts[host]["name"], self.memory_percent(host), _pct(self.cpu_percent(host))))
            if found:
                return found
            skipped.add(("host", host))
        return None

    def unresolved(self) -> list[str]:
        out = ["anti-affinity group '%s' has %s together on %s"
               % (label, ", ".join(self.vms[u]["name"] for u in uuids), self.hosts[host]["name"])
               for label, host, uuids in self.violations()]
        out += ["host %s stays over a threshold (memory %.1f%%, CPU %s)" % (
            self.hosts[u]["name"], self.memory_percent(u), _pct(self.cpu_percent(u))) for u in self.overloaded()]
        return out


def _pct(value: float | None) -> str:
    return "unknown" if value is None else "%.1f%%" % value


def plan_moves(pool: Record, options: Record) -> dict[str, t.Any]:
    """{moves, load_before, load_after, unresolved, notes} for a pool (plain dicts) and the module's options."""
    balancer = Balancer(pool, options)
    before = balancer.load()
    limit = options.get("max_moves")
    moves: list[Record] = []
    skipped: set[tuple[str, str]] = set()
    # every move lowers the potential, so the loop ends; the bound only guards against a bug becoming a hang
    for _round in range(len(balancer.vms) * max(len(balancer.hosts), 1) + 1):
        if limit is not None and len(moves) >= limit:
            if balancer.violations() or balancer.overloaded():
                balancer.notes.append("max_moves (%d) reached before the pool was balanced" % limit)
            break
        found = balancer.next_move(skipped)
        if found is None:
            break
        moves.append(found)
        skipped.clear()
    notes = balancer.notes + balancer.ha.notes
    return {"moves": moves, "load_before": before, "load_after": balancer.load(), "unresolved": balancer.unresolved(),
            "notes": notes}
