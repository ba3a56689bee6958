# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read both simulators' own state and call logs, as a JSON summary for the sr target and the molecule scenario.

Verification goes through the simulators' control APIs (GET /sim/state, /sim/calls), never through the
modules under test. `--reset` clears both call logs first. No secret is read or printed.
"""

from __future__ import annotations

import argparse
import json
import ssl
import urllib.request


def _get(url: str, ca: str | None, method: str = "GET") -> dict:
    context = ssl.create_default_context(cafile=ca) if url.startswith("https") else None
    request = urllib.request.Request(url, method=method, data=b"{}" if method == "POST" else None,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:  # nosec - 127.0.0.x simulators only
        body = answer.read()
    return json.loads(body) if body.strip() else {}


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def xapi_summary(state: dict) -> dict:
    pools = {}
    for db in state.get("dbs", []):
        tables = db.get("tables", {})
        hosts = tables.get("host", {})
        pool = next(iter(tables.get("pool", {}).values()), {})
        name = pool.get("name_label") or next((h.get("name_label") for h in hosts.values()), "")
        srs = []
        for ref, sr in tables.get("SR", {}).items():
            pbds = [p for p in tables.get("PBD", {}).values() if p.get("SR") == ref]
            srs.append({
                "name": sr.get("name_label"), "uuid": sr.get("uuid"), "type": sr.get("type"), "shared": sr.get("shared"),
                "physical_size": _int(sr.get("physical_size")), "other_config": sr.get("other_config") or {},
                "vdis": sorted(v.get("name_label") for v in tables.get("VDI", {}).values() if v.get("SR") == ref),
                "default": pool.get("default_SR") == ref,
                "pbds": sorted(({"host": hosts.get(p.get("host"), {}).get("name_label"), "attached": bool(p.get("currently_attached")),
                                 "password_keys": sorted(k for k in (p.get("device_config") or {}) if k.endswith("password"))}
                                for p in pbds), key=lambda e: e["host"] or ""),
            })
        pools[name] = {"uuid": pool.get("uuid"), "hosts": sorted(h.get("name_label") for h in hosts.values()),
                       "iqns": sorted(h.get("iscsi_iqn") for h in hosts.values() if h.get("iscsi_iqn")),
                       "srs": sorted(srs, key=lambda s: s["name"] or "")}
    return pools


def _values(table) -> list:
    return list(table.values()) if isinstance(table, dict) else list(table or [])


def ontap_summary(state: dict) -> dict:
    igroups = {}
    for ig in _values(state.get("igroups")):
        names = [i.get("name") if isinstance(i, dict) else i for i in ig.get("initiators", [])]
        igroups[ig.get("name")] = sorted(str(n).lower() for n in names)
    luns = {}
    for lun in _values(state.get("luns")):
        path = lun.get("path") or "/vol/%s/%s" % (lun.get("volume"), lun.get("name"))
        luns[path] = _int(lun.get("size"))
    return {"igroups": igroups, "luns": luns, "volumes": sorted(v.get("name") for v in _values(state.get("volumes")))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--xapi-ready", required=True)
    parser.add_argument("--ontap-ready", required=True)
    parser.add_argument("--reset", action="store_true")
    args = parser.parse_args()
    with open(args.xapi_ready, encoding="utf-8") as handle:
        xapi = json.load(handle)
    with open(args.ontap_ready, encoding="utf-8") as handle:
        ontap = json.load(handle)
    if args.reset:
        _get(xapi["control"] + "/calls/reset", xapi.get("ca_cert"), "POST")
        _get(ontap["control"] + "/calls/reset", ontap.get("ca_cert"), "POST")
    xcalls = _get(xapi["control"] + "/calls", xapi.get("ca_cert"))
    ocalls = _get(ontap["control"] + "/calls", ontap.get("ca_cert"))
    dump = ontap_state(ontap, args.ontap_ready)
    print(json.dumps({
        "pools": xapi_summary(_get(xapi["control"] + "/state", xapi.get("ca_cert"))),
        "ontap": ontap_summary(dump),
        "xapi_writes": sorted(c["method"] for c in xcalls.get("calls", []) if c.get("write")),
        "ontap_writes": sorted(c["method"] for c in ocalls.get("calls", []) if c.get("write")),
    }, sort_keys=True))


def ontap_state(ontap: dict, ready_path: str) -> dict:
    """ontapsim's GET /sim/state holds counts only; the full model comes from POST /sim/save."""
    path = ready_path.rsplit("/", 1)[0] + "/simstate-dump.json"
    context = ssl.create_default_context(cafile=ontap.get("ca_cert")) if ontap["control"].startswith("https") else None
    request = urllib.request.Request(ontap["control"] + "/save", method="POST", data=json.dumps({"path": path}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:  # nosec - 127.0.0.x simulators only
        answer.read()
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


if __name__ == "__main__":
    main()
