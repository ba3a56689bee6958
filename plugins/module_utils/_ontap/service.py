# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Base class shared by the per-object ONTAP services.

A service has one _rest_<op> and one _zapi_<op> method per operation and returns the same
normalised dict from both; keys starting with _ are transport-private handles (for example the
REST uuid an instance URL needs) that public() strips before anything reaches a module result.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.client import OntapClient
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError


def public(record: dict | None) -> dict | None:
    """Drop transport-private keys so REST and ZAPI results compare equal."""
    if record is None:
        return None
    return {k: v for k, v in record.items() if not k.startswith("_")}


def ref(name: str | None) -> dict:
    """REST reference object {name: ...} used in request bodies."""
    return {"name": name}


class Service:
    """Dispatch to the implementation of the transport the client chose."""

    def __init__(self, client: OntapClient) -> None:
        self.client = client

    @property
    def rest(self) -> t.Any:
        return self.client.rest

    @property
    def zapi(self) -> t.Any:
        return self.client.zapi

    def _run(self, op: str, *args: t.Any, **kwargs: t.Any) -> t.Any:
        return getattr(self, "_%s_%s" % (self.client.transport, op))(*args, **kwargs)

    @staticmethod
    def _one(records: list[dict], what: str) -> dict | None:
        """None, or the one record; several can only mean the filter was not exact, so refuse rather than pick."""
        if not records:
            return None
        if len(records) > 1:
            names = ", ".join(sorted(str(r.get("name") or r.get("path") or r.get("lun_path") or r.get("svm")) for r in records))
            raise OntapError("AMBIGUOUS", "%d %ss matched where one was expected (%s)" % (len(records), what, names))
        return records[0]


def exact(records: list[dict], **wanted: t.Any) -> list[dict]:
    """Only the records whose fields equal the wanted values exactly.

    ONTAP treats a query value as a pattern; validate.py keeps operators out of names, and this
    second check makes a lookup by name exact whatever the server matched.
    """
    return [r for r in records if all(v is None or r.get(k) == v for k, v in wanted.items())]
