# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""FlexVol volumes, over REST or ZAPI, as the same normalised dicts.

Efficiency is reduced to two booleans (dedupe, compression): that is what a XenServer LUN host
volume needs, and it is the common ground of REST's per-feature enums and ZAPI's sis switches.
"""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import given
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import Service, exact, ref
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import as_list, dig, zbool, zint

VOLUME_FIELDS = ("uuid,name,svm.name,aggregates.name,space.size,space.used,space.available,space.snapshot.reserve_percent,guarantee.type,"
                 "snapshot_policy.name,efficiency.dedupe,efficiency.compression,efficiency.space_savings,state")
ZAPI_VOLUME_DESIRED = {"volume-attributes": {
    "volume-id-attributes": {"name": None, "owning-vserver-name": None, "containing-aggregate-name": None, "uuid": None},
    "volume-space-attributes": {"size": None, "size-used": None, "size-available": None, "space-guarantee": None,
                                "percentage-snapshot-reserve": None},
    "volume-snapshot-attributes": {"snapshot-policy": None},
    "volume-state-attributes": {"state": None},
    "volume-sis-attributes": {"total-space-saved": None, "deduplication-space-saved": None, "compression-space-saved": None},
}}


GIB = 1024 ** 3


def usable_bytes(size: int, reserve_percent: int | None) -> int:
    """What a volume of `size` bytes leaves to its LUNs once the snapshot reserve is set aside."""
    return size * (100 - (reserve_percent or 0)) // 100


def check_resize(current: dict, size: int, luns: list[dict], allow_shrink: bool) -> None:
    """Refuse a shrink unless allowed, and any size that cannot hold the LUNs, the used space and the snapshot reserve.

    The volume is the container of SR LUNs: shrinking it below them fails the LUNs' writes, and the
    LUN-shrink guard of ontap_lun cannot help once the volume has already been shrunk. So the
    volume refuses on its own, before any write.
    """
    if size >= (current.get("size_bytes") or 0):
        return
    name = current.get("name")
    if not allow_shrink:
        raise PlanError("SHRINK_REFUSED", "volume %s would shrink from %.2f to %.2f GiB" % (name, current["size_bytes"] / GIB, size / GIB),
                        "Volumes only grow unless allow_shrink: true; check the size_gib you gave (nothing was changed)")
    lun_bytes = sum(lun.get("size_bytes") or 0 for lun in luns)
    needed = max(lun_bytes, current.get("used_bytes") or 0)
    if usable_bytes(size, current.get("snapshot_reserve_percent")) < needed:
        raise PlanError("SHRINK_REFUSED", "volume %s of %.2f GiB with a %s%% snapshot reserve cannot hold its LUNs (%s: %.2f GiB) "
                        "and used space (%.2f GiB)" % (name, size / GIB, current.get("snapshot_reserve_percent") or 0,
                                                       ", ".join(sorted(lun["path"] for lun in luns)) or "none", lun_bytes / GIB,
                                                       (current.get("used_bytes") or 0) / GIB),
                        "Give a size_gib of at least %.2f (nothing was changed)"
                        % (needed * 100.0 / (100 - (current.get("snapshot_reserve_percent") or 0)) / GIB))


def _rest_efficiency_on(value: str | None) -> bool:
    return value not in (None, "none")


class VolumeService(Service):
    """list/get/create/modify/delete of FlexVols."""

    def list(self, svm: str | None = None, name: str | None = None) -> list[dict]:
        return exact(self._run("list", svm, name), svm=svm, name=name)

    def get(self, svm: str, name: str) -> dict | None:
        return self._one(self.list(svm, name), "volume")

    def create(self, svm: str, name: str, aggregate: str, size: int, space_guarantee: str | None = None,
               snapshot_policy: str | None = None, dedupe: bool | None = None, compression: bool | None = None) -> dict | None:
        self._run("create", svm, name, aggregate, size, space_guarantee, snapshot_policy, dedupe, compression)
        return self.get(svm, name)

    def modify(self, current: dict, changes: dict) -> dict | None:
        """changes: any of size_bytes, space_guarantee, snapshot_policy, dedupe, compression."""
        if changes:
            self._run("modify", current, changes)
        return self.get(current["svm"], current["name"])

    def delete(self, current: dict) -> None:
        self._run("delete", current)

    # -- REST -------------------------------------------------------------------------------------
    def _rest_list(self, svm, name):
        params = {"fields": VOLUME_FIELDS, "svm.name": svm, "name": name}
        return [self._rest_norm(r) for r in self.rest.get_records("/api/storage/volumes", params)]

    @staticmethod
    def _rest_norm(r: dict) -> dict:
        space = r.get("space") or {}
        eff = r.get("efficiency") or {}
        savings = eff.get("space_savings") or {}
        aggrs = r.get("aggregates") or []
        return {"name": r.get("name"), "uuid": r.get("uuid"), "svm": (r.get("svm") or {}).get("name"),
                "aggregate": aggrs[0].get("name") if aggrs else None, "size_bytes": space.get("size"),
                "used_bytes": space.get("used"), "available_bytes": space.get("available"),
                "snapshot_reserve_percent": (space.get("snapshot") or {}).get("reserve_percent"),
                "space_guarantee": (r.get("guarantee") or {}).get("type"),
                "snapshot_policy": (r.get("snapshot_policy") or {}).get("name"), "state": r.get("state"),
                "efficiency": {"dedupe": _rest_efficiency_on(eff.get("dedupe")),
                               "compression": _rest_efficiency_on(eff.get("compression"))},
                "savings": {"total_bytes": savings.get("total", 0), "dedupe_bytes": savings.get("dedupe", 0),
                            "compression_bytes": savings.get("compression", 0)}}

    @staticmethod
    def _rest_body(size=None, space_guarantee=None, snapshot_policy=None, dedupe=None, compression=None) -> dict:
        body: dict = {}
        if size is not None:
            body["size"] = size
        if space_guarantee is not None:
            body["guarantee"] = {"type": space_guarantee}
        if snapshot_policy is not None:
            body["snapshot_policy"] = ref(snapshot_policy)
        eff = {}
        if dedupe is not None:
            eff["dedupe"] = "background" if dedupe else "none"
        if compression is not None:
            eff["compression"] = "background" if compression else "none"
        if eff:
            body["efficiency"] = eff
        return body

    def _rest_create(self, svm, name, aggregate, size, space_guarantee, snapshot_policy, dedupe, compression):
        body = {"name": name, "svm": ref(svm), "aggregates": [ref(aggregate)]}
        body.update(self._rest_body(size, space_guarantee, snapshot_policy, dedupe, compression))
        self.rest.post("/api/storage/volumes", body)

    def _rest_modify(self, current, changes):
        body = self._rest_body(changes.get("size_bytes"), changes.get("space_guarantee"), changes.get("snapshot_policy"),
                               changes.get("dedupe"), changes.get("compression"))
        self.rest.patch("/api/storage/volumes/%s" % current["uuid"], body)

    def _rest_delete(self, current):
        self.rest.delete("/api/storage/volumes/%s" % current["uuid"])

    # -- ZAPI -------------------------------------------------------------------------------------
    def _zapi_list(self, svm, name):
        ids = given({"name": name, "owning-vserver-name": svm})
        query = {"volume-attributes": {"volume-id-attributes": ids}} if ids else None
        records = self.zapi.get_iter("volume-get-iter", query, ZAPI_VOLUME_DESIRED, vserver=svm)
        if not records:
            return []
        sis_query = {"sis-status-info": {"path": "/vol/%s" % name}} if name else None
        sis_desired = {"sis-status-info": {"path": None, "state": None, "is-compression-enabled": None, "vserver": None}}
        sis = {}
        for s in self.zapi.get_iter("sis-get-iter", sis_query, sis_desired, vserver=svm):
            sis[(s.get("vserver") or svm, s.get("path"))] = s
            sis.setdefault((None, s.get("path")), s)
        return [self._zapi_norm(r, sis) for r in records]

    @staticmethod
    def _zapi_norm(r: dict, sis: dict) -> dict:
        ids = r.get("volume-id-attributes") or {}
        space = r.get("volume-space-attributes") or {}
        saved = r.get("volume-sis-attributes") or {}
        path = "/vol/%s" % ids.get("name")
        status = sis.get((ids.get("owning-vserver-name"), path)) or sis.get((None, path)) or {}
        dedupe = status.get("state") == "enabled"
        return {"name": ids.get("name"), "uuid": ids.get("uuid"), "svm": ids.get("owning-vserver-name"),
                "aggregate": ids.get("containing-aggregate-name"), "size_bytes": zint(space.get("size")),
                "used_bytes": zint(space.get("size-used")), "available_bytes": zint(space.get("size-available")),
                "snapshot_reserve_percent": zint(space.get("percentage-snapshot-reserve")),
                "space_guarantee": space.get("space-guarantee"),
                "snapshot_policy": dig(r, "volume-snapshot-attributes", "snapshot-policy"),
                "state": dig(r, "volume-state-attributes", "state"),
                "efficiency": {"dedupe": dedupe, "compression": bool(dedupe and zbool(status.get("is-compression-enabled")))},
                "savings": {"total_bytes": zint(saved.get("total-space-saved")) or 0,
                            "dedupe_bytes": zint(saved.get("deduplication-space-saved")) or 0,
                            "compression_bytes": zint(saved.get("compression-space-saved")) or 0}}

    def _zapi_efficiency(self, svm, name, dedupe, compression, was_dedupe=False):
        """ZAPI efficiency = sis on the volume; compression rides on an enabled sis."""
        if dedupe is None and compression is None:
            return
        path = "/vol/%s" % name
        want_dedupe = was_dedupe if dedupe is None else dedupe
        if want_dedupe and not was_dedupe:
            self.zapi.call("sis-enable", {"path": path}, vserver=svm)
        if want_dedupe and compression is not None:
            self.zapi.call("sis-set-config", {"path": path, "enable-compression": compression}, vserver=svm)
        if not want_dedupe and was_dedupe:
            self.zapi.call("sis-disable", {"path": path}, vserver=svm)

    def _zapi_create(self, svm, name, aggregate, size, space_guarantee, snapshot_policy, dedupe, compression):
        args = {"volume": name, "containing-aggr-name": aggregate, "size": size}
        if space_guarantee is not None:
            args["space-reserve"] = space_guarantee
        if snapshot_policy is not None:
            args["snapshot-policy"] = snapshot_policy
        self.zapi.call("volume-create", args, vserver=svm)
        self._zapi_efficiency(svm, name, dedupe or None, compression or None)

    def _zapi_modify(self, current, changes):
        svm, name = current["svm"], current["name"]
        if changes.get("size_bytes") is not None:
            self.zapi.call("volume-size", {"volume": name, "new-size": changes["size_bytes"]}, vserver=svm)
        attrs: dict = {}
        if changes.get("space_guarantee") is not None:
            attrs["volume-space-attributes"] = {"space-guarantee": changes["space_guarantee"]}
        if changes.get("snapshot_policy") is not None:
            attrs["volume-snapshot-attributes"] = {"snapshot-policy": changes["snapshot_policy"]}
        if attrs:
            query = {"volume-attributes": {"volume-id-attributes": {"name": name, "owning-vserver-name": svm}}}
            result = self.zapi.call("volume-modify-iter", {"query": query, "attributes": {"volume-attributes": attrs}}, vserver=svm)
            failures = as_list(dig(result, "failure-list", "volume-modify-iter-info"))
            if failures:
                raise OntapError(failures[0].get("error-code", ""), failures[0].get("error-message", "volume-modify-iter failed"))
        self._zapi_efficiency(svm, name, changes.get("dedupe"), changes.get("compression"),
                              was_dedupe=bool(current.get("efficiency", {}).get("dedupe")))

    def _zapi_delete(self, current):
        if current.get("state") != "offline":
            self.zapi.call("volume-offline", {"name": current["name"]}, vserver=current["svm"])
        self.zapi.call("volume-destroy", {"name": current["name"]}, vserver=current["svm"])
