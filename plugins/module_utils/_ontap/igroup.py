# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Initiator groups; initiator names are compared and stored lower-case, as ONTAP does for IQNs."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import given
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import Service, exact, ref
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import as_list, dig


def norm_initiator(name: str) -> str:
    return name.strip().lower()


class IgroupService(Service):
    """list/get/create/add/remove/delete of igroups."""

    def list(self, svm: str | None = None, name: str | None = None) -> list[dict]:
        return exact(self._run("list", svm, name), svm=svm, name=name)

    def get(self, svm: str, name: str) -> dict | None:
        return self._one(self.list(svm, name), "igroup")

    def create(self, svm: str, name: str, os_type: str, protocol: str, initiators: list[str]) -> dict | None:
        self._run("create", svm, name, os_type, protocol, [norm_initiator(i) for i in initiators])
        return self.get(svm, name)

    def add_initiators(self, current: dict, names: list[str]) -> None:
        if names:
            self._run("add", current, [norm_initiator(i) for i in names])

    def remove_initiators(self, current: dict, names: list[str]) -> None:
        for name in names:
            self._run("remove", current, norm_initiator(name))

    def set_os_type(self, current: dict, os_type: str) -> None:
        self._run("os_type", current, os_type)

    def delete(self, current: dict) -> None:
        self._run("delete", current)

    # -- REST -------------------------------------------------------------------------------------
    def _rest_list(self, svm, name):
        params = {"fields": "uuid,name,svm.name,os_type,protocol,initiators", "svm.name": svm, "name": name}
        return [{"name": r.get("name"), "uuid": r.get("uuid"), "svm": (r.get("svm") or {}).get("name"), "os_type": r.get("os_type"),
                 "protocol": r.get("protocol"),
                 "initiators": sorted(norm_initiator(i.get("name", "")) for i in (r.get("initiators") or []))}
                for r in self.rest.get_records("/api/protocols/san/igroups", params)]

    def _rest_create(self, svm, name, os_type, protocol, initiators):
        body = {"svm": ref(svm), "name": name, "os_type": os_type, "protocol": protocol}
        if initiators:
            body["initiators"] = [{"name": i} for i in initiators]
        self.rest.post("/api/protocols/san/igroups", body)

    def _rest_add(self, current, names):
        self.rest.post("/api/protocols/san/igroups/%s/initiators" % current["uuid"], {"records": [{"name": n} for n in names]})

    def _rest_remove(self, current, name):
        self.rest.delete("/api/protocols/san/igroups/%s/initiators/%s" % (current["uuid"], name))

    def _rest_os_type(self, current, os_type):
        self.rest.patch("/api/protocols/san/igroups/%s" % current["uuid"], {"os_type": os_type})

    def _rest_delete(self, current):
        self.rest.delete("/api/protocols/san/igroups/%s" % current["uuid"])

    # -- ZAPI -------------------------------------------------------------------------------------
    def _zapi_list(self, svm, name):
        info = given({"vserver": svm, "initiator-group-name": name})
        desired = {"initiator-group-info": {"initiator-group-name": None, "initiator-group-uuid": None, "vserver": None,
                                            "initiator-group-os-type": None, "initiator-group-type": None, "initiators": None}}
        out = []
        for r in self.zapi.get_iter("igroup-get-iter", {"initiator-group-info": info} if info else None, desired, vserver=svm):
            names = [dig(i, "initiator-name") for i in as_list(dig(r, "initiators", "initiator-info"))]
            out.append({"name": r.get("initiator-group-name"), "uuid": r.get("initiator-group-uuid"), "svm": r.get("vserver"),
                        "os_type": r.get("initiator-group-os-type"), "protocol": r.get("initiator-group-type"),
                        "initiators": sorted(norm_initiator(n) for n in names if n)})
        return out

    def _zapi_create(self, svm, name, os_type, protocol, initiators):
        self.zapi.call("igroup-create", {"initiator-group-name": name, "initiator-group-type": protocol, "os-type": os_type}, vserver=svm)
        for initiator in initiators:
            self.zapi.call("igroup-add", {"initiator-group-name": name, "initiator": initiator}, vserver=svm)

    def _zapi_add(self, current, names):
        for initiator in names:
            self.zapi.call("igroup-add", {"initiator-group-name": current["name"], "initiator": initiator}, vserver=current["svm"])

    def _zapi_remove(self, current, name):
        self.zapi.call("igroup-remove", {"initiator-group-name": current["name"], "initiator": name}, vserver=current["svm"])

    def _zapi_os_type(self, current, os_type):
        self.zapi.call("igroup-set-attribute", {"initiator-group-name": current["name"], "attribute": "os-type", "value": os_type},
                       vserver=current["svm"])

    def _zapi_delete(self, current):
        self.zapi.call("igroup-destroy", {"initiator-group-name": current["name"]}, vserver=current["svm"])
