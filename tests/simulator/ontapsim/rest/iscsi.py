# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REST: protocols/san/iscsi/services."""
from __future__ import annotations

from ..errors import OntapError
from ..model import parse_bool
from ..restfields import PATCH_FIELDS, POST_FIELDS
from .common import RestResponse, _links


class IscsiMixin:
    """iSCSI services."""

    def iscsi_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        for svm_uuid, service in self.state.iscsi.items():
            if uuid not in (None, svm_uuid):
                continue
            svm = self.state.svms[svm_uuid]
            out.append({"svm": self.svm_ref(svm_uuid), "enabled": service["enabled"],
                        "target": {"name": self.state.target_iqn(svm), "alias": service["alias"]},
                        "_links": _links("/api/protocols/san/iscsi/services/%s" % svm_uuid)})
        return out

    def post_iscsi(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("iscsi_services", body, POST_FIELDS)
        svm = self.body_svm(body)
        self.state.iscsi_create(svm, parse_bool(body.get("enabled"), True), (body.get("target") or {}).get("alias"))
        return self.sync_created("/api/protocols/san/iscsi/services/%s" % svm["uuid"], params,
                                 lambda: self.iscsi_records(svm["uuid"])[0])

    def _iscsi_svm(self, uuid: str) -> dict:
        svm = self.state.svms.get(uuid)
        if svm is None:
            raise OntapError("svm_not_found", "SVM \"%s\" does not exist." % uuid, "svm.uuid")
        return svm

    def get_iscsi(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        svm = self._iscsi_svm(uuid)
        self.state.iscsi_get(svm)
        return self.single("iscsi_services", self.iscsi_records(uuid)[0], params)

    def patch_iscsi(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        svm = self._iscsi_svm(uuid)
        self.check_body("iscsi_services", body, PATCH_FIELDS)
        changes = {}
        if "enabled" in body:
            changes["enabled"] = parse_bool(body["enabled"])
        if (body.get("target") or {}).get("alias"):
            changes["alias"] = body["target"]["alias"]
        self.state.iscsi_modify(svm, changes)
        return RestResponse(200, {})

    def delete_iscsi(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        self.state.iscsi_delete(self._iscsi_svm(uuid))
        return RestResponse(200, {})
