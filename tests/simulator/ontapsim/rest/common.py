# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Request plumbing shared by the REST resources: bodies, filters, fields, record references."""
from __future__ import annotations

import fnmatch
import json

from ..errors import OntapError

CONTROL_PARAMS = {"fields", "max_records", "return_records", "return_timeout", "order_by", "start.index",
                  "allow_delete_while_mapped", "force", "is_constituent", "local_delete_only", "sizing_method",
                  "validate_only", "preserve_lun_ids", "data.offset", "data.size"}
# Fields that identify a record; returned when no fields= is given.
DEFAULT_FIELDS = {
    "svms": ["uuid", "name"], "aggregates": ["uuid", "name"], "volumes": ["uuid", "name"], "luns": ["uuid", "name"],
    "igroups": ["uuid", "name"], "igroup_initiators": ["name"], "lun_maps": ["svm", "lun.name", "lun.uuid",
                                                                             "igroup.name", "igroup.uuid"],
    "iscsi_services": ["svm", "target.name"], "ip_interfaces": ["uuid", "name"], "snapshots": ["uuid", "name"],
    "jobs": ["uuid"], "nodes": ["uuid", "name"],
}


class RestResponse:
    """status, headers, JSON body; plus what the call log needs."""

    def __init__(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        self.status = status
        self.body = body if body is not None else {}
        self.headers = headers or {}


def expand_body(body: dict) -> dict:
    """Merge dotted keys ({'svm.name': x}) and nested objects into one nested dict."""
    out: dict = {}
    for key, value in body.items():
        if isinstance(value, dict):
            value = expand_body(value)
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise OntapError("invalid_value", "Conflicting values for field \"%s\"." % key, key)
            node = nxt
        last = parts[-1]
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            node[last].update(value)
        else:
            node[last] = value
    return out


def get_values(record, path: list[str]) -> list:
    """All leaf values at a dotted path, flattening lists on the way."""
    if not path:
        if isinstance(record, list):
            return list(record)
        return [record]
    if isinstance(record, list):
        out = []
        for item in record:
            out.extend(get_values(item, path))
        return out
    if not isinstance(record, dict) or path[0] not in record:
        return []
    return get_values(record[path[0]], path[1:])


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(value, op: str, wanted: str) -> bool:
    text = _as_text(value)
    if op in ("<", ">", "<=", ">="):
        try:
            left, right = float(value), float(wanted)
        except (TypeError, ValueError):
            left, right = text, wanted  # type: ignore[assignment]
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    if "*" in wanted:
        return fnmatch.fnmatchcase(text.lower(), wanted.lower())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value) == float(wanted)
        except ValueError:
            return False
    return text == wanted


def match_filter(record: dict, field: str, expr: str) -> bool:
    """ONTAP query semantics: '|' OR, leading !, <, >, <=, >=, * wildcards, null / !null."""
    values = get_values(record, field.split("."))
    if field.endswith("initiators.name"):
        expr = expr.lower()
    for alt in expr.split("|"):
        negate = alt.startswith("!")
        body = alt[1:] if negate else alt
        if body == "null":
            hit = not values
            if hit != negate:
                return True
            continue
        op = ""
        for candidate in ("<=", ">=", "<", ">"):
            if body.startswith(candidate):
                op, body = candidate, body[len(candidate):]
                break
        if not values:
            continue
        hit = any(_compare(v, op, body) for v in values)
        if negate:
            hit = all(not _compare(v, op, body) for v in values)
        if hit:
            return True
    return False


def project(record: dict, paths: list[list[str]]) -> dict:
    """Keep only the listed dotted paths (an object name keeps the whole sub-object)."""
    out: dict = {}
    for path in paths:
        _copy_path(record, out, path)
    return out


def _copy_path(src, dst: dict, path: list[str]) -> None:
    key = path[0]
    if not isinstance(src, dict) or key not in src:
        return
    value = src[key]
    if len(path) == 1:
        dst[key] = json.loads(json.dumps(value))
        return
    if isinstance(value, list):
        items = dst.setdefault(key, [{} for dummy in value])
        for item_src, item_dst in zip(value, items):
            _copy_path(item_src, item_dst, path[1:])
        return
    if isinstance(value, dict):
        _copy_path(value, dst.setdefault(key, {}), path[1:])


def _ref(name: str, uuid: str, href: str) -> dict:
    return {"name": name, "uuid": uuid, "_links": {"self": {"href": href}}}


def _links(href: str) -> dict:
    return {"self": {"href": href}}
