# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulators' own state and call logs, as one JSON document, for the integration targets.

    simstate.py [--xapi-ready FILE] [--ontap-ready FILE] [--view VIEW ...] [--pool NAME] [--advance SECONDS]
                [--call-log] [--ontap-model] [--read-only LABEL] [--reset]

A target verifies what a module did through the simulators' control APIs (GET /sim/state and /sim/calls,
POST /sim/save), never through the modules under test; tasks/simstate.yml beside this directory runs it
and keeps the answer in the fact `sim`. Views of xapisim's state (default: vms):

  vms    "vms": {name: {uuid, power_state, host, ip, vcpus, vcpus_max, memory_mib, memory_dynamic_min_mib, managed,
         boot_order, pv_args, ha_restart_priority, tags, other_config, cdrom, disks: [{position, size_gib, uuid, sr}],
         nics: [{position, mac, network}]}} (a list of such records when the name is taken twice), "duplicates": [names
         taken twice], "pending": [xenpool-pending: clones], "templates": {name: {uuid, disks, srs}}, "snapshots":
         {VM name: [snapshot names, oldest first]}, "orphan_vdis": [uuids], "orphans": {vdis: [names], vbds, vifs: [refs]},
         "srs": {name: [{uuid, type, hosts}]}
  power  "power_history": {VM name: [[from, to], ...]} (cannot be combined with maintenance, whose list it regroups)
  pools  "pools": {pool name: {uuid, hosts, iqns, srs: [{name, uuid, type, shared, physical_size, other_config,
         vdis, default, pbds: [{host, attached, password_keys}]}], vlans: {tag: [hosts]}, bonds: {mode: [hosts]}}}
  maintenance  "hosts": {name: {enabled, live}}, "reboots": [xapisim's reboot records], "power_history": [every VM
         power-state transition: {name, from, to}], "message_counts": {name: N}, "vm_runs": {name: {start_time, protected}},
         "ha": {pool name: {plan_exists_for, overcommitted}} (pools with HA on), "reboot_calls": {host: host.reboot calls}
  placement  "hosts": {name: {memory_percent, vms: [names of the running VMs resident there], vm_count}},
         "vms": {name: host of a running VM, else null} (what a balancer sees; cannot be combined with vms or maintenance)
  addresses  "addresses": {host address: {name, db (index of its database), pool (name_label), master, members,
         enabled, description, iscsi_iqn, multipathing, other_config}}: who answers where (not with --pool)
  networks  "networks": {pool name: {hosts, networks: {name: {mtu, bridge}}, vlan_tags: {tag: VLAN records},
         bonds: Bond records}}: the network module's records as xapisim holds them, dangling PIFs included
  ha     "ha_config": {pools: {pool name: {enabled, host_failures_to_tolerate}}, vms: {name: {restart_priority,
         order, start_delay}}}: what the ha module set (the maintenance view's "ha" holds the planner's answer)

