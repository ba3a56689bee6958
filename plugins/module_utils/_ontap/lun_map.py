# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LUN maps (LUN to igroup, with the LUN id the hosts see)."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import Service, exact, ref
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import zint


class LunMapService(Service):
    """list/get/create/delete of LUN maps."""

    def list(self, svm: str | None = None, lun_path: str | None = None, igroup: str | None = None) -> list[dict]:
        return exact(self._run("list", svm, lun_path, igroup), svm=svm, lun_path=lun_path, igroup=igroup)

    def get(self, svm: str, lun_path: str, igroup: str) -> dict | None:
        return self._one(self.list(svm, lun_path, igroup), "LUN map")

    def create(self, svm: str, lun_path: str, igroup: str, lun_id: int | None = None) -> dict | None:
        self._run("create", svm, lun_path, igroup, lun_id)
        return self.get(svm, lun_path, igroup)

    def delete(self, current: dict) -> None:
        self._run("delete", current)

    def _rest_list(self, svm, lun_path, igroup):
        params = {"fields": "svm.name,lun.name,lun.uuid,igroup.name,igroup.uuid,logical_unit_number"}
        for key, value in (("svm.name", svm), ("lun.name", lun_path), ("igroup.name", igroup)):
            if value:
                params[key] = value
        return [{"svm": (r.get("svm") or {}).get("name"), "lun_path": (r.get("lun") or {}).get("name"),
                 "lun_uuid": (r.get("lun") or {}).get("uuid"), "igroup": (r.get("igroup") or {}).get("name"),
                 "igroup_uuid": (r.get("igroup") or {}).get("uuid"), "lun_id": r.get("logical_unit_number")}
                for r in self.rest.get_records("/api/protocols/san/lun-maps", params)]

    def _rest_create(self, svm, lun_path, igroup, lun_id):
        body = {"svm": ref(svm), "lun": ref(lun_path), "igroup": ref(igroup)}
        if lun_id is not None:
            body["logical_unit_number"] = lun_id
        self.rest.post("/api/protocols/san/lun-maps", body)

    def _rest_delete(self, current):
        self.rest.delete("/api/protocols/san/lun-maps/%s/%s" % (current["lun_uuid"], current["igroup_uuid"]))

    def _zapi_list(self, svm, lun_path, igroup):
        info = {}
        for key, value in (("vserver", svm), ("path", lun_path), ("initiator-group", igroup)):
            if value:
                info[key] = value
        desired = {"lun-map-info": {"vserver": None, "path": None, "lun-uuid": None, "initiator-group": None,
                                    "initiator-group-uuid": None, "lun-id": None}}
        return [{"svm": r.get("vserver"), "lun_path": r.get("path"), "lun_uuid": r.get("lun-uuid"), "igroup": r.get("initiator-group"),
                 "igroup_uuid": r.get("initiator-group-uuid"), "lun_id": zint(r.get("lun-id"))}
                for r in self.zapi.get_iter("lun-map-get-iter", {"lun-map-info": info} if info else None, desired, vserver=svm)]

    def _zapi_create(self, svm, lun_path, igroup, lun_id):
        args = {"path": lun_path, "initiator-group": igroup}
        if lun_id is not None:
            args["lun-id"] = lun_id
        self.zapi.call("lun-map", args, vserver=svm)

    def _zapi_delete(self, current):
        self.zapi.call("lun-unmap", {"path": current["lun_path"], "initiator-group": current["igroup"]}, vserver=current["svm"])
