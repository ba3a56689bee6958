# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REST: storage/volumes/{uuid}/snapshots."""
from __future__ import annotations

from ..errors import OntapError
from ..model import iso
from ..restfields import PATCH_FIELDS, POST_FIELDS
from .common import RestResponse, _links, _ref
from .extras import merge, snapshot_extras


class SnapshotsMixin:
    """Snapshots."""

    def snapshot_record(self, snap: dict) -> dict:
        vol = self.state.volumes[snap["vol_uuid"]]
        rec = {"uuid": snap["uuid"], "name": snap["name"],
               "volume": _ref(vol["name"], vol["uuid"], "/api/storage/volumes/%s" % vol["uuid"]),
               "svm": self.svm_ref(vol["svm_uuid"]), "create_time": iso(snap["create_time"]), "size": snap["size"],
               "state": "valid",
               "_links": _links("/api/storage/volumes/%s/snapshots/%s" % (vol["uuid"], snap["uuid"]))}
        if snap["comment"]:
            rec["comment"] = snap["comment"]
        if snap["snapmirror_label"]:
            rec["snapmirror_label"] = snap["snapmirror_label"]
        if snap.get("expiry_time"):
            rec["expiry_time"] = snap["expiry_time"]
        return merge(rec, snapshot_extras(self.state, snap, vol))

    def _vol_for_snap(self, vol: str) -> dict:
        found = self.state.volumes.get(vol)
        if found is None:
            raise OntapError("lun_vol_uuid_not_found", "The volume in the URL is not valid.", "volume.uuid")
        return found

    def get_snapshots(self, params: dict, body: dict, path: str, vol: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        recs = [self.snapshot_record(s) for s in self.state.snapshots_of_volume(volume)]
        return self.list_response("snapshots", recs, params, path)

    def get_snapshot(self, params: dict, body: dict, path: str, vol: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        snap = self.state.snapshots.get(uuid)
        if snap is None or snap["vol_uuid"] != volume["uuid"]:
            raise OntapError("snap_not_found", "Snapshot copy does not exist.", "uuid")
        return self.single("snapshots", self.snapshot_record(snap), params)

    def post_snapshot(self, params: dict, body: dict, path: str, vol: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        self.check_body("snapshots", body, POST_FIELDS)
        if not body.get("name"):
            raise OntapError("missing_arg", "Missing value for required field \"name\".", "name")
        if body.get("svm"):
            svm = self.body_svm(body)
            if svm["uuid"] != volume["svm_uuid"]:
                raise OntapError("svm_mismatch", "The volume is not in SVM \"%s\"." % svm["name"], "svm.name")
        uuid = self.state.new_uuid()
        args = {"vol_uuid": volume["uuid"], "name": body["name"], "uuid": uuid, "comment": body.get("comment", ""),
                "snapmirror_label": body.get("snapmirror_label", ""), "expiry_time": body.get("expiry_time", "")}
        return self.run_async("POST /api/storage/volumes/%s/snapshots" % volume["uuid"],
                              self.state.svms[volume["svm_uuid"]], "snapshot_create", args, params, 201,
                              "/api/storage/volumes/%s/snapshots/%s" % (volume["uuid"], uuid),
                              lambda: self.snapshot_record(self.state.snapshots[uuid]) if uuid in self.state.snapshots else None)

    def patch_snapshot(self, params: dict, body: dict, path: str, vol: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        snap = self.state.snapshots.get(uuid)
        if snap is None or snap["vol_uuid"] != volume["uuid"]:
            raise OntapError("snap_not_found", "Snapshot copy does not exist.", "uuid")
        self.check_body("snapshots", body, PATCH_FIELDS)
        self.state.snapshot_modify(snap, {k: body[k] for k in ("name", "comment", "snapmirror_label", "expiry_time")
                                          if k in body})
        return RestResponse(200, {})

    def delete_snapshot(self, params: dict, body: dict, path: str, vol: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        snap = self.state.snapshots.get(uuid)
        if snap is None or snap["vol_uuid"] != volume["uuid"]:
            raise OntapError("snap_not_found", "Snapshot copy does not exist.", "uuid")
        return self.run_async("DELETE /api/storage/volumes/%s/snapshots/%s" % (volume["uuid"], uuid),
                              self.state.svms[volume["svm_uuid"]], "snapshot_delete", {"uuid": uuid}, params, 200)
