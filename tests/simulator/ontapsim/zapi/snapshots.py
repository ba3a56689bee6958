# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI: snapshot-*."""
from __future__ import annotations

from ..errors import OntapError
from .common import node, text


class SnapshotsMixin:
    """Snapshots."""

    def api_snapshot_create(self, api, svm):
        vol = self._volume(svm, self.need(api, "volume"))
        self.state.snapshot_create(vol["uuid"], self.need(api, "snapshot"), self.state.new_uuid(),
                                   comment=text(api, "comment") or "", snapmirror_label=text(api, "snapmirror-label") or "")
        return []

    def api_snapshot_delete(self, api, svm):
        vol = self._volume(svm, self.need(api, "volume"))
        name = self.need(api, "snapshot")
        for snap in self.state.snapshots_of_volume(vol):
            if snap["name"] == name:
                self.state.snapshot_delete(snap["uuid"])
                return []
        raise OntapError("snap_not_found", "Snapshot copy \"%s\" of volume \"%s\" does not exist." % (name, vol["name"]))

    def api_snapshot_get_iter(self, api, svm):
        records = []
        for snap in self.state.snapshots.values():
            vol = self.state.volumes[snap["vol_uuid"]]
            if svm is not None and vol["svm_uuid"] != svm["uuid"]:
                continue
            records.append([node("name", snap["name"]), node("volume", vol["name"]),
                            node("vserver", self.state.svms[vol["svm_uuid"]]["name"]),
                            node("snapshot-instance-uuid", snap["uuid"]), node("access-time", int(snap["create_time"])),
                            node("comment", snap["comment"]), node("snapmirror-label", snap["snapmirror_label"]),
                            node("busy", False), node("total", snap["size"]), node("state", "complete")])
        return self.iterate(api, "snapshot-info", records)
