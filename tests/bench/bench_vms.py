# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of the VM engine (vdc.xenpool.vms) against the XenAPI simulator; prints figures, not a timed test.

1. No-op: a pool of 1, 90, 500 and 2,000 running VMs declared exactly as they are. Prints the XenAPI calls of
   the run (the simulator's own call log), the plan time and the wall time. The promise: the calls do not
   grow with the number of VMs (exit 1 otherwise).
2. Provisioning the reference pool's 90 VMs (clones of a golden PV template on a shared lvmoiscsi SR, started,
   waited for their IP) with the simulator's time model, at max_parallel 1, 4 and 8: simulated time (wall time
   divided by the time scale: xapisim's clock runs 1/scale times faster) and wall time, beside ceil(90/P) * T
   where T is the simulated time of one VM at P=1. Clones of one
   template are serialized by xapi (one operation per VDI) and by the SR lock, which is why P does not divide
   the time.

    cd <repo> && .venv/bin/python tests/bench/bench_vms.py [--sizes 1,90,500,2000] [--provision 90] [--parallel 1,4,8]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
import time
from pathlib import Path

from benchpaths import SIMULATOR  # noqa: F401,E402 pylint: disable=wrong-import-position,import-error,unused-import

# pylint: disable=wrong-import-position
from simcommon.client import SimProcess  # noqa: E402

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator  # noqa: E402
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient  # noqa: E402
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state  # noqa: E402
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import VM_CLASSES  # noqa: E402
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_fleet import apply_fleet, plan_fleet  # noqa: E402
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_spec import VM_SPEC, normalise  # noqa: E402

SCALE = 0.02
PROVISION_DC = {
    "name": "bench-vms",
    "credentials": {"username": "root", "password": "xapisim-bench-vms-not-a-secret"},
    "host_groups": [{"name_prefix": "xen-intel-", "count": 14, "memory_gib": 16, "nics": 2,
                     "cpu": {"vendor": "GenuineIntel", "model": "Intel(R) Xeon(R) CPU E5450 @ 3.00GHz", "cores": 8,
                             "speed_mhz": 3000}}],
    "pools": [{"name_label": "pool-intel", "master": "xen-intel-01", "members": ["xen-intel-%02d" % i for i in range(2, 15)],
               "shared_sr": {"name_label": "pool-intel-sr01", "type": "lvmoiscsi", "size_gib": 2048}}],
    "templates": [{"name_label": "CentOS 5 (64-bit)", "base": "el-pv", "min_memory_mib": 512, "disks_gib": [8]}],
    "golden_templates": [{"name_label": "sl5-golden", "template": "CentOS 5 (64-bit)", "os": "Scientific Linux 5.11",
                          "hosts": ["xen-intel-01"], "memory_mib": 1024, "vcpus": 1, "disk_gib": 8, "network": "xenbr0"}],
    "vms": [],
}


def _validate(item: dict) -> dict:
    result = ArgumentSpecValidator(VM_SPEC).validate(item)
    if result.error_messages:
        raise SystemExit(result.error_messages)
    return normalise(result.validated_parameters)


def _client(ready: dict) -> XenClient:
    password = Path(ready["password_file"]).read_text(encoding="utf-8").strip()
    return XenClient(ready["hosts"][0]["url_https"], ready.get("username", "root"), password, ca_path=ready["ca_cert"],
                     timeout=300)


def _writes_and_calls(sim: SimProcess) -> tuple[int, int]:
    calls = sim.control.calls()
    return int(calls.get("writes", 0)), sum(int(v) for v in (calls.get("counters") or {}).values())


