# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI: igroup-*."""
from __future__ import annotations

from ..model import parse_bool
from .common import ZapiFault, node, text


class IgroupsMixin:
    """Initiator groups."""

    def igroup_record(self, ig: dict, lun_id: int | None = None) -> list[tuple]:
        rec = [node("initiator-group-name", ig["name"]), node("initiator-group-type", ig["protocol"]),
               node("initiator-group-os-type", ig["os_type"]), node("initiator-group-uuid", ig["uuid"]),
               node("vserver", self.state.svms[ig["svm_uuid"]]["name"]), node("initiator-group-alua-enabled", True),
               node("initiator-group-delete-on-unmap", False), node("initiator-group-use-partner", True),
               node("initiator-group-vsa-enabled", False), node("initiator-group-report-scsi-name-enabled", True),
               node("initiator-group-throttle-borrow", False), node("initiator-group-throttle-reserve", 0)]
        if ig["initiators"]:
            rec.append(("initiators", [("initiator-info", [node("initiator-name", i["name"])]) for i in ig["initiators"]]))
        if lun_id is not None:
            rec.append(node("lun-id", lun_id))
        return rec

    def api_igroup_get_iter(self, api, svm):
        return self.iterate(api, "initiator-group-info",
                            [self.igroup_record(g) for g in self.scoped(self.state.igroups.values(), svm)])

    def api_igroup_create(self, api, svm):
        name = self.need(api, "initiator-group-name")
        protocol = self.need(api, "initiator-group-type")
        os_type = text(api, "os-type") or text(api, "ostype") or "linux"
        self.state.igroup_create(svm, name, os_type, protocol)
        return []

    def _igroup(self, api, svm) -> dict:
        return self.state.igroup_by_name(svm, self.need(api, "initiator-group-name"))

    def api_igroup_destroy(self, api, svm):
        self.state.igroup_delete(self._igroup(api, svm), allow_mapped=parse_bool(text(api, "force"), False))
        return []

    def api_igroup_add(self, api, svm):
        self.state.igroup_add_initiator(self._igroup(api, svm), self.need(api, "initiator"))
        return []

    def api_igroup_set_attribute(self, api, svm):
        """igroup-set-attribute (initiator-group-name, attribute, value); os-type is the one the modules change."""
        igroup = self._igroup(api, svm)
        attribute = self.need(api, "attribute")
        value = text(api, "value") or ""
        if attribute not in ("os-type", "ostype"):
            raise ZapiFault("13115", "Invalid value specified for \"attribute\" element within \"igroup-set-attribute\": "
                            "\"%s\"." % attribute)
        self.state.igroup_modify(igroup, {"os_type": value})
        return []

    def api_igroup_remove(self, api, svm):
        self.state.igroup_remove_initiator(self._igroup(api, svm), self.need(api, "initiator"),
                                           allow_mapped=parse_bool(text(api, "force"), False))
        return []

    def api_igroup_rename(self, api, svm):
        """igroup-rename (initiator-group-name, initiator-group-new-name), what na_ontap_igroup sends for from_name."""
        ig = self._igroup(api, svm)
        self.state.igroup_modify(ig, {"name": self.need(api, "initiator-group-new-name")})
        return []
