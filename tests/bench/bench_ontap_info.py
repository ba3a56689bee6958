# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of ontap_info's read path against the ONTAP simulator (prints figures; not a timed test).

For a small cluster (the reference fixture: about 1 volume / 1 LUN per SVM) and a generated one
(--generate volumes=500,luns=1000 by default) it runs the code ontap_info runs (connect + gather every
subset) over REST and over ZAPI, and prints per run: calls counted by the client, calls in the
simulator's own call log, wall time, object counts, and whether the call counts are equal between the
two sizes (they should be: one list request per object type, whatever the number of objects).

    cd <repo> && .venv/bin/python tests/bench/bench_ontap_info.py [--generate volumes=500,luns=1000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from benchpaths import SIMULATOR  # noqa: E402 pylint: disable=wrong-import-position,import-error

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap import client as ontap_client  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.vdc.xenpool.plugins.modules.ontap_info import SUBSETS, gather  # noqa: E402 pylint: disable=wrong-import-position
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import ZapiClient  # noqa: E402 pylint: disable=wrong-import-position
from simcommon.client import SimProcess  # noqa: E402 pylint: disable=wrong-import-position,import-error
from benchkit import Row  # noqa: E402 pylint: disable=wrong-import-position,import-error


ZAPI_PAGE = ZapiClient(None).max_records


def run_once(sim: SimProcess, use_rest: str) -> dict:
    ready = sim.ready
    with open(ready["password_file"], encoding="utf-8") as handle:
        password = handle.read().strip()
    sim.control.reset_calls()
    start = time.perf_counter()
    client = ontap_client.connect(ready["address"], ready["username"], password, port=ready["port"], ca_path=ready["ca_cert"],
                                  use_rest=use_rest)
    info = gather(client, set(SUBSETS), None)
    wall = time.perf_counter() - start
    sim_calls = sim.control.calls()
    api_calls = [c for c in sim_calls["calls"] if not c["method"].startswith("/sim")]
    return {"transport": client.transport, "client_calls": client.total_calls, "sim_calls": len(api_calls),
            "sim_writes": sim_calls["writes"], "wall_s": wall, "volumes": len(info["volumes"]), "luns": len(info["luns"]),
            "by_call": client.call_counts()}


def bench(extra_args: list[str]) -> dict:
    state_dir = tempfile.mkdtemp(prefix="bench-ontapsim-")
    try:
        args = ["--fixture", str(SIMULATOR / "ontap_fixtures" / "reference.yml"), "--time-scale", "0.01"] + extra_args
        with SimProcess("ontapsim", args, state_dir) as sim:
            return {mode: run_once(sim, mode) for mode in ("always", "never")}
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    return {}


def measure(generate: str = "volumes=500,luns=1000") -> dict:
    return {"small": bench([]), "large": bench(["--generate", generate])}


def rows(results: dict) -> list[Row]:
    """ontap_info over REST and ZAPI: calls small vs large (REST constant: a promise), wall time."""
    out = []
    for mode in ("always", "never"):
        small, large = results["small"][mode], results["large"][mode]
        agree = all(r["client_calls"] == r["sim_calls"] for r in (small, large))
        same = small["sim_calls"] == large["sim_calls"]
        out.append(Row("ONTAP reads", "ontap_info %s calls, %d vs %d volumes (%d vs %d LUNs)"
                       % (small["transport"], small["volumes"], large["volumes"], small["luns"], large["luns"]),
                       "%d vs %d" % (small["sim_calls"], large["sim_calls"]),
                       "equal" if mode == "always" else "pages of %d" % ZAPI_PAGE,
                       (same and agree) if mode == "always" else agree, promise=mode == "always"))
        out.append(Row("figures", "ontap_info %s wall, small / large" % small["transport"],
                       "%.2f s / %.2f s" % (small["wall_s"], large["wall_s"])))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--generate", default="volumes=500,luns=1000", help="simulator --generate value for the large run")
    opts = parser.parse_args()
    results = measure(opts.generate)
    out = sys.stdout
    out.write("%-6s %-5s %8s %8s %12s %9s %7s %7s\n" % ("size", "api", "volumes", "luns", "client_calls", "sim_calls", "writes", "wall_s"))
    for size, per_mode in results.items():
        for mode, r in per_mode.items():
            out.write("%-6s %-5s %8d %8d %12d %9d %7d %7.3f\n" % (size, r["transport"], r["volumes"], r["luns"], r["client_calls"],
                                                                  r["sim_calls"], r["sim_writes"], r["wall_s"]))
    ok = True
    for mode in ("always", "never"):
        small, large = results["small"][mode], results["large"][mode]
        same = small["client_calls"] == large["client_calls"] and small["sim_calls"] == large["sim_calls"]
        ok = ok and small["client_calls"] == small["sim_calls"] and large["client_calls"] == large["sim_calls"]
        out.write("%s: call counts small=%d large=%d -> %s; client and simulator agree: %s\n"
                  % (small["transport"], small["client_calls"], large["client_calls"], "equal" if same else "DIFFERENT",
                     small["client_calls"] == small["sim_calls"] and large["client_calls"] == large["sim_calls"]))
        out.write("  per call (large): %s\n" % ", ".join("%s=%d" % kv for kv in sorted(large["by_call"].items())))
        if not same and mode == "never":
            out.write("  ZAPI iterators page with next-tag (max-records %d): the extra calls are further pages of the same\n"
                      "  list requests, one per %d records, not per-object calls.\n" % (ZAPI_PAGE, ZAPI_PAGE))
    out.write("client and simulator call logs agree for every run: %s\n" % ok)
    return 0 if ok else 1


if __name__ == "__main__":
    if os.environ.get("PYTHONHASHSEED") is None:
        os.environ["PYTHONHASHSEED"] = "0"
    sys.exit(main())
