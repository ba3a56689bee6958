# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where xapisim says the VMs of pool-bal run, and how full its hosts are (never through the module under test).

    placement.py READY_FILE [--reset]

Prints {"hosts": {name: {"memory_percent", "vms": [names], "vm_count"}}, "vms": {name: host or null}, "writes": N,
"write_methods": [...]} for the pool named pool-bal; `--reset` clears the call log after reading it.
"""

from __future__ import annotations

import json
import sys
import urllib.request

POOL = "pool-bal"


def fetch(url: str, post: bool = False) -> dict:
    """GET (or POST {}) on the simulator's control API, 127.0.0.x only."""
    request = urllib.request.Request(url, data=b"{}" if post else None, method="POST" if post else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:  # nosec - loopback simulator
        text = answer.read()
    return json.loads(text) if text.strip() else {}


def pool_tables(state: dict) -> dict:
    for db in state.get("dbs", []):
        tables = db.get("tables", {})
        if any(rec.get("name_label") == POOL for rec in tables.get("pool", {}).values()):
            return tables
    raise SystemExit("no pool %s in the simulator" % POOL)


def main(argv: list[str]) -> None:
    with open(argv[0], encoding="utf-8") as handle:
        control = json.load(handle)["control"]
    tables = pool_tables(fetch(control + "/state"))
    hosts = {}
    for ref, host in tables["host"].items():
        metrics = tables["host_metrics"][host["metrics"]]
        total, free = int(metrics["memory_total"]), int(metrics["memory_free"])
        hosts[ref] = {"name": host["name_label"], "memory_percent": round(100.0 * (total - free) / total, 1), "vms": []}
    placed = {}
    for vm in tables["VM"].values():
        if vm.get("is_control_domain") or vm.get("is_a_template") or vm.get("is_a_snapshot"):
            continue
        host = hosts.get(vm.get("resident_on")) if vm.get("power_state") == "Running" else None
        placed[vm["name_label"]] = host["name"] if host else None
        if host:
            host["vms"].append(vm["name_label"])
    calls = fetch(control + "/calls")
    out = {"hosts": {h["name"]: {"memory_percent": h["memory_percent"], "vms": sorted(h["vms"]), "vm_count": len(h["vms"])}
                     for h in hosts.values()},
           "vms": placed, "writes": calls.get("writes", 0),
           "write_methods": sorted({c.get("method") for c in calls.get("calls", []) if c.get("write")})}
    if "--reset" in argv:
        fetch(control + "/calls/reset", post=True)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
