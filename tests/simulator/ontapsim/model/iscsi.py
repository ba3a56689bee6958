# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The iSCSI service of an SVM and its target name."""
from __future__ import annotations

from ..errors import OntapError


class IscsiMixin:
    """The iSCSI service."""

    def target_iqn(self, svm: dict) -> str:
        return "iqn.1992-08.com.netapp:sn.%s:vs.%d" % (svm["uuid"].replace("-", ""), svm["vs_id"])

    def iscsi_create(self, svm: dict, enabled: bool = True, alias: str | None = None) -> dict:
        if svm["uuid"] in self.iscsi:
            raise OntapError("iscsi_exists", "An iSCSI service already exists for SVM \"%s\"." % svm["name"], "svm.name")
        if "iscsi" not in svm["allowed_protocols"]:
            raise OntapError("iscsi_not_allowed", "iSCSI is not an allowed protocol for SVM \"%s\"." % svm["name"],
                             "svm.name")
        service = {"enabled": bool(enabled), "alias": alias or svm["name"]}
        self.iscsi[svm["uuid"]] = service
        return service

    def iscsi_get(self, svm: dict) -> dict:
        service = self.iscsi.get(svm["uuid"])
        if service is None:
            raise OntapError("iscsi_not_found", "An iSCSI service does not exist for SVM \"%s\"." % svm["name"], "svm.uuid")
        return service

    def iscsi_modify(self, svm: dict, changes: dict) -> dict:
        service = self.iscsi_get(svm)
        if "enabled" in changes:
            service["enabled"] = bool(changes["enabled"])
        if changes.get("alias"):
            service["alias"] = changes["alias"]
        return service

    def iscsi_delete(self, svm: dict) -> None:
        service = self.iscsi_get(svm)
        if service["enabled"]:
            raise OntapError("iscsi_enabled_delete", "The iSCSI service must be disabled before it can be deleted.",
                             "enabled")
        del self.iscsi[svm["uuid"]]
