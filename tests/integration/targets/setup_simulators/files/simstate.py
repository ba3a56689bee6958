# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulators' own state and call logs, as one JSON document, for the integration targets.

    simstate.py --xapi-ready FILE [--ontap-ready FILE] [--view vms] [--view pools] [--advance SECONDS] [--reset]

A target verifies what a module did through the simulators' control APIs (GET /sim/state and /sim/calls,
POST /sim/save), never through the modules under test; tasks/simstate.yml beside this directory runs it
and keeps the answer in the fact `sim`. Views of xapisim's state (default: vms):

  vms    "vms": {name: {uuid, power_state, host, ip, disks, other_config}}, "templates": {name: {uuid, disks, srs}},
         "snapshots": {VM name: [snapshot names, oldest first]}, "orphan_vdis": [uuids], "srs": {name: [{uuid, type, hosts}]}
  pools  "pools": {pool name: {uuid, hosts, iqns, srs: [{name, uuid, type, shared, physical_size, other_config,
         vdis, default, pbds: [{host, attached, password_keys}]}]}}
  maintenance  "hosts": {name: {enabled, live}}, "reboots": [xapisim's reboot records], "power_history": [every VM
         power-state transition: {name, from, to}], "message_counts": {name: N}, "vm_runs": {name: {start_time, protected}},
         "ha": {pool name: {plan_exists_for, overcommitted}} (pools with HA on), "reboot_calls": {host: host.reboot calls}

Always "writes" (how many write calls xapisim logged) and "write_methods" (their distinct methods, sorted); with
--ontap-ready also "ontap": {igroups, luns, volumes, writes, write_methods}. --advance jumps xapisim's simulated
clock first; --reset clears the call logs after reading them. No secret is read or printed (a PBD's
device-config shows only the names of its password keys).
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import urllib.request

GIB = 1024 ** 3
# VDIs that belong to no VM on purpose
SYSTEM_VDI_TYPES = ("ha_statefile", "redo_log", "metadata")


def control(ready: dict, route: str, payload: dict | None = None) -> dict:
    """One request to a simulator's control API (POST when there is a payload); 127.0.0.x only."""
    url = ready["control"] + route
    context = ssl.create_default_context(cafile=ready.get("ca_cert")) if url.startswith("https") else None
    data = None if payload is None else json.dumps(payload).encode()
    request = urllib.request.Request(url, method="GET" if data is None else "POST", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=60) as answer:  # nosec - 127.0.0.x simulators only
        body = answer.read()
    return json.loads(body) if body.strip() else {}


def write_log(ready: dict) -> dict:
    calls = [c for c in control(ready, "/calls").get("calls", []) if c.get("write")]
    return {"writes": len(calls), "write_methods": sorted({c.get("method") for c in calls})}


def pool_dbs(state: dict) -> list[dict]:
    """The tables of every pool database (a standalone host that never formed a pool has none)."""
    return [db.get("tables", {}) for db in state.get("dbs", []) if db.get("tables", {}).get("pool")]


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _name(tables: dict, cls: str, ref) -> str | None:
    return tables.get(cls, {}).get(ref, {}).get("name_label")


def _disks(tables: dict, rec: dict) -> list[dict]:
    out = []
    for ref in rec.get("VBDs", []):
        vbd = tables["VBD"][ref]
        vdi = tables["VDI"].get(vbd.get("VDI"), {})
        if vbd.get("type") == "Disk" and vdi:
            out.append({"position": vbd.get("userdevice"), "size_gib": round(int(vdi.get("virtual_size", 0)) / GIB, 2),
                        "uuid": vdi.get("uuid"), "sr": _name(tables, "SR", vdi.get("SR"))})
    return sorted(out, key=lambda d: d["position"])


def _orphan_vdis(tables: dict) -> list[str]:
    """VDIs no VBD uses: neither a suspend image, nor on an ISO SR, nor a system VDI."""
    iso_srs = {ref for ref, sr in tables.get("SR", {}).items() if sr.get("content_type") == "iso"}
    suspend_images = {vm.get("suspend_VDI") for vm in tables.get("VM", {}).values()}
    return [vdi.get("uuid") for ref, vdi in tables.get("VDI", {}).items()
            if not vdi.get("VBDs") and ref not in suspend_images and vdi.get("SR") not in iso_srs
            and vdi.get("type") not in SYSTEM_VDI_TYPES]


