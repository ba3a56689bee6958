# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""IP interfaces (LIFs) of an SVM: the iSCSI ones are the portals XenServer logs in to."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import Service
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import as_list, dig

ISCSI_PORT = 3260


class LifService(Service):
    """IP interfaces; the iSCSI ones are the portals XenServer logs in to."""

    def list(self, svm: str | None = None, iscsi_only: bool = False) -> list[dict]:
        lifs = self._run("list", svm, iscsi_only)
        return [lif for lif in lifs if lif["iscsi"]] if iscsi_only else lifs

    def iscsi_portals(self, svm: str) -> list[str]:
        """address:3260 of every enabled iSCSI data LIF of the SVM, sorted for stable output."""
        return sorted("%s:%d" % (lif["address"], ISCSI_PORT) for lif in self.list(svm, iscsi_only=True)
                      if lif["address"] and lif["enabled"] is not False)

    def _rest_list(self, svm, iscsi_only):
        params = {"fields": "uuid,name,svm.name,ip.address,services,enabled", "svm.name": svm,
                  "services": "data_iscsi" if iscsi_only else None}
        out = []
        for r in self.rest.get_records("/api/network/ip/interfaces", params):
            services = list(r.get("services") or [])
            out.append({"name": r.get("name"), "uuid": r.get("uuid"), "svm": (r.get("svm") or {}).get("name"),
                        "address": (r.get("ip") or {}).get("address"), "enabled": r.get("enabled"),
                        "iscsi": "data_iscsi" in services})
        return out

    def _zapi_list(self, svm, _iscsi_only):
        query = {"net-interface-info": {"vserver": svm}} if svm else None
        desired = {"net-interface-info": {"interface-name": None, "lif-uuid": None, "vserver": None, "address": None,
                                          "administrative-status": None, "data-protocols": None, "service-names": None}}
        out = []
        for r in self.zapi.get_iter("net-interface-get-iter", query, desired, vserver=svm):
            protocols = [str(p).lower() for p in as_list(dig(r, "data-protocols", "data-protocol"))]
            services = [str(s).lower() for s in as_list(dig(r, "service-names", "lif-service-name"))]
            status = r.get("administrative-status")
            out.append({"name": r.get("interface-name"), "uuid": r.get("lif-uuid"), "svm": r.get("vserver"),
                        "address": r.get("address"), "enabled": (status == "up") if status else None,
                        "iscsi": "iscsi" in protocols or "data_iscsi" in services})
        return out
