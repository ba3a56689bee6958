# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI: iscsi-service-*, iscsi-node-get-name, iscsi-interface-get-iter."""
from __future__ import annotations

from ..model import parse_bool
from .common import node, text


class IscsiMixin:
    """The iSCSI service."""

    def api_iscsi_interface_get_iter(self, api, svm):
        records = []
        lifs = [lf for lf in self.scoped(self.state.lifs.values(), svm) if "data_iscsi" in lf["services"]]
        for index, lif in enumerate(lifs):
            records.append([node("interface-name", lif["name"]), node("ip-address", lif["address"]), node("ip-port", 3260),
                            node("is-interface-enabled", lif["enabled"]), node("tpgroup-name", lif["name"]),
                            node("tpgroup-tag", 1027 + index), node("relative-port-id", 1 + index),
                            node("vserver", self.state.svms[lif["svm_uuid"]]["name"]),
                            node("current-node", lif["node"]), node("current-port", lif["port"])])
        return self.iterate(api, "iscsi-interface-list-entry-info", records)

    def api_iscsi_service_get_iter(self, api, svm):
        records = []
        for svm_uuid, service in self.state.iscsi.items():
            if svm is not None and svm_uuid != svm["uuid"]:
                continue
            owner = self.state.svms[svm_uuid]
            records.append([node("vserver", owner["name"]), node("node-name", self.state.target_iqn(owner)),
                            node("alias-name", service["alias"]), node("is-available", service["enabled"]),
                            node("login-timeout", 15), node("max-cmds-per-session", 128), node("max-conn-per-session", 4),
                            node("max-error-recovery-level", 0), node("retain-timeout", 20),
                            node("tcp-window-size", 131400)])
        return self.iterate(api, "iscsi-service-info", records)

    def api_iscsi_node_get_name(self, api, svm):  # pylint: disable=unused-argument
        self.state.iscsi_get(svm)
        return [node("node-name", self.state.target_iqn(svm))]

    def api_iscsi_service_create(self, api, svm):
        self.state.iscsi_create(svm, enabled=parse_bool(text(api, "start"), True), alias=text(api, "alias-name"))
        return []

    def api_iscsi_service_start(self, api, svm):  # pylint: disable=unused-argument
        self.state.iscsi_modify(svm, {"enabled": True})
        return []

    def api_iscsi_service_stop(self, api, svm):  # pylint: disable=unused-argument
        self.state.iscsi_modify(svm, {"enabled": False})
        return []

    def api_iscsi_service_destroy(self, api, svm):  # pylint: disable=unused-argument
        self.state.iscsi_delete(svm)
        return []
