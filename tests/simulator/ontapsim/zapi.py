# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ONTAP ZAPI (ONTAPI) front end: POST /servlets/netapp.servlets.admin.XMLrequest_filer.

Envelope, vfiler tunnelling, results status/errno/reason and the iterator
protocol follow the ONTAPI reference (NetApp Manageability SDK) and what
netapp-lib's NaServer sends and parses. Records are built as
(tag, value) trees where value is text or a list of child nodes, so query
templates and desired-attributes can be applied generically.
"""
from __future__ import annotations

import fnmatch
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape, quoteattr

from .errors import OntapError
from .model import EFFICIENCY_KEYS, OntapState, parse_bool, parse_size

NS = "http://www.netapp.com/filer/admin"
ZAPI_PATH = "/servlets/netapp.servlets.admin.XMLrequest_filer"
DEFAULT_MAX_RECORDS = 20
WRITE_APIS = frozenset("""volume-create volume-size volume-offline volume-online volume-destroy volume-modify-iter
sis-enable sis-disable sis-set-config sis-start sis-stop lun-create-by-size lun-resize lun-destroy lun-online lun-offline
lun-map lun-unmap igroup-create igroup-destroy igroup-add igroup-remove iscsi-service-create iscsi-service-start
iscsi-service-stop iscsi-service-destroy snapshot-create snapshot-delete lun-set-space-reservation-info
igroup-set-attribute""".split())
# APIs that only exist in an SVM context (need vfiler=); everything else works at cluster scope.
SVM_ONLY = WRITE_APIS | {"iscsi-node-get-name", "lun-map-list-info"}
CLUSTER_ONLY = frozenset({"aggr-get-iter"})
# Query elements clients send that the record calls differently: netapp.ontap's
# na_ontap_volume filters volume-id-attributes on <vserver>, the record carries
# owning-vserver-name.
QUERY_ALIASES = {"vserver": "owning-vserver-name"}


def _b(value: bool) -> str:
    return "true" if value else "false"


def node(tag: str, value) -> tuple:
    """A record node; ints/bools become ZAPI text."""
    if isinstance(value, bool):
        value = _b(value)
    elif isinstance(value, (int, float)):
        value = str(int(value))
    return (tag, value)


def render(nodes: list[tuple]) -> str:
    out = []
    for tag, value in nodes:
        if isinstance(value, list):
            out.append("<%s>%s</%s>" % (tag, render(value), tag))
        elif value is None or value == "":
            out.append("<%s/>" % tag)
        else:
            out.append("<%s>%s</%s>" % (tag, escape(str(value)), tag))
    return "".join(out)


def _local(tag: str) -> str:
    return tag.split("}", 1)[1] if tag.startswith("{") else tag


def child(elem: ET.Element | None, name: str) -> ET.Element | None:
    if elem is None:
        return None
    for sub in elem:
        if _local(sub.tag) == name:
            return sub
    return None


def text(elem: ET.Element | None, name: str, default: str | None = None) -> str | None:
    sub = child(elem, name)
    if sub is None:
        return default
    return (sub.text or "").strip()


def _leaf_match(value: str, pattern: str) -> bool:
    for alt in pattern.split("|"):
        negate = alt.startswith("!")
        body = alt[1:] if negate else alt
        hit = fnmatch.fnmatchcase(value.lower(), body.lower()) if "*" in body else value == body
        if body.lower() in ("true", "false") and value.lower() in ("true", "false"):
            hit = value.lower() == body.lower()
        if hit != negate:
            return True
    return False


def matches(children: list[tuple], template: ET.Element) -> bool:
    """Every leaf given in the query template must match a value of the record."""
    for q in template:
        tag = _local(q.tag)
        cands = [v for t, v in children if t == tag]
        if not cands and tag in QUERY_ALIASES:
            cands = [v for t, v in children if t == QUERY_ALIASES[tag]]
        if not cands:
            return False
        if len(q):
            if not any(isinstance(v, list) and matches(v, q) for v in cands):
                return False
        else:
            want = (q.text or "").strip()
            if not any(not isinstance(v, list) and _leaf_match(str(v), want) for v in cands):
                return False
    return True


def prune(children: list[tuple], template: ET.Element) -> list[tuple]:
    """desired-attributes: keep what the template names (an empty element keeps the subtree)."""
    wanted = {}
    for q in template:
        wanted[_local(q.tag)] = q
    out = []
    for tag, value in children:
        if tag not in wanted:
            continue
        q = wanted[tag]
        if isinstance(value, list) and len(q):
            out.append((tag, prune(value, q)))
        else:
            out.append((tag, value))
    return out


class ZapiFault(Exception):
    """Protocol-level failure (not a business rule): errno + reason."""

    def __init__(self, errno: str, reason: str) -> None:
        super().__init__(reason)
        self.errno = errno
        self.reason = reason


class ZapiApi:
    """Parse a ZAPI request, run it against the model, render the reply."""

    def __init__(self, state: OntapState) -> None:
        self.state = state

    def ontapi_minor(self) -> int:
        ver = self.state.cluster["version"]
        return 100 + int(ver["major"]) * 10 + int(ver["minor"])

    def envelope(self, inner: str) -> bytes:
        return ("<?xml version='1.0' encoding='UTF-8'?>\n<netapp version=\"1.%d\" xmlns=\"%s\">%s</netapp>"
                % (self.ontapi_minor(), NS, inner)).encode("utf-8")

    def failed(self, errno: str, reason: str) -> bytes:
        return self.envelope("<results status=\"failed\" errno=%s reason=%s/>" % (quoteattr(str(errno)), quoteattr(reason)))

    @staticmethod
    def parse(body: bytes) -> tuple[ET.Element, ET.Element, str | None]:
        """Return (netapp root, api element, vfiler)."""
        try:
            root = ET.fromstring(body)
        except ET.ParseError as exc:
            raise ZapiFault("13001", "Invalid XML in request: %s" % exc) from exc
        if _local(root.tag) != "netapp":
            raise ZapiFault("13001", "Request root element must be <netapp>.")
        apis = list(root)
        if len(apis) != 1:
            raise ZapiFault("13001", "Exactly one API element is expected inside <netapp>.")
        return root, apis[0], root.get("vfiler")

    def api_name(self, body: bytes) -> str:
        try:
            return _local(self.parse(body)[1].tag)
        except ZapiFault:
            return "invalid-request"

    def handle(self, body: bytes) -> tuple[str, bytes]:
        """Return (api name, reply XML)."""
        try:
            _root, api, vfiler = self.parse(body)
        except ZapiFault as exc:
            return "invalid-request", self.failed(exc.errno, exc.reason)
        name = _local(api.tag)
        try:
            if not self.state.zapi_enabled:
                raise ZapiFault("13005", "Unable to find API: %s (ONTAPI is disabled on this cluster)" % name)
            svm = None
            if vfiler:
                svm = self.state.svm_by_name(vfiler, required=False)
                if svm is None:
                    raise ZapiFault("15698", "Specified vserver not found")
            func = getattr(self, "api_" + name.replace("-", "_"), None)
            if func is None or (name in SVM_ONLY and svm is None) or (name in CLUSTER_ONLY and svm is not None):
                raise ZapiFault("13005", "Unable to find API: %s" % name)
            results = func(api, svm)
            return name, self.envelope("<results status=\"passed\">%s</results>" % render(results or []))
        except ZapiFault as exc:
            return name, self.failed(exc.errno, exc.reason)
        except OntapError as exc:
            return name, self.failed(exc.errno, exc.message)

    # ---------------------------------------------------------- iterators
    def iterate(self, api: ET.Element, info_tag: str, records: list[list[tuple]]) -> list[tuple]:
        query = child(child(api, "query"), info_tag)
        desired = child(child(api, "desired-attributes"), info_tag)
        if query is not None:
            records = [r for r in records if matches(r, query)]
        try:
            limit = int(text(api, "max-records") or DEFAULT_MAX_RECORDS)
        except ValueError as exc:
            raise ZapiFault("13115", "Invalid value for max-records.") from exc
        start = 0
        tag = text(api, "tag")
        if tag:
            try:
                start = int(tag.rsplit(":", 1)[1])
            except (IndexError, ValueError) as exc:
                raise ZapiFault("13115", "Invalid value for tag.") from exc
        page = records[start:start + max(limit, 1)]
        out = [node("num-records", len(page))]
        if page:
            out.append(("attributes-list", [(info_tag, prune(r, desired) if desired is not None else r) for r in page]))
        if start + len(page) < len(records):
            out.append(("next-tag", "ontapsim-%s:%d" % (info_tag, start + len(page))))
        return out

    def scoped(self, objs, svm: dict | None):
        return [o for o in objs if svm is None or o["svm_uuid"] == svm["uuid"]]

    @staticmethod
    def need(api: ET.Element, name: str) -> str:
        value = text(api, name)
        if value is None or value == "":
            raise ZapiFault("13006", "Missing input: %s" % name)
        return value

    # ------------------------------------------------------------- system
    def api_system_get_version(self, api, svm):  # pylint: disable=unused-argument
        ver = self.state.cluster["version"]
        return [node("build-timestamp", 1707731526), node("is-clustered", True), node("version", ver["full"]),
                ("version-tuple", [("system-version-tuple", [node("generation", ver["generation"]),
                                                             node("major", ver["major"]), node("minor", ver["minor"])])]),
                ("node-version-details", [("node-version-detail-info", [
                    node("build-timestamp", 1707731526), node("node-name", n["name"]), node("node-uuid", n["uuid"]),
                    node("version", ver["full"])]) for n in self.state.nodes])]

    def api_system_get_ontapi_version(self, api, svm):  # pylint: disable=unused-argument
        return [node("major-version", 1), node("minor-version", self.ontapi_minor())]

    def vserver_record(self, svm: dict) -> list[tuple]:
        root = next((v["name"] for v in self.state.volumes.values() if v["svm_uuid"] == svm["uuid"] and v.get("is_svm_root")),
                    "")
        return [node("vserver-name", svm["name"]), node("uuid", svm["uuid"]), node("vserver-type", "data"),
                node("vserver-subtype", svm["subtype"]), node("state", svm["state"]),
                node("operational-state", svm["state"]), node("root-volume", root), node("language", svm["language"]),
                node("snapshot-policy", "default"), node("ipspace", svm["ipspace"]), node("comment", svm["comment"]),
                ("allowed-protocols", [node("protocol", p) for p in svm["allowed_protocols"]]),
                ("aggr-list", [node("aggr-name", a) for a in svm["aggregates"]])]

    def api_vserver_get_iter(self, api, svm):
        records = []
        if svm is None:
            records.append([node("vserver-name", self.state.cluster["name"]), node("uuid", self.state.cluster["uuid"]),
                            node("vserver-type", "admin"), node("state", "running"), node("ipspace", "Default")])
        records += [self.vserver_record(s) for s in self.state.svms.values() if svm is None or s is svm]
        return self.iterate(api, "vserver-info", records)

    def api_aggr_get_iter(self, api, svm):  # pylint: disable=unused-argument
        records = []
        for aggr in self.state.aggregates.values():
            space = self.state.aggregate_space(aggr)
            records.append([node("aggregate-name", aggr["name"]), node("aggregate-uuid", aggr["uuid"]),
                            ("aggr-ownership-attributes", [node("home-name", aggr["node"]), node("owner-name", aggr["node"])]),
                            ("aggr-raid-attributes", [node("state", aggr["state"])]),
                            ("aggr-space-attributes", [node("size-total", space["size"]),
                                                       node("size-available", space["available"]),
                                                       node("size-used", space["used"]),
                                                       node("percent-used-capacity",
                                                            int(100 * space["used"] / space["size"]) if space["size"] else 0)])])
        return self.iterate(api, "aggr-attributes", records)

    def api_net_interface_get_iter(self, api, svm):
        records = []
        for lif in self.scoped(self.state.lifs.values(), svm):
            protocols = [s[len("data_"):] for s in lif["services"] if s.startswith("data_") and s != "data_core"]
            bits = sum(bin(int(x)).count("1") for x in lif["netmask"].split("."))
            records.append([node("interface-name", lif["name"]), node("lif-uuid", lif["uuid"]),
                            node("vserver", self.state.svms[lif["svm_uuid"]]["name"]), node("address", lif["address"]),
                            node("netmask", lif["netmask"]), node("netmask-length", bits), node("address-family", "ipv4"),
                            node("role", "data"), node("home-node", lif["node"]), node("home-port", lif["port"]),
                            node("current-node", lif["node"]), node("current-port", lif["port"]), node("is-home", True),
                            node("administrative-status", "up" if lif["enabled"] else "down"),
                            node("operational-status", "up" if lif["enabled"] else "down"),
                            node("service-policy", lif["service_policy"]),
                            ("data-protocols", [node("data-protocol", p) for p in protocols]),
                            ("service-names", [node("lif-service-name", s) for s in lif["services"]])])
        return self.iterate(api, "net-interface-info", records)

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

    def api_job_get_iter(self, api, svm):
        records = []
        for index, job in enumerate(self.state.jobs.values()):
            if svm is not None and job["svm_uuid"] != svm["uuid"]:
                continue
            records.append([node("job-id", index + 1), node("job-uuid", job["uuid"]), node("job-description", job["description"]),
                            node("job-state", job["state"]), node("job-status-code", job["code"]),
                            node("job-completion", job["message"]), node("job-start-time", int(job["start"]))])
        return self.iterate(api, "job-info", records)

    # ------------------------------------------------------------ volumes
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

    # ---------------------------------------------------------- efficiency
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

    # --------------------------------------------------------------- LUNs
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

    # ------------------------------------------------------------- igroups
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

    # ------------------------------------------------------------ LUN maps
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

    # ------------------------------------------------------- iSCSI service
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

    # ------------------------------------------------------------ snapshots
    def api_snapshot_create(self, api, svm):
        vol = self._volume(svm, self.need(api, "volume"))
        self.state.snapshot_create(vol["uuid"], self.need(api, "snapshot"), self.state.new_uuid(),
                                   comment=text(api, "comment") or "", snapmirror_label=text(api, "snapmirror-label") or "")
        return []

    def api_snapshot_delete(self, api, svm):
        vol = self._volume(svm, self.need(api, "volume"))
        name = self.need(api, "snapshot")
        for snap in self.state.snapshots_of_volume(vol):
            if snap["name"] == name:
                self.state.snapshot_delete(snap["uuid"])
                return []
        raise OntapError("snap_not_found", "Snapshot copy \"%s\" of volume \"%s\" does not exist." % (name, vol["name"]))

    def api_snapshot_get_iter(self, api, svm):
        records = []
        for snap in self.state.snapshots.values():
            vol = self.state.volumes[snap["vol_uuid"]]
            if svm is not None and vol["svm_uuid"] != svm["uuid"]:
                continue
            records.append([node("name", snap["name"]), node("volume", vol["name"]),
                            node("vserver", self.state.svms[vol["svm_uuid"]]["name"]),
                            node("snapshot-instance-uuid", snap["uuid"]), node("access-time", int(snap["create_time"])),
                            node("comment", snap["comment"]), node("snapmirror-label", snap["snapmirror_label"]),
                            node("busy", False), node("total", snap["size"]), node("state", "complete")])
        return self.iterate(api, "snapshot-info", records)