def noop(size: int, workdir: str) -> dict:
    """Declare the generated pool's VMs exactly as they are; one run of the vms engine; its calls."""
    with SimProcess("xapisim", ["--generate", "hosts=4,vms=%d" % size, "--time-scale", "0.01"], workdir,
                    ready_timeout=600) as sim:
        ready = sim.ready
        with _client(ready) as client:
            state = read_pool_state(client, VM_CLASSES)
            vms = [rec for rec in state.all("VM").values() if rec.get("name_label", "").startswith("bench-vm-")]
        declared = [_validate({"name": rec["name_label"], "vcpus": 1, "memory_mib": 1024, "power_state": "running"})
                    for rec in vms]
        sim.control.reset_calls()
        start = time.monotonic()
        with _client(ready) as client:
            state = read_pool_state(client, VM_CLASSES)
            planned = time.monotonic()
            fleet = plan_fleet(state, declared, prune=True)
            plan_s = time.monotonic() - planned
        wall = time.monotonic() - start
        writes, calls = _writes_and_calls(sim)
    return {"vms": len(declared), "changed": fleet.changed, "calls": calls, "writes": writes, "plan_s": round(plan_s, 3),
            "wall_s": round(wall, 3)}


def provision(count: int, parallel: int, workdir: str) -> dict:
    dc = Path(workdir, "datacenter.json")
    dc.write_text(json.dumps(PROVISION_DC), encoding="utf-8")
    with SimProcess("xapisim", ["--datacenter", str(dc), "--time-scale", str(SCALE)], workdir, ready_timeout=600) as sim:
        ready = sim.ready
        declared = [_validate({"name": "vm%02d" % i, "template": "sl5-golden", "sr": "pool-intel-sr01", "vcpus": 1,
                               "memory_mib": 1024 if i % 3 else 512, "power_state": "running", "wait_for_ip": True,
                               "nics": [{"network": "Pool-wide network associated with eth0"}]}) for i in range(count)]
        with _client(ready) as client:
            state = read_pool_state(client, VM_CLASSES)
            fleet = plan_fleet(state, declared)
        start = time.monotonic()
        outcomes = apply_fleet(lambda: _client(ready), state, fleet, max_parallel=parallel, timeout=3600)
        wall = time.monotonic() - start
        # xapisim's clock runs at 1/time-scale of real time (xapisim/state.py Clock.elapsed)
        sim_s = wall / SCALE
    failed = [o["name"] for o in outcomes if o["error"] is not None]
    return {"parallel": parallel, "vms": count, "failed": failed, "sim_s": sim_s, "wall_s": round(wall, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="1,90,500,2000")
    parser.add_argument("--provision", type=int, default=90)
    parser.add_argument("--parallel", default="1,4,8")
    args = parser.parse_args()
    broken = 0
    print("1. vms no-op: the pool's running VMs declared as they are (4 hosts), one state read, one plan each")
    print("%8s %8s %8s %8s %10s %10s" % ("VMs", "changed", "calls", "writes", "plan s", "wall s"))
    rows = []
    for size in [int(s) for s in args.sizes.split(",") if s]:
        with tempfile.TemporaryDirectory(prefix="bench-vms-") as workdir:
            row = noop(size, workdir)
        rows.append(row)
        print("%8d %8s %8d %8d %10.3f %10.3f" % (row["vms"], row["changed"], row["calls"], row["writes"], row["plan_s"],
                                                 row["wall_s"]))
    if len({r["calls"] for r in rows}) != 1 or any(r["writes"] or r["changed"] for r in rows):
        print("BROKEN PROMISE: the no-op's XenAPI calls depend on the number of VMs, or it wrote")
        broken += 1
    else:
        print("XenAPI calls per no-op run: %d whatever the number of VMs (login, %d get_all_records, logout)"
              % (rows[0]["calls"], len(VM_CLASSES)))
    if args.provision:
        print("\n2. provisioning %d VMs (golden-template clones on one lvmoiscsi SR, start, wait for the IP), "
              "time scale %g" % (args.provision, SCALE))
        print("%6s %14s %12s %20s %8s" % ("P", "simulated s", "wall s", "ceil(N/P)*T sim s", "failed"))
        unit = None
        for parallel in [int(p) for p in args.parallel.split(",") if p]:
            with tempfile.TemporaryDirectory(prefix="bench-vms-") as workdir:
                row = provision(args.provision, parallel, workdir)
            unit = unit or row["sim_s"] / args.provision
            bound = math.ceil(args.provision / parallel) * unit
            print("%6d %14.0f %12.1f %20.0f %8d" % (parallel, row["sim_s"], row["wall_s"], bound, len(row["failed"])))
            broken += 1 if row["failed"] else 0
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
