# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI: volume-* and sis-* (efficiency)."""
from __future__ import annotations

from ..errors import OntapError
from ..model import EFFICIENCY_KEYS, parse_bool, parse_size
from .common import ZapiFault, child, matches, node, text


class VolumesMixin:
    """Volumes and their efficiency."""

    def _volume(self, svm: dict, name: str) -> dict:
        return self.state.volume_by_name(svm, name)

    def volume_record(self, vol: dict) -> list[tuple]:
        st = self.state
        aggr = st.aggregates[vol["aggr_uuid"]]
        svm = st.svms[vol["svm_uuid"]]
        space = st.volume_space(vol)
        savings = st.volume_savings(vol)
        enabled = any(vol["efficiency"][k] != "none" for k in EFFICIENCY_KEYS)
        return [
            node("encrypt", False),
            ("volume-id-attributes", [
                node("name", vol["name"]), node("owning-vserver-name", svm["name"]), node("owning-vserver-uuid", svm["uuid"]),
                node("containing-aggregate-name", aggr["name"]), node("containing-aggregate-uuid", aggr["uuid"]),
                ("aggr-list", [node("aggr-name", aggr["name"])]), node("uuid", vol["uuid"]),
                node("instance-uuid", vol["uuid"]), node("junction-path", vol["junction_path"] or ""),
                node("style", "flex"), node("style-extended", "flexvol"), node("type", vol["type"]),
                node("comment", vol["comment"]), node("node", aggr["node"]), node("msid", vol["msid"]),
                node("creation-time", int(vol["create_time"]))]),
            ("volume-space-attributes", [
                node("size", vol["size"]), node("size-total", space["usable"]), node("size-available", space["available"]),
                node("size-used", space["used"]), node("percentage-size-used", space["percent_used"]),
                node("percentage-snapshot-reserve", space["reserve_percent"]),
                node("snapshot-reserve-size", space["reserve_size"]), node("space-guarantee", vol["guarantee"]),
                node("is-space-guarantee-enabled", True), node("logical-used", savings["logical_used"]),
                node("space-slo", "none")]),
            ("volume-state-attributes", [
                node("state", vol["state"]), node("is-vserver-root", bool(vol.get("is_svm_root"))),
                node("is-node-root", False), node("is-junction-active", bool(vol["junction_path"])),
                node("is-nvfail-enabled", False)]),
            ("volume-sis-attributes", [
                node("is-sis-volume", enabled), node("is-sis-state-enabled", enabled),
                node("deduplication-space-saved", savings["dedupe"]), node("compression-space-saved", savings["compression"]),
                node("total-space-saved", savings["total"]),
                node("percentage-deduplication-space-saved", savings["dedupe_percent"]),
                node("percentage-compression-space-saved", savings["compression_percent"]),
                node("percentage-total-space-saved", savings["total_percent"])]),
            ("volume-snapshot-attributes", [
                node("snapshot-policy", vol["snapshot_policy"]), node("snapdir-access-enabled", True),
                node("snapshot-count", len(st.snapshots_of_volume(vol)))]),
            # ONTAP defaults for attributes the simulator does not model (na_ontap_volume reads them).
            ("volume-security-attributes", [
                node("style", "unix"),
                ("volume-security-unix-attributes", [node("permissions", "0755"), node("user-id", 0),
                                                     node("group-id", 0)])]),
            ("volume-export-attributes", [node("policy", "default")]),
            ("volume-inode-attributes", [node("files-total", max(566, vol["size"] // 32768)),
                                         node("files-used", 96)]),
            ("volume-performance-attributes", [node("is-atime-update-enabled", True)]),
            ("volume-comp-aggr-attributes", [node("tiering-policy", "none")]),
            ("volume-vserver-dr-protection-attributes", [node("vserver-dr-protection", "protected")]),
            ("volume-snapshot-autodelete-attributes", [
                node("commitment", "try"), node("defer-delete", "user_created"), node("delete-order", "oldest_first"),
                node("destroy-list", "none"), node("is-autodelete-enabled", False), node("prefix", "(not specified)"),
                node("target-free-space", 20), node("trigger", "volume")]),
        ]

    def api_volume_get_iter(self, api, svm):
        return self.iterate(api, "volume-attributes", [self.volume_record(v) for v in self.scoped(self.state.volumes.values(), svm)])

    def api_volume_create(self, api, svm):
        name = self.need(api, "volume")
        aggr = self.state.aggr_by_name(self.need(api, "containing-aggr-name"))
        size = parse_size(self.need(api, "size"))
        self.state.volume_create(svm["uuid"], name, aggr["uuid"], size, self.state.new_uuid(),
                                 guarantee=text(api, "space-reserve") or "volume",
                                 snapshot_policy=text(api, "snapshot-policy") or "default",
                                 snapshot_reserve=int(text(api, "percentage-snapshot-reserve") or 5),
                                 comment=text(api, "volume-comment") or "", state=text(api, "volume-state") or "online",
                                 junction_path=text(api, "junction-path") or None,
                                 vol_type=text(api, "volume-type") or "rw")
        return []

    def api_volume_size(self, api, svm):
        vol = self._volume(svm, self.need(api, "volume"))
        new = text(api, "new-size")
        if new:
            if new[0] in "+-":
                delta = parse_size(new[1:])
                size = vol["size"] + delta if new[0] == "+" else vol["size"] - delta
            else:
                size = parse_size(new)
            self.state.volume_modify(vol["uuid"], {"size": size})
        gib = 1024 ** 3
        shown = "%dg" % (vol["size"] // gib) if vol["size"] % gib == 0 else str(vol["size"])
        return [node("volume-size", shown), node("is-fixed-size-flex-volume", False),
                node("is-readonly-flex-volume", False), node("is-replica-flex-volume", False)]

    def api_volume_offline(self, api, svm):
        vol = self._volume(svm, self.need(api, "name"))
        self.state.volume_modify(vol["uuid"], {"state": "offline"})
        return []

    def api_volume_online(self, api, svm):
        vol = self._volume(svm, self.need(api, "name"))
        self.state.volume_modify(vol["uuid"], {"state": "online"})
        return []

    def api_volume_destroy(self, api, svm):
        vol = self._volume(svm, self.need(api, "name"))
        if vol.get("is_svm_root"):
            raise ZapiFault("13001", "Cannot destroy the SVM root volume.")
        if parse_bool(text(api, "unmount-and-offline"), False):
            self.state.volume_modify(vol["uuid"], {"state": "offline"})
        self.state.volume_delete(vol["uuid"], require_offline=True)
        return []

    def api_volume_modify_iter(self, api, svm):
        query = child(child(api, "query"), "volume-attributes")
        attrs = child(child(api, "attributes"), "volume-attributes")
        if query is None or attrs is None:
            raise ZapiFault("13006", "Missing input: query and attributes")
        changes: dict = {}
        space = child(attrs, "volume-space-attributes")
        if text(space, "size"):
            changes["size"] = parse_size(text(space, "size"))
        if text(space, "space-guarantee"):
            changes["guarantee"] = text(space, "space-guarantee")
        if text(space, "percentage-snapshot-reserve"):
            changes["snapshot_reserve"] = int(text(space, "percentage-snapshot-reserve") or 0)
        if text(child(attrs, "volume-snapshot-attributes"), "snapshot-policy"):
            changes["snapshot_policy"] = text(child(attrs, "volume-snapshot-attributes"), "snapshot-policy")
        if text(child(attrs, "volume-id-attributes"), "comment") is not None:
            changes["comment"] = text(child(attrs, "volume-id-attributes"), "comment")
        succeeded, failed = [], []
        for vol in self.scoped(list(self.state.volumes.values()), svm):
            if not matches(self.volume_record(vol), query):
                continue
            key = ("volume-key", [("volume-attributes", [("volume-id-attributes", [
                node("name", vol["name"]), node("owning-vserver-name", self.state.svms[vol["svm_uuid"]]["name"])])])])
            try:
                if "snapshot_policy" in changes and changes["snapshot_policy"] not in ("default", "none", "default-1weekly"):
                    raise OntapError("snap_policy_not_found", "Snapshot policy \"%s\" does not exist."
                                     % changes["snapshot_policy"])
                self.state.volume_modify(vol["uuid"], dict(changes))
                succeeded.append(("volume-modify-iter-info", [key]))
            except OntapError as exc:
                failed.append(("volume-modify-iter-info", [node("error-code", int(exc.errno)),
                                                           node("error-message", exc.message), key]))
        out = [node("num-succeeded", len(succeeded)), node("num-failed", len(failed))]
        if succeeded:
            out.append(("success-list", succeeded))
        if failed:
            out.append(("failure-list", failed))
        return out

    def _sis_volume(self, api, svm) -> dict:
        path = self.need(api, "path")
        if not path.startswith("/vol/"):
            raise ZapiFault("13115", "Invalid path \"%s\"; expected /vol/<volume>." % path)
        return self._volume(svm, path[len("/vol/"):])

    def api_sis_enable(self, api, svm):
        vol = self._sis_volume(api, svm)
        if any(vol["efficiency"][k] != "none" for k in EFFICIENCY_KEYS):
            raise ZapiFault("40043", "Efficiency is already enabled on volume \"%s\"." % vol["name"])
        self.state.volume_modify(vol["uuid"], {"efficiency": {"dedupe": "background"}})
        return []

    def api_sis_disable(self, api, svm):
        vol = self._sis_volume(api, svm)
        self.state.volume_modify(vol["uuid"], {"efficiency": {k: "none" for k in EFFICIENCY_KEYS}})
        return []

    @staticmethod
    def _mode(background: bool, inline: bool) -> str:
        return {(True, True): "both", (True, False): "background", (False, True): "inline"}.get((background, inline), "none")

    def api_sis_set_config(self, api, svm):
        vol = self._sis_volume(api, svm)
        eff = vol["efficiency"]
        if all(eff[k] == "none" for k in EFFICIENCY_KEYS):
            raise OntapError("eff_not_enabled", "Operation is not enabled: efficiency is disabled on volume \"%s\"."
                             % vol["name"])
        changes: dict = {}
        comp = parse_bool(text(api, "enable-compression"), None)
        inline_comp = parse_bool(text(api, "enable-inline-compression"), None)
        if comp is not None or inline_comp is not None:
            cur_bg = eff["compression"] in ("background", "both")
            cur_in = eff["compression"] in ("inline", "both")
            changes["compression"] = self._mode(cur_bg if comp is None else comp, cur_in if inline_comp is None else inline_comp)
        inline_dedupe = parse_bool(text(api, "enable-inline-dedupe"), None)
        if inline_dedupe is not None:
            changes["dedupe"] = "both" if inline_dedupe else "background"
        compaction = parse_bool(text(api, "enable-data-compaction"), None)
        if compaction is not None:
            changes["compaction"] = "inline" if compaction else "none"
        xin = parse_bool(text(api, "enable-cross-volume-inline-dedupe"), None)
        xbg = parse_bool(text(api, "enable-cross-volume-background-dedupe"), None)
        if xin is not None or xbg is not None:
            cur = eff["cross_volume_dedupe"]
            changes["cross_volume_dedupe"] = self._mode(cur in ("background", "both") if xbg is None else xbg,
                                                        cur in ("inline", "both") if xin is None else xin)
        if text(api, "policy-name"):
            changes["policy"] = text(api, "policy-name")
        if changes:
            self.state.volume_modify(vol["uuid"], {"efficiency": changes})
        return []

    def api_sis_start(self, api, svm):
        self._sis_volume(api, svm)
        return []

    def api_sis_stop(self, api, svm):
        self._sis_volume(api, svm)
        return []

    def api_sis_get_iter(self, api, svm):
        records = []
        for vol in self.scoped(self.state.volumes.values(), svm):
            eff = vol["efficiency"]
            enabled = any(eff[k] != "none" for k in EFFICIENCY_KEYS)
            rec = [node("path", "/vol/%s" % vol["name"]), node("vserver", self.state.svms[vol["svm_uuid"]]["name"]),
                   node("state", "enabled" if enabled else "disabled"), node("status", "idle"),
                   node("schedule", "-" if not enabled else "auto"),
                   node("is-compression-enabled", eff["compression"] != "none"),
                   node("is-inline-compression-enabled", eff["compression"] in ("inline", "both")),
                   node("is-inline-dedupe-enabled", eff["dedupe"] in ("inline", "both")),
                   node("is-data-compaction-enabled", eff["compaction"] != "none"),
                   node("is-cross-volume-inline-dedupe-enabled", eff["cross_volume_dedupe"] in ("inline", "both")),
                   node("is-cross-volume-background-dedupe-enabled", eff["cross_volume_dedupe"] in ("background", "both")),
                   node("logical-data-size", self.state.volume_savings(vol)["logical_used"]),
                   node("logical-data-limit", 640 * 1024 ** 4)]
            if eff.get("policy", "-") != "-":
                rec.append(node("policy", eff["policy"]))
            records.append(rec)
        return self.iterate(api, "sis-status-info", records)

    def api_volume_mount(self, api, svm):
        """volume-mount (volume-name, junction-path): the volume's NAS path."""
        vol = self._volume(svm, self.need(api, "volume-name"))
        self.state.volume_modify(vol["uuid"], {"junction_path": self.need(api, "junction-path")})
        return []

    def api_volume_unmount(self, api, svm):
        vol = self._volume(svm, self.need(api, "volume-name"))
        self.state.volume_modify(vol["uuid"], {"junction_path": None})
        return []

    def api_volume_rename(self, api, svm):
        """volume-rename (volume, new-volume-name), what na_ontap_volume sends for from_name."""
        vol = self._volume(svm, self.need(api, "volume"))
        self.state.volume_modify(vol["uuid"], {"name": self.need(api, "new-volume-name")})
        return []

    def api_volume_move_get_iter(self, api, svm):
        """No volume is ever moving (volume-move-start is not simulated): an empty iterator."""
        del svm
        return self.iterate(api, "volume-move-info", [])
