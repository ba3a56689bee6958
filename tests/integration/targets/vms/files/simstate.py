# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VMs of xapisim's own state and its call log, as JSON, for the vms target (never through the modules under test).

    simstate.py READY_FILE [--reset]

Prints {"vms": {name: {...}}, "pending": [...], "orphans": {"vdis", "vbds", "vifs"}, "power_history": {name:
[[from, to], ...]}, "writes": N, "write_methods": [...]}. Each VM carries `host`, the name of the host it is
resident on (None when halted). `--reset` clears the call log after reading it. No secret is read or printed.
The vm_migrate target reads it too.
"""

from __future__ import annotations

import json
import sys
import urllib.request

GIB = 1024 ** 3
MIB = 1024 ** 2


def _get(url: str, method: str = "GET") -> dict:
    request = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as answer:  # nosec - 127.0.0.x simulator only
        body = answer.read()
    return json.loads(body) if body.strip() else {}


def _vm(tables: dict, rec: dict) -> dict:
    disks, nics, cd = [], [], None
    for ref in rec.get("VBDs", []):
        vbd = tables["VBD"][ref]
        vdi = tables["VDI"].get(vbd.get("VDI"), {})
        if vbd.get("type") == "CD":
            cd = vdi.get("name_label", "")
            continue
        sr = tables["SR"].get(vdi.get("SR"), {})
        disks.append({"position": vbd.get("userdevice"), "size_gib": round(int(vdi.get("virtual_size", 0)) / GIB, 2),
                      "sr": sr.get("name_label"), "vdi": vdi.get("uuid")})
    for ref in rec.get("VIFs", []):
        vif = tables["VIF"][ref]
        nics.append({"position": vif.get("device"), "mac": vif.get("MAC"),
                     "network": tables["network"].get(vif.get("network"), {}).get("name_label")})
    networks = (tables.get("VM_guest_metrics", {}).get(rec.get("guest_metrics"), {}) or {}).get("networks") or {}
    ip = next((networks[k] for k in sorted(networks) if k.endswith("/ip") and networks[k]), None)
    host = tables["host"].get(rec.get("resident_on"), {}).get("name_label")
    return {"uuid": rec.get("uuid"), "power_state": rec.get("power_state"), "host": host, "ip": ip, "vcpus": int(rec.get("VCPUs_at_startup", 0)),
            "vcpus_max": int(rec.get("VCPUs_max", 0)), "memory_mib": int(rec.get("memory_static_max", 0)) // MIB,
            "memory_dynamic_min_mib": int(rec.get("memory_dynamic_min", 0)) // MIB,
            "managed": (rec.get("other_config") or {}).get("xenpool_managed") == "true",
            "boot_order": (rec.get("HVM_boot_params") or {}).get("order", ""), "pv_args": rec.get("PV_args", ""),
            "ha_restart_priority": rec.get("ha_restart_priority"), "tags": sorted(rec.get("tags") or []),
            "disks": sorted(disks, key=lambda d: d["position"]), "nics": sorted(nics, key=lambda n: n["position"]), "cdrom": cd}


def summary(state: dict) -> dict:
    vms, pending, orphans, history = {}, [], {"vdis": [], "vbds": [], "vifs": []}, {}
    for db in state.get("dbs", []):
        tables = db.get("tables", {})
        if not tables.get("pool"):
            continue
        for change in (db.get("meta") or {}).get("xapisim:power_history", []):
            history.setdefault(change.get("name", ""), []).append([change.get("from"), change.get("to")])
        for ref, rec in tables.get("VM", {}).items():
            if rec.get("is_control_domain") or rec.get("is_a_snapshot") or rec.get("is_default_template"):
                continue
            if rec.get("name_label", "").startswith("xenpool-pending: "):
                pending.append(rec["name_label"])
            elif not rec.get("is_a_template"):
                vms.setdefault(rec["name_label"], []).append(_vm(tables, rec))
        vm_refs = set(tables.get("VM", {}))
        orphans["vbds"] += [r for r, v in tables.get("VBD", {}).items() if v.get("VM") not in vm_refs]
        orphans["vifs"] += [r for r, v in tables.get("VIF", {}).items() if v.get("VM") not in vm_refs]
        iso_srs = {r for r, s in tables.get("SR", {}).items() if s.get("content_type") == "iso"}
        orphans["vdis"] += [v.get("name_label") for v in tables.get("VDI", {}).values()
                            if not v.get("VBDs") and v.get("SR") not in iso_srs and not v.get("is_a_snapshot")
                            and v.get("type") not in ("ha_statefile", "redo_log", "metadata")]
    return {"vms": {name: (recs[0] if len(recs) == 1 else recs) for name, recs in sorted(vms.items())},
            "duplicates": sorted(name for name, recs in vms.items() if len(recs) > 1), "pending": sorted(pending),
            "orphans": orphans, "power_history": history}


def main(ready_path: str, reset: bool) -> None:
    with open(ready_path, encoding="utf-8") as handle:
        control = json.load(handle)["control"]
    out = summary(_get(control + "/state"))
    calls = _get(control + "/calls")
    out["writes"] = calls.get("writes", 0)
    out["write_methods"] = sorted({c.get("method") for c in calls.get("calls", []) if c.get("write")})
    if reset:
        _get(control + "/calls/reset", "POST")
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1], "--reset" in sys.argv[2:])
