# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection to one ONTAP cluster; the only place where REST or ZAPI is chosen.

Services ask client.transport which implementation to run and use client.rest or
client.zapi; modules only see normalised dicts and client.transport for the result.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import (
    OntapAuthError,
    OntapConnectionError,
    OntapError,
    OntapTLSError,
)
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.rest import RestClient
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import HAS_NETAPP_LIB, NetappLibInvoker, ZapiClient

USE_REST_CHOICES = ("auto", "always", "never")
# API not found / not permitted: what a cluster with ONTAPI switched off answers.
ZAPI_UNAVAILABLE_CODES = ("13005", "13003")


class OntapClient:
    """Holds the chosen transport plus the cluster version read while choosing it."""

    def __init__(self, transport: str, rest: RestClient | None = None, zapi: ZapiClient | None = None,
                 version: dict | None = None) -> None:
        if transport not in ("rest", "zapi"):
            raise ValueError("transport must be rest or zapi")
        self.transport = transport
        self.rest = rest
        self.zapi = zapi
        self.version = version or {}

    def call_counts(self) -> dict[str, int]:
        """Calls made so far per endpoint or API (used by ontap_info's benchmark and tests)."""
        counter = self.rest.calls if self.transport == "rest" and self.rest else (self.zapi.calls if self.zapi else {})
        return {(" ".join(k) if isinstance(k, tuple) else k): v for k, v in counter.items()}

    @property
    def total_calls(self) -> int:
        return sum(self.call_counts().values())


def rest_version(rest: RestClient) -> dict:
    """GET /api/cluster?fields=version: the REST probe; answers on ONTAP 9.6 and later."""
    data = rest.get("/api/cluster", {"fields": "version,name,uuid"})
    version = data.get("version") or {}
    return {"full": version.get("full"), "generation": version.get("generation"), "major": version.get("major"),
            "minor": version.get("minor")}


def connect(hostname: str, username: str, password: str, port: int | None = None, https: bool = True,
            validate_certs: bool = True, ca_path: str | None = None, timeout: int = 60, use_rest: str = "auto",
            rest_sender: t.Any = None, zapi_invoker: t.Any = None) -> OntapClient:
    """Open a client. auto uses REST when /api/cluster answers, else ZAPI.

    A wrong password or an untrusted certificate stops here for every mode: falling back to ZAPI
    would only repeat the same failure with a less clear message.
    """
    if use_rest not in USE_REST_CHOICES:
        raise OntapConnectionError("USAGE", "use_rest must be one of %s" % ", ".join(USE_REST_CHOICES))
    opts = dict(hostname=hostname, username=username, password=password, port=port, https=https,
                validate_certs=validate_certs, ca_path=ca_path, timeout=timeout)
    rest_error: OntapError | None = None
    if use_rest in ("auto", "always"):
        rest = RestClient(sender=rest_sender, **opts)
        try:
            version = rest_version(rest)
            return OntapClient("rest", rest=rest, version=version)
        except (OntapAuthError, OntapTLSError):
            raise
        except OntapError as exc:
            if use_rest == "always":
                raise OntapConnectionError(exc.code or "REST", "ONTAP REST API did not answer GET /api/cluster: %s" % exc.message) from None
            rest_error = exc
    if zapi_invoker is None:
        if not HAS_NETAPP_LIB:
            why = " (REST probe failed: %s)" % rest_error if rest_error else ""
            raise OntapConnectionError("MISSING_LIB", "the ZAPI transport needs the Python library netapp-lib%s" % why)
        zapi_invoker = NetappLibInvoker(**opts)
    zapi = ZapiClient(zapi_invoker)
    try:
        result = zapi.call("system-get-version")
    except (OntapAuthError, OntapTLSError):
        raise
    except OntapError as exc:
        if exc.code in ZAPI_UNAVAILABLE_CODES:
            why = "; REST did not answer either (%s)" % rest_error if rest_error else "; use use_rest: always (ONTAP 9.6 and later)"
            raise OntapConnectionError(exc.code, "ZAPI (ONTAPI) is not available: %s%s" % (exc.message, why)) from None
        raise
    tup = ((result.get("version-tuple") or {}).get("system-version-tuple")) or {}
    version = {"full": result.get("version"), "generation": to_int(tup.get("generation")), "major": to_int(tup.get("major")),
               "minor": to_int(tup.get("minor"))}
    return OntapClient("zapi", zapi=zapi, version=version)
