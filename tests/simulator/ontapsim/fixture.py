# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build an OntapState from a YAML fixture (and optional generated bulk objects).

Fixtures go through the same model methods as API calls, so a fixture
cannot create a state the API would refuse (e.g. duplicate LUN ids).
"""
from __future__ import annotations

import yaml

from .model import OntapState, parse_size

DEFAULT_VERSION = {"generation": 9, "major": 14, "minor": 1,
                   "full": "NetApp Release 9.14.1: Mon Feb 12 09:52:06 UTC 2024"}


def load_fixture(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    if not isinstance(data, dict):
        raise ValueError("fixture %s must be a mapping" % path)
    return data


def parse_generate(text: str | None) -> dict[str, int]:
    """'volumes=500,luns=1000' -> {'volumes': 500, 'luns': 1000}."""
    out: dict[str, int] = {}
    for item in (text or "").split(","):
        item = item.strip()
        if not item:
            continue
        key, _sep, value = item.partition("=")
        if key not in ("volumes", "luns", "igroups"):
            raise ValueError("unknown --generate key %r (volumes, luns, igroups)" % key)
        out[key] = int(value)
    return out


def build_state(state: OntapState, fixture: dict, generate: dict[str, int] | None = None) -> OntapState:
    """Populate state from the fixture mapping (see ontap_fixtures/reference.yml for the schema)."""
    state.seed = str(fixture.get("seed", state.seed))
    cluster = fixture.get("cluster") or {}
    version = dict(DEFAULT_VERSION)
    version.update(cluster.get("version") or {})
    state.cluster = {"name": cluster.get("name", "cluster1"), "uuid": state.new_uuid(), "version": version,
                     "location": cluster.get("location", ""), "contact": cluster.get("contact", ""),
                     "timezone": cluster.get("timezone", "Etc/UTC"),
                     "dns_domains": list(cluster.get("dns_domains", ["example.test"])),
                     "management_address": cluster.get("management_address", "192.0.2.10")}
    state.zapi_enabled = bool(fixture.get("zapi_enabled", True))
    for node in cluster.get("nodes") or [{"name": "%s-01" % state.cluster["name"]}, {"name": "%s-02" % state.cluster["name"]}]:
        state.nodes.append({"name": node["name"], "uuid": state.new_uuid()})
    node_names = [n["name"] for n in state.nodes]
    for aggr in fixture.get("aggregates") or []:
        uuid = state.new_uuid()
        node = aggr.get("node", node_names[0])
        if node not in node_names:
            raise ValueError("aggregate %s: unknown node %s" % (aggr["name"], node))
        state.aggregates[uuid] = {"uuid": uuid, "name": aggr["name"], "node": node, "size": parse_size(aggr["size"]),
                                  "state": "online", "create_time": state.now()}
    for index, spec in enumerate(fixture.get("svms") or []):
        _build_svm(state, spec, index)
    if generate:
        _generate(state, fixture, generate)
    return state


def _build_svm(state: OntapState, spec: dict, index: int) -> None:
    uuid = state.new_uuid()
    svm = {"uuid": uuid, "name": spec["name"], "vs_id": index + 3, "state": "running", "subtype": "default",
           "language": "c.utf_8", "allowed_protocols": list(spec.get("allowed_protocols", ["iscsi"])),
           "aggregates": list(spec.get("aggregates", [])), "ipspace": "Default", "comment": spec.get("comment", ""),
           "snapshot_policies": ["default", "none", "default-1weekly"]}
    state.svms[uuid] = svm
    root = spec.get("root_volume", "%s_root" % spec["name"])
    first_aggr = state.aggr_by_name(svm["aggregates"][0] if svm["aggregates"] else
                                    next(iter(state.aggregates.values()))["name"])
    vol = state.volume_create(uuid, root, first_aggr["uuid"], 1024 ** 3, state.new_uuid(), guarantee="volume",
                              snapshot_policy="default", junction_path="/")
    vol["is_svm_root"] = True
    node_names = [n["name"] for n in state.nodes]
    for lif in spec.get("lifs") or []:
        lif_uuid = state.new_uuid()
        state.lifs[lif_uuid] = {"uuid": lif_uuid, "name": lif["name"], "svm_uuid": uuid, "address": lif["address"],
                                "netmask": lif.get("netmask", "255.255.255.0"),
                                "node": lif.get("node", node_names[len(state.lifs) % len(node_names)]),
                                "port": lif.get("port", "e0c"), "services": list(lif.get("services", ["data_iscsi"])),
                                "enabled": bool(lif.get("enabled", True)),
                                "service_policy": lif.get("service_policy", "default-data-blocks")}
    if spec.get("iscsi_service"):
        service = spec["iscsi_service"]
        state.iscsi_create(svm, enabled=service.get("enabled", True), alias=service.get("alias"))
    for vspec in spec.get("volumes") or []:
        aggr = state.aggr_by_name(vspec["aggregate"])
        vol = state.volume_create(uuid, vspec["name"], aggr["uuid"], parse_size(vspec["size"]), state.new_uuid(),
                                  guarantee=vspec.get("guarantee", "none"),
                                  snapshot_policy=vspec.get("snapshot_policy", "none"),
                                  snapshot_reserve=int(vspec.get("snapshot_reserve", 0)),
                                  efficiency=vspec.get("efficiency"))
        for lspec in vspec.get("luns") or []:
            lun = state.lun_create(uuid, "/vol/%s/%s" % (vol["name"], lspec["name"]), lspec.get("os_type", "xen"),
                                   parse_size(lspec["size"]), state.new_uuid(), state.new_serial(),
                                   space_reserve=bool(lspec.get("space_reserve", False)))
            if lspec.get("written"):
                state.write_data(lun, parse_size(lspec["written"]))
    for gspec in spec.get("igroups") or []:
        state.igroup_create(svm, gspec["name"], gspec.get("os_type", "xen"), gspec.get("protocol", "iscsi"),
                            [{"name": n} for n in gspec.get("initiators", [])])
    for mspec in spec.get("lun_maps") or []:
        state.lun_map(state.lun_by_path(svm, mspec["lun"]), state.igroup_by_name(svm, mspec["igroup"]),
                      mspec.get("lun_id"))


def _generate(state: OntapState, fixture: dict, generate: dict[str, int]) -> None:
    """Bulk objects for benchmarks: thin volumes and LUNs spread over them in the first SVM."""
    svm = state.svm_by_name(fixture.get("generate_svm") or (fixture.get("svms") or [{}])[0].get("name"))
    aggrs = [a for a in state.aggregates.values() if a["name"] in svm["aggregates"]] or list(state.aggregates.values())
    vols = []
    for i in range(generate.get("volumes", 0)):
        vols.append(state.volume_create(svm["uuid"], "bench_vol_%04d" % i, aggrs[i % len(aggrs)]["uuid"], 100 * 1024 ** 3,
                                        state.new_uuid(), guarantee="none", snapshot_policy="none", snapshot_reserve=0))
    if generate.get("luns") and not vols:
        raise ValueError("--generate luns=N needs volumes=M as well")
    for i in range(generate.get("luns", 0)):
        vol = vols[i % len(vols)]
        state.lun_create(svm["uuid"], "/vol/%s/bench_lun_%04d" % (vol["name"], i), "xen", 1024 ** 3,
                         state.new_uuid(), state.new_serial())
    for i in range(generate.get("igroups", 0)):
        state.igroup_create(svm, "bench_ig_%04d" % i, "xen", "iscsi",
                            [{"name": "iqn.2024-01.test.bench:host%04d" % i}])
