# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Produce the reduced XenAPI datamodel the simulator ships with.

The full extract (shared/specs/xenapi/datamodel.json, ~2 MB) is not part of a
clean clone of the collection, so the simulator loads this reduced copy:
only the served classes, without role/RBAC data and lifecycle transitions,
plus every table the simulator's behaviour is driven by (enums, errors,
relations, runtime_facts, wire conventions).

Usage: python reduce.py /path/to/full/datamodel.json [output.json]
"""
from __future__ import annotations

import json
import os
import sys

SERVED_CLASSES = [
    "session", "pool", "host", "host_metrics", "host_cpu", "network", "PIF", "PIF_metrics", "Bond",
    "VLAN", "SR", "PBD", "VDI", "VBD", "VIF", "VM", "VM_metrics", "VM_guest_metrics", "console",
    "task", "event", "message", "secret",
]
FIELD_KEYS = ("name", "type", "qualifier", "default", "default_normalised_from_empty_ref", "writable_via")
MESSAGE_KEYS = ("name", "kind", "field", "session", "params", "result", "errors", "async", "hidden", "constructor_fields")


def reduce_model(full: dict) -> dict:
    """Keep what the simulator needs; lifecycle is flattened to its state."""
    classes = []
    for cls in full["classes"]:
        if cls["name"] not in SERVED_CLASSES:
            continue
        fields = []
        for field in cls["fields"]:
            item = {k: field[k] for k in FIELD_KEYS if k in field}
            item["state"] = field["lifecycle"]["state"]
            fields.append(item)
        messages = []
        for msg in cls["messages"]:
            item = {k: msg[k] for k in MESSAGE_KEYS if k in msg}
            item["state"] = msg["lifecycle"]["state"]
            messages.append(item)
        classes.append({
            "name": cls["name"],
            "state": cls["lifecycle"]["state"],
            "in_database": cls["in_database"],
            "gen_constructor_destructor": cls["gen_constructor_destructor"],
            "gen_events": cls["gen_events"],
            "record_fields": cls["record_fields"],
            "fields": fields,
            "messages": messages,
        })
    served = set(SERVED_CLASSES)
    relations = [pair for pair in full["relations"] if all(side.split(".")[0] in served for side in pair)]
    return {
        "source": {
            "note": "reduced by tests/simulator/xapisim/spec/reduce.py from the project's XenAPI datamodel extract",
            "upstream": full["source"].get("repos", full["source"]) if isinstance(full["source"], dict) else full["source"],
        },
        "api_version": full["api_version"],
        "wire_conventions": full["wire_conventions"],
        "classes": classes,
        "enums": full["enums"],
        "errors": full["errors"],
        "errors_undeclared": full["errors_undeclared"],
        "errors_patterns": full["errors_patterns"],
        "relations": relations,
        "sm_backend_error_codes": full["sm_backend_error_codes"],
        "runtime_facts": full["runtime_facts"],
    }


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    with open(argv[1], encoding="utf-8") as handle:
        full = json.load(handle)
    out = argv[2] if len(argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "datamodel.json")
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(reduce_model(full), handle, indent=0, sort_keys=True)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
