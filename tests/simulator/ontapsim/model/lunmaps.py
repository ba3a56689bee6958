# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LUN maps (LUN ids per igroup) and what an initiator sees through them."""
from __future__ import annotations

from ..errors import OntapError
from .common import MAX_LUN_ID, normalise_initiator, scsi_id


class LunMapsMixin:
    """LUN maps and the SAN view of an initiator."""

    def maps_of_lun(self, lun: dict) -> list[dict]:
        return [m for m in self.lun_maps if m["lun_uuid"] == lun["uuid"]]

    def maps_of_igroup(self, igroup: dict) -> list[dict]:
        return [m for m in self.lun_maps if m["igroup_uuid"] == igroup["uuid"]]

    def used_lun_ids(self, igroup: dict) -> set[int]:
        """Ids already seen by any initiator of the igroup (and by the igroup itself)."""
        used = {m["lun_id"] for m in self.maps_of_igroup(igroup)}
        for init in igroup["initiators"]:
            for other in self.igroups_of_initiator(init["name"], igroup["svm_uuid"]):
                used |= {m["lun_id"] for m in self.maps_of_igroup(other)}
        return used

    def lun_map(self, lun: dict, igroup: dict, lun_id=None) -> dict:
        if lun["svm_uuid"] != igroup["svm_uuid"]:
            raise OntapError("lunmap_igroup_missing", "The initiator group does not exist, is not accessible to the "
                             "caller, or is not in the specified SVM.", "igroup.name")
        if any(m["lun_uuid"] == lun["uuid"] and m["igroup_uuid"] == igroup["uuid"] for m in self.lun_maps):
            raise OntapError("lunmap_dup", "The LUN is already mapped to this initiator group.", "lun.name")
        used = self.used_lun_ids(igroup)
        if lun_id is None or lun_id == "":
            lun_id = next(i for i in range(MAX_LUN_ID + 2) if i not in used)
            if lun_id > MAX_LUN_ID:
                raise OntapError("lunmap_id_range", "No free LUN ID is left for this initiator group.",
                                 "logical_unit_number")
        else:
            try:
                lun_id = int(lun_id)
            except (TypeError, ValueError) as exc:
                raise OntapError("lunmap_id_range", "Invalid LUN ID \"%s\"." % lun_id, "logical_unit_number") from exc
            if lun_id < 0 or lun_id > MAX_LUN_ID:
                raise OntapError("lunmap_id_range", "LUN ID %d is out of range 0-%d." % (lun_id, MAX_LUN_ID),
                                 "logical_unit_number")
            if lun_id in used:
                raise OntapError("lunmap_id_conflict", "LUN ID %d is already in use by an initiator of initiator group "
                                 "\"%s\"." % (lun_id, igroup["name"]), "logical_unit_number")
        mapping = {"lun_uuid": lun["uuid"], "igroup_uuid": igroup["uuid"], "lun_id": lun_id}
        self.lun_maps.append(mapping)
        return mapping

    def lun_unmap(self, lun: dict, igroup: dict) -> None:
        before = len(self.lun_maps)
        self.lun_maps = [m for m in self.lun_maps if not (m["lun_uuid"] == lun["uuid"] and m["igroup_uuid"] == igroup["uuid"])]
        if len(self.lun_maps) == before:
            raise OntapError("lunmap_not_found", "The LUN map does not exist.", "lun.uuid")

    def visible_luns(self, initiator_iqn: str) -> list[dict]:
        """What a host with this initiator name sees: one entry per LUN map reaching it.

        A LUN is visible when the initiator is in a mapped igroup, the SVM's
        iSCSI service exists and is enabled, the LUN is online and its volume
        is online. Portals are the SVM's enabled iSCSI data LIFs.
        """
        norm = normalise_initiator(initiator_iqn)
        out = []
        for igroup in self.igroups_of_initiator(norm):
            if igroup["protocol"] not in ("iscsi", "mixed"):
                continue
            svm = self.svms[igroup["svm_uuid"]]
            service = self.iscsi.get(svm["uuid"])
            if not service or not service["enabled"]:
                continue
            portals = ["%s:3260" % lif["address"] for lif in self.lifs.values()
                       if lif["svm_uuid"] == svm["uuid"] and lif["enabled"] and "data_iscsi" in lif["services"]]
            for mapping in self.maps_of_igroup(igroup):
                lun = self.luns[mapping["lun_uuid"]]
                if not lun["enabled"] or self.volumes[lun["vol_uuid"]]["state"] != "online":
                    continue
                out.append({"lun_path": lun["path"], "serial": lun["serial"], "lun_id": mapping["lun_id"],
                            "target_iqn": self.target_iqn(svm), "portals": portals, "svm": svm["name"],
                            "igroup": igroup["name"], "size": lun["size"], "scsi_id": scsi_id(lun["serial"])})
        out.sort(key=lambda e: (e["target_iqn"], e["lun_id"]))
        return out