def vms_view(state: dict) -> dict:
    vms, templates, snapshots, orphans, srs = {}, {}, {}, [], {}
    for tables in pool_dbs(state):
        for sr in tables.get("SR", {}).values():
            hosts = sorted(_name(tables, "host", tables["PBD"][p]["host"]) or "" for p in sr.get("PBDs", []))
            srs.setdefault(sr.get("name_label"), []).append({"uuid": sr.get("uuid"), "type": sr.get("type"), "hosts": hosts})
        vm_table = tables.get("VM", {})
        for rec in vm_table.values():
            if rec.get("is_control_domain") or rec.get("is_default_template"):
                continue
            if rec.get("is_a_snapshot"):
                owner = vm_table.get(rec.get("snapshot_of"), {}).get("name_label", "")
                snapshots.setdefault(owner, []).append((str(rec.get("snapshot_time")), rec.get("uuid"), rec.get("name_label")))
            elif rec.get("is_a_template"):
                disks = _disks(tables, rec)
                templates[rec.get("name_label")] = {"uuid": rec.get("uuid"), "disks": disks, "srs": sorted({d["sr"] for d in disks})}
            else:
                networks = (tables.get("VM_guest_metrics", {}).get(rec.get("guest_metrics"), {}) or {}).get("networks") or {}
                vms[rec.get("name_label")] = {
                    "uuid": rec.get("uuid"), "power_state": rec.get("power_state"), "disks": _disks(tables, rec),
                    "ip": next((networks[k] for k in sorted(networks) if k.endswith("/ip")), None),
                    "other_config": rec.get("other_config") or {}, "host": _name(tables, "host", rec.get("resident_on"))}
        orphans += _orphan_vdis(tables)
    return {"vms": vms, "templates": templates, "orphan_vdis": orphans, "srs": srs,
            "snapshots": {vm: [name for _time, _uuid, name in sorted(taken)] for vm, taken in snapshots.items()}}


def _sr_record(tables: dict, pool: dict, ref: str, sr: dict) -> dict:
    pbds = [p for p in tables.get("PBD", {}).values() if p.get("SR") == ref]
    return {
        "name": sr.get("name_label"), "uuid": sr.get("uuid"), "type": sr.get("type"), "shared": sr.get("shared"),
        "physical_size": _int(sr.get("physical_size")), "other_config": sr.get("other_config") or {},
        "vdis": sorted(v.get("name_label") for v in tables.get("VDI", {}).values() if v.get("SR") == ref),
        "default": pool.get("default_SR") == ref,
        "pbds": sorted(({"host": _name(tables, "host", p.get("host")), "attached": bool(p.get("currently_attached")),
                         "password_keys": sorted(k for k in (p.get("device_config") or {}) if k.endswith("password"))}
                        for p in pbds), key=lambda e: e["host"] or ""),
    }


def pools_view(state: dict) -> dict:
    pools = {}
    for tables in pool_dbs(state):
        hosts = tables.get("host", {})
        pool = next(iter(tables["pool"].values()))
        name = pool.get("name_label") or next((h.get("name_label") for h in hosts.values()), "")
        srs = [_sr_record(tables, pool, ref, sr) for ref, sr in tables.get("SR", {}).items()]
        pools[name] = {"uuid": pool.get("uuid"), "hosts": sorted(h.get("name_label") for h in hosts.values()),
                       "iqns": sorted(h.get("iscsi_iqn") for h in hosts.values() if h.get("iscsi_iqn")),
                       "srs": sorted(srs, key=lambda s: s["name"] or "")}
    return {"pools": pools}


def _values(table) -> list:
    return list(table.values()) if isinstance(table, dict) else list(table or [])


def ontap_view(ready: dict, ready_path: str) -> dict:
    """ontapsim's GET /sim/state holds counts only; the full model comes from POST /sim/save into a file."""
    path = os.path.join(os.path.dirname(ready_path), "simstate-dump.json")
    control(ready, "/save", {"path": path})
    with open(path, encoding="utf-8") as handle:
        state = json.load(handle)
    igroups = {ig.get("name"): sorted(str(i.get("name") if isinstance(i, dict) else i).lower() for i in ig.get("initiators", []))
               for ig in _values(state.get("igroups"))}
    luns = {lun.get("path") or "/vol/%s/%s" % (lun.get("volume"), lun.get("name")): _int(lun.get("size"))
            for lun in _values(state.get("luns"))}
    return dict({"igroups": igroups, "luns": luns, "volumes": sorted(v.get("name") for v in _values(state.get("volumes")))},
                **write_log(ready))


