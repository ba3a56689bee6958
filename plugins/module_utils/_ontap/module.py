# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Thin AnsibleModule wrapper for the ontap_* modules.

It merges the shared connection options, opens the client (the REST/ZAPI choice stays in
client.py), turns typed errors into one message shape, and builds results with before/after diff.
Self-contained on purpose so the ONTAP stack does not depend on the shared _common package yet.
"""

from __future__ import annotations

import typing as t

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap import client as client_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError, OntapUsageError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import HAS_NETAPP_LIB, NETAPP_LIB_IMPORT_ERROR

GIB = 1024 ** 3

ONTAP_CONNECTION_SPEC: dict[str, dict[str, t.Any]] = {
    "hostname": {"type": "str", "required": True},
    "port": {"type": "int"},
    "username": {"type": "str", "required": True, "aliases": ["user"]},
    "password": {"type": "str", "required": True, "no_log": True, "aliases": ["pass"]},
    "validate_certs": {"type": "bool", "default": True},
    "ca_path": {"type": "path"},
    "https": {"type": "bool", "default": True},
    "use_rest": {"type": "str", "default": "auto", "choices": ["auto", "always", "never"]},
    "timeout": {"type": "int", "default": 60},
}

# Test seams: unit tests install scripted fakes here instead of touching the network.
REST_SENDER: t.Any = None
ZAPI_INVOKER: t.Any = None


def gib_to_bytes(size_gib: float | None) -> int | None:
    """Sizes are given in GiB (size_gib) and handled in bytes everywhere below the module."""
    if size_gib is None:
        return None
    return int(round(size_gib * GIB))


def pick(record: dict | None, keys: t.Iterable[str]) -> dict:
    """The managed subset of a record, for --diff."""
    if not record:
        return {}
    return {k: record.get(k) for k in keys}


class OntapModule:
    """AnsibleModule plus an ONTAP client and the collection's error and result conventions."""

    def __init__(self, argument_spec: dict, supports_check_mode: bool = True, **kwargs: t.Any) -> None:
        spec = dict(ONTAP_CONNECTION_SPEC)
        spec.update(argument_spec)
        self.module = AnsibleModule(argument_spec=spec, supports_check_mode=supports_check_mode, **kwargs)
        self.params = self.module.params
        self.client: client_mod.OntapClient | None = None

    @property
    def check_mode(self) -> bool:
        return bool(self.module.check_mode)

    def connect(self) -> client_mod.OntapClient:
        p = self.params
        if p["use_rest"] == "never" and not HAS_NETAPP_LIB and ZAPI_INVOKER is None:
            self.module.fail_json(msg=missing_required_lib("netapp-lib", reason="for use_rest: never (ZAPI)"),
                                  exception=str(NETAPP_LIB_IMPORT_ERROR))
        try:
            self.client = client_mod.connect(
                hostname=p["hostname"], username=p["username"], password=p["password"], port=p["port"], https=p["https"],
                validate_certs=p["validate_certs"], ca_path=p["ca_path"], timeout=p["timeout"], use_rest=p["use_rest"],
                rest_sender=REST_SENDER, zapi_invoker=ZAPI_INVOKER)
        except OntapError as exc:
            self.module.fail_json(msg="Failed to connect to ONTAP '%s': %s" % (p["hostname"], exc), code=exc.code)
        return self.client

    def fail(self, verb: str, noun: str, name: str, exc: Exception | str, hint: str | None = None) -> t.NoReturn:
        """One message shape for every foreseeable failure: verb, noun, name, code and what to do."""
        msg = "Failed to %s %s '%s': %s" % (verb, noun, name, exc)
        if hint:
            msg += ". " + hint
        extra = {"code": exc.code} if isinstance(exc, OntapError) and not isinstance(exc, OntapUsageError) else {}
        if self.client:
            extra["transport"] = self.client.transport
        self.module.fail_json(msg=msg, **extra)
        raise AssertionError("unreachable")  # pragma: no cover - fail_json exits

    def exit(self, changed: bool, key: str, before: dict | None, after: dict | None, managed: t.Iterable[str], **extra: t.Any) -> None:
        result: dict[str, t.Any] = {"changed": changed, key: public(after) or {}, **extra}
        if self.client:
            result["transport"] = self.client.transport
        if self.module._diff:  # pylint: disable=protected-access
            keys = list(managed)
            result["diff"] = {"before": pick(public(before), keys), "after": pick(public(after), keys)}
        self.module.exit_json(**result)
