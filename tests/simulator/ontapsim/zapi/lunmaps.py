# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI: lun-map, lun-unmap, lun-map-list-info, lun-map-get-iter."""
from __future__ import annotations

from .common import node, text


class LunMapsMixin:
    """LUN maps."""

    def api_lun_map(self, api, svm):
        lun = self._lun(svm, self.need(api, "path"))
        ig = self._igroup_named(svm, self.need(api, "initiator-group"))
        mapping = self.state.lun_map(lun, ig, text(api, "lun-id"))
        return [node("lun-id-assigned", mapping["lun_id"])]

    def _igroup_named(self, svm: dict, name: str) -> dict:
        return self.state.igroup_by_name(svm, name)

    def api_lun_unmap(self, api, svm):
        lun = self._lun(svm, self.need(api, "path"))
        ig = self._igroup_named(svm, self.need(api, "initiator-group"))
        self.state.lun_unmap(lun, ig)
        return []

    def api_lun_map_list_info(self, api, svm):
        lun = self._lun(svm, self.need(api, "path"))
        groups = [self.igroup_record(self.state.igroups[m["igroup_uuid"]], m["lun_id"]) for m in self.state.maps_of_lun(lun)]
        return [("initiator-groups", [("initiator-group-info", g) for g in groups])]

    def api_lun_map_get_iter(self, api, svm):
        records = []
        for mapping in self.state.lun_maps:
            lun = self.state.luns[mapping["lun_uuid"]]
            if svm is not None and lun["svm_uuid"] != svm["uuid"]:
                continue
            ig = self.state.igroups[mapping["igroup_uuid"]]
            node_name = self.state.aggregates[self.state.volumes[lun["vol_uuid"]]["aggr_uuid"]]["node"]
            records.append([node("path", lun["path"]), node("lun-uuid", lun["uuid"]), node("initiator-group", ig["name"]),
                            node("initiator-group-uuid", ig["uuid"]), node("lun-id", mapping["lun_id"]),
                            node("vserver", self.state.svms[lun["svm_uuid"]]["name"]), node("node", node_name),
                            ("reporting-nodes", [node("node-name", n["name"]) for n in self.state.nodes])])
        return self.iterate(api, "lun-map-info", records)
