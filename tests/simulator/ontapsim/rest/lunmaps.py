# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REST: protocols/san/lun-maps."""
from __future__ import annotations

from ..errors import OntapError
from ..restfields import POST_FIELDS
from .common import RestResponse, _links, _ref


class LunMapsMixin:
    """LUN maps."""

    def lunmap_records(self, lun_uuid: str | None = None, ig_uuid: str | None = None) -> list[dict]:
        out = []
        st = self.state
        for mapping in st.lun_maps:
            if lun_uuid not in (None, mapping["lun_uuid"]) or ig_uuid not in (None, mapping["igroup_uuid"]):
                continue
            lun = st.luns[mapping["lun_uuid"]]
            ig = st.igroups[mapping["igroup_uuid"]]
            node = st.aggregates[st.volumes[lun["vol_uuid"]]["aggr_uuid"]]["node"]
            out.append({"svm": self.svm_ref(lun["svm_uuid"]),
                        "lun": dict(_ref(lun["path"], lun["uuid"], "/api/storage/luns/%s" % lun["uuid"]),
                                    node={"name": node, "uuid": next(n["uuid"] for n in st.nodes if n["name"] == node)},
                                    smbc={"replicated": False}),
                        "igroup": dict(_ref(ig["name"], ig["uuid"], "/api/protocols/san/igroups/%s" % ig["uuid"]),
                                       protocol=ig["protocol"], os_type=ig["os_type"], replicated=False,
                                       initiators=[i["name"] for i in ig["initiators"]]),
                        "replicated": False,
                        "logical_unit_number": mapping["lun_id"],
                        "reporting_nodes": [{"name": n["name"], "uuid": n["uuid"]} for n in st.nodes],
                        "_links": _links("/api/protocols/san/lun-maps/%s/%s" % (lun["uuid"], ig["uuid"]))})
        return out

    def post_lunmap(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("lun_maps", body, POST_FIELDS)
        svm = self.body_svm(body)
        lun_ref = body.get("lun") or {}
        ig_ref = body.get("igroup") or {}
        if not lun_ref.get("name") and not lun_ref.get("uuid"):
            raise OntapError("lunmap_no_lun", "Either \"lun.uuid\" or \"lun.name\" must be supplied.", "lun")
        if not ig_ref.get("name") and not ig_ref.get("uuid"):
            raise OntapError("lunmap_no_igroup", "Either \"igroup.uuid\" or \"igroup.name\" must be supplied.", "igroup")
        if lun_ref.get("uuid"):
            lun = self.state.luns.get(lun_ref["uuid"])
            if lun is None or lun["svm_uuid"] != svm["uuid"]:
                raise OntapError("lunmap_lun_missing", "The LUN does not exist.", "lun.uuid")
        else:
            lun = self.state.lun_by_path(svm, lun_ref["name"], key="lunmap_lun_missing")
        if ig_ref.get("uuid"):
            ig = self.state.igroups.get(ig_ref["uuid"])
            if ig is None or ig["svm_uuid"] != svm["uuid"]:
                raise OntapError("lunmap_igroup_missing", "The initiator group does not exist, is not accessible to the "
                                 "caller, or is not in the specified SVM.", "igroup.uuid")
        else:
            ig = self.state.igroup_by_name(svm, ig_ref["name"], key="lunmap_igroup_missing")
        self.state.lun_map(lun, ig, body.get("logical_unit_number"))
        return self.sync_created("/api/protocols/san/lun-maps/%s/%s" % (lun["uuid"], ig["uuid"]), params,
                                 lambda: self.lunmap_records(lun["uuid"], ig["uuid"])[0])

    def _lunmap_parts(self, lun: str, ig: str) -> tuple[dict, dict]:
        lun_obj = self.state.luns.get(lun)
        if lun_obj is None:
            raise OntapError("lun_not_found", "The LUN does not exist or is not accessible to the caller.", "lun.uuid")
        ig_obj = self.state.igroups.get(ig)
        if ig_obj is None:
            raise OntapError("lunmap_igroup_missing", "The initiator group does not exist, is not accessible to the "
                             "caller, or is not in the specified SVM.", "igroup.uuid")
        return lun_obj, ig_obj

    def get_lunmap(self, params: dict, body: dict, path: str, lun: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        lun_obj, ig_obj = self._lunmap_parts(lun, ig)
        recs = self.lunmap_records(lun_obj["uuid"], ig_obj["uuid"])
        if not recs:
            raise OntapError("lunmap_not_found", "The LUN map does not exist.", "lun.uuid")
        return self.single("lun_maps", recs[0], params)

    def patch_lunmap(self, params: dict, body: dict, path: str, lun: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        self._lunmap_parts(lun, ig)
        raise OntapError("lunmap_modify", "Modifying a LUN map is not supported; unmap and map again.")

    def delete_lunmap(self, params: dict, body: dict, path: str, lun: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        lun_obj, ig_obj = self._lunmap_parts(lun, ig)
        self.state.lun_unmap(lun_obj, ig_obj)
        return RestResponse(200, {})
