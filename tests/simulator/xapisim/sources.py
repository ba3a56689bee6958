# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The data sources of a host and of a running VM (xcp-rrdd's names), as plans evaluated at any simulated instant.

One model of the numbers serves `query_data_source`, `get_data_sources` (handlers_pool.host_sources,
handlers_vm.vm_sources: a plan evaluated now) and GET /rrd_updates (rrd.py: the same plan evaluated at every
sub-sample instant of every row). A plan reads the records once (names, devices, each figure's phase); evaluating
it is arithmetic only, which is what makes a 64-host xport of 2,000 VMs cheap.
"""
from __future__ import annotations

from .cpuload import host_load, ripple_phases, rippled, vm_load
from .model import figure_angle, figure_phase, figure_values
from .state import Database


class SourcePlan:
    """Names of an object's data sources and how to compute their values at a simulated instant."""

    __slots__ = ("names", "key", "_pick")

    def __init__(self, names: list[str], inputs: tuple) -> None:
        # everything the values depend on besides the instant: plans with equal keys give equal values
        self.key = (type(self).__name__, tuple(names)) + inputs
        # a name met twice (two VBDs on one device name) keeps its first place and its last value, as a dict would
        first: dict[str, int] = {}
        for index, name in enumerate(names):
            first.setdefault(name, index)
        last = {name: index for index, name in enumerate(names)}
        self.names = list(first)
        self._pick = None if len(first) == len(names) else [last[name] for name in self.names]

    def values(self, elapsed: float) -> list[float]:
        """The value of every source (in `names` order) at simulated instant `elapsed`."""
        raw = self._raw(elapsed)
        return raw if self._pick is None else [raw[i] for i in self._pick]

    def as_dict(self, elapsed: float) -> dict[str, float]:
        return dict(zip(self.names, self.values(elapsed)))

    def _raw(self, elapsed: float) -> list[float]:
        raise NotImplementedError


class VMPlan(SourcePlan):
    """memory, memory_internal_free, cpuN per vCPU, cpu_usage (their mean), vbd_<dev>_read/write, vif_<dev>_rx/tx."""

    __slots__ = ("_memory", "_uuid", "_ripples", "_figures")

    def __init__(self, db: Database, rec: dict) -> None:
        memory = rec["memory_dynamic_max"]
        self._memory = float(memory)
        self._uuid = rec["uuid"]
        vcpus = rec["VCPUs_at_startup"]
        self._ripples = ripple_phases(self._uuid, vcpus)
        names = ["memory", "memory_internal_free"] + ["cpu%d" % n for n in range(vcpus)] + ["cpu_usage"]
        figures = [(memory / 2048.0, memory / 8192.0, figure_phase(self._uuid + "mem"))]
        for vbd in rec["VBDs"]:
            dev = db.get("VBD", vbd)["device"] or "xvd?"
            names += ["vbd_%s_read" % dev, "vbd_%s_write" % dev]
            figures += [(2e5, 1.5e5, figure_phase(vbd + "r")), (1e5, 8e4, figure_phase(vbd + "w"))]
        for vif in rec["VIFs"]:
            dev = db.get("VIF", vif)["device"]
            names += ["vif_%s_rx" % dev, "vif_%s_tx" % dev]
            figures += [(5e4, 4e4, figure_phase(vif + "rx")), (3e4, 2e4, figure_phase(vif + "tx"))]
        self._figures = figures
        super().__init__(names, (self._memory, self._uuid, tuple(figures)))

    def _raw(self, elapsed: float) -> list[float]:
        figures = figure_values(figure_angle(elapsed), self._figures)
        cpus = rippled(vm_load(self._uuid, elapsed), self._ripples, elapsed)
        return [self._memory, figures[0]] + cpus + [sum(cpus) / max(1, len(cpus))] + figures[1:]


class HostPlan(SourcePlan):
    """memory_total_kib, memory_free_kib, cpu_avg, loadavg, cpuN per physical CPU, pif_<dev>_rx/tx."""

    __slots__ = ("_memory", "_uuid", "_vms", "_ripples", "_figures")

    def __init__(self, db: Database, host: str, free: int) -> None:
        rec = db.get("host", host)
        total = db.get("host_metrics", rec["metrics"])["memory_total"]
        self._memory = [total / 1024.0, free / 1024.0]
        self._uuid = rec["uuid"]
        running = [db.get("VM", v) for v in rec["resident_VMs"]]
        self._vms = [(vm["uuid"], vm["VCPUs_at_startup"]) for vm in running if vm["power_state"] == "Running"]
        numbers = sorted(db.get("host_cpu", cpu)["number"] for cpu in rec["host_CPUs"])
        self._ripples = ripple_phases(self._uuid, len(numbers))
        names = ["memory_total_kib", "memory_free_kib", "cpu_avg", "loadavg"] + ["cpu%d" % n for n in numbers]
        figures = [(0.0, 0.5, figure_phase(self._uuid))]  # loadavg: its base is the load of the instant
        count = len(self._vms)
        for pif in rec["PIFs"]:
            dev = db.get("PIF", pif)["device"]
            names += ["pif_%s_rx" % dev, "pif_%s_tx" % dev]
            figures += [(1e6 * count, 5e5, figure_phase(pif + "rx")), (8e5 * count, 4e5, figure_phase(pif + "tx"))]
        self._figures = figures
        super().__init__(names, (tuple(self._memory), self._uuid, tuple(self._vms), tuple(figures)))

    def _raw(self, elapsed: float) -> list[float]:
        load = host_load(self._vms, len(self._ripples), elapsed)
        angle = figure_angle(elapsed)
        figures = figure_values(angle, [(load * 4,) + self._figures[0][1:]] + self._figures[1:])
        return self._memory + [load, figures[0]] + rippled(load, self._ripples, elapsed) + figures[1:]


def vm_plan(db: Database, vm: str) -> VMPlan | None:
    """The plan of a VM's sources; None when it is not running (a halted VM reports nothing)."""
    rec = db.get("VM", vm)
    return VMPlan(db, rec) if rec["power_state"] == "Running" else None


def host_plan(db: Database, host: str, free: int) -> HostPlan:
    """The plan of a host's sources; `free` is host_free_memory (it walks the pool, so callers compute it once)."""
    return HostPlan(db, host, free)
