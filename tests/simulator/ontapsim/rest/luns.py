# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REST: storage/luns."""
from __future__ import annotations

from ..errors import OntapError
from ..model import iso, parse_bool, parse_size
from ..restfields import PATCH_FIELDS, POST_FIELDS
from .common import RestResponse, _links, _ref
from .extras import lun_extras, merge


class LunsMixin:
    """LUNs."""

    def lun_record(self, lun: dict) -> dict:
        st = self.state
        vol = st.volumes[lun["vol_uuid"]]
        node = st.aggregates[vol["aggr_uuid"]]["node"]
        node_uuid = next((n["uuid"] for n in st.nodes if n["name"] == node), "")
        maps = st.maps_of_lun(lun)
        online = lun["enabled"] and vol["state"] == "online"
        rec = {"uuid": lun["uuid"], "name": lun["path"], "svm": self.svm_ref(lun["svm_uuid"]),
               "location": {"logical_unit": lun["base"],
                            "volume": _ref(vol["name"], vol["uuid"], "/api/storage/volumes/%s" % vol["uuid"]),
                            "node": {"name": node}},
               "os_type": lun["os_type"], "serial_number": lun["serial"],
               "serial_number_hex": lun["serial"].encode("ascii").hex(), "class": lun["class"], "enabled": lun["enabled"],
               "auto_delete": False, "create_time": iso(lun["create_time"]),
               "space": {"size": lun["size"], "used": lun["written"],
                         "guarantee": {"requested": lun["space_reserve"], "reserved": lun["space_reserve"] and online},
                         "scsi_thin_provisioning_support_enabled": lun["space_allocation"]},
               "status": {"state": "online" if online else "offline", "container_state": vol["state"],
                          "mapped": bool(maps), "read_only": False},
               "_links": _links("/api/storage/luns/%s" % lun["uuid"])}
        if lun["qtree"]:
            rec["location"]["qtree"] = {"name": lun["qtree"]}
        if lun["comment"]:
            rec["comment"] = lun["comment"]
        if maps:
            rec["lun_maps"] = []
            for mapping in maps:
                ig = st.igroups[mapping["igroup_uuid"]]
                igroup = dict(_ref(ig["name"], ig["uuid"], "/api/protocols/san/igroups/%s" % ig["uuid"]),
                              os_type=ig["os_type"], protocol=ig["protocol"],
                              initiators=[dict({"name": i["name"]}, **({"comment": i["comment"]} if i.get("comment") else {}))
                                          for i in ig["initiators"]])
                if ig["comment"]:
                    igroup["comment"] = ig["comment"]
                rec["lun_maps"].append({"igroup": igroup, "logical_unit_number": mapping["lun_id"]})
        return merge(rec, lun_extras(st, lun, vol, node_uuid))

    def lun_records(self, uuid: str | None = None, name: str | None = None) -> list[dict]:
        if uuid is not None:
            lun = self.state.luns.get(uuid)
            return [self.lun_record(lun)] if lun else []
        return [self.lun_record(lun) for lun in self.state.luns.values() if name in (None, lun["path"])]

    def post_lun(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("luns", body, POST_FIELDS)
        svm = self.body_svm(body)
        location = body.get("location") or {}
        loc_vol = location.get("volume") or {}
        name = body.get("name")
        if name:
            vol_name, qtree, base = self.state.split_lun_path(name)
            if loc_vol.get("name") and loc_vol["name"] != vol_name:
                raise OntapError("lun_name_vol_mismatch", "The volume in \"name\" differs from \"location.volume\".",
                                 "location.volume.name")
            if location.get("logical_unit") and location["logical_unit"] != base:
                raise OntapError("lun_name_base_mismatch", "The LUN base name in \"name\" differs from "
                                 "\"location.logical_unit\".", "location.logical_unit")
        else:
            if not loc_vol.get("name") and not loc_vol.get("uuid"):
                raise OntapError("lun_no_volume", "No volume was specified for the LUN.", "location.volume")
            if not location.get("logical_unit"):
                raise OntapError("lun_no_name", "No LUN base name was specified.", "location.logical_unit")
            if loc_vol.get("uuid"):
                vol = self.state.volumes.get(loc_vol["uuid"])
                if vol is None:
                    raise OntapError("lun_vol_uuid_not_found", "Volume \"%s\" does not exist." % loc_vol["uuid"],
                                     "location.volume.uuid")
                vol_name = vol["name"]
            else:
                vol_name = loc_vol["name"]
            qtree = (location.get("qtree") or {}).get("name")
            name = "/vol/%s/%s%s" % (vol_name, qtree + "/" if qtree else "", location["logical_unit"])
        space = body.get("space") or {}
        if not body.get("os_type"):
            raise OntapError("lun_missing_prop", "A required property for a new LUN is missing: \"os_type\".", "os_type")
        if space.get("size") in (None, ""):
            raise OntapError("lun_missing_prop", "A required property for a new LUN is missing: \"space.size\".",
                             "space.size")
        size = parse_size(space["size"], "lun_size_invalid", "space.size")
        uuid = self.state.new_uuid()
        args = {"svm_uuid": svm["uuid"], "path": name, "os_type": body["os_type"], "size": size, "uuid": uuid,
                "serial": self.state.new_serial(),
                "space_reserve": parse_bool((space.get("guarantee") or {}).get("requested"), False),
                "space_allocation": parse_bool(space.get("scsi_thin_provisioning_support_enabled"), True),
                "comment": body.get("comment", ""), "exact": False}
        return self.run_async("POST /api/storage/luns", svm, "lun_create", args, params, 201, "/api/storage/luns/%s" % uuid,
                              lambda: self.lun_record(self.state.luns[uuid]) if uuid in self.state.luns else None)

    def patch_lun(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        lun = self.state.luns.get(uuid)
        if lun is None:
            raise OntapError("lun_not_found", "LUN not found.", "uuid")
        self.check_body("luns", body, PATCH_FIELDS)
        changes: dict = {}
        space = body.get("space") or {}
        if "size" in space:
            changes["size"] = self.state.round_lun_size(parse_size(space["size"], "lun_size_invalid", "space.size"))
        if "requested" in (space.get("guarantee") or {}):
            changes["space_reserve"] = parse_bool(space["guarantee"]["requested"])
        if "scsi_thin_provisioning_support_enabled" in space:
            changes["space_allocation"] = parse_bool(space["scsi_thin_provisioning_support_enabled"])
        if "comment" in body:
            changes["comment"] = body["comment"]
        if "enabled" in body:
            changes["enabled"] = parse_bool(body["enabled"])
        if "os_type" in body:
            changes["os_type"] = body["os_type"]
        if "name" in body:
            changes["path"] = body["name"]
        return self.run_async("PATCH /api/storage/luns/%s" % uuid, self.state.svms[lun["svm_uuid"]], "lun_modify",
                              {"uuid": uuid, "changes": changes}, params, 200)

    def delete_lun(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        lun = self.state.luns.get(uuid)
        if lun is None:
            raise OntapError("lun_not_found", "LUN not found.", "uuid")
        allow = parse_bool(params.get("allow_delete_while_mapped"), False)
        return self.run_async("DELETE /api/storage/luns/%s" % uuid, self.state.svms[lun["svm_uuid"]], "lun_delete",
                              {"uuid": uuid, "allow_mapped": allow}, params, 200)
