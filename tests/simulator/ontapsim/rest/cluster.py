# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REST: cluster, nodes, jobs, SVMs, aggregates and IP interfaces (read-only)."""
from __future__ import annotations

from ..model import iso
from .common import RestResponse, _links, _ref, project
from .extras import job_extras, lif_extras, merge, svm_extras


def _mask_length(netmask: str) -> str:
    """ip.netmask: "Output is always netmask length" (ONTAP REST API reference, ip_info), input either form."""
    if "." not in netmask:
        return netmask
    return str(sum(bin(int(part)).count("1") for part in netmask.split(".")))


class ClusterMixin:
    """Read-only cluster resources."""

    def get_cluster(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        c = self.state.cluster
        rec = {"name": c["name"], "uuid": c["uuid"], "version": dict(c["version"]), "location": c["location"],
               "contact": c["contact"], "timezone": {"name": c["timezone"]}, "dns_domains": list(c["dns_domains"]),
               "san_optimized": False, "disaggregated": False,
               "management_interfaces": [{"name": "cluster_mgmt", "ip": {"address": c["management_address"]},
                                          "uuid": self.state.derived_uuid("lif", "cluster_mgmt")}],
               "name_servers": list(c.get("name_servers", [])), "ntp_servers": list(c.get("ntp_servers", [])),
               "nodes": [_ref(n["name"], n["uuid"], "/api/cluster/nodes/%s" % n["uuid"]) for n in self.state.nodes],
               "_links": _links("/api/cluster")}
        if "fields" in params:
            paths = self.parse_fields("cluster", params)
            if paths is not None:
                paths = [p for p in paths if p[0] not in ("uuid",) or "uuid" in params["fields"]]
                rec = project(rec, paths)
        return RestResponse(200, rec)

    def node_records(self, uuid: str | None = None) -> list[dict]:
        return [{"uuid": n["uuid"], "name": n["name"], "version": dict(self.state.cluster["version"]), "state": "up",
                 "_links": _links("/api/cluster/nodes/%s" % n["uuid"])}
                for n in self.state.nodes if uuid in (None, n["uuid"])]

    def job_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        for job in self.state.jobs.values():
            if uuid not in (None, job["uuid"]):
                continue
            rec = {"uuid": job["uuid"], "description": job["description"], "state": job["state"],
                   "message": job["message"] or job["state"], "code": job["code"], "start_time": iso(job["start"]),
                   "_links": _links("/api/cluster/jobs/%s" % job["uuid"])}
            if job["end"] is not None:
                rec["end_time"] = iso(job["end"])
            if job["svm_uuid"] in self.state.svms:
                rec["svm"] = self.svm_ref(job["svm_uuid"])
            if job["error"]:
                rec["error"] = dict(job["error"])
            out.append(merge(rec, job_extras(self.state, job)))
        return out

    def svm_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        for svm in self.state.svms.values():
            if uuid not in (None, svm["uuid"]):
                continue
            service = self.state.iscsi.get(svm["uuid"])
            lifs = [lf for lf in self.state.lifs.values() if lf["svm_uuid"] == svm["uuid"]]
            aggrs = [a for a in self.state.aggregates.values() if a["name"] in svm["aggregates"]]
            rec = {"uuid": svm["uuid"], "name": svm["name"], "state": svm["state"], "subtype": svm["subtype"],
                   "language": svm["language"], "ipspace": {"name": svm["ipspace"]},
                   "snapshot_policy": {"name": "default"},
                   "aggregates": [_ref(a["name"], a["uuid"], "/api/storage/aggregates/%s" % a["uuid"]) for a in aggrs],
                   "iscsi": {"allowed": "iscsi" in svm["allowed_protocols"], "enabled": bool(service and service["enabled"])},
                   "nfs": {"allowed": "nfs" in svm["allowed_protocols"], "enabled": False},
                   "fcp": {"allowed": "fcp" in svm["allowed_protocols"], "enabled": False},
                   "cifs": {"allowed": "cifs" in svm["allowed_protocols"], "enabled": False},
                   "nvme": {"allowed": "nvme" in svm["allowed_protocols"], "enabled": False},
                   "ip_interfaces": [{"name": lf["name"], "uuid": lf["uuid"], "ip": {"address": lf["address"]},
                                      "services": list(lf["services"])} for lf in lifs],
                   "_links": _links("/api/svm/svms/%s" % svm["uuid"])}
            if svm["comment"]:
                rec["comment"] = svm["comment"]
            out.append(merge(rec, svm_extras(self.state, svm, aggrs)))
        return out

    def aggr_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        nodes = {n["name"]: n for n in self.state.nodes}
        for aggr in self.state.aggregates.values():
            if uuid not in (None, aggr["uuid"]):
                continue
            space = self.state.aggregate_space(aggr)
            node = nodes[aggr["node"]]
            out.append({"uuid": aggr["uuid"], "name": aggr["name"], "state": aggr["state"],
                        "node": _ref(node["name"], node["uuid"], "/api/cluster/nodes/%s" % node["uuid"]),
                        "home_node": _ref(node["name"], node["uuid"], "/api/cluster/nodes/%s" % node["uuid"]),
                        "create_time": iso(aggr["create_time"]),
                        "space": {"block_storage": {"size": space["size"], "available": space["available"],
                                                    "used": space["used"],
                                                    "used_percent": int(100 * space["used"] / space["size"]) if space["size"] else 0}},
                        "volume-count": sum(1 for v in self.state.volumes.values() if v["aggr_uuid"] == aggr["uuid"]),
                        "_links": _links("/api/storage/aggregates/%s" % aggr["uuid"])})
        return out

    def lif_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        nodes = {n["name"]: n for n in self.state.nodes}
        for lif in self.state.lifs.values():
            if uuid not in (None, lif["uuid"]):
                continue
            node = nodes[lif["node"]]
            node_ref = _ref(node["name"], node["uuid"], "/api/cluster/nodes/%s" % node["uuid"])
            out.append({"uuid": lif["uuid"], "name": lif["name"], "svm": self.svm_ref(lif["svm_uuid"]),
                        "ip": {"address": lif["address"], "netmask": _mask_length(lif["netmask"]), "family": "ipv4"},
                        "enabled": lif["enabled"], "state": "up" if lif["enabled"] else "down", "scope": "svm",
                        "services": list(lif["services"]), "service_policy": {"name": lif["service_policy"]},
                        "ipspace": {"name": "Default"},
                        "location": {"home_node": node_ref, "node": node_ref, "home_port": {"name": lif["port"]},
                                     "port": {"name": lif["port"]}, "is_home": True},
                        "_links": _links("/api/network/ip/interfaces/%s" % lif["uuid"])})
            merge(out[-1], lif_extras(self.state, lif))
        return out
