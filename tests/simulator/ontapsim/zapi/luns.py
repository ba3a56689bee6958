# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI: lun-* (without maps)."""
from __future__ import annotations

from ..model import parse_bool, parse_size
from .common import ZapiFault, node, text


class LunsMixin:
    """LUNs."""

    def _lun(self, svm: dict, path: str) -> dict:
        return self.state.lun_by_path(svm, path)

    def lun_record(self, lun: dict) -> list[tuple]:
        st = self.state
        vol = st.volumes[lun["vol_uuid"]]
        online = lun["enabled"] and vol["state"] == "online"
        return [node("path", lun["path"]), node("size", lun["size"]), node("size-used", lun["written"]),
                node("serial-number", lun["serial"]), node("uuid", lun["uuid"]), node("volume", vol["name"]),
                node("vserver", st.svms[lun["svm_uuid"]]["name"]), node("qtree", lun["qtree"] or ""),
                node("multiprotocol-type", lun["os_type"]), node("is-space-reservation-enabled", lun["space_reserve"]),
                node("is-space-alloc-enabled", lun["space_allocation"]), node("online", online),
                node("mapped", bool(st.maps_of_lun(lun))), node("state", "online" if online else "offline"),
                node("comment", lun["comment"]), node("node", st.aggregates[vol["aggr_uuid"]]["node"]),
                node("block-size", 512), node("class", lun["class"]), node("read-only", False),
                node("creation-timestamp", int(lun["create_time"])), node("prefix-size", 0), node("alignment", "aligned"),
                node("share-state", "none"), node("is-clone", False)]

    def api_lun_get_iter(self, api, svm):
        return self.iterate(api, "lun-info", [self.lun_record(lun) for lun in self.scoped(self.state.luns.values(), svm)])

    def api_lun_create_by_size(self, api, svm):
        path = self.need(api, "path")
        ostype = text(api, "ostype") or text(api, "type")
        if not ostype:
            raise ZapiFault("13006", "Missing input: ostype")
        size = parse_size(self.need(api, "size"), "lun_size_invalid")
        lun = self.state.lun_create(svm["uuid"], path, ostype, size, self.state.new_uuid(), self.state.new_serial(),
                                    space_reserve=parse_bool(text(api, "space-reservation-enabled"), True),
                                    space_allocation=parse_bool(text(api, "space-allocation-enabled"), False),
                                    comment=text(api, "comment") or "",
                                    exact=parse_bool(text(api, "use-exact-size"), False))
        return [node("actual-size", lun["size"])]

    def api_lun_resize(self, api, svm):
        lun = self._lun(svm, self.need(api, "path"))
        size = parse_size(self.need(api, "size"), "lun_size_invalid")
        force = parse_bool(text(api, "force"), False)
        self.state.lun_modify(lun["uuid"], {"size": self.state.round_lun_size(size)}, allow_shrink=force)
        return [node("actual-size", lun["size"])]

    def api_lun_destroy(self, api, svm):
        lun = self._lun(svm, self.need(api, "path"))
        self.state.lun_delete(lun["uuid"], allow_mapped=parse_bool(text(api, "force"), False))
        return []

    def api_lun_online(self, api, svm):
        lun = self._lun(svm, self.need(api, "path"))
        self.state.lun_modify(lun["uuid"], {"enabled": True})
        return []

    def api_lun_offline(self, api, svm):
        lun = self._lun(svm, self.need(api, "path"))
        self.state.lun_modify(lun["uuid"], {"enabled": False})
        return []

    def api_lun_set_space_reservation_info(self, api, svm):
        """What na_ontap_lun sends to flip space_reserve over ZAPI (path, enable)."""
        lun = self._lun(svm, self.need(api, "path"))
        enable = text(api, "enable")
        if enable not in (None, "", "true", "false"):
            raise ZapiFault("13115", "Invalid value specified for \"enable\" element within \"lun-set-space-reservation-info\": "
                            "\"%s\"." % enable)
        self.state.lun_modify(lun["uuid"], {"space_reserve": enable == "true"})
        return []

    def api_lun_move(self, api, svm):
        """lun-move (path, new-path): a rename within the volume, what na_ontap_lun sends for from_name."""
        lun = self._lun(svm, self.need(api, "path"))
        self.state.lun_modify(lun["uuid"], {"path": self.need(api, "new-path")})
        return []

    def api_lun_set_comment(self, api, svm):
        """lun-set-comment (path, comment), what na_ontap_lun sends to change a comment over ZAPI."""
        lun = self._lun(svm, self.need(api, "path"))
        self.state.lun_modify(lun["uuid"], {"comment": text(api, "comment") or ""})
        return []