def maintenance_view(state: dict) -> dict:
    """What a host's maintenance leaves in xapisim's records: hosts live/enabled, the reboots (db.meta
    xapisim:lifecycle), every VM power-state transition (xapisim:power_history), message counts, VM start times."""
    out: dict = {"hosts": {}, "reboots": [], "power_history": [], "message_counts": {}, "vm_runs": {}, "ha": {}}
    for tables, meta in ((db.get("tables", {}), db.get("meta", {})) for db in state.get("dbs", []) if db.get("tables", {}).get("pool")):
        pool = next(iter(tables["pool"].values()))
        if pool.get("ha_enabled"):
            out["ha"][pool.get("name_label")] = {"plan_exists_for": _int(pool.get("ha_plan_exists_for")),
                                                 "overcommitted": pool.get("ha_overcommitted")}
        for rec in tables.get("host", {}).values():
            out["hosts"][rec["name_label"]] = {"enabled": rec.get("enabled"),
                                               "live": tables.get("host_metrics", {}).get(rec.get("metrics"), {}).get("live")}
        for rec in tables.get("VM", {}).values():
            if not (rec.get("is_control_domain") or rec.get("is_a_template") or rec.get("is_a_snapshot")):
                started = tables.get("VM_metrics", {}).get(rec.get("metrics"), {}).get("start_time")
                out["vm_runs"][rec["name_label"]] = {"start_time": str(started), "protected": rec.get("ha_restart_priority") == "restart"}
        for msg in tables.get("message", {}).values():
            out["message_counts"][msg.get("name")] = out["message_counts"].get(msg.get("name"), 0) + 1
        out["reboots"] += meta.get("xapisim:lifecycle", {}).get("reboots", [])
        out["power_history"] += [{k: h.get(k) for k in ("name", "from", "to")} for h in meta.get("xapisim:power_history", [])]
    return out


def reboot_calls(ready: dict, state: dict) -> dict:
    """Host name -> how many host.reboot calls the call log holds for it (the maintenance view's call-log side)."""
    names = {ref: rec.get("name_label") for tables in pool_dbs(state) for ref, rec in tables.get("host", {}).items()}
    out: dict = {}
    for call in control(ready, "/calls").get("calls", []):
        if call.get("method") in ("host.reboot", "Async.host.reboot"):
            ref = str(call.get("summary", "")).split(",", maxsplit=1)[0].split("=", 1)[-1].strip()
            out[names.get(ref, ref)] = out.get(names.get(ref, ref), 0) + 1
    return out


VIEWS = {"vms": vms_view, "pools": pools_view, "maintenance": maintenance_view}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xapi-ready", required=True, help="xapisim's ready.json")
    parser.add_argument("--ontap-ready", help="ontapsim's ready.json, for the ontap key")
    parser.add_argument("--view", action="append", choices=sorted(VIEWS), help="views of xapisim's state (default: vms)")
    parser.add_argument("--advance", type=float, default=0.0, help="simulated seconds to jump first")
    parser.add_argument("--reset", action="store_true", help="clear the call logs after reading them")
    args = parser.parse_args()
    readies = {}
    for key, path in (("xapi", args.xapi_ready), ("ontap", args.ontap_ready)):
        if path:
            with open(path, encoding="utf-8") as handle:
                readies[key] = json.load(handle)
    xapi = readies["xapi"]
    if args.advance:
        control(xapi, "/time", {"advance_s": args.advance})
    state = control(xapi, "/state")
    out: dict = {}
    for view in args.view or ["vms"]:
        out.update(VIEWS[view](state))
    if "maintenance" in (args.view or []):
        out["reboot_calls"] = reboot_calls(xapi, state)
    out.update(write_log(xapi))
    if "ontap" in readies:
        out["ontap"] = ontap_view(readies["ontap"], args.ontap_ready)
    if args.reset:
        for ready in readies.values():
            control(ready, "/calls/reset", {})
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
