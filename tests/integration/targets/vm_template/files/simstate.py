# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""xapisim's own view of VMs, snapshots, templates and the call log, as JSON (never through the modules under test).

    simstate.py READY_FILE [--reset] [--advance SECONDS]

Prints {"vms": {name: {...}, "template:<name>": {disks, uuid, srs}}, "templates": [...], "srs": {name: [...]},
"snapshots": {vm name: [snapshot names, oldest first]},
"orphan_vdis": [...], "writes": N, "write_methods": [...]}. `--reset` clears the call log after reading it;
`--advance` jumps the simulated clock first. No secret is read or printed.
"""

from __future__ import annotations

import json
import sys
import urllib.request

GIB = 1024 ** 3


def _get(url: str, method: str = "GET", payload: dict | None = None) -> dict:
    data = json.dumps(payload or {}).encode() if method == "POST" else None
    request = urllib.request.Request(url, method=method, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:  # nosec - 127.0.0.x simulator only
        body = answer.read()
    return json.loads(body) if body.strip() else {}


def _disks(tables: dict, rec: dict) -> list:
    out = []
    for ref in rec.get("VBDs", []):
        vbd = tables["VBD"][ref]
        vdi = tables["VDI"].get(vbd.get("VDI"), {})
        if vbd.get("type") == "Disk" and vdi:
            out.append({"position": vbd.get("userdevice"), "size_gib": round(int(vdi.get("virtual_size", 0)) / GIB, 2),
                        "uuid": vdi.get("uuid")})
    return sorted(out, key=lambda d: d["position"])


def summary(state: dict) -> dict:
    vms, templates, snapshots, orphans, srs = {}, [], {}, [], {}
    for db in state.get("dbs", []):
        tables = db.get("tables", {})
        if not tables.get("pool"):
            continue
        vm_table = tables.get("VM", {})
        for sr in tables.get("SR", {}).values():
            hosts = sorted(tables.get("host", {}).get(tables["PBD"][p]["host"], {}).get("name_label", "") for p in sr.get("PBDs", []))
            srs.setdefault(sr.get("name_label"), []).append({"uuid": sr.get("uuid"), "type": sr.get("type"), "hosts": hosts})
        for ref, rec in vm_table.items():
            if rec.get("is_control_domain") or rec.get("is_default_template"):
                continue
            if rec.get("is_a_snapshot"):
                owner = vm_table.get(rec.get("snapshot_of"), {}).get("name_label", "")
                snapshots.setdefault(owner, []).append((str(rec.get("snapshot_time")), rec.get("uuid"), rec.get("name_label")))
            elif rec.get("is_a_template"):
                templates.append(rec.get("name_label"))
                disk_srs = sorted({tables["SR"][tables["VDI"][tables["VBD"][b]["VDI"]]["SR"]]["name_label"]
                                   for b in rec.get("VBDs", []) if tables["VBD"][b].get("type") == "Disk"})
                vms["template:" + rec.get("name_label", "")] = {"disks": _disks(tables, rec), "uuid": rec.get("uuid"), "srs": disk_srs}
            else:
                guest = tables.get("VM_guest_metrics", {}).get(rec.get("guest_metrics"), {}) or {}
                networks = guest.get("networks") or {}
                vms[rec.get("name_label")] = {
                    "uuid": rec.get("uuid"), "power_state": rec.get("power_state"), "disks": _disks(tables, rec),
                    "ip": next((networks[k] for k in sorted(networks) if k.endswith("/ip")), None),
                    "other_config": rec.get("other_config") or {}, "is_a_template": False,
                    "host": tables.get("host", {}).get(rec.get("resident_on"), {}).get("name_label")}
        iso_srs = {r for r, s in tables.get("SR", {}).items() if s.get("content_type") == "iso"}
        suspend_images = {vm.get("suspend_VDI") for vm in vm_table.values()}
        orphans += [v.get("uuid") for r, v in tables.get("VDI", {}).items()
                    if not v.get("VBDs") and r not in suspend_images and v.get("SR") not in iso_srs
                    and v.get("type") not in ("ha_statefile", "redo_log", "metadata")]
    return {"vms": vms, "templates": sorted(templates),
            "snapshots": {k: [name for _t, _u, name in sorted(v)] for k, v in snapshots.items()}, "orphan_vdis": orphans, "srs": srs}


def main(argv: list[str]) -> None:
    with open(argv[0], encoding="utf-8") as handle:
        control = json.load(handle)["control"]
    if "--advance" in argv:
        _get(control + "/time", "POST", {"advance_s": float(argv[argv.index("--advance") + 1])})
    out = summary(_get(control + "/state"))
    calls = _get(control + "/calls")
    out["writes"] = calls.get("writes", 0)
    out["write_methods"] = sorted({c.get("method") for c in calls.get("calls", []) if c.get("write")})
    if "--reset" in argv:
        _get(control + "/calls/reset", "POST")
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1:])
