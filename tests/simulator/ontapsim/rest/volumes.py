# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REST: storage/volumes."""
from __future__ import annotations

from ..errors import OntapError
from ..model import EFFICIENCY_KEYS, iso, parse_size
from ..restfields import PATCH_FIELDS, POST_FIELDS
from .common import RestResponse, _links, _ref
from .extras import merge, volume_extras, volume_junction_parent


class VolumesMixin:
    """Volumes."""

    def volume_record(self, vol: dict) -> dict:
        st = self.state
        aggr = st.aggregates[vol["aggr_uuid"]]
        space = st.volume_space(vol)
        savings = st.volume_savings(vol)
        eff = vol["efficiency"]
        enabled = any(eff[k] != "none" for k in EFFICIENCY_KEYS)
        rec = {"uuid": vol["uuid"], "name": vol["name"], "svm": self.svm_ref(vol["svm_uuid"]),
               "aggregates": [_ref(aggr["name"], aggr["uuid"], "/api/storage/aggregates/%s" % aggr["uuid"])],
               "size": vol["size"], "state": vol["state"], "type": vol["type"], "style": vol["style"],
               "create_time": iso(vol["create_time"]), "is_svm_root": bool(vol.get("is_svm_root")), "msid": vol["msid"],
               "guarantee": {"type": vol["guarantee"], "honored": True},
               "snapshot_policy": {"name": vol["snapshot_policy"]},
               "snapshot_count": len(st.snapshots_of_volume(vol)),
               "space": {"size": space["size"], "available": space["available"], "used": space["used"],
                         "percent_used": space["percent_used"],
                         "physical_used": space["used"],
                         "snapshot": {"reserve_percent": space["reserve_percent"], "reserve_size": space["reserve_size"],
                                      "used": sum(s["size"] for s in st.snapshots_of_volume(vol))},
                         "logical_space": {"used": savings["logical_used"], "enforcement": False, "reporting": False,
                                           "available": space["available"]}},
               "efficiency": {"dedupe": eff["dedupe"], "compression": eff["compression"], "compaction": eff["compaction"],
                              "cross_volume_dedupe": eff["cross_volume_dedupe"],
                              "policy": {"name": eff.get("policy", "-")},
                              "state": "enabled" if enabled else "disabled", "op_state": "idle",
                              "volume_path": "/vol/%s" % vol["name"], "has_savings": savings["total"] > 0,
                              "space_savings": {"dedupe": savings["dedupe"], "dedupe_percent": savings["dedupe_percent"],
                                                "compression": savings["compression"],
                                                "compression_percent": savings["compression_percent"],
                                                "total": savings["total"], "total_percent": savings["total_percent"]}},
               "_links": _links("/api/storage/volumes/%s" % vol["uuid"])}
        if vol["comment"]:
            rec["comment"] = vol["comment"]
        if vol["junction_path"]:
            rec["nas"] = {"path": vol["junction_path"]}
            parent = volume_junction_parent(st, vol)
            if parent:
                rec["nas"]["junction_parent"] = parent
        return merge(rec, volume_extras(st, vol, space, savings, st.svms[vol["svm_uuid"]]))

    def volume_records(self, uuid: str | None = None, name: str | None = None) -> list[dict]:
        if uuid is not None:
            vol = self.state.volumes.get(uuid)
            return [self.volume_record(vol)] if vol else []
        return [self.volume_record(v) for v in self.state.volumes.values() if name in (None, v["name"])]

    def post_volume(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("volumes", body, POST_FIELDS)
        svm = self.body_svm(body)
        if not body.get("name"):
            raise OntapError("missing_arg", "Missing value for required field \"name\".", "name")
        aggrs = body.get("aggregates")
        if not aggrs:
            raise OntapError("aggr_missing", "Either \"aggregates\" or \"style\" must be specified.", "aggregates")
        if not isinstance(aggrs, list) or len(aggrs) != 1:
            raise OntapError("flexvol_one_aggr", "A FlexVol volume must be placed on exactly one aggregate "
                             "(FlexGroup volumes are not simulated).", "aggregates")
        ref = aggrs[0] if isinstance(aggrs[0], dict) else {}
        if ref.get("uuid"):
            aggr = self.state.aggregates.get(ref["uuid"])
            if aggr is None:
                raise OntapError("aggr_not_found", "Aggregate \"%s\" does not exist." % ref["uuid"], "aggregates.uuid")
        else:
            aggr = self.state.aggr_by_name(ref.get("name"))
        size = parse_size(body.get("size", "20MB"), "vol_size_small", "size")
        space = body.get("space") or {}
        eff = {}
        for key in EFFICIENCY_KEYS:
            if key in (body.get("efficiency") or {}):
                eff[key] = body["efficiency"][key]
        if ((body.get("efficiency") or {}).get("policy") or {}).get("name"):
            eff["policy"] = body["efficiency"]["policy"]["name"]
        uuid = self.state.new_uuid()
        args = {"svm_uuid": svm["uuid"], "name": body["name"], "aggr_uuid": aggr["uuid"], "size": size, "uuid": uuid,
                "guarantee": (body.get("guarantee") or {}).get("type", "volume"),
                "snapshot_policy": (body.get("snapshot_policy") or {}).get("name", "default"),
                "snapshot_reserve": int((space.get("snapshot") or {}).get("reserve_percent", 5)),
                "comment": body.get("comment", ""), "state": body.get("state", "online"),
                "junction_path": (body.get("nas") or {}).get("path"), "vol_type": body.get("type", "rw"),
                "efficiency": eff or None}
        return self.run_async("POST /api/storage/volumes", svm, "volume_create", args, params, 201,
                              "/api/storage/volumes/%s" % uuid,
                              lambda: self.volume_record(self.state.volumes[uuid]) if uuid in self.state.volumes else None)

    def volume_changes(self, body: dict) -> dict:
        changes: dict = {}
        for key in ("name", "comment", "state"):
            if key in body:
                changes[key] = body[key]
        if "size" in body:
            changes["size"] = parse_size(body["size"], "vol_size_small", "size")
        if "space" in body:
            space = body["space"]
            if "size" in space:
                changes["size"] = parse_size(space["size"], "vol_size_small", "space.size")
            if "reserve_percent" in (space.get("snapshot") or {}):
                changes["snapshot_reserve"] = int(space["snapshot"]["reserve_percent"])
        if "type" in (body.get("guarantee") or {}):
            changes["guarantee"] = body["guarantee"]["type"]
        if "name" in (body.get("snapshot_policy") or {}):
            changes["snapshot_policy"] = body["snapshot_policy"]["name"]
        if "nas" in body and "path" in body["nas"]:
            changes["junction_path"] = body["nas"]["path"]
        eff_body = body.get("efficiency") or {}
        eff = {k: eff_body[k] for k in EFFICIENCY_KEYS if k in eff_body}
        if (eff_body.get("policy") or {}).get("name"):
            eff["policy"] = eff_body["policy"]["name"]
        if eff:
            changes["efficiency"] = eff
        return changes

    def patch_volume(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        vol = self.state.volumes.get(uuid)
        if vol is None:
            raise OntapError("vol_not_found", "entry doesn't exist", "uuid")
        self.check_body("volumes", body, PATCH_FIELDS)
        changes = self.volume_changes(body)
        if "snapshot_policy" in changes and changes["snapshot_policy"] not in ("default", "none", "default-1weekly"):
            raise OntapError("snap_policy_not_found", "Snapshot policy \"%s\" does not exist."
                             % changes["snapshot_policy"], "snapshot_policy.name")
        return self.run_async("PATCH /api/storage/volumes/%s" % uuid, self.state.svms[vol["svm_uuid"]],
                              "volume_modify", {"uuid": uuid, "changes": changes}, params, 200)

    def delete_volume(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        vol = self.state.volumes.get(uuid)
        if vol is None:
            raise OntapError("vol_not_found", "entry doesn't exist", "uuid")
        if vol.get("is_svm_root"):
            raise OntapError("unsupported", "The SVM root volume cannot be deleted.", "uuid")
        return self.run_async("DELETE /api/storage/volumes/%s" % uuid, self.state.svms[vol["svm_uuid"]],
                              "volume_delete", {"uuid": uuid}, params, 200)
