# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Initiator groups and their initiators."""
from __future__ import annotations

import re

from ..errors import OntapError
from .common import EUI_RE, IGROUP_OS_TYPES, IGROUP_PROTOCOLS, IQN_RE, WWPN_RE, normalise_initiator


class IgroupsMixin:
    """Initiator groups."""

    def igroup_by_name(self, svm: dict, name: str, key: str = "igroup_not_found") -> dict:
        for igroup in self.igroups.values():
            if igroup["svm_uuid"] == svm["uuid"] and igroup["name"] == name:
                return igroup
        raise OntapError(key, "The initiator group \"%s\" does not exist, is not accessible to the caller, "
                         "or is not in the specified SVM." % name, "igroup.name")

    def check_initiator(self, igroup: dict, name: str) -> str:
        norm = normalise_initiator(name)
        ok = IQN_RE.match(norm) or EUI_RE.match(norm)
        if igroup["protocol"] in ("fcp", "mixed") and WWPN_RE.match(norm):
            ok = True
        if not ok:
            raise OntapError("initiator_invalid", "The initiator name \"%s\" is not a valid iSCSI initiator name." % name,
                             "initiators.name")
        return norm

    def igroup_create(self, svm: dict, name: str, os_type: str, protocol: str = "mixed",
                      initiators: list | None = None, comment: str = "", uuid: str | None = None) -> dict:
        if not name or len(name) > 96 or not re.match(r"^[A-Za-z0-9_.:{}-]+$", name):
            raise OntapError("igroup_name_invalid", "Invalid initiator group name \"%s\"." % name, "name")
        if os_type not in IGROUP_OS_TYPES:
            raise OntapError("igroup_os_type", "The value \"%s\" is invalid for field \"os_type\"." % os_type, "os_type")
        if protocol not in IGROUP_PROTOCOLS:
            raise OntapError("invalid_value", "The value \"%s\" is invalid for field \"protocol\"." % protocol, "protocol")
        if any(g["svm_uuid"] == svm["uuid"] and g["name"] == name for g in self.igroups.values()):
            raise OntapError("igroup_dup", "An initiator group with name \"%s\" already exists in SVM \"%s\"."
                             % (name, svm["name"]), "name")
        igroup = {"uuid": uuid or self.new_uuid(), "name": name, "svm_uuid": svm["uuid"], "os_type": os_type,
                  "protocol": protocol, "initiators": [], "comment": comment or ""}
        seen = set()
        for init in initiators or []:
            norm = self.check_initiator(igroup, init["name"])
            if norm in seen:
                raise OntapError("initiator_dup", "Initiator \"%s\" is listed twice." % norm, "initiators.name")
            seen.add(norm)
            igroup["initiators"].append({"name": norm, "comment": init.get("comment") or ""})
        self.igroups[igroup["uuid"]] = igroup
        return igroup

    def igroup_modify(self, igroup: dict, changes: dict) -> dict:
        if "name" in changes and changes["name"] != igroup["name"]:
            if any(g["svm_uuid"] == igroup["svm_uuid"] and g["name"] == changes["name"] for g in self.igroups.values()):
                raise OntapError("igroup_dup", "An initiator group with name \"%s\" already exists." % changes["name"],
                                 "name")
        if "os_type" in changes and changes["os_type"] not in IGROUP_OS_TYPES:
            raise OntapError("igroup_os_type", "The value \"%s\" is invalid for field \"os_type\"." % changes["os_type"],
                             "os_type")
        if "protocol" in changes and changes["protocol"] != igroup["protocol"]:
            raise OntapError("unexpected_arg", "Field \"protocol\" cannot be set in this operation.", "protocol")
        for key in ("name", "os_type", "comment"):
            if key in changes:
                igroup[key] = changes[key]
        return igroup

    def igroup_delete(self, igroup: dict, allow_mapped: bool = False) -> None:
        if self.maps_of_igroup(igroup) and not allow_mapped:
            raise OntapError("igroup_mapped_delete", "The initiator group is mapped to one or more LUNs; unmap them or "
                             "set \"allow_delete_while_mapped\" to true.", "allow_delete_while_mapped")
        self.lun_maps = [m for m in self.lun_maps if m["igroup_uuid"] != igroup["uuid"]]
        del self.igroups[igroup["uuid"]]

    def igroup_add_initiator(self, igroup: dict, name: str, comment: str = "") -> dict:
        norm = self.check_initiator(igroup, name)
        if any(i["name"] == norm for i in igroup["initiators"]):
            raise OntapError("initiator_dup", "Initiator group \"%s\" already contains initiator \"%s\"."
                             % (igroup["name"], norm), "name")
        # the new member must not see two LUNs under one id
        ids = {m["lun_id"] for m in self.maps_of_igroup(igroup)}
        for other in self.igroups_of_initiator(norm, igroup["svm_uuid"]):
            for mapping in self.maps_of_igroup(other):
                if mapping["lun_id"] in ids:
                    raise OntapError("initiator_lun_id_conflict", "Adding initiator \"%s\" would give it the same LUN "
                                     "ID %d for two LUN maps." % (norm, mapping["lun_id"]), "name")
        igroup["initiators"].append({"name": norm, "comment": comment or ""})
        return igroup

    def igroup_remove_initiator(self, igroup: dict, name: str, allow_mapped: bool = True) -> dict:
        norm = normalise_initiator(name)
        if not any(i["name"] == norm for i in igroup["initiators"]):
            raise OntapError("initiator_not_member", "Initiator \"%s\" is not a member of initiator group \"%s\"."
                             % (norm, igroup["name"]), "name")
        if self.maps_of_igroup(igroup) and not allow_mapped:
            raise OntapError("initiator_mapped_remove", "LUN maps for this initiator group exist.", "name")
        igroup["initiators"] = [i for i in igroup["initiators"] if i["name"] != norm]
        return igroup

    def igroups_of_initiator(self, norm: str, svm_uuid: str | None = None) -> list[dict]:
        return [g for g in self.igroups.values()
                if (svm_uuid is None or g["svm_uuid"] == svm_uuid) and any(i["name"] == norm for i in g["initiators"])]
