# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Volumes: create, modify, delete, lookups, space and efficiency savings."""
from __future__ import annotations

from ..errors import OntapError
from .common import COMPRESSION_RATIO, DEDUPE_RATIO, EFFICIENCY_KEYS, EFFICIENCY_VALUES, MIN_VOLUME_SIZE, VOLUME_NAME_RE


class VolumesMixin:
    """Volumes."""

    def volume_by_name(self, svm: dict, name: str, key: str = "vol_not_found") -> dict:
        for vol in self.volumes.values():
            if vol["svm_uuid"] == svm["uuid"] and vol["name"] == name:
                return vol
        raise OntapError(key, "Volume \"%s\" in SVM \"%s\" does not exist." % (name, svm["name"]), "volume.name")

    def volume_savings(self, vol: dict, written: int | None = None) -> dict:
        eff = vol["efficiency"]
        data = sum(lun["written"] for lun in self.luns_of_volume(vol)) if written is None else written
        dedupe = int(data * DEDUPE_RATIO) if eff["dedupe"] != "none" or eff["cross_volume_dedupe"] != "none" else 0
        compression = int((data - dedupe) * COMPRESSION_RATIO) if eff["compression"] != "none" else 0
        total = dedupe + compression

        def pct(part: int) -> int:
            return int(round(100.0 * part / data)) if data else 0
        return {"dedupe": dedupe, "compression": compression, "total": total, "logical_used": data,
                "dedupe_percent": pct(dedupe), "compression_percent": pct(compression), "total_percent": pct(total)}

    def volume_space(self, vol: dict) -> dict:
        """size / available / used: reserved LUNs count in full, thin ones by their physical data."""
        used = 0
        for lun in self.luns_of_volume(vol):
            used += lun["size"] if lun["space_reserve"] else self.lun_physical(lun)
        used += sum(s["size"] for s in self.snapshots_of_volume(vol))
        reserve = vol["snapshot_reserve"]
        usable = vol["size"] * (100 - reserve) // 100
        available = max(0, usable - used)
        return {"size": vol["size"], "used": used, "available": available, "reserve_percent": reserve,
                "reserve_size": vol["size"] - usable, "usable": usable,
                "percent_used": int(100 * used / usable) if usable else 0}

    def volume_create(self, svm_uuid: str, name: str, aggr_uuid: str, size: int, uuid: str,
                      guarantee: str = "volume", snapshot_policy: str = "default", snapshot_reserve: int = 5,
                      comment: str = "", state: str = "online", junction_path: str | None = None,
                      vol_type: str = "rw", efficiency: dict | None = None) -> dict:
        svm = self.svms[svm_uuid]
        if not VOLUME_NAME_RE.match(name or ""):
            raise OntapError("vol_name_invalid", "Invalid volume name \"%s\": volume names must start with a letter or an "
                             "underscore and contain only letters, digits and underscores." % name, "name")
        if len(name) > 203:
            raise OntapError("vol_name_long", "Volume name \"%s\" is longer than 203 characters." % name, "name")
        if any(v["svm_uuid"] == svm_uuid and v["name"] == name for v in self.volumes.values()):
            raise OntapError("vol_dup", "Duplicate volume name \"%s\"." % name, "name")
        if aggr_uuid not in self.aggregates:
            raise OntapError("aggr_not_found", "Aggregate does not exist.", "aggregates")
        if size < MIN_VOLUME_SIZE:
            raise OntapError("vol_size_small", "Volume size %d bytes is below the minimum of %d bytes (20MB)."
                             % (size, MIN_VOLUME_SIZE), "size")
        if snapshot_policy not in svm.get("snapshot_policies", ["default", "none", "default-1weekly"]):
            raise OntapError("snap_policy_not_found", "Snapshot policy \"%s\" does not exist." % snapshot_policy,
                             "snapshot_policy.name")
        if guarantee not in ("volume", "none"):
            raise OntapError("invalid_value", "Invalid value \"%s\" for guarantee.type." % guarantee, "guarantee.type")
        if state not in ("online", "offline", "restricted"):
            raise OntapError("vol_state_invalid", "Invalid volume state \"%s\"." % state, "state")
        aggr = self.aggregates[aggr_uuid]
        if guarantee == "volume" and size > self.aggregate_space(aggr)["available"]:
            raise OntapError("vol_space", "Unable to set volume attribute \"size\": not enough space in aggregate "
                             "\"%s\" for the volume guarantee." % aggr["name"], "size")
        eff = {"dedupe": "none", "compression": "none", "compaction": "none", "cross_volume_dedupe": "none",
               "policy": "-"}
        if efficiency:
            eff.update(efficiency)
        vol = {"uuid": uuid, "name": name, "svm_uuid": svm_uuid, "aggr_uuid": aggr_uuid, "size": int(size),
               "state": state, "type": vol_type, "style": "flexvol", "guarantee": guarantee,
               "snapshot_policy": snapshot_policy, "snapshot_reserve": int(snapshot_reserve), "comment": comment or "",
               "junction_path": junction_path if state == "online" else None, "efficiency": eff,
               "create_time": self.now(), "msid": 2147483000 + self.counter}
        self.volumes[uuid] = vol
        return vol

    def volume_modify(self, uuid: str, changes: dict) -> dict:
        vol = self.volumes.get(uuid)
        if vol is None:
            raise OntapError("vol_not_found", "Volume does not exist.", "uuid")
        if "name" in changes and changes["name"] != vol["name"]:
            new = changes["name"]
            if not VOLUME_NAME_RE.match(new or ""):
                raise OntapError("vol_name_invalid", "Invalid volume name \"%s\"." % new, "name")
            if any(v["svm_uuid"] == vol["svm_uuid"] and v["name"] == new for v in self.volumes.values()):
                raise OntapError("vol_dup", "Duplicate volume name \"%s\"." % new, "name")
        if "size" in changes:
            size = int(changes["size"])
            if size < MIN_VOLUME_SIZE:
                raise OntapError("vol_size_small", "Volume size %d bytes is below the minimum of %d bytes."
                                 % (size, MIN_VOLUME_SIZE), "size")
            if size < self.volume_space(vol)["used"]:
                raise OntapError("vol_size_small", "New size %d is smaller than the space used in the volume." % size,
                                 "size")
        if "state" in changes and changes["state"] not in ("online", "offline", "restricted"):
            raise OntapError("vol_state_invalid", "Invalid volume state \"%s\"." % changes["state"], "state")
        if "guarantee" in changes and changes["guarantee"] not in ("volume", "none"):
            raise OntapError("invalid_value", "Invalid value for guarantee.type.", "guarantee.type")
        eff_changes = changes.get("efficiency") or {}
        for key, value in eff_changes.items():
            if key in EFFICIENCY_VALUES and value not in EFFICIENCY_VALUES[key]:
                raise OntapError("invalid_value", "Invalid value \"%s\" for efficiency.%s." % (value, key),
                                 "efficiency." + key)
        if "policy" in eff_changes:
            merged = dict(vol["efficiency"])
            merged.update({k: v for k, v in eff_changes.items() if k in EFFICIENCY_KEYS})
            if all(merged[k] == "none" for k in EFFICIENCY_KEYS):
                raise OntapError("eff_not_enabled", "Operation is not enabled.", "efficiency.policy.name")
        for key in ("name", "size", "guarantee", "snapshot_policy", "snapshot_reserve", "comment"):
            if key in changes:
                vol[key] = changes[key]
        if "junction_path" in changes:
            vol["junction_path"] = changes["junction_path"] or None
        if "state" in changes:
            vol["state"] = changes["state"]
            if vol["state"] != "online":
                vol["junction_path"] = None
        vol["efficiency"].update(eff_changes)
        if all(vol["efficiency"][k] == "none" for k in EFFICIENCY_KEYS):
            vol["efficiency"]["policy"] = "-"
        elif vol["efficiency"].get("policy", "-") == "-":
            vol["efficiency"]["policy"] = "auto"
        return vol

    def volume_delete(self, uuid: str, require_offline: bool = False) -> None:
        vol = self.volumes.get(uuid)
        if vol is None:
            raise OntapError("vol_not_found", "Volume does not exist.", "uuid")
        if require_offline and vol["state"] == "online":
            raise OntapError("vol_online_destroy", "Volume \"%s\" must be offline before it can be destroyed." % vol["name"])
        for lun in self.luns_of_volume(vol):
            self.lun_maps = [m for m in self.lun_maps if m["lun_uuid"] != lun["uuid"]]
            del self.luns[lun["uuid"]]
        for snap in self.snapshots_of_volume(vol):
            del self.snapshots[snap["uuid"]]
        del self.volumes[uuid]
