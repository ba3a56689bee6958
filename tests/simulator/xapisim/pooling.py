# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Moving hosts between pool databases (pool.join's merge, pool.eject's removal).

After a real join the coordinator's database holds the joiner's host, its
hardware objects, local storage and VM metadata, while the joiner's own pool,
default templates and pool-wide networks disappear (its PIFs are attached to
the pool's networks with the same bridge).

A join is not instant (xen-api `ocaml/xapi/xapi_pool.ml` `update_non_vm_metadata` ->
`create_or_get_host_on_master` -> `Host.create`, `xapi_host.ml` `create`): the coordinator first holds a
host record with enabled=false and a fresh host_metrics with live=false and no memory, and no dom0,
host_cpu or console. They arrive when the joiner's toolstack has restarted as a member: `xapi_pool.ml`
`hello` marks it live, `dbsync_slave.ml` `update_env` creates its host_cpu records and
(`create_misc.ml` `ensure_domain_zero_records`) dom0 with its console, and the host enables itself once
initialised. merge_host_into(restart_later=True) keeps those records aside (db.meta[JOINING]) and
member_started puts them in place.
"""
from __future__ import annotations

from .fresh_host import adopt_tools_sr
from .model import recompute_pool_cpu_info
from .spec import NULL_REF
from .state import Database, World

JOINING = "xapisim:joining"


def _take(src: Database, dst: Database, cls: str, ref: str, moved: list) -> None:
    if ref in src.tables[cls] and ref not in dst.tables[cls]:
        rec = src.tables[cls].pop(ref)
        src.uuids[cls].pop(rec.get("uuid"), None)
        dst.insert_raw(cls, ref, rec, src.meta.pop(ref, None))
        moved.append((cls, ref))


def _set_aside(src: Database, cls: str, ref: str, later: list) -> None:
    if ref in src.tables[cls]:
        rec = src.tables[cls].pop(ref)
        src.uuids[cls].pop(rec.get("uuid"), None)
        later.append([cls, ref, rec, src.meta.pop(ref, None)])


def _runtime_records(joiner: Database, hrec: dict) -> list:
    """What the member's toolstack creates at its start-up: host_cpu records, dom0 with its metrics and console."""
    later: list = []
    for cpu in hrec["host_CPUs"]:
        _set_aside(joiner, "host_cpu", cpu, later)
    for vm, vrec in list(joiner.tables["VM"].items()):
        if vrec["is_control_domain"]:
            for cls, ref in (("VM_metrics", vrec["metrics"]), ("VM_guest_metrics", vrec["guest_metrics"])):
                _set_aside(joiner, cls, ref, later)
            for console in list(vrec["consoles"]):
                _set_aside(joiner, "console", console, later)
            _set_aside(joiner, "VM", vm, later)
    return later


def _hold_back(master: Database, host: str, later: list) -> None:
    """The master's view between Host.create and the member's start-up: disabled, not live, no memory, no CPUs."""
    hrec = master.tables["host"][host]
    hrec["host_CPUs"] = []
    hrec["resident_VMs"] = [v for v in hrec["resident_VMs"] if v in master.tables["VM"]]
    hrec["enabled"] = False
    metrics = master.tables["host_metrics"].get(hrec["metrics"])
    saved = {}
    if metrics is not None:
        saved = {k: metrics[k] for k in ("live", "memory_total", "memory_free")}
        metrics.update(live=False, memory_total=0, memory_free=0)
    master.meta.setdefault(JOINING, {})[host] = {"records": later, "metrics": saved}


def member_started(master: Database, host: str) -> bool:
    """The member's toolstack is up: its held-back records appear, host_metrics is live with its memory again
    (`hello`, `record_host_memory_properties`). The caller enables the host and plugs its PBDs. False when
    nothing was pending (ejected meanwhile)."""
    pending = master.meta.get(JOINING, {}).pop(host, None)
    if pending is None or host not in master.tables["host"]:
        return False
    records = pending["records"]
    for cls, ref, rec, meta in records:
        master.insert_raw(cls, ref, rec, meta)
    for cls, ref, rec, _meta in records:
        for field, value in rec.items():
            master._link(cls, ref, field, None, value)  # pylint: disable=protected-access
    metrics = master.get("host", host)["metrics"]
    if metrics in master.tables["host_metrics"]:
        master.update("host_metrics", metrics, pending["metrics"] or {"live": True})
    return True


def merge_host_into(world: World, joiner: Database, master: Database, keep_vms: bool = True,
                    restart_later: bool = False) -> str:
    """Move the joiner's host (only host of its db) into master's db; returns the host ref. restart_later: the
    host is held back (disabled, not live, no dom0/host_cpu/console) until member_started."""
    host = joiner.one("host")
    moved: list = []
    later = _runtime_records(joiner, joiner.get("host", host)) if restart_later else []
    # networks: reuse the pool's network with the same bridge, else carry the joiner's over
    net_map = {}
    by_bridge = {rec["bridge"]: ref for ref, rec in master.tables["network"].items()}
    for net, rec in list(joiner.tables["network"].items()):
        if rec["bridge"] in by_bridge:
            net_map[net] = by_bridge[rec["bridge"]]
        else:
            _take(joiner, master, "network", net, moved)
            net_map[net] = net
    hrec = joiner.get("host", host)
    for cls, refs in (("host", [host]), ("host_metrics", [hrec["metrics"]]), ("host_cpu", hrec["host_CPUs"])):
        for ref in refs:
            _take(joiner, master, cls, ref, moved)
    for pif in list(hrec["PIFs"]):
        prec = joiner.tables["PIF"].get(pif)
        if prec is None:
            continue
        prec["network"] = net_map.get(prec["network"], prec["network"])
        _take(joiner, master, "PIF_metrics", prec["metrics"], moved)
        _take(joiner, master, "PIF", pif, moved)
    # the pool keeps one Tools SR (dbsync_master.ml create_tools_sr): the joiner's stays behind
    pool_has_tools = any(rec["is_tools_sr"] for rec in master.tables["SR"].values())
    for pbd in list(hrec["PBDs"]):
        prec = joiner.tables["PBD"].get(pbd)
        if prec is None:
            continue
        sr = prec["SR"]
        if pool_has_tools and joiner.tables["SR"].get(sr, {}).get("is_tools_sr"):
            hrec["PBDs"] = [p for p in hrec["PBDs"] if p != pbd]
            continue
        _take(joiner, master, "PBD", pbd, moved)
        srrec = joiner.tables["SR"].get(sr)
        if srrec is not None:
            for vdi in list(srrec["VDIs"]):
                _take(joiner, master, "VDI", vdi, moved)
            _take(joiner, master, "SR", sr, moved)
    for vm, vrec in list(joiner.tables["VM"].items()):
        if vrec["is_a_template"] and vrec["is_default_template"] and not vrec["is_a_snapshot"]:
            continue
        if not keep_vms and not vrec["is_control_domain"]:
            continue
        for vif in list(vrec["VIFs"]):
            if vif in joiner.tables["VIF"]:
                joiner.tables["VIF"][vif]["network"] = net_map.get(joiner.tables["VIF"][vif]["network"],
                                                                   joiner.tables["VIF"][vif]["network"])
            _take(joiner, master, "VIF", vif, moved)
        for vbd in list(vrec["VBDs"]):
            _take(joiner, master, "VBD", vbd, moved)
        for ref in (vrec["metrics"], vrec["guest_metrics"]):
            for cls in ("VM_metrics", "VM_guest_metrics"):
                if ref != NULL_REF:
                    _take(joiner, master, cls, ref, moved)
        for console in list(vrec["consoles"]):
            _take(joiner, master, "console", console, moved)
        _take(joiner, master, "VM", vm, moved)
    for secret in list(joiner.tables["secret"]):
        _take(joiner, master, "secret", secret, moved)
    if not keep_vms:
        # the VMs stayed behind: their VBDs did not move, so the moved VDIs must not point at them
        for cls, ref in moved:
            if cls == "VDI":
                rec = master.tables["VDI"][ref]
                rec["VBDs"] = [v for v in rec["VBDs"] if v in master.tables["VBD"]]
    # re-establish the set side of relations in the destination database
    for cls, ref in moved:
        rec = master.tables[cls][ref]
        for field, value in rec.items():
            master._link(cls, ref, field, None, value)  # pylint: disable=protected-access
    if restart_later:
        _hold_back(master, host, later)
    if pool_has_tools:
        adopt_tools_sr(joiner, master, host)
    # sessions on the joiner die with its toolstack restart
    for session in list(joiner.tables["session"]):
        world.sessions.pop(session, None)
    if joiner in world.dbs:
        world.dbs.remove(joiner)
    address = master.get("host", host)["address"]
    world.hosts[address] = (master, host)
    recompute_pool_cpu_info(master)
    return host


def duplicate_mac_seed(joiner: Database, master: Database) -> str | None:
    """import.ml assert_can_restore_backup, which the joiner's VM metadata import runs (restore=true): a VM to
    import whose other_config:mac_seed an existing VM already has -> DUPLICATE_MAC_SEED, unless they are the same
    VM (same uuid) or snapshots of one another / of the same VM."""
    def snap_origin(db: Database, rec: dict) -> str | None:
        origin = db.tables["VM"].get(rec["snapshot_of"])
        return origin["uuid"] if origin else None

    existing: dict[str, list[dict]] = {}
    for rec in master.tables["VM"].values():
        if not rec["is_control_domain"] and "mac_seed" in rec["other_config"]:
            existing.setdefault(rec["other_config"]["mac_seed"], []).append(rec)
    for rec in joiner.tables["VM"].values():
        if rec["is_control_domain"] or (rec["is_default_template"] and not rec["is_a_snapshot"]):
            continue
        seed = rec["other_config"].get("mac_seed")
        for other in existing.get(seed, []) if seed else []:
            if rec["is_a_snapshot"] and other["is_a_snapshot"]:
                origin = snap_origin(joiner, rec)
                compatible = origin is not None and origin == snap_origin(master, other)
            elif rec["is_a_snapshot"]:
                compatible = snap_origin(joiner, rec) == other["uuid"]
            elif other["is_a_snapshot"]:
                compatible = snap_origin(master, other) == rec["uuid"]
            else:
                compatible = rec["uuid"] == other["uuid"]
            if not compatible:
                return seed
    return None


def remove_host(world: World, db: Database, host: str) -> None:
    """Pool.eject's database side: the host, its hardware, PBDs and single-host SRs go."""
    world.sessions = {s: d for s, d in world.sessions.items() if d is not db or db.tables["session"].get(s, {}).get("this_host") != host}
    db.meta.get(JOINING, {}).pop(host, None)
    hrec = db.get("host", host)
    for pbd in list(hrec["PBDs"]):
        sr = db.get("PBD", pbd)["SR"]
        db.destroy("PBD", pbd)
        if sr in db.tables["SR"] and not db.get("SR", sr)["PBDs"]:
            for vdi in list(db.get("SR", sr)["VDIs"]):
                for vbd in list(db.get("VDI", vdi)["VBDs"]):
                    db.destroy("VBD", vbd)
                db.destroy("VDI", vdi)
            if db.get("pool", db.one("pool"))["default_SR"] == sr:
                db.set("pool", db.one("pool"), "default_SR", NULL_REF)
            db.destroy("SR", sr)
    host_pifs = set(hrec["PIFs"])
    # The host's VLANs and bonds go with its PIFs: xapi keeps no record pointing at a PIF that is gone.
    for vlan, vrec in list(db.tables["VLAN"].items()):
        if vrec["tagged_PIF"] in host_pifs or vrec["untagged_PIF"] in host_pifs:
            db.destroy("VLAN", vlan)
    for bond, brec in list(db.tables["Bond"].items()):
        if brec["master"] in host_pifs:
            db.destroy("Bond", bond)
    for pif in list(hrec["PIFs"]):
        metrics = db.get("PIF", pif)["metrics"]
        db.destroy("PIF", pif)
        if metrics in db.tables["PIF_metrics"]:
            db.destroy("PIF_metrics", metrics)
    for cpu in list(hrec["host_CPUs"]):
        db.destroy("host_cpu", cpu)
    for vm in list(hrec["resident_VMs"]):
        vrec = db.get("VM", vm)
        if vrec["is_control_domain"]:
            for ref, cls in ((vrec["metrics"], "VM_metrics"), (vrec["guest_metrics"], "VM_guest_metrics")):
                if ref in db.tables[cls]:
                    db.destroy(cls, ref)
            for console in list(vrec["consoles"]):
                db.destroy("console", console)
            db.destroy("VM", vm)
    for vm, vrec in list(db.tables["VM"].items()):
        if vrec["affinity"] == host:
            db.set("VM", vm, "affinity", NULL_REF)
    if hrec["metrics"] in db.tables["host_metrics"]:
        db.destroy("host_metrics", hrec["metrics"])
    db.destroy("host", host)
    recompute_pool_cpu_info(db)
