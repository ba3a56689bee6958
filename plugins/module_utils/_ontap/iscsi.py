# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The iSCSI target service of an SVM (its IQN is XenServer's targetIQN)."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import Service, exact, ref
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import zbool


class IscsiService(Service):
    """list/get/create/enable/disable/delete of SVM iSCSI services."""

    def list(self, svm: str | None = None) -> list[dict]:
        return exact(self._run("list", svm), svm=svm)

    def get(self, svm: str) -> dict | None:
        return self._one(self.list(svm), "iSCSI service")

    def create(self, svm: str, enabled: bool = True) -> dict | None:
        self._run("create", svm, enabled)
        return self.get(svm)

    def set_enabled(self, current: dict, enabled: bool) -> dict | None:
        self._run("enabled", current, enabled)
        return self.get(current["svm"])

    def delete(self, current: dict) -> None:
        if current.get("enabled"):
            self._run("enabled", current, False)
        self._run("delete", current)

    def _rest_list(self, svm):
        params = {"fields": "svm.name,svm.uuid,enabled,target.name,target.alias", "svm.name": svm}
        return [{"svm": (r.get("svm") or {}).get("name"), "enabled": r.get("enabled"), "target_name": (r.get("target") or {}).get("name"),
                 "target_alias": (r.get("target") or {}).get("alias"), "_svm_uuid": (r.get("svm") or {}).get("uuid")}
                for r in self.rest.get_records("/api/protocols/san/iscsi/services", params)]

    def _rest_create(self, svm, enabled):
        self.rest.post("/api/protocols/san/iscsi/services", {"svm": ref(svm), "enabled": enabled})

    def _rest_enabled(self, current, enabled):
        self.rest.patch("/api/protocols/san/iscsi/services/%s" % current["_svm_uuid"], {"enabled": enabled})

    def _rest_delete(self, current):
        self.rest.delete("/api/protocols/san/iscsi/services/%s" % current["_svm_uuid"])

    def _zapi_list(self, svm):
        query = {"iscsi-service-info": {"vserver": svm}} if svm else None
        desired = {"iscsi-service-info": {"vserver": None, "node-name": None, "alias-name": None, "is-available": None}}
        return [{"svm": r.get("vserver"), "enabled": zbool(r.get("is-available")), "target_name": r.get("node-name"),
                 "target_alias": r.get("alias-name")}
                for r in self.zapi.get_iter("iscsi-service-get-iter", query, desired, vserver=svm)]

    def _zapi_create(self, svm, enabled):
        self.zapi.call("iscsi-service-create", {"start": enabled}, vserver=svm)

    def _zapi_enabled(self, current, enabled):
        self.zapi.call("iscsi-service-start" if enabled else "iscsi-service-stop", None, vserver=current["svm"])

    def _zapi_delete(self, current):
        self.zapi.call("iscsi-service-destroy", None, vserver=current["svm"])
