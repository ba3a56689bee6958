# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How busy simulated guests and hosts are, over simulated time: the one model behind every CPU figure.

xcp-rrdd publishes `cpuN` per vCPU and `cpu_usage` for a VM, `cpuN` per physical CPU and `cpu_avg` for a host
(VM.query_data_source, host.query_data_source, GET /rrd_updates). Workload balancing needs these figures to
differ between VMs and to move, and a host's figures to be what its VMs make them, so:

* a VM's load is its own base (most VMs light, a few heavy: the base is drawn from its uuid with a skew) plus a
  slow wave whose period (30 minutes to 2 hours of simulated time) and phase also come from the uuid; the same
  VM at the same simulated instant always has the same load, whichever call asks;
* a vCPU's load is the VM's load with a small ripple of its own, so `cpu_usage` (their mean) follows the VM;
* a host's load is its control domain's share plus the vCPU-seconds of the VMs running on it, spread over its
  physical CPUs and capped at 100 %: move a busy VM away and the host's figures drop at once.
"""
from __future__ import annotations

import functools
import math
import zlib

DOM0_LOAD = 0.02  # the control domain's share of every physical CPU
RIPPLE = 0.03  # per-vCPU / per-CPU deviation from the mean, so that the lines are not identical


def _unit(key: str) -> float:
    """A number in [0, 1) fixed by `key`."""
    return (zlib.crc32(key.encode("utf-8")) % 100003) / 100003.0


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


@functools.lru_cache(maxsize=65536)
def _wave(uuid: str) -> tuple[float, float, float]:
    """(base load, period in seconds, phase) of a VM: fixed by its uuid, computed once (figures are read often)."""
    return (0.03 + 0.72 * _unit(uuid + "/base") ** 2, 1800.0 + 5400.0 * _unit(uuid + "/period"),
            2 * math.pi * _unit(uuid + "/phase"))


def vm_load(uuid: str, elapsed: float) -> float:
    """Fraction of its vCPUs a running VM keeps busy at simulated instant `elapsed`."""
    base, period, phase = _wave(uuid)
    return _clamp(base + 0.6 * base * math.sin(2 * math.pi * elapsed / period + phase))


def ripple_phases(uuid: str, count: int) -> list[float]:
    """The phase of each of the `count` CPUs' ripple (cpu0, cpu1, ...) of a VM or host: fixed by its uuid."""
    return [_wave("%s/cpu%d" % (uuid, n))[2] for n in range(count)]


def rippled(load: float, phases: list[float], elapsed: float) -> list[float]:
    """Per-CPU figures: `load` plus each CPU's ripple at simulated instant `elapsed` (phases: ripple_phases)."""
    angle = 2 * math.pi * elapsed / 97.0
    return [min(1.0, max(0.0, load + RIPPLE * math.sin(angle + phase))) for phase in phases]


def vcpu_loads(uuid: str, vcpus: int, elapsed: float) -> list[float]:
    """The `cpuN` figures of a running VM (fractions, 0..1)."""
    return rippled(vm_load(uuid, elapsed), ripple_phases(uuid, vcpus), elapsed)


def host_load(vms: list[tuple[str, int]], cpus: int, elapsed: float) -> float:
    """A host's `cpu_avg`: control domain plus the load of its running VMs ((uuid, vCPUs) each) over its `cpus`."""
    busy = sum(vcpus * vm_load(uuid, elapsed) for uuid, vcpus in vms)
    return _clamp(DOM0_LOAD + busy / max(1, cpus))


def host_cpu_loads(host_uuid: str, load: float, cpus: int, elapsed: float) -> list[float]:
    """The host's `cpuN` figures: its mean load with a ripple per physical CPU."""
    return rippled(load, ripple_phases(host_uuid, cpus), elapsed)
