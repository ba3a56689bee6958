# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: every benchmark, then one table of every figure beside its target (docs/performance.md).

Sections, in order (each prints its own table as it ends, so a long run shows progress):

  scale       G1 reads, G4 scale, G5 simulator: pool_info and the vms no-op at 1 / 90 / 2,000 VMs (bench_scale.py)
  community   G3: vdc.xenpool vs community.general on 90 VMs at 0, 5 and 20 ms of latency (bench_community.py)
  site        G2: the no-op of playbooks/site.yml on the reference data centre, 90 VMs vs 1 per pool (bench_site.py)
  provision   G4: provisioning the 90 reference VMs at max_parallel 4 and 8 (bench_vms.py)
  ontap       ontap_info over REST and ZAPI on a small and a generated cluster (bench_ontap_info.py)

BENCH_QUICK=1 runs the fast subset (1 and 90 VMs, community at 0 ms on 20 VMs, provisioning of 8 VMs, ontap; no
site, no 2,000-VM pool); BENCH_ONLY=scale,site runs the sections named. The exit status is the number of broken
constant-call-count promises (a call count that grows with the number of objects); a target not met on a busy
machine is a figure, not a failure.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import bench_community  # noqa: E402 pylint: disable=import-error
import bench_ontap_info  # noqa: E402 pylint: disable=import-error
import bench_scale  # noqa: E402 pylint: disable=import-error
import bench_site  # noqa: E402 pylint: disable=import-error
import bench_vms  # noqa: E402 pylint: disable=import-error
from benchkit import Row, print_table  # noqa: E402 pylint: disable=import-error

FULL = {
    "scale": lambda: bench_scale.rows([bench_scale.measure(n, 50 if n == 2000 else 0) for n in (1, 90, 2000)]),
    # community.general's loops cost 1-2 s per VM: the 0 ms no-op loops over all 90, the others over a sample
    "community": lambda: bench_community.rows([bench_community.measure(0.0, 90, None, 10)] +
                                              [bench_community.measure(ms, 90, 18, 10) for ms in (5.0, 20.0)]),
    "site": lambda: bench_site.rows(bench_site.measure()),
    "provision": lambda: bench_vms.rows(bench_vms.measure(90, [4, 8])),
    "ontap": lambda: bench_ontap_info.rows(bench_ontap_info.measure()),
}
QUICK = {
    "scale": lambda: bench_scale.rows([bench_scale.measure(n, 0) for n in (1, 90)]),
    "community": lambda: bench_community.rows([bench_community.measure(0.0, 20)]),
    "provision": lambda: bench_vms.rows(bench_vms.measure(8, [4])),
    "ontap": lambda: bench_ontap_info.rows(bench_ontap_info.measure("volumes=100,luns=200")),
}


def main() -> int:
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    sections = QUICK if quick else FULL
    only = [s for s in os.environ.get("BENCH_ONLY", "").split(",") if s]
    started = time.monotonic()
    table: list[Row] = []
    for name, run in sections.items():
        if only and name not in only:
            continue
        print("===== %s (%s mode, %.0f s so far)" % (name, "quick" if quick else "full", time.monotonic() - started), flush=True)
        try:
            section = run()
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # a section that cannot run is reported in the table; the others still run
            traceback.print_exc()
            section = [Row(name, "section could not run", "%s: %s" % (type(exc).__name__, str(exc)[:120]), "runs", False, promise=True)]
        print_table(section)
        table.extend(section)
    print("\n===== make bench: every figure (%s mode, %.0f s)" % ("quick" if quick else "full", time.monotonic() - started))
    order = ["G1", "G2", "G3", "G4", "G5", "ONTAP", "figures"]
    table.sort(key=lambda r: next((i for i, p in enumerate(order) if r.goal.startswith(p)), len(order)))
    return 1 if print_table(table) else 0


if __name__ == "__main__":
    sys.exit(main())
