# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The no-op of playbooks/site.yml on the reference data centre (prints figures; not a timed test).

Starts the reference estate as `make demo` does (ontapsim with the reference cluster, xapisim with the reference
data centre on the same SAN), builds it with playbooks/site.yml and the reference inventory, then runs site.yml
again: that second run is the no-op. Its XenAPI calls per pool come from the simulator's call log (each call is
logged with the address of the host it was sent to), its ONTAP calls from the ONTAP simulator's.

To compare with an estate of 1 VM per pool on the same simulators (and build the pools, storage and HA once),
the estate is first built from a copy of the inventory that declares only each pool's first VM, and its no-op
timed; then playbooks/vms.yml with the real inventory adds the other 88 VMs, and the no-op of site.yml is timed
again. The promise: the no-op of the 90-VM estate costs what the 1-VM one does (target: XenAPI calls per pool
<= 30, wall time <= 1.2x).

    cd <repo> && .venv/bin/python tests/bench/bench_site.py
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys

import yaml

from benchpaths import REPO  # noqa: E402 pylint: disable=import-error
from benchkit import Row, Sim, changed_count, print_table, run_playbook  # noqa: E402 pylint: disable=import-error

INVENTORY = REPO / "playbooks" / "inventories" / "reference"
POOLS = {"pool-intel": "xen-intel-", "pool-amd": "xen-amd-"}
TARGET_CALLS_PER_POOL = 30
TARGET_RATIO = 1.2
SCALE = "0.01"


def one_vm_inventory(workdir: str) -> str:
    """A copy of the reference inventory whose pools each declare only their first VM."""
    copy = os.path.join(workdir, "inventory-1vm")
    shutil.copytree(INVENTORY, copy)
    for pool in POOLS:
        path = os.path.join(copy, "host_vars", pool, "vms.yml")
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
        data["vm_provision_vms"] = data["vm_provision_vms"][:1]
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump(data, handle, sort_keys=False)
    return copy


def calls_per_pool(xapi: Sim) -> dict[str, collections.Counter]:
    """XenAPI calls of the call log by pool (from the address each call went to), by method."""
    pool_of = {h["address"]: next((p for p, prefix in POOLS.items() if h["name"].startswith(prefix)), "other")
               for h in xapi.ready["hosts"]}
    out: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for entry in xapi.control.calls().get("calls") or []:
        if entry["method"] != "rrd_updates":
            out[pool_of.get(entry["endpoint"], "other")][entry["method"]] += 1
    return dict(out)


def measure() -> dict:
    """{"1": the no-op of the estate with 1 VM per pool, "90": the no-op of the reference estate}."""
    with Sim("ontapsim", ["--fixture", str(REPO / "tests/simulator/ontap_fixtures/reference.yml"), "--time-scale", SCALE]) as ontap, \
            Sim("xapisim", ["--datacenter", str(REPO / "tests/simulator/datacenters/reference.yml"), "--time-scale", SCALE,
                            "--san", ontap.ready["control"]]) as xapi:
        extra = os.path.join(xapi.workdir, "sim-vars.yml")
        subprocess.run([sys.executable, str(REPO / ".ci" / "sim_vars.py"), os.path.join(xapi.workdir, "sim", "ready.json"),
                        os.path.join(ontap.workdir, "sim", "ready.json"), extra], check=True)
        small = ["-i", one_vm_inventory(xapi.workdir), "-e", "@" + extra]
        full = ["-i", str(INVENTORY), "-e", "@" + extra]
        build_rc, build_wall, _out = run_playbook(str(REPO / "playbooks" / "site.yml"), small, xapi.workdir)
        results = {"1": dict(_noop(xapi, ontap, small), build_rc=build_rc, build_wall_s=build_wall)}
        build_rc, build_wall, _out = run_playbook(str(REPO / "playbooks" / "vms.yml"), full, xapi.workdir)
        results["90"] = dict(_noop(xapi, ontap, full), build_rc=build_rc, build_wall_s=build_wall)
        return results


def _noop(xapi: Sim, ontap: Sim, args: list[str]) -> dict:
    """site.yml run on an estate it built: its wall time, changes, writes, calls per pool."""
    xapi.control.reset_calls()
    ontap.control.reset_calls()
    cpu = xapi.cpu_s()
    rc, wall, output = run_playbook(str(REPO / "playbooks" / "site.yml"), args, xapi.workdir)
    ontap_calls = [c for c in ontap.control.calls().get("calls") or [] if not c["method"].startswith("/sim")]
    return {"rc": rc, "wall_s": wall, "changed": changed_count(output), "writes": int(xapi.control.calls().get("writes") or 0),
            "per_pool": calls_per_pool(xapi), "ontap_calls": len(ontap_calls), "sim_cpu_s": xapi.cpu_s() - cpu}


def _short(method: str) -> str:
    """A method name short enough for the table: session.login_with_password -> login, pool.ha_compute_... -> ha_compute."""
    name = method.split(".", 1)[-1] if method.startswith(("session.", "pool.", "host.")) else method
    return {"login_with_password": "login"}.get(name, "_".join(name.split("_")[:2]))


def rows(results: dict) -> list[Row]:
    out = []
    for label, r in results.items():
        ok = r["build_rc"] == 0 and r["rc"] == 0
        out.append(Row("G2 site no-op", "site.yml no-op (%s VMs): rc, changed, XenAPI writes" % label,
                       "%d, %d, %d" % (r["rc"], r["changed"], r["writes"]), "0, 0, 0",
                       ok and r["changed"] == 0 and r["writes"] == 0))
        for pool in POOLS:
            calls = sum(r["per_pool"].get(pool, {}).values())
            out.append(Row("G2 site no-op", "XenAPI calls of %s (%s VMs)" % (pool, label), str(calls),
                           "<= %d" % TARGET_CALLS_PER_POOL, ok and calls <= TARGET_CALLS_PER_POOL))
        methods = r["per_pool"].get(next(iter(POOLS)), collections.Counter())
        out.append(Row("figures", "site.yml no-op (%s VMs): calls of %s by method" % (label, next(iter(POOLS))),
                       ", ".join("%s %d" % (_short(m), n) for m, n in methods.most_common())))
        builder = "site.yml" if label == "1" else "vms.yml, the other VMs"
        out.append(Row("figures", "site.yml (%s VMs): build (%s) wall / no-op wall / no-op ONTAP calls / simulator CPU"
                       % (label, builder),
                       "%.0f s / %.1f s / %d / %.1f s" % (r["build_wall_s"], r["wall_s"], r["ontap_calls"], r["sim_cpu_s"])))
    if "90" in results and "1" in results:
        big, small = results["90"], results["1"]
        ratio = big["wall_s"] / small["wall_s"] if small["wall_s"] else 0.0
        out.append(Row("G2 site no-op", "no-op wall, 90 VMs vs 1 VM per pool", "%.1f s vs %.1f s: %.2fx" % (big["wall_s"], small["wall_s"], ratio),
                       "<= %gx" % TARGET_RATIO, ratio <= TARGET_RATIO))
        for pool in POOLS:
            counts = (sum(big["per_pool"].get(pool, {}).values()), sum(small["per_pool"].get(pool, {}).values()))
            out.append(Row("G2 site no-op", "XenAPI calls of %s constant, 90 VMs vs 1 VM" % pool, "%d vs %d" % counts, "equal",
                           counts[0] == counts[1], promise=True))
    return out


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0]).parse_args()
    return 1 if print_table(rows(measure())) else 0


if __name__ == "__main__":
    sys.exit(main())