--pool NAME reads that pool's database only (standalone hosts and other pools left out). Views that name the same
key cannot be combined (power and maintenance both name "power_history"). Always "calls" (how many calls xapisim
logged), "writes" (how many of them wrote), "write_methods" (their distinct methods, sorted) and "write_calls" (the
method of each write, in order); with --ontap-ready also "ontap": {igroups, luns, volumes} and those four of
ontapsim's log. Either ready file may be given alone (an ONTAP-only target has no xapisim; then no view applies).
--call-log adds each simulator's whole call log as GET /sim/calls gives it ("call_log", and "ontap": {"call_log"}:
{calls: [{endpoint, method, write, summary, time}], counters: {method: N}, writes}); --ontap-model adds "ontap":
{"model": {table: [records]}}, every table of ontapsim's saved model. --read-only LABEL prints one line per simulator
on stderr and exits 1 unless each logged some call and no write (a check-mode run, a plan, a report).
--advance jumps xapisim's simulated clock first; --reset clears the call logs after reading them.
No secret is read or printed (a PBD's device-config shows only the names of its password keys). Scripts beside a
target may import control() and the views (the vms target's crash.py does).
"""

from __future__ import annotations

import argparse
import json
import os
import ssl
import sys
import urllib.request

GIB = 1024 ** 3
MIB = 1024 ** 2
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
    calls = control(ready, "/calls").get("calls", [])
    written = [c.get("method") for c in calls if c.get("write")]
    return {"calls": len(calls), "writes": len(written), "write_methods": sorted(set(written)), "write_calls": written}


def call_log(ready: dict) -> dict:
    """A simulator's whole call log as GET /sim/calls gives it: every call (endpoint, method, write, summary, time),
    the per-method counters and the write count, for a target that counts calls by method or searches the log for a
    leaked secret (the simulators' summaries never hold one by design; the search proves it)."""
    return control(ready, "/calls")


def read_only(label: str, logs: dict) -> bool:
    """Whether every simulator logged some call and no write (check mode, a plan, a report); one line each on stderr."""
    ok = True
    for name, log in sorted(logs.items()):
        print("%s: %s: %d calls, %d writes" % (label, name, log["calls"], log["writes"]), file=sys.stderr)
        if not log["calls"] or log["writes"]:
            print("%s: %s: expected reads and no write, wrote %s" % (label, name, log["write_calls"][:20]), file=sys.stderr)
            ok = False
    return ok


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


def _cdrom(tables: dict, rec: dict) -> str | None:
    """The ISO in the VM's CD drive ("" when the drive is empty), None without a drive."""
    for ref in rec.get("VBDs", []):
        vbd = tables["VBD"][ref]
        if vbd.get("type") == "CD":
            return tables["VDI"].get(vbd.get("VDI"), {}).get("name_label", "")
    return None


def _vm(tables: dict, rec: dict) -> dict:
    """One VM as the targets assert on it: sizes in MiB/GiB, names instead of references."""
    nics = [{"position": vif.get("device"), "mac": vif.get("MAC"), "network": _name(tables, "network", vif.get("network"))}
            for vif in (tables["VIF"][ref] for ref in rec.get("VIFs", []))]
    networks = (tables.get("VM_guest_metrics", {}).get(rec.get("guest_metrics"), {}) or {}).get("networks") or {}
    return {
        "uuid": rec.get("uuid"), "power_state": rec.get("power_state"), "host": _name(tables, "host", rec.get("resident_on")),
        "ip": next((networks[k] for k in sorted(networks) if k.endswith("/ip") and networks[k]), None),
        "vcpus": int(rec.get("VCPUs_at_startup", 0)), "vcpus_max": int(rec.get("VCPUs_max", 0)),
        "memory_mib": int(rec.get("memory_static_max", 0)) // MIB,
        "memory_dynamic_min_mib": int(rec.get("memory_dynamic_min", 0)) // MIB,
        "managed": (rec.get("other_config") or {}).get("xenpool_managed") == "true",
        "boot_order": (rec.get("HVM_boot_params") or {}).get("order", ""), "pv_args": rec.get("PV_args", ""),
        "ha_restart_priority": rec.get("ha_restart_priority"), "tags": sorted(rec.get("tags") or []),
        "other_config": rec.get("other_config") or {}, "disks": _disks(tables, rec), "cdrom": _cdrom(tables, rec),
        "nics": sorted(nics, key=lambda n: n["position"])}


def _orphan_vdis(tables: dict) -> list[dict]:
    """VDIs no VBD uses: neither a suspend image, nor on an ISO SR, nor a system VDI."""
    iso_srs = {ref for ref, sr in tables.get("SR", {}).items() if sr.get("content_type") == "iso"}
    suspend_images = {vm.get("suspend_VDI") for vm in tables.get("VM", {}).values()}
    return [vdi for ref, vdi in tables.get("VDI", {}).items()
            if not vdi.get("VBDs") and ref not in suspend_images and vdi.get("SR") not in iso_srs
            and vdi.get("type") not in SYSTEM_VDI_TYPES]


def _orphans(tables: dict) -> dict:
    """What a crash or a half-done delete leaves: unused VDIs (by name), VBDs and VIFs of no VM (by reference)."""
    vm_refs = set(tables.get("VM", {}))
    return {"vdis": [vdi.get("name_label") for vdi in _orphan_vdis(tables)],
            "vbds": [ref for ref, vbd in tables.get("VBD", {}).items() if vbd.get("VM") not in vm_refs],
            "vifs": [ref for ref, vif in tables.get("VIF", {}).items() if vif.get("VM") not in vm_refs]}


def _srs(tables: dict, srs: dict) -> None:
    for sr in tables.get("SR", {}).values():
        hosts = sorted(_name(tables, "host", tables["PBD"][p]["host"]) or "" for p in sr.get("PBDs", []))
        srs.setdefault(sr.get("name_label"), []).append({"uuid": sr.get("uuid"), "type": sr.get("type"), "hosts": hosts})


def vms_view(state: dict) -> dict:
    """Every VM, template and snapshot by name; a name taken twice lists its records (identity is the uuid)."""
    vms: dict = {}
    out: dict = {"templates": {}, "pending": [], "orphan_vdis": [], "orphans": {"vdis": [], "vbds": [], "vifs": []}, "srs": {}}
    snapshots: dict = {}
    for tables in pool_dbs(state):
        _srs(tables, out["srs"])
        vm_table = tables.get("VM", {})
        for rec in vm_table.values():
            if rec.get("is_control_domain") or rec.get("is_default_template"):
                continue
            if rec.get("is_a_snapshot"):
                owner = vm_table.get(rec.get("snapshot_of"), {}).get("name_label", "")
                snapshots.setdefault(owner, []).append((str(rec.get("snapshot_time")), rec.get("uuid"), rec.get("name_label")))
            elif rec.get("is_a_template"):
                disks = _disks(tables, rec)
                out["templates"][rec.get("name_label")] = {"uuid": rec.get("uuid"), "disks": disks,
                                                           "srs": sorted({d["sr"] for d in disks})}
            elif rec.get("name_label", "").startswith("xenpool-pending: "):
                out["pending"].append(rec["name_label"])
            else:
                vms.setdefault(rec.get("name_label"), []).append(_vm(tables, rec))
        out["orphan_vdis"] += [vdi.get("uuid") for vdi in _orphan_vdis(tables)]
        for kind, found in _orphans(tables).items():
            out["orphans"][kind] += found
    out.update(vms={name: recs[0] if len(recs) == 1 else recs for name, recs in vms.items()},
               duplicates=sorted(name for name, recs in vms.items() if len(recs) > 1), pending=sorted(out["pending"]),
               snapshots={vm: [name for _time, _uuid, name in sorted(taken)] for vm, taken in snapshots.items()})
    return out


def power_view(state: dict) -> dict:
    """Each VM's power-state transitions (db.meta xapisim:power_history), to prove a VM never left Running."""
    history: dict = {}
    for db in state.get("dbs", []):
        if db.get("tables", {}).get("pool"):
            for change in (db.get("meta") or {}).get("xapisim:power_history", []):
                history.setdefault(change.get("name", ""), []).append([change.get("from"), change.get("to")])
    return {"power_history": history}


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
                       "srs": sorted(srs, key=lambda s: s["name"] or ""), **_pif_owners(tables)}
    return {"pools": pools}


def _pif_owners(tables: dict) -> dict:
    """The hosts that carry each VLAN tag and each bond mode on a PIF of their own, one entry per record: after
    pool.eject xapisim keeps the ejected host's VLAN and Bond records with PIF references that lead nowhere."""
    pifs = tables.get("PIF", {})
    out: dict = {"vlans": {}, "bonds": {}}
    for kind, table, pif_field, key_field in (("vlans", "VLAN", "untagged_PIF", "tag"), ("bonds", "Bond", "master", "mode")):
        for rec in tables.get(table, {}).values():
            if rec.get(pif_field) in pifs:
                host = _name(tables, "host", pifs[rec[pif_field]].get("host"))
                out[kind].setdefault(str(rec.get(key_field)), []).append(host)
    return {kind: {key: sorted(hosts) for key, hosts in found.items()} for kind, found in out.items()}


def _values(table) -> list:
    return list(table.values()) if isinstance(table, dict) else list(table or [])


def ontap_dump(ready: dict, ready_path: str) -> dict:
    """ontapsim's GET /sim/state holds counts only; the full model comes from POST /sim/save into a file."""
    path = os.path.join(os.path.dirname(ready_path), "simstate-dump.json")
    control(ready, "/save", {"path": path})
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def ontap_model(state: dict) -> dict:
    """Every table of ontapsim's saved model as a list of its records (a table is saved as a map keyed by uuid or
    as a list), for a target that asserts on fields the ontap view leaves out."""
    return {table: _values(records) for table, records in state.items() if isinstance(records, (dict, list))}


def ontap_view(ready: dict, ready_path: str, state: dict | None = None) -> dict:
    """Igroups (initiators), LUN sizes by path and volume names, with ontapsim's write log."""
    state = ontap_dump(ready, ready_path) if state is None else state
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


def placement_view(state: dict) -> dict:
    """Where the running VMs are and how full each host's memory is (host_metrics), as a balancer judges a pool."""
    hosts: dict = {}
    placed: dict = {}
    for tables in pool_dbs(state):
        for host in tables.get("host", {}).values():
            metrics = tables.get("host_metrics", {}).get(host.get("metrics"), {})
            total, free = int(metrics.get("memory_total", 0)), int(metrics.get("memory_free", 0))
            hosts[host.get("name_label")] = {"memory_percent": round(100.0 * (total - free) / total, 1) if total else None, "vms": []}
        for vm in tables.get("VM", {}).values():
            if vm.get("is_control_domain") or vm.get("is_a_template") or vm.get("is_a_snapshot"):
                continue
            host = _name(tables, "host", vm.get("resident_on")) if vm.get("power_state") == "Running" else None
            placed[vm.get("name_label")] = host
            if host in hosts:
                hosts[host]["vms"].append(vm.get("name_label"))
    for record in hosts.values():
        record.update(vms=sorted(record["vms"]), vm_count=len(record["vms"]))
    return {"hosts": hosts, "vms": placed}


def addresses_view(state: dict) -> dict:
    """Who answers at each host address (xapisim's state "hosts": address -> [database index, host reference]):
    that host's record and the pool database it is in, so a target can tell that two addresses share a pool,
    that an ejected host is alone again, who is master, and what the host module set on a host record."""
    out: dict = {}
    dbs = state.get("dbs", [])
    for address, (index, ref) in state.get("hosts", {}).items():
        tables = dbs[index].get("tables", {}) if isinstance(index, int) and index < len(dbs) else {}
        pool = next(iter(tables.get("pool", {}).values()), {})
        rec = tables.get("host", {}).get(ref, {})
        out[address] = {
            "name": rec.get("name_label"), "db": index, "pool": pool.get("name_label"),
            "master": _name(tables, "host", pool.get("master")),
            "members": sorted(h.get("name_label") for h in tables.get("host", {}).values()),
            "enabled": rec.get("enabled"), "description": rec.get("name_description"), "iscsi_iqn": rec.get("iscsi_iqn"),
            "multipathing": rec.get("multipathing"), "other_config": rec.get("other_config") or {}}
    return {"addresses": out}


def networks_view(state: dict) -> dict:
    """Each pool's networks by name and its VLAN and Bond records counted as xapisim holds them: unlike the pools
    view's hosts per tag, a record counts even when its PIF is gone, so a half-removed VLAN still shows."""
    out: dict = {}
    for tables in pool_dbs(state):
        hosts = sorted(h.get("name_label") for h in tables.get("host", {}).values())
        name = next(iter(tables["pool"].values())).get("name_label") or (hosts[0] if hosts else "")
        tags: dict = {}
        for vlan in tables.get("VLAN", {}).values():
            tags[str(vlan.get("tag"))] = tags.get(str(vlan.get("tag")), 0) + 1
        out[name] = {"hosts": hosts, "vlan_tags": tags, "bonds": len(tables.get("Bond", {})),
                     "networks": {n.get("name_label"): {"mtu": _int(n.get("MTU")), "bridge": n.get("bridge")}
                                  for n in tables.get("network", {}).values()}}
    return {"networks": out}


def ha_view(state: dict) -> dict:
    """HA as the ha and vm modules configure it: each pool's switch and failure count, each VM's protection level,
    restart order and start delay, as integers where xapi keeps them as such."""
    pools: dict = {}
    vms: dict = {}
    for tables in pool_dbs(state):
        pool = next(iter(tables["pool"].values()))
        pools[pool.get("name_label")] = {"enabled": pool.get("ha_enabled"),
                                         "host_failures_to_tolerate": _int(pool.get("ha_host_failures_to_tolerate"))}
        for rec in tables.get("VM", {}).values():
            if not (rec.get("is_control_domain") or rec.get("is_a_template") or rec.get("is_a_snapshot")):
                vms[rec.get("name_label")] = {"restart_priority": rec.get("ha_restart_priority"), "order": _int(rec.get("order")),
                                              "start_delay": _int(rec.get("start_delay"))}
    return {"ha_config": {"pools": pools, "vms": vms}}


def only_pool(state: dict, name: str) -> dict | None:
    """The state with the databases of the pool named `name` only (None when there is no such pool)."""
    dbs = [db for db in state.get("dbs", [])
           if any(rec.get("name_label") == name for rec in db.get("tables", {}).get("pool", {}).values())]
    return dict(state, dbs=dbs) if dbs else None


def reboot_calls(ready: dict, state: dict) -> dict:
    """Host name -> how many host.reboot calls the call log holds for it (the maintenance view's call-log side)."""
    names = {ref: rec.get("name_label") for tables in pool_dbs(state) for ref, rec in tables.get("host", {}).items()}
    out: dict = {}
    for call in control(ready, "/calls").get("calls", []):
        if call.get("method") in ("host.reboot", "Async.host.reboot"):
            ref = str(call.get("summary", "")).split(",", maxsplit=1)[0].split("=", 1)[-1].strip()
            out[names.get(ref, ref)] = out.get(names.get(ref, ref), 0) + 1
    return out


VIEWS = {"vms": vms_view, "power": power_view, "pools": pools_view, "maintenance": maintenance_view, "placement": placement_view,
         "addresses": addresses_view, "networks": networks_view,
         "ha": ha_view}


def _xapi_part(parser: argparse.ArgumentParser, args: argparse.Namespace, xapi: dict) -> dict:
    """The views of xapisim's state and its call log."""
    if args.advance:
        control(xapi, "/time", {"advance_s": args.advance})
    state = control(xapi, "/state")
    if args.pool:
        state = only_pool(state, args.pool)
        if state is None:
            parser.error("xapisim has no pool named %r" % args.pool)
    out: dict = {}
    for view in dict.fromkeys(args.view or ["vms"]):
        part = VIEWS[view](state)
        if set(part) & set(out):
            parser.error("view %s names %s, which an earlier view already names" % (view, ", ".join(sorted(set(part) & set(out)))))
        out.update(part)
    if "maintenance" in (args.view or []):
        out["reboot_calls"] = reboot_calls(xapi, state)
    out.update(write_log(xapi))
    if args.call_log:
        out["call_log"] = call_log(xapi)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--xapi-ready", help="xapisim's ready.json")
    parser.add_argument("--ontap-ready", help="ontapsim's ready.json, for the ontap key")
    parser.add_argument("--view", action="append", choices=sorted(VIEWS), help="views of xapisim's state (default: vms)")
    parser.add_argument("--pool", help="read this pool's database only")
    parser.add_argument("--advance", type=float, default=0.0, help="simulated seconds to jump first")
    parser.add_argument("--call-log", action="store_true", help="each simulator's whole call log too")
    parser.add_argument("--ontap-model", action="store_true", help="every table of ontapsim's model too")
    parser.add_argument("--read-only", metavar="LABEL", help="exit 1 unless every simulator logged calls and no write")
    parser.add_argument("--reset", action="store_true", help="clear the call logs after reading them")
    args = parser.parse_args()
    if not (args.xapi_ready or args.ontap_ready):
        parser.error("one of --xapi-ready and --ontap-ready is required")
    if not args.xapi_ready and (args.view or args.pool or args.advance):
        parser.error("--view, --pool and --advance read xapisim: they need --xapi-ready")
    readies = {}
    for key, path in (("xapi", args.xapi_ready), ("ontap", args.ontap_ready)):
        if path:
            with open(path, encoding="utf-8") as handle:
                readies[key] = json.load(handle)
    out: dict = _xapi_part(parser, args, readies["xapi"]) if "xapi" in readies else {}
    if "ontap" in readies:
        dump = ontap_dump(readies["ontap"], args.ontap_ready)
        out["ontap"] = ontap_view(readies["ontap"], args.ontap_ready, dump)
        if args.call_log:
            out["ontap"]["call_log"] = call_log(readies["ontap"])
        if args.ontap_model:
            out["ontap"]["model"] = ontap_model(dump)
    if args.reset:
        for ready in readies.values():
            control(ready, "/calls/reset", {})
    print(json.dumps(out, sort_keys=True))
    if args.read_only and not read_only(args.read_only, {name: out if name == "xapi" else out["ontap"] for name in readies}):
        sys.exit(1)


if __name__ == "__main__":
    main()
