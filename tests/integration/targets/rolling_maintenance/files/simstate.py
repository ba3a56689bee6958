# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""xapisim's own records for the rolling_maintenance target, as JSON (never through the modules under test).

    simstate.py READY_FILE [--reset]

Prints {"vms": {name: {power_state, host, start_time, domid}}, "hosts": {name: {enabled, live}}, "reboots": [...],
"messages": [names], "writes": N, "write_methods": [...]}; `--reset` clears the call log after reading it.
"""

from __future__ import annotations

import json
import sys
import urllib.request


def _get(url: str, method: str = "GET") -> dict:
    request = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:  # nosec - 127.0.0.x simulator only
        body = answer.read()
    return json.loads(body) if body.strip() else {}


def main(argv: list[str]) -> None:
    with open(argv[0], encoding="utf-8") as handle:
        control = json.load(handle)["control"]
    state = _get(control + "/state")
    out: dict = {"vms": {}, "hosts": {}, "reboots": [], "messages": []}
    for db in state.get("dbs", []):
        tables = db.get("tables", {})
        if len(tables.get("host", {})) < 2:
            continue
        hosts = tables["host"]
        for rec in hosts.values():
            out["hosts"][rec["name_label"]] = {"enabled": rec["enabled"],
                                               "live": tables["host_metrics"].get(rec["metrics"], {}).get("live")}
        for rec in tables["VM"].values():
            if rec.get("is_control_domain") or rec.get("is_a_template") or rec.get("is_a_snapshot"):
                continue
            metrics = tables["VM_metrics"].get(rec.get("metrics"), {})
            out["vms"][rec["name_label"]] = {"power_state": rec["power_state"], "domid": rec.get("domid"),
                                             "host": hosts.get(rec.get("resident_on"), {}).get("name_label"),
                                             "start_time": str(metrics.get("start_time")),
                                             "protected": rec.get("ha_restart_priority") == "restart"}
        out["reboots"] = db.get("meta", {}).get("xapisim:lifecycle", {}).get("reboots", [])
        out["messages"] = sorted({m.get("name") for m in tables.get("message", {}).values()})
    calls = _get(control + "/calls")
    out["writes"] = calls.get("writes", 0)
    out["write_methods"] = sorted({c.get("method") for c in calls.get("calls", []) if c.get("write")})
    if "--reset" in argv:
        _get(control + "/calls/reset", "POST")
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
