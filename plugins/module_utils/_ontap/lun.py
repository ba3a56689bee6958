# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""LUNs, plus the identifiers XenServer uses for them (NAA id and SCSIid from the serial)."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import given
from ansible_collections.vdc.xenpool.plugins.module_utils._common.san import naa_id, scsi_id
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import Service, exact, ref
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import zbool, zint

LUN_FIELDS = ("uuid,name,svm.name,location.volume.name,location.logical_unit,space.size,space.guarantee.requested,"
              "os_type,serial_number,status.state,status.mapped")
SAME_SIZE_CODES = ("1254226", "9042")


def lun_path(volume: str, name: str) -> str:
    return "/vol/%s/%s" % (volume, name)


def check_lun_resize(current: dict, size: int) -> None:
    """The one LUN-shrink guard: a shrink under a live lvmoiscsi SR cuts off its end, so LUNs only grow."""
    if size < (current.get("size_bytes") or 0):
        raise PlanError("SHRINK_REFUSED", "LUN %s would shrink from %d to %d bytes" % (current.get("path"), current["size_bytes"], size),
                        "LUNs only grow; give a size_gib of at least %.2f (nothing was changed)" % (current["size_bytes"] / 1024.0 ** 3))


def _finish(rec: dict) -> dict:
    rec["naa_id"] = naa_id(rec.get("serial"))
    rec["scsi_id"] = scsi_id(rec.get("serial"))
    return rec


class LunService(Service):
    """list/get/create/resize/delete of LUNs."""

    def list(self, svm: str | None = None, volume: str | None = None, path: str | None = None) -> list[dict]:
        return exact(self._run("list", svm, volume, path), svm=svm, volume=volume, path=path)

    def get(self, svm: str, path: str) -> dict | None:
        return self._one(self.list(svm, path=path), "LUN")

    def create(self, svm: str, path: str, size: int, os_type: str, space_reservation: bool | None = None) -> dict | None:
        self._run("create", svm, path, size, os_type, space_reservation)
        return self.get(svm, path)

    def resize(self, current: dict, size: int) -> dict | None:
        """Grow only (check_lun_resize): ONTAP REST cannot shrink a LUN and a shrink under a live SR destroys data."""
        check_lun_resize(current, size)
        if size != current["size_bytes"]:
            try:
                self._run("resize", current, size)
            except OntapError as exc:
                if exc.code not in SAME_SIZE_CODES:
                    raise
        return self.get(current["svm"], current["path"])

    def set_space_reservation(self, current: dict, enabled: bool) -> dict | None:
        self._run("space_reservation", current, enabled)
        return self.get(current["svm"], current["path"])

    def delete(self, current: dict) -> None:
        self._run("delete", current)

    # -- REST -------------------------------------------------------------------------------------
    def _rest_list(self, svm, volume, path):
        params = {"fields": LUN_FIELDS, "svm.name": svm, "location.volume.name": volume, "name": path}
        out = []
        for r in self.rest.get_records("/api/storage/luns", params):
            loc = r.get("location") or {}
            space = r.get("space") or {}
            status = r.get("status") or {}
            out.append(_finish({"path": r.get("name"), "name": loc.get("logical_unit") or (r.get("name") or "").rsplit("/", 1)[-1],
                                "uuid": r.get("uuid"), "svm": (r.get("svm") or {}).get("name"),
                                "volume": (loc.get("volume") or {}).get("name"), "size_bytes": space.get("size"),
                                "os_type": r.get("os_type"), "space_reservation": (space.get("guarantee") or {}).get("requested"),
                                "serial": r.get("serial_number"), "mapped": status.get("mapped"), "state": status.get("state")}))
        return out

    def _rest_create(self, svm, path, size, os_type, space_reservation):
        body = {"svm": ref(svm), "name": path, "os_type": os_type, "space": {"size": size}}
        if space_reservation is not None:
            body["space"]["guarantee"] = {"requested": space_reservation}
        self.rest.post("/api/storage/luns", body)

    def _rest_resize(self, current, size):
        self.rest.patch("/api/storage/luns/%s" % current["uuid"], {"space": {"size": size}})

    def _rest_space_reservation(self, current, enabled):
        self.rest.patch("/api/storage/luns/%s" % current["uuid"], {"space": {"guarantee": {"requested": enabled}}})

    def _rest_delete(self, current):
        self.rest.delete("/api/storage/luns/%s" % current["uuid"])

    # -- ZAPI -------------------------------------------------------------------------------------
    def _zapi_list(self, svm, volume, path):
        info = given({"vserver": svm, "volume": volume, "path": path})
        desired = {"lun-info": {"path": None, "volume": None, "vserver": None, "size": None, "multiprotocol-type": None,
                                "serial-number": None, "uuid": None, "is-space-reservation-enabled": None,
                                "mapped": None, "state": None}}
        out = []
        for r in self.zapi.get_iter("lun-get-iter", {"lun-info": info} if info else None, desired, vserver=svm):
            out.append(_finish({"path": r.get("path"), "name": (r.get("path") or "").rsplit("/", 1)[-1], "uuid": r.get("uuid"),
                                "svm": r.get("vserver"), "volume": r.get("volume"), "size_bytes": zint(r.get("size")),
                                "os_type": r.get("multiprotocol-type"),
                                "space_reservation": zbool(r.get("is-space-reservation-enabled")),
                                "serial": r.get("serial-number"), "mapped": zbool(r.get("mapped")), "state": r.get("state")}))
        return out

    def _zapi_create(self, svm, path, size, os_type, space_reservation):
        args = {"path": path, "size": size, "ostype": os_type, "use-exact-size": True}
        if space_reservation is not None:
            args["space-reservation-enabled"] = space_reservation
        self.zapi.call("lun-create-by-size", args, vserver=svm)

    def _zapi_resize(self, current, size):
        self.zapi.call("lun-resize", {"path": current["path"], "size": size}, vserver=current["svm"])

    def _zapi_space_reservation(self, current, enabled):
        self.zapi.call("lun-set-space-reservation-info", {"path": current["path"], "enable": enabled}, vserver=current["svm"])

    def _zapi_delete(self, current):
        self.zapi.call("lun-destroy", {"path": current["path"]}, vserver=current["svm"])
