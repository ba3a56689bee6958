# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""XML-RPC and JSON-RPC encodings exactly as xapi puts them on the wire.

Python's xmlrpc.client marshaller cannot be used for responses: xapi sends
ints and strings as untyped <value>text</value> (clients see ints as
strings) and compact XML without whitespace nodes.
"""
from __future__ import annotations

import json
import xmlrpc.client
from xml.sax.saxutils import escape

from .spec import DT, I4

# the fast paths test exact types on purpose (pylint's isinstance would be wrong): DT is a str and I4 an int that
# travel otherwise, and any other subclass takes the general form
# pylint: disable=unidiomatic-typecheck


def _escape(text: str) -> str:
    """xml.sax.saxutils.escape without its entities argument (the same three replacements, one call less)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


# "<member><name>KEY</name>" of the struct keys seen so far: field names and map keys (not refs, the keys of
# get_all_records, each met once per answer), and never more than the limit
_MEMBER_OPEN: dict[str, str] = {}
_MEMBER_OPEN_LIMIT = 16384
_BOOLEANS = {True: "<value><boolean>1</boolean></value>", False: "<value><boolean>0</boolean></value>"}


def _member_open(key) -> str:
    opened = _MEMBER_OPEN.get(key) if type(key) is str else None
    if opened is None:
        opened = "<member><name>%s</name>" % _escape(str(key))
        if type(key) is str and len(_MEMBER_OPEN) < _MEMBER_OPEN_LIMIT and not key.startswith("OpaqueRef:"):
            _MEMBER_OPEN[key] = opened
    return opened


def _xml_value(value, out: list[str]) -> None:
    """Append one <value> element to `out`. Exact types first (a record is mostly strings, maps of strings and
    sets of refs); anything else, subclasses included, takes _xml_value_other, the general form."""
    kind = type(value)
    append = out.append
    if kind is str:
        append("<value>%s</value>" % value.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;"))
    elif kind is dict:
        append("<value><struct>")
        opened_get = _MEMBER_OPEN.get
        for key, item in value.items():
            opened = opened_get(key) if type(key) is str else None
            if opened is None:
                opened = _member_open(key)
            if type(item) is str:
                append("%s<value>%s</value></member>"
                       % (opened, item.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")))
            else:
                append(opened)
                _xml_value(item, out)
                append("</member>")
        append("</struct></value>")
    elif kind is list or kind is tuple:
        append("<value><array><data>")
        for item in value:
            if type(item) is str:
                append("<value>%s</value>" % item.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;"))
            else:
                _xml_value(item, out)
        append("</data></array></value>")
    elif kind is bool:
        out.append(_BOOLEANS[value])
    elif kind is int:
        out.append("<value>%d</value>" % value)
    elif kind is float:
        out.append("<value><double>%s</double></value>" % repr(value))
    elif kind is DT:
        out.append("<value><dateTime.iso8601>%s</dateTime.iso8601></value>" % str(value))
    else:
        _xml_value_other(value, out)


def _xml_value_other(value, out: list[str]) -> None:
    """The general form of every type: what _xml_value's fast paths must equal, byte for byte."""
    if value is None:
        out.append("<value></value>")
    elif isinstance(value, bool):
        out.append("<value><boolean>%d</boolean></value>" % (1 if value else 0))
    elif isinstance(value, I4):
        out.append("<value><i4>%d</i4></value>" % int(value))
    elif isinstance(value, int):
        out.append("<value>%d</value>" % value)
    elif isinstance(value, float):
        out.append("<value><double>%s</double></value>" % repr(value))
    elif isinstance(value, DT):
        out.append("<value><dateTime.iso8601>%s</dateTime.iso8601></value>" % str(value))
    elif isinstance(value, str):
        out.append("<value>%s</value>" % escape(value))
    elif isinstance(value, (list, tuple)):
        out.append("<value><array><data>")
        for item in value:
            _xml_value_other(item, out)
        out.append("</data></array></value>")
    elif isinstance(value, dict):
        out.append("<value><struct>")
        for key, item in value.items():
            out.append("<member><name>%s</name>" % escape(str(key)))
            _xml_value_other(item, out)
            out.append("</member>")
        out.append("</struct></value>")
    else:
        out.append("<value>%s</value>" % escape(str(value)))


def xml_value(value) -> str:
    """One <value> element; also the task.result text of an async call."""
    out: list[str] = []
    _xml_value(value, out)
    return "".join(out)


def xml_response(envelope: dict) -> bytes:
    return ('<?xml version="1.0"?><methodResponse><params><param>%s</param></params></methodResponse>'
            % xml_value(envelope)).encode("utf-8")


def xml_request(body: bytes) -> tuple[str, list]:
    """Parse a methodCall; raises ValueError on garbage."""
    try:
        params, method = xmlrpc.client.loads(body, use_datetime=False, use_builtin_types=False)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # expat and xmlrpc raise several unrelated exception types on bad input
        raise ValueError("unparsable XML-RPC request: %s" % exc) from exc
    if method is None:
        raise ValueError("not a methodCall")
    return method, list(params)


def envelope_success(value) -> dict:
    return {"Status": "Success", "Value": "" if value is None else value}


def envelope_failure(description: list[str]) -> dict:
    return {"Status": "Failure", "ErrorDescription": [str(x) for x in description]}


def _json_default(value):
    if isinstance(value, xmlrpc.client.DateTime):
        return value.value
    raise TypeError(type(value).__name__)


def _jsonable(value):
    if isinstance(value, DT):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def json_response(request: dict, result=None, error: list[str] | None = None) -> bytes:
    """JSON-RPC reply in the version the request used (xapi `api_server.ml` JSON-RPC handling)."""
    req_id = request.get("id")
    if request.get("jsonrpc") == "2.0":
        if error is not None:
            body = {"jsonrpc": "2.0", "error": {"code": 1, "message": error[0], "data": list(error[1:])}, "id": req_id}
        else:
            body = {"jsonrpc": "2.0", "result": _jsonable("" if result is None else result), "id": req_id}
    elif error is not None:
        body = {"result": None, "error": list(error), "id": req_id}
    else:
        body = {"result": _jsonable("" if result is None else result), "error": None, "id": req_id}
    return json.dumps(body, default=_json_default, separators=(",", ":")).encode("utf-8")
