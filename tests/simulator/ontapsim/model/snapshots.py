# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Volume snapshots."""
from __future__ import annotations

from ..errors import OntapError
from .common import SNAP_NAME_RE


class SnapshotsMixin:
    """Snapshots."""

    def snapshots_of_volume(self, vol: dict) -> list[dict]:
        return [s for s in self.snapshots.values() if s["vol_uuid"] == vol["uuid"]]

    def snapshot_create(self, vol_uuid: str, name: str, uuid: str, comment: str = "", snapmirror_label: str = "",
                        expiry_time: str = "") -> dict:
        vol = self.volumes.get(vol_uuid)
        if vol is None:
            raise OntapError("lun_vol_uuid_not_found", "Volume does not exist.", "volume.uuid")
        if not SNAP_NAME_RE.match(name or ""):
            raise OntapError("snap_name_invalid", "Invalid snapshot name \"%s\"." % name, "name")
        if vol["state"] != "online":
            raise OntapError("snap_vol_offline", "Volume \"%s\" is offline." % vol["name"], "volume")
        if any(s["name"] == name for s in self.snapshots_of_volume(vol)):
            raise OntapError("snap_dup", "Snapshot copy \"%s\" of volume \"%s\" already exists." % (name, vol["name"]),
                             "name")
        snap = {"uuid": uuid, "name": name, "vol_uuid": vol_uuid, "comment": comment or "",
                "snapmirror_label": snapmirror_label or "", "create_time": self.now(), "size": 0,
                "expiry_time": expiry_time or ""}
        self.snapshots[uuid] = snap
        return snap

    def snapshot_modify(self, snap: dict, changes: dict) -> dict:
        """Rename and attribute changes, shared by REST PATCH and ZAPI snapshot-rename / snapshot-modify-iter."""
        vol = self.volumes[snap["vol_uuid"]]
        new = changes.get("name")
        if new is not None and new != snap["name"]:
            if not SNAP_NAME_RE.match(new or ""):
                raise OntapError("snap_name_invalid", "Invalid snapshot name \"%s\"." % new, "name")
            if any(s["name"] == new for s in self.snapshots_of_volume(vol)):
                raise OntapError("snap_dup", "Snapshot copy \"%s\" of volume \"%s\" already exists." % (new, vol["name"]),
                                 "name")
        for key in ("name", "comment", "snapmirror_label", "expiry_time"):
            if key in changes:
                snap[key] = changes[key] or ""
        return snap

    def snapshot_delete(self, uuid: str) -> None:
        if uuid not in self.snapshots:
            raise OntapError("snap_not_found", "Snapshot copy does not exist.", "uuid")
        del self.snapshots[uuid]
