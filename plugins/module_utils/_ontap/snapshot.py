# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Volume snapshots, looked up by SVM, volume and exact name, over REST or ZAPI."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import Service, exact


class SnapshotService(Service):
    """get/create/delete of one named snapshot; an existing snapshot is never modified."""

    def get(self, svm: str, volume: str, name: str) -> dict | None:
        return self._one(exact(self._run("list", svm, volume, name), name=name, volume=volume), "snapshot")

    def create(self, svm: str, volume: str, name: str, comment: str | None = None) -> dict | None:
        self._run("create", svm, volume, name, comment)
        return self.get(svm, volume, name)

    def delete(self, current: dict) -> None:
        self._run("delete", current)

    def _rest_volume_uuid(self, svm, volume):
        recs = exact([{"name": r.get("name"), "uuid": r.get("uuid")} for r in
                      self.rest.get_records("/api/storage/volumes", {"svm.name": svm, "name": volume, "fields": "uuid,name"})], name=volume)
        rec = self._one(recs, "volume")
        if rec is None:
            raise OntapError("917927", "volume '%s' not found in SVM '%s'" % (volume, svm))
        return rec["uuid"]

    def _rest_list(self, svm, volume, name):
        vol_uuid = self._rest_volume_uuid(svm, volume)
        return [{"name": rec.get("name"), "uuid": rec.get("uuid"), "volume": volume, "svm": svm, "comment": rec.get("comment"),
                 "_volume_uuid": vol_uuid}
                for rec in self.rest.get_records("/api/storage/volumes/%s/snapshots" % vol_uuid, {"name": name, "fields": "uuid,name,comment"})]

    def _rest_create(self, svm, volume, name, comment):
        body = {"name": name}
        if comment:
            body["comment"] = comment
        self.rest.post("/api/storage/volumes/%s/snapshots" % self._rest_volume_uuid(svm, volume), body)

    def _rest_delete(self, current):
        self.rest.delete("/api/storage/volumes/%s/snapshots/%s" % (current["_volume_uuid"], current["uuid"]))

    def _zapi_list(self, svm, volume, name):
        query = {"snapshot-info": {"name": name, "volume": volume, "vserver": svm}}
        desired = {"snapshot-info": {"name": None, "volume": None, "vserver": None, "snapshot-instance-uuid": None, "comment": None}}
        return [{"name": rec.get("name"), "uuid": rec.get("snapshot-instance-uuid"), "volume": rec.get("volume") or volume, "svm": svm,
                 "comment": rec.get("comment")}
                for rec in self.zapi.get_iter("snapshot-get-iter", query, desired, vserver=svm)]

    def _zapi_create(self, svm, volume, name, comment):
        args = {"volume": volume, "snapshot": name}
        if comment:
            args["comment"] = comment
        self.zapi.call("snapshot-create", args, vserver=svm)

    def _zapi_delete(self, current):
        self.zapi.call("snapshot-delete", {"volume": current["volume"], "snapshot": current["name"]}, vserver=current["svm"])
