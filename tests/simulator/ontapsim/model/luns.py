# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LUNs: paths, sizes, create, modify, delete, data written by hosts."""
from __future__ import annotations

from ..errors import OntapError
from .common import LUN_BASE_RE, LUN_OS_TYPES, MAX_LUN_SIZE, MIN_LUN_SIZE


class LunsMixin:
    """LUNs."""

    def lun_by_path(self, svm: dict, path: str, key: str = "lun_not_found") -> dict:
        for lun in self.luns.values():
            if lun["svm_uuid"] == svm["uuid"] and lun["path"] == path:
                return lun
        raise OntapError(key, "LUN \"%s\" does not exist or is not accessible to the caller." % path, "lun.name")

    def luns_of_volume(self, vol: dict) -> list[dict]:
        return [lun for lun in self.luns.values() if lun["vol_uuid"] == vol["uuid"]]

    def lun_physical(self, lun: dict) -> int:
        """Bytes a LUN's written data occupies after the volume's efficiency savings."""
        vol = self.volumes[lun["vol_uuid"]]
        saved = self.volume_savings(vol, written=lun["written"])
        return lun["written"] - saved["total"]

    def split_lun_path(self, path: str) -> tuple[str, str | None, str]:
        parts = (path or "").split("/")
        if len(parts) not in (4, 5) or parts[0] != "" or parts[1] != "vol" or not all(parts[2:]):
            raise OntapError("lun_name_invalid", "Invalid LUN name \"%s\": expected /vol/<volume>[/<qtree>]/<lun>." % path,
                             "name")
        qtree = parts[3] if len(parts) == 5 else None
        return parts[2], qtree, parts[-1]

    @staticmethod
    def round_lun_size(size: int) -> int:
        """ONTAP allocates LUNs in 512-byte sectors; odd sizes are rounded up."""
        return -(-size // 512) * 512

    def check_lun_size(self, size: int) -> None:
        if size < 0:
            raise OntapError("lun_size_negative", "The LUN size cannot be negative.", "space.size")
        if size < MIN_LUN_SIZE:
            raise OntapError("lun_size_small", "The specified LUN size is too small. The minimum size is 4KB.",
                             "space.size")
        if size > MAX_LUN_SIZE:
            raise OntapError("lun_size_large", "The specified LUN size is too large. The maximum size is 128TB.",
                             "space.size")

    def lun_create(self, svm_uuid: str, path: str, os_type: str, size: int, uuid: str, serial: str,
                   space_reserve: bool = False, space_allocation: bool = True, comment: str = "",
                   exact: bool = True) -> dict:
        svm = self.svms[svm_uuid]
        vol_name, qtree, base = self.split_lun_path(path)
        if not LUN_BASE_RE.match(base):
            raise OntapError("lun_name_chars", "The LUN name \"%s\" contains illegal characters; allowed are A-Z a-z "
                             "0-9 - . _ { }." % base, "name")
        if os_type not in LUN_OS_TYPES:
            raise OntapError("lun_os_type", "The value \"%s\" is invalid for field \"os_type\"." % os_type, "os_type")
        vol = self.volume_by_name(svm, vol_name, key="lun_vol_not_found")
        if vol["state"] != "online":
            raise OntapError("vol_offline", "The containing volume \"%s\" is offline." % vol_name, "location.volume")
        if vol.get("is_svm_root"):
            raise OntapError("lun_in_root", "LUNs cannot be created in the SVM root volume.", "location.volume")
        if any(lun["svm_uuid"] == svm_uuid and lun["path"] == path for lun in self.luns.values()):
            raise OntapError("lun_dup", "A LUN or NVMe namespace already exists at path \"%s\"." % path, "name")
        self.check_lun_size(size)
        if not exact:
            size = self.round_lun_size(size)
        lun = {"uuid": uuid, "path": path, "svm_uuid": svm_uuid, "vol_uuid": vol["uuid"], "qtree": qtree,
               "base": base, "os_type": os_type, "size": int(size), "serial": serial, "space_reserve": bool(space_reserve),
               "space_allocation": bool(space_allocation), "comment": comment or "", "enabled": True,
               "create_time": self.now(), "written": 0, "class": "regular"}
        self.luns[uuid] = lun
        return lun

    def lun_modify(self, uuid: str, changes: dict, allow_shrink: bool = False) -> dict:
        lun = self.luns.get(uuid)
        if lun is None:
            raise OntapError("lun_not_found", "LUN not found.", "uuid")
        vol = self.volumes[lun["vol_uuid"]]
        if vol["state"] != "online":
            raise OntapError("vol_offline", "The containing volume is offline.", "location.volume")
        if "os_type" in changes and changes["os_type"] != lun["os_type"]:
            raise OntapError("unexpected_arg", "Field \"os_type\" cannot be set in this operation.", "os_type")
        if "size" in changes:
            size = int(changes["size"])
            if size == lun["size"]:
                raise OntapError("lun_same_size", "New LUN size is the same as the old LUN size.", "space.size")
            if size < lun["size"] and not allow_shrink:
                raise OntapError("lun_shrink", "Reducing the size of a LUN might cause permanent data loss or corruption "
                                 "and is not supported by the REST API; LUN sizes can only be increased.", "space.size",
                                 zapi_message="Reducing LUN size without coordination with the host system may cause "
                                 "permanent data loss or corruption. Use the force flag to allow LUN size reduction.")
            self.check_lun_size(size)
        if "path" in changes and changes["path"] != lun["path"]:
            svm = self.svms[lun["svm_uuid"]]
            vol_name, qtree, base = self.split_lun_path(changes["path"])
            if vol_name != vol["name"]:
                raise OntapError("lun_name_vol_mismatch", "A LUN cannot be moved to another volume by renaming it.", "name")
            if any(o["svm_uuid"] == svm["uuid"] and o["path"] == changes["path"] for o in self.luns.values()):
                raise OntapError("lun_rename_dup", "A LUN already exists at path \"%s\"." % changes["path"], "name")
            lun["path"], lun["qtree"], lun["base"] = changes["path"], qtree, base
        if "size" in changes:
            lun["size"] = int(changes["size"])
            lun["written"] = min(lun["written"], lun["size"])
        for key in ("space_reserve", "space_allocation", "comment", "enabled"):
            if key in changes:
                lun[key] = changes[key]
        return lun

    def lun_delete(self, uuid: str, allow_mapped: bool = False) -> None:
        lun = self.luns.get(uuid)
        if lun is None:
            raise OntapError("lun_not_found", "LUN not found.", "uuid")
        if self.maps_of_lun(lun) and not allow_mapped:
            raise OntapError("lun_mapped_delete", "The LUN is mapped to an initiator group; unmap it or set "
                             "\"allow_delete_while_mapped\" to true.", "allow_delete_while_mapped")
        self.lun_maps = [m for m in self.lun_maps if m["lun_uuid"] != uuid]
        del self.luns[uuid]

    def write_data(self, lun: dict, nbytes: int) -> dict:
        """Simulate a host writing nbytes of new data into the LUN (capped at its size)."""
        lun["written"] = max(0, min(lun["size"], lun["written"] + int(nbytes)))
        return lun
