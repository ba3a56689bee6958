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

ZapiApi is assembled from one mixin per noun (system/SVMs/aggregates/LIFs/jobs, volumes and
efficiency, LUNs, igroups, LUN maps, iSCSI service, snapshots); this module keeps the envelope,
dispatch and the iterator protocol.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from xml.sax.saxutils import quoteattr

from ..errors import OntapError
from ..model import OntapState
from .common import (
    CLUSTER_ONLY, DEFAULT_MAX_RECORDS, NOT_SUPPORTED, NS, QUERY_ALIASES, SVM_ONLY, WRITE_APIS, ZAPI_PATH, ZapiFault, _local, child,
    matches, node, prune, render, text,
)
from .cluster import ClusterMixin
from .volumes import VolumesMixin
from .luns import LunsMixin
from .igroups import IgroupsMixin
from .lunmaps import LunMapsMixin
from .iscsi import IscsiMixin
from .snapshots import SnapshotsMixin

__all__ = [
    "CLUSTER_ONLY", "DEFAULT_MAX_RECORDS", "NOT_SUPPORTED", "NS", "QUERY_ALIASES", "SVM_ONLY", "WRITE_APIS", "ZAPI_PATH", "ZapiApi",
    "ZapiFault", "child", "matches", "node", "prune", "render", "text",
]


class ZapiApi(ClusterMixin, VolumesMixin, LunsMixin, IgroupsMixin, LunMapsMixin, IscsiMixin, SnapshotsMixin):
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
            if name in NOT_SUPPORTED:
                raise ZapiFault("13012", "Operation not supported in this configuration: %s (ontapsim does not simulate %s)."
                                % (name, NOT_SUPPORTED[name]))
            func = getattr(self, "api_" + name.replace("-", "_"), None)
            if func is None or (name in SVM_ONLY and svm is None) or (name in CLUSTER_ONLY and svm is not None):
                raise ZapiFault("13005", "Unable to find API: %s" % name)
            results = func(api, svm)
            return name, self.envelope("<results status=\"passed\">%s</results>" % render(results or []))
        except ZapiFault as exc:
            return name, self.failed(exc.errno, exc.reason)
        except OntapError as exc:
            return name, self.failed(exc.errno, exc.zapi_message or exc.message)

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
