# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REST: protocols/san/igroups and their initiators."""
from __future__ import annotations

from ..errors import OntapError
from ..model import parse_bool
from ..restfields import PATCH_FIELDS, POST_FIELDS
from .common import RestResponse, _links, _ref
from .extras import igroup_extras, initiator_extras, merge


class IgroupsMixin:
    """Initiator groups and their initiators."""

    def igroup_record(self, ig: dict) -> dict:
        rec = {"uuid": ig["uuid"], "name": ig["name"], "svm": self.svm_ref(ig["svm_uuid"]), "os_type": ig["os_type"],
               "protocol": ig["protocol"], "delete_on_unmap": False, "supports_igroups": True,
               "_links": _links("/api/protocols/san/igroups/%s" % ig["uuid"])}
        if ig["comment"]:
            rec["comment"] = ig["comment"]
        if ig["initiators"]:
            rec["initiators"] = []
            for init in ig["initiators"]:
                item = {"name": init["name"], "_links": _links("/api/protocols/san/igroups/%s/initiators/%s"
                                                               % (ig["uuid"], init["name"]))}
                if init.get("comment"):
                    item["comment"] = init["comment"]
                rec["initiators"].append(merge(item, initiator_extras(self.state, ig, init)))
        maps = self.state.maps_of_igroup(ig)
        if maps:
            rec["lun_maps"] = []
            for mapping in maps:
                lun = self.state.luns[mapping["lun_uuid"]]
                node = self.state.aggregates[self.state.volumes[lun["vol_uuid"]]["aggr_uuid"]]["node"]
                lun_ref = dict(_ref(lun["path"], lun["uuid"], "/api/storage/luns/%s" % lun["uuid"]),
                               node={"name": node, "uuid": next(n["uuid"] for n in self.state.nodes if n["name"] == node)})
                rec["lun_maps"].append({"lun": lun_ref, "logical_unit_number": mapping["lun_id"]})
        return merge(rec, igroup_extras(self.state, ig))

    def igroup_records(self, uuid: str | None = None) -> list[dict]:
        return [self.igroup_record(g) for g in self.state.igroups.values() if uuid in (None, g["uuid"])]

    def post_igroup(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("igroups", body, POST_FIELDS)
        svm = self.body_svm(body)
        if not body.get("name"):
            raise OntapError("missing_arg", "Missing value for required field \"name\".", "name")
        if not body.get("os_type"):
            raise OntapError("missing_arg", "Missing value for required field \"os_type\".", "os_type")
        inits = body.get("initiators") or []
        if inits and body.get("igroups"):
            raise OntapError("invalid_value", "Initiators and child igroups cannot be given together.", "initiators")
        ig = self.state.igroup_create(svm, body["name"], body["os_type"], body.get("protocol", "mixed"),
                                      [i if isinstance(i, dict) else {"name": i} for i in inits], body.get("comment", ""))
        return self.sync_created("/api/protocols/san/igroups/%s" % ig["uuid"], params, lambda: self.igroup_record(ig))

    def _igroup(self, uuid: str) -> dict:
        ig = self.state.igroups.get(uuid)
        if ig is None:
            raise OntapError("igroup_not_found", "The initiator group does not exist.", "uuid")
        return ig

    def patch_igroup(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        ig = self._igroup(uuid)
        self.check_body("igroups", body, PATCH_FIELDS)
        self.state.igroup_modify(ig, {k: body[k] for k in ("name", "os_type", "comment", "protocol") if k in body})
        return RestResponse(200, {})

    def delete_igroup(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        ig = self._igroup(uuid)
        self.state.igroup_delete(ig, parse_bool(params.get("allow_delete_while_mapped"), False))
        return RestResponse(200, {})

    def _initiator_records(self, ig: dict) -> list[dict]:
        out = []
        for init in ig["initiators"]:
            rec = {"name": init["name"], "igroup": {"uuid": ig["uuid"], "name": ig["name"]},
                   "_links": _links("/api/protocols/san/igroups/%s/initiators/%s" % (ig["uuid"], init["name"]))}
            if init.get("comment"):
                rec["comment"] = init["comment"]
            out.append(merge(rec, initiator_extras(self.state, ig, init)))
        return out

    def get_initiators(self, params: dict, body: dict, path: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        return self.list_response("igroup_initiators", self._initiator_records(self._igroup(ig)), params, path)

    def get_initiator(self, params: dict, body: dict, path: str, ig: str, name: str) -> RestResponse:  # pylint: disable=unused-argument
        recs = [r for r in self._initiator_records(self._igroup(ig)) if r["name"] == name.lower()]
        if not recs:
            raise OntapError("initiator_not_member", "The initiator is not a member of the initiator group.", "name")
        return self.single("igroup_initiators", recs[0], params)

    def post_initiators(self, params: dict, body: dict, path: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        group = self._igroup(ig)
        self.check_body("igroup_initiators", body, POST_FIELDS)
        items = body.get("records") if "records" in body else ([body] if body.get("name") else [])
        if not items:
            raise OntapError("initiator_none", "No initiators were supplied.", "name")
        for item in items:
            self.state.igroup_add_initiator(group, item["name"], item.get("comment", ""))
        return self.sync_created("/api/protocols/san/igroups/%s/initiators/%s" % (group["uuid"], items[-1]["name"].lower()),
                                 params, lambda: self._initiator_records(group)[-1])

    def patch_initiator(self, params: dict, body: dict, path: str, ig: str, name: str) -> RestResponse:  # pylint: disable=unused-argument
        group = self._igroup(ig)
        self.check_body("igroup_initiators", body, PATCH_FIELDS)
        for init in group["initiators"]:
            if init["name"] == name.lower():
                init["comment"] = body.get("comment", init.get("comment", ""))
                return RestResponse(200, {})
        raise OntapError("initiator_not_member", "The initiator is not a member of the initiator group.", "name")

    def delete_initiator(self, params: dict, body: dict, path: str, ig: str, name: str) -> RestResponse:  # pylint: disable=unused-argument
        group = self._igroup(ig)
        allow = parse_bool(params.get("allow_delete_while_mapped"), False)
        norm = name.lower()
        if not any(i["name"] == norm for i in group["initiators"]):
            raise OntapError("initiator_not_member", "Initiator \"%s\" is not a member of initiator group \"%s\"."
                             % (norm, group["name"]), "name")
        if self.state.maps_of_igroup(group) and not allow:
            raise OntapError("igroup_mapped_delete", "The initiator group is mapped; set \"allow_delete_while_mapped\" "
                             "to true to remove initiators from it.", "allow_delete_while_mapped")
        self.state.igroup_remove_initiator(group, norm)
        return RestResponse(200, {})
