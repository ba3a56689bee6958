# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ZAPI plumbing shared by the API families: the API lists, XML records, query templates."""
from __future__ import annotations

import fnmatch
import xml.etree.ElementTree as ET
from xml.sax.saxutils import escape

NS = "http://www.netapp.com/filer/admin"
ZAPI_PATH = "/servlets/netapp.servlets.admin.XMLrequest_filer"
DEFAULT_MAX_RECORDS = 20
WRITE_APIS = frozenset("""volume-create volume-size volume-offline volume-online volume-destroy volume-modify-iter
sis-enable sis-disable sis-set-config sis-start sis-stop lun-create-by-size lun-resize lun-destroy lun-online lun-offline
lun-map lun-unmap igroup-create igroup-destroy igroup-add igroup-remove iscsi-service-create iscsi-service-start
iscsi-service-stop iscsi-service-destroy snapshot-create snapshot-delete lun-set-space-reservation-info
igroup-set-attribute igroup-rename lun-move snapshot-rename snapshot-modify-iter volume-mount volume-unmount
volume-rename lun-set-comment""".split())
# APIs netapp.ontap's modules call that ontapsim recognises but does not model: they answer errno 13012
# (EOPNOTSUPPORTED in netapp-lib's errno table, "operation not supported") with the reason below, so a
# client gets an ONTAP-shaped refusal instead of "Unable to find API" (13005), which means a wrong name.
NOT_SUPPORTED = {
    "vserver-create": "creating SVMs", "vserver-destroy": "deleting SVMs", "vserver-rename": "renaming SVMs",
    "net-interface-create": "creating network interfaces", "net-interface-delete": "deleting network interfaces",
    "net-interface-modify": "changing network interfaces", "net-interface-rename": "renaming network interfaces",
    "volume-move-start": "volume moves between aggregates", "volume-create-async": "FlexGroup volumes",
    "volume-destroy-async": "FlexGroup volumes", "volume-modify-iter-async": "FlexGroup volumes",
    "volume-offline-async": "FlexGroup volumes", "volume-online-async": "FlexGroup volumes",
    "volume-rename-async": "FlexGroup volumes", "volume-size-async": "FlexGroup volumes",
    "sis-enable-async": "FlexGroup volumes", "sis-set-config-async": "FlexGroup volumes",
    "volume-encryption-conversion-start": "volume encryption", "volume-encryption-conversion-get-iter": "volume encryption",
    "job-get": "job-get (use job-get-iter)", "vserver-modify": "changing SVMs",
    "net-interface-migrate": "migrating network interfaces", "snapshot-autodelete-set-option": "snapshot autodelete",
    "lun-set-qos-policy-group": "QoS policy groups",
}
# APIs that only exist in an SVM context (need vfiler=); everything else works at cluster scope.
SVM_ONLY = WRITE_APIS | {"iscsi-node-get-name", "lun-map-list-info"}
CLUSTER_ONLY = frozenset({"aggr-get-iter", "cluster-node-get-iter"})
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
