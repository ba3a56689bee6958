# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cluster-wide read services: the cluster version, SVMs and aggregates."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import Service, exact
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import dig


class ClusterService(Service):
    """Cluster identity; the version is read once while choosing the transport, so this costs no call."""

    def info(self) -> dict:
        return dict(self.client.version)


class SvmService(Service):
    """Data SVMs (vservers)."""

    def list(self, name: str | None = None) -> list[dict]:
        return exact(self._run("list", name), name=name)

    def get(self, name: str) -> dict | None:
        return self._one(self.list(name), "SVM")

    def _rest_list(self, name):
        params = {"fields": "uuid,name,state,subtype", "name": name}
        return [{"name": r.get("name"), "uuid": r.get("uuid"), "state": r.get("state")}
                for r in self.rest.get_records("/api/svm/svms", params)]

    def _zapi_list(self, name):
        query = {"vserver-info": {"vserver-type": "data"}}
        if name:
            query["vserver-info"]["vserver-name"] = name
        desired = {"vserver-info": {"vserver-name": None, "uuid": None, "state": None}}
        return [{"name": r.get("vserver-name"), "uuid": r.get("uuid"), "state": r.get("state")}
                for r in self.zapi.get_iter("vserver-get-iter", query, desired)]


class AggregateService(Service):
    """Aggregates, needed as volume placement targets."""

    def list(self) -> list[dict]:
        return self._run("list")

    def _rest_list(self):
        return [{"name": r.get("name"), "uuid": r.get("uuid"), "state": r.get("state")}
                for r in self.rest.get_records("/api/storage/aggregates", {"fields": "uuid,name,state"})]

    def _zapi_list(self):
        desired = {"aggr-attributes": {"aggregate-name": None, "aggregate-uuid": None,
                                       "aggr-raid-attributes": {"state": None}}}
        return [{"name": r.get("aggregate-name"), "uuid": r.get("aggregate-uuid"), "state": dig(r, "aggr-raid-attributes", "state")}
                for r in self.zapi.get_iter("aggr-get-iter", None, desired)]
