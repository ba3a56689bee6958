# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The declared data centre (files/inventory) checked against the simulators' own saved state.

Never through the collection's modules: a module that misreads the state would agree with itself.
Each check returns a list of differences; an empty list means exactly what was declared, with no
duplicate (a resumed run that created a second bond, VLAN, igroup or SR is a difference).
"""
from __future__ import annotations

import os
import re

import yaml

from world import INVENTORY

GIB = 1024 ** 3


def declared_pools() -> dict[str, dict]:
    """pool inventory name -> its faults_pool (host_vars hold plain YAML, no templates)."""
    pools = {}
    directory = os.path.join(INVENTORY, "host_vars")
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), encoding="utf-8") as handle:
            pools[os.path.splitext(name)[0]] = yaml.safe_load(handle)["faults_pool"]
    return pools


def declared_srs(pool: str) -> list[dict]:
    """faults_srs of group_vars/xen_pools/storage.yml as rendered for one pool (its names derive from it)."""
    slug = re.sub(r"[^A-Za-z0-9_]", "_", pool)
    return [{"name": pool + "-sr01", "svm": "svm_xen", "igroup": "xen_" + slug, "volume": "xen_%s_sr01" % slug,
             "lun": "lun0", "size": 100 * GIB, "tags": {"netapp", "san"}}]


def _tables(xapi_state: dict, pool_name: str) -> dict | None:
    for db in xapi_state["dbs"]:
        pools = list(db["tables"]["pool"].values())
        if pools and pools[0]["name_label"] == pool_name:
            return db["tables"]
    return None


def _named(table: dict, name: str) -> list[tuple[str, dict]]:
    return [(ref, rec) for ref, rec in table.items() if rec.get("name_label") == name]


def check_pools(xapi_state: dict) -> list[str]:
    problems: list[str] = []
    for inv_name, pool in declared_pools().items():
        tables = _tables(xapi_state, pool["name"])
        if tables is None:
            problems.append("no pool named %s" % pool["name"])
            continue
        problems += _check_pool(tables, pool)
    return problems


def _check_pool(tables: dict, pool: dict) -> list[str]:
    problems = []
    record = next(iter(tables["pool"].values()))
    hosts = {ref: rec["name_label"] for ref, rec in tables["host"].items()}
    if sorted(hosts.values()) != sorted(pool["members"]):
        problems.append("%s members %s, declared %s" % (pool["name"], sorted(hosts.values()), sorted(pool["members"])))
    if hosts.get(record["master"]) != pool["master"]:
        problems.append("%s master %s, declared %s" % (pool["name"], hosts.get(record["master"]), pool["master"]))
    if record["name_description"] != pool.get("description", record["name_description"]):
        problems.append("%s description %r" % (pool["name"], record["name_description"]))
    for key, value in (pool.get("other_config") or {}).items():
        if record["other_config"].get(key) != value:
            problems.append("%s other_config %s=%r" % (pool["name"], key, record["other_config"].get(key)))
    if not set(pool.get("tags") or []) <= set(record["tags"]):
        problems.append("%s tags %s" % (pool["name"], record["tags"]))
    count = len(pool["members"])
    for net in (pool.get("bonds") or []) + (pool.get("vlans") or []):
        nets = _named(tables["network"], net["name"])
        if len(nets) != 1:
            problems.append("%s has %d networks named %s" % (pool["name"], len(nets), net["name"]))
            continue
        pifs = [p for p in tables["PIF"].values() if p["network"] == nets[0][0]]
        if len(pifs) != count:
            problems.append("%s network %s has %d PIFs for %d hosts" % (pool["name"], net["name"], len(pifs), count))
        if "tag" in net and any(str(p["VLAN"]) != str(net["tag"]) for p in pifs):
            problems.append("%s network %s: VLAN tags %s" % (pool["name"], net["name"], sorted({str(p["VLAN"]) for p in pifs})))
    if len(tables["Bond"]) != count * len(pool.get("bonds") or []):
        problems.append("%s has %d bonds for %d hosts" % (pool["name"], len(tables["Bond"]), count))
    problems += _check_addresses(tables, pool, hosts)
    for ref, name in hosts.items():
        want = (pool.get("hosts") or {}).get(name) or {}
        rec = tables["host"][ref]
        if "iscsi_iqn" in want and rec.get("iscsi_iqn", rec["other_config"].get("iscsi_iqn")) != want["iscsi_iqn"]:
            problems.append("%s iscsi_iqn %r" % (name, rec.get("iscsi_iqn")))
        if "multipathing" in want and bool(rec.get("multipathing")) != want["multipathing"]:
            problems.append("%s multipathing %r" % (name, rec.get("multipathing")))
    return problems


def _check_addresses(tables: dict, pool: dict, hosts: dict) -> list[str]:
    problems = []
    for item in pool.get("storage_interfaces") or []:
        nets = _named(tables["network"], item["network"])
        pifs = [p for p in tables["PIF"].values()
                if nets and p["network"] == nets[0][0] and hosts.get(p["host"]) == item["host"]]
        if len(pifs) != 1 or pifs[0]["IP"] != item["ip"] or pifs[0]["netmask"] != item["netmask"]:
            problems.append("%s on %s: %s" % (item["host"], item["network"],
                                              [(p["IP"], p["netmask"]) for p in pifs] or "no PIF"))
    return problems


def check_storage(xapi_state: dict, ontap_state: dict) -> list[str]:
    problems: list[str] = []
    for inv_name, pool in declared_pools().items():
        tables = _tables(xapi_state, pool["name"])
        iqns = {(pool.get("hosts") or {}).get(h, {}).get("iscsi_iqn") for h in pool["members"]}
        for sr in declared_srs(inv_name):
            problems += _check_ontap(ontap_state, sr, iqns)
            problems += _check_sr(tables, sr, len(pool["members"])) if tables else ["no pool %s" % pool["name"]]
    return problems


def _check_ontap(state: dict, sr: dict, iqns: set) -> list[str]:
    problems = []
    igroups = [g for g in state["igroups"].values() if g["name"] == sr["igroup"]]
    if len(igroups) != 1:
        return ["%d igroups named %s" % (len(igroups), sr["igroup"])]
    members = {i["name"] for i in igroups[0]["initiators"]}
    if members != iqns:
        problems.append("igroup %s initiators %s" % (sr["igroup"], sorted(members)))
    volumes = [v for v in state["volumes"].values() if v["name"] == sr["volume"]]
    if len(volumes) != 1:
        return problems + ["%d volumes named %s" % (len(volumes), sr["volume"])]
    path = "/vol/%s/%s" % (sr["volume"], sr["lun"])
    luns = [lun for lun in state["luns"].values() if lun["path"] == path]
    if len(luns) != 1:
        return problems + ["%d LUNs at %s" % (len(luns), path)]
    if int(luns[0]["size"]) != sr["size"]:
        problems.append("LUN %s size %s" % (path, luns[0]["size"]))
    maps = [m for m in state["lun_maps"] if m["lun_uuid"] == luns[0]["uuid"]]
    if [m["igroup_uuid"] for m in maps] != [igroups[0]["uuid"]]:
        problems.append("LUN %s maps %s" % (path, maps))
    return problems


def _check_sr(tables: dict, sr: dict, host_count: int) -> list[str]:
    srs = _named(tables["SR"], sr["name"])
    if len(srs) != 1:
        return ["%d SRs named %s" % (len(srs), sr["name"])]
    ref, rec = srs[0]
    problems = []
    if rec["type"] != "lvmoiscsi" or not rec["shared"]:
        problems.append("SR %s type %s shared %s" % (sr["name"], rec["type"], rec["shared"]))
    pbds = [p for p in tables["PBD"].values() if p["SR"] == ref]
    if len(pbds) != host_count or not all(p["currently_attached"] for p in pbds):
        problems.append("SR %s PBDs %s" % (sr["name"], [p["currently_attached"] for p in pbds]))
    if next(iter(tables["pool"].values()))["default_SR"] != ref:
        problems.append("SR %s is not the pool's default SR" % sr["name"])
    if not sr["tags"] <= set(rec["tags"]):
        problems.append("SR %s tags %s" % (sr["name"], rec["tags"]))
    return problems
