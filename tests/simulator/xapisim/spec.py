# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The XenAPI datamodel as the simulator uses it.

Everything generic (which messages exist, their arity, record keys, field
defaults, wire types) comes from spec/datamodel.json so the simulator cannot
drift from the real API by hand-written omissions.
"""
from __future__ import annotations

import json
import os
import re
import xmlrpc.client

SPEC_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "spec", "datamodel.json")
NULL_REF = "OpaqueRef:NULL"
EPOCH = "19700101T00:00:00Z"
_COMPACT_DT = re.compile(r"^\d{8}T\d{2}:\d{2}:\d{2}Z$")


class DT(str):
    """A datetime kept in xapi's compact wire form; rendered as dateTime.iso8601 on XML-RPC."""


class I4(int):
    """An int that travels as <i4> on XML-RPC (only valid_ref_counts does this)."""


class XapiError(Exception):
    """A XenAPI failure: ErrorDescription = [code, *params] (all strings)."""

    def __init__(self, code: str, *params) -> None:
        super().__init__(code)
        self.code = code
        self.params = [str(p) for p in params]

    @property
    def description(self) -> list[str]:
        return [self.code] + self.params

    def __str__(self) -> str:
        return "%s %s" % (self.code, self.params)


def parse_type(text: str) -> tuple:
    """Parse the datamodel type grammar into nested tuples."""
    text = text.strip()
    if text.startswith("(") and text.endswith(") map"):
        inner = text[1:-5]
        key, _sep, value = inner.partition(" -> ")
        return ("map", parse_type(key), parse_type(value))
    if text.endswith(" set"):
        return ("set", parse_type(text[:-4]))
    if text.endswith(" option"):
        return ("option", parse_type(text[:-7]))
    if text.startswith("enum "):
        return ("enum", text[5:])
    if text.endswith(" ref"):
        return ("ref", text[:-4])
    if text.endswith(" record"):
        return ("record", text[:-7])
    return (text,)


def to_dt(value) -> DT:
    """Normalise a client datetime (xmlrpc DateTime, ISO text) to the compact form."""
    if isinstance(value, xmlrpc.client.DateTime):
        value = value.value
    text = str(value)
    if _COMPACT_DT.match(text):
        return DT(text)
    digits = text.replace("-", "")
    if len(digits) >= 17 and digits[8] == "T":
        return DT(digits[:17] + "Z")
    raise ValueError(text)


class Spec:
    """Index over the reduced datamodel."""

    def __init__(self, path: str = SPEC_PATH) -> None:
        with open(path, encoding="utf-8") as handle:
            self.raw = json.load(handle)
        self.classes = {c["name"]: c for c in self.raw["classes"]}
        self.lower = {name.lower(): name for name in self.classes}
        self.fields = {c: {f["name"]: f for f in cls["fields"]} for c, cls in self.classes.items()}
        self.messages = {c: {m["name"]: m for m in cls["messages"]} for c, cls in self.classes.items()}
        self.field_types = {c: {n: parse_type(f["type"]) for n, f in fs.items()} for c, fs in self.fields.items()}
        self.enums = self.raw["enums"]
        self._enum_lower = {name: {v.lower(): v for v in values} for name, values in self.enums.items()}
        self.errors = self.raw["errors"]
        self.runtime = self.raw["runtime_facts"]
        self.api_version = self.raw["api_version"]
        self.relations = self._relations()

    def _relations(self) -> dict[tuple[str, str], tuple[str, str]]:
        """Map (cls, ref field) -> (target cls, set field) for every ref<->set relation."""
        out = {}
        for left, right in self.raw["relations"]:
            for one, many in ((left, right), (right, left)):
                c1, f1 = one.split(".", 1)
                c2, f2 = many.split(".", 1)
                if c1 not in self.classes or c2 not in self.classes:
                    continue
                t1 = self.field_types[c1].get(f1)
                t2 = self.field_types[c2].get(f2)
                if t1 == ("ref", c2) and t2 == ("set", ("ref", c1)):
                    out[(c1, f1)] = (c2, f2)
        return out

    def default_for(self, cls: str, field: str):
        """The value a new record gets: the datamodel default, else the type's zero."""
        spec = self.fields[cls][field]
        ftype = self.field_types[cls][field]
        if "default" in spec:
            return self.coerce(spec["default"], ftype, field)
        return self.zero(ftype)

    def zero(self, ftype: tuple):
        kind = ftype[0]
        if kind == "set":
            return []
        if kind == "map":
            return {}
        if kind == "ref":
            return NULL_REF
        if kind == "int":
            return 0
        if kind == "float":
            return 0.0
        if kind == "bool":
            return False
        if kind == "datetime":
            return DT(EPOCH)
        if kind == "enum":
            return self.enums[ftype[1]][0]
        if kind == "record":
            return {}
        return ""

    def coerce(self, value, ftype: tuple, name: str):
        """Lenient input parsing as xapi does (ints as strings, enums any case)."""
        kind = ftype[0]
        try:
            if kind == "string":
                if isinstance(value, (bool, dict, list)) or value is None:
                    raise ValueError(value)
                return str(value)
            if kind == "int":
                if isinstance(value, bool):
                    raise ValueError(value)
                return int(value) if isinstance(value, int) else int(str(value).strip())
            if kind == "float":
                if isinstance(value, bool):
                    raise ValueError(value)
                return float(value)
            if kind == "bool":
                if isinstance(value, bool):
                    return value
                if isinstance(value, str) and value.lower() in ("true", "false"):
                    return value.lower() == "true"
                if isinstance(value, int) and value in (0, 1):
                    return bool(value)
                raise ValueError(value)
            if kind == "datetime":
                return to_dt(value)
            if kind == "enum":
                found = self._enum_lower[ftype[1]].get(str(value).lower())
                if found is None:
                    raise XapiError("INVALID_VALUE", name, value)
                return found
            if kind == "ref":
                if not isinstance(value, str):
                    raise ValueError(value)
                return value
            if kind == "set":
                if not isinstance(value, (list, tuple)):
                    raise ValueError(value)
                return [self.coerce(v, ftype[1], name) for v in value]
            if kind == "map":
                if not isinstance(value, dict):
                    raise ValueError(value)
                return {str(self.coerce(k, ftype[1], name)): self.coerce(v, ftype[2], name) for k, v in value.items()}
            if kind == "option":
                return None if value is None else self.coerce(value, ftype[1], name)
            if kind == "record":
                if not isinstance(value, dict):
                    raise ValueError(value)
                return dict(value)
        except (TypeError, ValueError) as exc:
            raise XapiError("FIELD_TYPE_ERROR", name) from exc
        return value

    def implicit_async(self, cls: str, msg: str) -> bool:
        spec = self.messages.get(cls, {}).get(msg)
        return bool(spec and spec.get("async"))

    def required_count(self, msg: dict) -> int:
        return sum(1 for p in msg["params"] if p.get("required", True))
