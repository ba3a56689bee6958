# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI: system-get-version, vserver, aggr, net-interface and job iterators."""
from __future__ import annotations

from .common import node


class ClusterMixin:
    """System, SVMs, aggregates, LIFs and jobs."""

    def api_system_get_version(self, api, svm):  # pylint: disable=unused-argument
        ver = self.state.cluster["version"]
        return [node("build-timestamp", 1707731526), node("is-clustered", True), node("version", ver["full"]),
                ("version-tuple", [("system-version-tuple", [node("generation", ver["generation"]),
                                                             node("major", ver["major"]), node("minor", ver["minor"])])]),
                ("node-version-details", [("node-version-detail-info", [
                    node("build-timestamp", 1707731526), node("node-name", n["name"]), node("node-uuid", n["uuid"]),
                    node("version", ver["full"])]) for n in self.state.nodes])]

    def api_system_get_ontapi_version(self, api, svm):  # pylint: disable=unused-argument
        return [node("major-version", 1), node("minor-version", self.ontapi_minor())]

    def vserver_record(self, svm: dict) -> list[tuple]:
        root = next((v["name"] for v in self.state.volumes.values() if v["svm_uuid"] == svm["uuid"] and v.get("is_svm_root")),
                    "")
        return [node("vserver-name", svm["name"]), node("uuid", svm["uuid"]), node("vserver-type", "data"),
                node("vserver-subtype", svm["subtype"]), node("state", svm["state"]),
                node("operational-state", svm["state"]), node("root-volume", root), node("language", svm["language"]),
                node("snapshot-policy", "default"), node("ipspace", svm["ipspace"]), node("comment", svm["comment"]),
                ("allowed-protocols", [node("protocol", p) for p in svm["allowed_protocols"]]),
                ("aggr-list", [node("aggr-name", a) for a in svm["aggregates"]])]

    def api_vserver_get_iter(self, api, svm):
        records = []
        if svm is None:
            records.append([node("vserver-name", self.state.cluster["name"]), node("uuid", self.state.cluster["uuid"]),
                            node("vserver-type", "admin"), node("state", "running"), node("ipspace", "Default")])
        records += [self.vserver_record(s) for s in self.state.svms.values() if svm is None or s is svm]
        return self.iterate(api, "vserver-info", records)

    def api_aggr_get_iter(self, api, svm):  # pylint: disable=unused-argument
        records = []
        for aggr in self.state.aggregates.values():
            space = self.state.aggregate_space(aggr)
            records.append([node("aggregate-name", aggr["name"]), node("aggregate-uuid", aggr["uuid"]),
                            ("aggr-ownership-attributes", [node("home-name", aggr["node"]), node("owner-name", aggr["node"])]),
                            ("aggr-raid-attributes", [node("state", aggr["state"])]),
                            ("aggr-space-attributes", [node("size-total", space["size"]),
                                                       node("size-available", space["available"]),
                                                       node("size-used", space["used"]),
                                                       node("percent-used-capacity",
                                                            int(100 * space["used"] / space["size"]) if space["size"] else 0)])])
        return self.iterate(api, "aggr-attributes", records)

    def api_net_interface_get_iter(self, api, svm):
        records = []
        for lif in self.scoped(self.state.lifs.values(), svm):
            protocols = [s[len("data_"):] for s in lif["services"] if s.startswith("data_") and s != "data_core"]
            bits = sum(bin(int(x)).count("1") for x in lif["netmask"].split("."))
            records.append([node("interface-name", lif["name"]), node("lif-uuid", lif["uuid"]),
                            node("vserver", self.state.svms[lif["svm_uuid"]]["name"]), node("address", lif["address"]),
                            node("netmask", lif["netmask"]), node("netmask-length", bits), node("address-family", "ipv4"),
                            node("role", "data"), node("home-node", lif["node"]), node("home-port", lif["port"]),
                            node("current-node", lif["node"]), node("current-port", lif["port"]), node("is-home", True),
                            node("administrative-status", "up" if lif["enabled"] else "down"),
                            node("operational-status", "up" if lif["enabled"] else "down"),
                            node("service-policy", lif["service_policy"]),
                            node("failover-policy", {"default": "system_defined"}.get(self.state.lif_failover(lif),
                                                                                      self.state.lif_failover(lif))),
                            node("failover-group", self.state.svms[lif["svm_uuid"]]["ipspace"]),
                            node("is-auto-revert", False), node("firewall-policy", "data"), node("dns-domain-name", "none"),
                            node("listen-for-dns-query", False), node("is-dns-update-enabled", False),
                            node("is-ipv4-link-local", False),
                            ("data-protocols", [node("data-protocol", p) for p in protocols]),
                            ("service-names", [node("lif-service-name", s) for s in lif["services"]])])
        return self.iterate(api, "net-interface-info", records)

    def api_job_get_iter(self, api, svm):
        records = []
        for index, job in enumerate(self.state.jobs.values()):
            if svm is not None and job["svm_uuid"] != svm["uuid"]:
                continue
            records.append([node("job-id", index + 1), node("job-uuid", job["uuid"]), node("job-description", job["description"]),
                            node("job-state", job["state"]), node("job-status-code", job["code"]),
                            node("job-completion", job["message"]), node("job-start-time", int(job["start"]))])
        return self.iterate(api, "job-info", records)

    def api_cluster_node_get_iter(self, api, svm):  # pylint: disable=unused-argument
        """cluster-node-get-iter: na_ontap_interface reads node names from it (home_node default)."""
        records = [[node("node-name", n["name"]), node("node-uuid", n["uuid"]), node("is-node-healthy", True),
                    node("is-node-eligible", True), node("node-serial-number", n["uuid"].replace("-", "")[:12])]
                   for n in self.state.nodes]
        return self.iterate(api, "cluster-node-info", records)
