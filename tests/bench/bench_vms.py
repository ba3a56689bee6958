# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Provisioning the reference pool's 90 VMs with the VM engine (vdc.xenpool.vms) against the XenAPI simulator.

G4: clones of a golden PV template on a shared lvmoiscsi SR, started, waited for their IP, with the simulator's
time model, at max_parallel P (default 4 and 8). Prints the simulated time (wall time divided by the time scale:
xapisim's clock runs 1/scale times faster) beside the target 1.2 x ceil(90/P) x T, where T is the simulated time
of provisioning one VM alone (measured first, on a fresh simulator, the same way). Figures, not a timed test.
(The no-op at 1 / 90 / 2,000 VMs is in bench_scale.py.)

    cd <repo> && .venv/bin/python tests/bench/bench_vms.py [--provision 90] [--parallel 4,8]
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
from benchkit import Row, print_table  # noqa: E402 pylint: disable=wrong-import-position,import-error

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


TARGET_FACTOR = 1.2


def measure(count: int, parallels: list[int]) -> dict:
    """T (one VM alone), then `count` VMs at each P."""
    with tempfile.TemporaryDirectory(prefix="bench-vms-") as workdir:
        unit = provision(1, 1, workdir)
    out = {"count": count, "unit": unit, "runs": []}
    for parallel in parallels:
        with tempfile.TemporaryDirectory(prefix="bench-vms-") as workdir:
            out["runs"].append(provision(count, parallel, workdir))
    return out


def rows(result: dict) -> list[Row]:
    unit = result["unit"]["sim_s"]
    out = [Row("G4 scale", "T: provisioning 1 VM alone (simulated s)", "%.0f s%s" % (unit, " FAILED" if result["unit"]["failed"] else ""))]
    for run in result["runs"]:
        bound = TARGET_FACTOR * math.ceil(result["count"] / run["parallel"]) * unit
        out.append(Row("G4 scale", "provisioning %d VMs at max_parallel %d: simulated s (wall s)" % (run["vms"], run["parallel"]),
                       "%.0f s (%.1f s)%s" % (run["sim_s"], run["wall_s"], " %d FAILED" % len(run["failed"]) if run["failed"] else ""),
                       "<= %.0f s" % bound, not run["failed"] and run["sim_s"] <= bound))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--provision", type=int, default=90)
    parser.add_argument("--parallel", default="4,8")
    args = parser.parse_args()
    result = measure(args.provision, [int(p) for p in args.parallel.split(",") if p])
    print_table(rows(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
