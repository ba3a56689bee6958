# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI: snapshot-*."""
from __future__ import annotations

from ..errors import OntapError
from .common import ZapiFault, child, matches, node, text


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

    def _snapshot_records(self, svm) -> list[tuple[dict, list[tuple]]]:
        out = []
        for snap in self.state.snapshots.values():
            vol = self.state.volumes[snap["vol_uuid"]]
            if svm is not None and vol["svm_uuid"] != svm["uuid"]:
                continue
            rec = [node("name", snap["name"]), node("volume", vol["name"]),
                   node("vserver", self.state.svms[vol["svm_uuid"]]["name"]),
                   node("snapshot-instance-uuid", snap["uuid"]), node("access-time", int(snap["create_time"])),
                   node("comment", snap["comment"]), node("snapmirror-label", snap["snapmirror_label"]),
                   node("busy", False), node("total", snap["size"]), node("state", "complete")]
            if snap.get("expiry_time"):
                rec.append(node("expiry-time", snap["expiry_time"]))
            out.append((snap, rec))
        return out

    def api_snapshot_get_iter(self, api, svm):
        return self.iterate(api, "snapshot-info", [rec for _snap, rec in self._snapshot_records(svm)])

    def api_snapshot_rename(self, api, svm):
        """snapshot-rename (volume, current-name, new-name), what na_ontap_snapshot sends for from_name."""
        vol = self._volume(svm, self.need(api, "volume"))
        name = self.need(api, "current-name")
        for snap in self.state.snapshots_of_volume(vol):
            if snap["name"] == name:
                self.state.snapshot_modify(snap, {"name": self.need(api, "new-name")})
                return []
        raise OntapError("snap_not_found", "Snapshot copy \"%s\" of volume \"%s\" does not exist." % (name, vol["name"]))

    def api_snapshot_modify_iter(self, api, svm):
        """snapshot-modify-iter: query/snapshot-info selects (na_ontap_snapshot sends name + vserver), attributes/
        snapshot-info carries comment and snapmirror-label; the answer counts successes and failures."""
        query = child(child(api, "query"), "snapshot-info")
        attrs = child(child(api, "attributes"), "snapshot-info")
        if query is None or attrs is None:
            raise ZapiFault("13006", "Missing input: query and attributes")
        changes = {key: text(attrs, tag) for key, tag in (("comment", "comment"), ("snapmirror_label", "snapmirror-label"))
                   if text(attrs, tag) is not None}
        done, failed = [], []
        for snap, rec in self._snapshot_records(svm):
            if not matches(rec, query):
                continue
            key = [node("name", snap["name"]), node("volume", self.state.volumes[snap["vol_uuid"]]["name"])]
            try:
                self.state.snapshot_modify(snap, changes)
                done.append(("snapshot-modify-iter-info", [("snapshot-key", [("snapshot-info", key)])]))
            except OntapError as exc:
                failed.append(("snapshot-modify-iter-info", [("snapshot-key", [("snapshot-info", key)]),
                                                             node("error-code", exc.errno), node("error-message", exc.message)]))
        if not done and not failed:
            raise OntapError("snap_not_found", "No Snapshot copy matches the query.")
        return [node("num-succeeded", len(done)), node("num-failed", len(failed)), ("success-list", done),
                ("failure-list", failed)]
