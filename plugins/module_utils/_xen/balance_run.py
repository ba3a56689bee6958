# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Reading a pool's load for the balance planner, and running its moves (private to vdc.xenpool).

The read costs one `<Class>.get_all_records` per class (state.read_pool_state), one `/rrd_updates` request per
live host for the CPU figures (overview.read_io_figures) and, with HA on, one
`pool.ha_compute_hypothetical_max_host_failures_to_tolerate`: never a call per VM. The figures are those of the
console overview (overview.pool_overview), so what balance acts on is what pool_info shows.

Moves run as `Async.VM.pool_migrate` (live), at most `max_parallel` at a time, waited for with tasks.wait_each.
A move onto a host waits until every earlier move off that host has finished: the plan frees memory there first.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import MIB, to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.ha import current_capacity
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import pool_overview, read_io_figures
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.rrd import Getter
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import POOL_CLASSES, PoolState, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_each


class MigrationFailed(CollectionError):
    """A migration of the plan failed; the moves before it are done, none is left running."""

    def __init__(self, error: XapiError, move: dict[str, t.Any], done: list[dict[str, t.Any]]) -> None:
        self.code = error.code
        self.params = error.params
        self.move = move
        self.done = done
        super().__init__("%s migrating VM %s from %s to %s" % (error, move["vm"], move["from"], move["to"]))

    @property
    def hint(self) -> str:
        done = ", ".join("%s to %s" % (m["vm"], m["to"]) for m in self.done) or "none"
        return "Moves done: %s. Run balance again: it plans from where the VMs are now" % done


def _mib(value: t.Any) -> int:
    return -(-to_int(value, 0) // MIB)


def model(state: PoolState, figures: dict[str, dict[str, t.Any]] | None) -> dict[str, t.Any]:
    """The pool as the planner's plain dicts: hosts (memory used/total, CPU %, networks, SRs) and VMs (footprint,
    CPU %, networks, SRs, tags, protection), from the overview's figures plus the records it does not show."""
    overview = pool_overview(state, figures=figures)
    host_uuid = {ref: rec.get("uuid") for ref, rec in state.all("host").items()}
    networks: dict[str, set[str]] = {}
    for pif in state.all("PIF").values():
        net = state.uuid_of("network", pif.get("network"))
        if net and pif.get("host") in host_uuid:
            networks.setdefault(host_uuid[pif["host"]], set()).add(net)
    srs: dict[str, set[str]] = {}
    for pbd in state.all("PBD").values():
        sr = state.uuid_of("SR", pbd.get("SR"))
        if sr and pbd.get("currently_attached") and pbd.get("host") in host_uuid:
            srs.setdefault(host_uuid[pbd["host"]], set()).add(sr)
    wired = {net["uuid"] for net in overview["networks"] if net["pif_count"]}
    records = {rec.get("uuid"): rec for rec in state.all("VM").values()}
    hosts = [{"name": h["name"], "uuid": h["uuid"], "enabled": h["enabled"], "live": h["live"], "cpu_count": h["cpu_count"],
              "memory_total_mib": h["memory_total_mib"], "memory_used_mib": h["memory_total_mib"] - h["memory_free_mib"],
              "cpu_percent": h["cpu_usage_percent"], "networks": sorted(networks.get(h["uuid"], ())),
              "srs": sorted(srs.get(h["uuid"], ()))} for h in overview["hosts"]]
    vms = []
    for vm in overview["vms"]:
        rec = records.get(vm["uuid"]) or {}
        vms.append({"name": vm["name"], "uuid": vm["uuid"], "host": vm["host_uuid"], "running": vm["power_state"] == "Running",
                    "memory_mib": _mib(rec.get("memory_static_max")) + _mib(rec.get("memory_overhead")),
                    "cpu_percent": vm["cpu_usage_percent"], "vcpus": vm["vcpus"], "tags": vm["tags"],
                    "networks": sorted({n["network_uuid"] for n in vm["nics"] if n["network_uuid"] in wired}),
                    "srs": sorted({d["sr_uuid"] for d in vm["disks"] if d["sr_uuid"]}),
                    "protected": vm["ha_restart_priority"] == "restart"})
    pool = overview["pool"]
    ha = {"enabled": pool["ha_enabled"], "host_failures_to_tolerate": pool["ha_host_failures_to_tolerate"],
          "allow_overcommit": bool((state.pool or {}).get("ha_allow_overcommit"))}
    return {"name": pool["name"], "hosts": hosts, "vms": vms, "ha": ha}


def read(client: t.Any, warn: t.Callable[[str], None] | None = None, getter: Getter | None = None) -> tuple[PoolState, dict[str, t.Any]]:
    """(state, planner model): the pool in bulk, CPU from the hosts' rrd_updates, HA capacity when HA is on."""
    state = read_pool_state(client, POOL_CLASSES)
    figures, warnings, _requests = read_io_figures(client, state, getter)
    for message in warnings:
        if warn is not None:
            warn(message + "; its CPU figures are not used for balancing")
    pool = model(state, figures)
    if pool["ha"]["enabled"]:
        pool["ha"]["capacity_now"] = current_capacity(client, state)
    return state, pool


def batches(moves: t.Sequence[dict[str, t.Any]], max_parallel: int) -> list[list[dict[str, t.Any]]]:
    """Moves in plan order, at most max_parallel together; a move onto a host that an earlier move of the same batch
    leaves starts in the next batch, once that memory is free, and so does a second move of the same VM."""
    out: list[list[dict[str, t.Any]]] = []
    current: list[dict[str, t.Any]] = []
    for move in moves:
        if len(current) >= max_parallel or any(m["from"] == move["to"] or m["vm_uuid"] == move["vm_uuid"] for m in current):
            out.append(current)
            current = []
        current.append(move)
    if current:
        out.append(current)
    return out


def apply(client: t.Any, state: PoolState, moves: t.Sequence[dict[str, t.Any]], max_parallel: int, timeout: float) -> list[dict[str, t.Any]]:
    """Run the moves; returns those done. A failure stops the run once its batch has finished (MigrationFailed)."""
    host_refs = {rec.get("name_label"): ref for ref, rec in state.all("host").items()}
    vm_refs = {rec.get("uuid"): ref for ref, rec in state.all("VM").items()}
    done: list[dict[str, t.Any]] = []
    for batch in batches(moves, max_parallel):
        tasks = [client.call("Async.VM.pool_migrate", vm_refs[m["vm_uuid"]], host_refs[m["to"]], {"live": "true"}) for m in batch]
        outcomes = wait_each(client, tasks, timeout=timeout)
        failed = [(m, o) for m, o in zip(batch, outcomes) if isinstance(o, XapiError)]
        done += [m for m, o in zip(batch, outcomes) if not isinstance(o, XapiError)]
        if failed:
            raise MigrationFailed(failed[0][1], failed[0][0], done)
    return done
