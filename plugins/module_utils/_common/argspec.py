# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Shared argument specs (private to vdc.xenpool).

Each spec here has a same-named doc fragment (doc_fragments/xen_connection.py, ontap_object.py, wait.py, tags.py,
other_config.py);
validate-modules compares them, so change both together.
"""

from __future__ import annotations

import copy
import typing as t

from ansible.module_utils.basic import env_fallback

XEN_CONNECTION_SPEC: dict[str, dict[str, t.Any]] = {
    "hostname": {"type": "str", "required": True, "aliases": ["host", "url"], "fallback": (env_fallback, ["XENSERVER_HOST"])},
    "username": {"type": "str", "default": "root", "fallback": (env_fallback, ["XENSERVER_USER"])},
    "password": {"type": "str", "no_log": True, "fallback": (env_fallback, ["XENSERVER_PASSWORD"])},
    "validate_certs": {"type": "bool", "default": True, "fallback": (env_fallback, ["XENSERVER_VALIDATE_CERTS"])},
    "ca_path": {"type": "path"},
    "timeout": {"type": "int", "default": 60},
}

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

# The two options of every ontap_* state module (doc fragment ontap_object).
ONTAP_OBJECT_SPEC: dict[str, dict[str, t.Any]] = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "svm": {"type": "str", "required": True},
}

# The tags of an object a Xen module manages (doc fragment tags): add-only unless purge_tags.
TAGS_SPEC: dict[str, dict[str, t.Any]] = {
    "tags": {"type": "list", "elements": "str"},
    "purge_tags": {"type": "bool", "default": False},
}

# The other_config map of an object a Xen module manages (doc fragment other_config): merged unless purged.
OTHER_CONFIG_SPEC: dict[str, dict[str, t.Any]] = {
    "other_config": {"type": "dict"},
    "purge_other_config": {"type": "bool", "default": False},
}

WAIT_TIMEOUT_SPEC: dict[str, dict[str, t.Any]] = {
    "wait_timeout": {"type": "int", "default": 600},
}

# Modules whose long operations may be left running (wait: false) take both options.
WAIT_SPEC: dict[str, dict[str, t.Any]] = dict({"wait": {"type": "bool", "default": True}}, **WAIT_TIMEOUT_SPEC)


def merge_specs(*specs: dict[str, dict[str, t.Any]]) -> dict[str, dict[str, t.Any]]:
    """Deep-copied union of specs, later ones winning, so no module can mutate the shared dicts."""
    merged: dict[str, dict[str, t.Any]] = {}
    for spec in specs:
        merged.update(copy.deepcopy(spec))
    return merged


def xen_client_kwargs(params: dict[str, t.Any]) -> dict[str, t.Any]:
    """The XenClient keyword arguments taken from validated module parameters."""
    return {
        "hostname": params["hostname"],
        "username": params["username"],
        "password": params.get("password") or "",
        "validate_certs": params["validate_certs"],
        "ca_path": params.get("ca_path"),
        "timeout": params["timeout"],
    }
