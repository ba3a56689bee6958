# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ONTAP ZAPI transport through netapp-lib, speaking plain dicts to the services.

Services call ZapiClient.call(api, args, vserver) and get_iter(...) with nested dicts; only
NetappLibInvoker knows about NaServer/NaElement, so unit tests replace the invoker with a scripted
fake keyed by API name and netapp-lib stays an optional, guarded import.
"""

from __future__ import annotations

import ssl
import typing as t
import urllib.request
from collections import Counter

from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import scrub
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import given, to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import (
    OntapAuthError,
    OntapConnectionError,
    OntapError,
    OntapTLSError,
    TLS_MARKERS,
    auth_hint,
    tls_hint,
)

try:
    from netapp_lib.api.zapi import zapi as _zapi
    HAS_NETAPP_LIB = True
    NETAPP_LIB_IMPORT_ERROR: Exception | None = None
except ImportError as _exc:  # pragma: no cover - depends on the controller
    _zapi = None
    HAS_NETAPP_LIB = False
    NETAPP_LIB_IMPORT_ERROR = _exc

Invoker = t.Callable[[str, t.Optional[dict], t.Optional[str]], dict]

ZAPI_PATH = "/servlets/netapp.servlets.admin.XMLrequest_filer"


def as_list(value: t.Any) -> list:
    """ZAPI repeats an element for lists, so one item parses as a dict and many as a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def zbool(value: t.Any) -> bool | None:
    """Parse ZAPI booleans case-insensitively (netapp.ontap itself sends 'True'/'False')."""
    if value is None:
        return None
    return str(value).strip().lower() == "true"


def zint(value: t.Any) -> int | None:
    """ZAPI numbers arrive as text; an absent or empty element is None."""
    return to_int(value)


def dig(record: dict | None, *path: str) -> t.Any:
    """Follow nested ZAPI containers, tolerating missing levels."""
    cur: t.Any = record
    for key in path:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(key)
    return cur


def _text(value: t.Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def build_element(name: str, value: t.Any) -> t.Any:
    """dict -> children, list -> repeated children, None -> empty element, scalar -> text."""
    elem = _zapi.NaElement(name)
    if isinstance(value, dict):
        for key, child in value.items():
            for item in (child if isinstance(child, list) else [child]):
                elem.add_child_elem(build_element(key, item))
    elif value is not None:
        elem.set_content(_text(value))
    return elem


def parse_element(elem: t.Any) -> t.Any:
    """Inverse of build_element for results: repeated names become lists."""
    children = elem.get_children()
    if not children:
        return elem.get_content()
    out: dict = {}
    for child in children:
        key = child.get_name().rsplit("}", 1)[-1]  # ONTAP answers in the filer/admin namespace
        val = parse_element(child)
        if key in out:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key].append(val)
        else:
            out[key] = val
    return out


class NetappLibInvoker:
    """The real wire: NaServer over HTTP(S) with Basic auth, api version 1.110 and SVM tunnelling."""

    def __init__(self, hostname: str, username: str, password: str, port: int | None = None, https: bool = True,
                 validate_certs: bool = True, ca_path: str | None = None, timeout: int = 60) -> None:
        if not HAS_NETAPP_LIB:
            raise OntapConnectionError("MISSING_LIB", "netapp-lib is required for the ZAPI transport")
        self.base_url = "%s://%s%s" % ("https" if https else "http", hostname, ":%s" % port if port else "")
        self.username = username
        self._password = password
        context = None
        if https:
            context = ssl.create_default_context(cafile=ca_path) if validate_certs else ssl._create_unverified_context()  # pylint: disable=protected-access
            if not validate_certs:
                context.check_hostname = False
        self._server = self._make_server(hostname, username, password, https, port, timeout, context)

    @staticmethod
    def _make_server(hostname, username, password, https, port, timeout, context):  # type: ignore[no-untyped-def]
        class _Server(_zapi.NaServer):
            """NaServer whose opener carries our TLS context and sends credentials up front."""

            def _build_opener(self):  # type: ignore[no-untyped-def]
                handlers = [self._create_basic_auth_handler()]
                if context is not None:
                    handlers.append(urllib.request.HTTPSHandler(context=context))
                self._opener = urllib.request.build_opener(*handlers)

        server = _Server(hostname, server_type=_zapi.NaServer.SERVER_TYPE_FILER,
                         transport_type="https" if https else "http",
                         style=_zapi.NaServer.STYLE_LOGIN_PASSWORD, username=username, password=password)
        server.set_transport_type("https" if https else "http")
        if port:
            server.set_port(port)
        server.set_api_version(1, 110)
        server.set_timeout(timeout)
        return server

    def __call__(self, api: str, args: dict | None, vserver: str | None) -> dict:
        elem = build_element(api, args or {})
        self._server.set_vserver(vserver)
        try:
            result = self._server.invoke_successfully(elem, enable_tunneling=bool(vserver))
        except _zapi.NaApiError as exc:
            raise self._map_error(exc) from None
        parsed = parse_element(result)
        return parsed if isinstance(parsed, dict) else {}

    def _map_error(self, exc: t.Any) -> OntapError:
        code = str(exc.code)
        detail = scrub(exc.message, [self._password])
        if code == "401":
            return OntapAuthError("401", auth_hint(self.base_url, self.username), status=401)
        if code in ("URL error", "Unable to connect", "Unexpected error"):
            if any(marker in detail for marker in TLS_MARKERS):
                return OntapTLSError("TLS_UNTRUSTED", tls_hint(self.base_url, detail))
            return OntapConnectionError("CONNECTION", "Cannot reach ONTAP ZAPI at %s: %s" % (self.base_url, detail))
        if code.isdigit() and 400 <= int(code) < 600 and len(code) == 3:
            return OntapConnectionError(code, "HTTP %s from ZAPI at %s: %s (ZAPI may be disabled on this cluster; try use_rest: always)"
                                        % (code, self.base_url, detail))
        return OntapError(code, detail)


class ZapiClient:
    """Dict-level ZAPI client: one call per invoke, iterator paging with next-tag, call counting."""

    # Page size of *-get-iter calls: the netapp.ontap collection's default too. A list read costs one call
    # per 1024 records of a type, so an info read stays at one call per type up to that many objects.
    def __init__(self, invoker: Invoker, max_records: int = 1024) -> None:
        self.invoker = invoker
        self.max_records = max_records
        self.calls: Counter = Counter()

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def call(self, api: str, args: dict | None = None, vserver: str | None = None) -> dict:
        self.calls[api] += 1
        return self.invoker(api, args, vserver)

    def get_iter(self, api: str, query: dict | None = None, desired: dict | None = None, vserver: str | None = None) -> list[dict]:
        """Every record of a *-get-iter call, following next-tag until ONTAP stops sending one."""
        records: list[dict] = []
        tag = None
        while True:
            args = dict({"max-records": self.max_records}, **given({"query": query, "desired-attributes": desired, "tag": tag}))
            result = self.call(api, args, vserver)
            if (zint(result.get("num-records")) or 0) > 0:
                container = result.get("attributes-list") or {}
                for value in container.values():
                    records.extend(as_list(value))
            tag = result.get("next-tag")
            if not tag:
                return records
