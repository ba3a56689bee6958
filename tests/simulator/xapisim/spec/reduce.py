# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Produce the reduced XenAPI datamodel the simulator ships with.

The full extract is a JSON dump (~2 MB) of xapi's OCaml datamodel
(xapi-project/xen-api: ocaml/idl/datamodel*.ml, ocaml/xapi-consts/api_errors.ml,
and sm's XE_SR_ERRORCODES.xml for the SR backend error codes; the commits and
the method are recorded under "source" in datamodel.json). It is not part of
the repository, so the simulator loads this reduced copy: only the served
classes, without role/RBAC data and lifecycle transitions, plus every table the
simulator's behaviour is driven by (enums, errors, relations, runtime_facts,
wire conventions).

Beside datamodel.json it writes datamodel.lock.json: the SHA-256 of the full
extract it read and of the datamodel.json it wrote. The simulator's tests check
datamodel.json against that lock in every clone, and re-run the reduction when
XENPOOL_FULL_DATAMODEL names the full extract.

Usage: python reduce.py /path/to/full/datamodel.json [output.json]
"""
from __future__ import annotations

import hashlib
import json
import os
import sys

SERVED_CLASSES = [
    "session", "pool", "host", "host_metrics", "host_cpu", "network", "PIF", "PIF_metrics", "Bond",
    "VLAN", "SR", "PBD", "VDI", "VBD", "VIF", "VM", "VM_metrics", "VM_guest_metrics", "console",
    "task", "event", "message", "secret",
    # published classes a pool shows as well; without hardware or configuration their tables stay empty (SM is
    # filled by the data-centre builder with the drivers the simulator serves)
    "SM", "VM_appliance", "VMSS", "DR_task", "host_crashdump", "tunnel", "network_sriov", "PCI", "PGPU", "GPU_group",
    "VGPU", "VGPU_type", "PUSB", "USB_group", "VUSB", "PVS_site", "PVS_server", "PVS_proxy", "PVS_cache_storage",
    "SDN_controller", "Cluster", "Cluster_host", "pool_update", "Repository", "subject", "blob",
]
FIELD_KEYS = ("name", "type", "qualifier", "default", "default_normalised_from_empty_ref", "writable_via")
MESSAGE_KEYS = ("name", "kind", "field", "session", "params", "result", "errors", "async", "hidden", "constructor_fields")
TOP_KEYS = ("source", "api_version", "wire_conventions", "classes", "declared_classes", "enums", "errors",
            "errors_undeclared", "errors_patterns", "relations", "sm_backend_error_codes", "runtime_facts")
LOCK_NAME = "datamodel.lock.json"


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
    upstream = full["source"].get("repos", full["source"]) if isinstance(full["source"], dict) else full["source"]
    if isinstance(upstream, dict):
        # only where the facts come from (repositories, commits, paths, method), not who ran the dump
        upstream = {k: v for k, v in upstream.items() if k != "generated_by"}
    return {
        "source": {
            "note": "reduced by xapisim/spec/reduce.py from a full dump of the XenAPI datamodel (see upstream)",
            "upstream": upstream,
        },
        "api_version": full["api_version"],
        "wire_conventions": full["wire_conventions"],
        "classes": classes,
        # every class of the extract with its lifecycle state and number of messages: the denominator of the
        # served/declared table in the simulator's README
        "declared_classes": [{"name": cls["name"], "state": cls["lifecycle"]["state"], "messages": len(cls["messages"])}
                             for cls in full["classes"]],
        "enums": full["enums"],
        "errors": full["errors"],
        "errors_undeclared": full["errors_undeclared"],
        "errors_patterns": full["errors_patterns"],
        "relations": relations,
        "sm_backend_error_codes": full["sm_backend_error_codes"],
        "runtime_facts": full["runtime_facts"],
    }


def render(reduced: dict) -> bytes:
    """The bytes of datamodel.json for a reduced model (stable: sorted keys, one value per line)."""
    return (json.dumps(reduced, indent=0, sort_keys=True) + "\n").encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    with open(argv[1], "rb") as handle:
        raw = handle.read()
    full = json.loads(raw.decode("utf-8"))
    out = argv[2] if len(argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "datamodel.json")
    data = render(reduce_model(full))
    with open(out, "wb") as handle:
        handle.write(data)
    lock = {
        "full_extract": {"sha256": sha256(raw), "bytes": len(raw), "api_version": full.get("api_version")},
        "reduced": {"file": os.path.basename(out), "sha256": sha256(data), "bytes": len(data)},
        "how": "python xapisim/spec/reduce.py FULL_EXTRACT (see its docstring)",
    }
    with open(os.path.join(os.path.dirname(os.path.abspath(out)), LOCK_NAME), "w", encoding="utf-8") as handle:
        json.dump(lock, handle, indent=1, sort_keys=True)
        handle.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
