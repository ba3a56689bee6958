#!/usr/bin/env python
"""Write the extra-vars file that points the reference inventory at the running simulators.

Usage: sim_vars.py XAPI_READY_JSON ONTAP_READY_JSON OUT_YML
The reference inventory (playbooks/inventories/reference) names real-looking hosts; this file maps
each host name to its simulated endpoint, and gives the simulators' CAs and passwords. It is written
mode 0600 and removed with the demo's state directory.
"""

from __future__ import annotations

import json
import os
import sys

import yaml


def _load(path: str) -> tuple[dict, str]:
    with open(path, encoding="utf-8") as handle:
        ready = json.load(handle)
    with open(ready["password_file"], encoding="utf-8") as handle:
        return ready, handle.read().strip()


def main(xapi_ready: str, ontap_ready: str, out: str) -> int:
    xapi, xapi_password = _load(xapi_ready)
    ontap, ontap_password = _load(ontap_ready)
    data = {
        "xenpool_endpoint_overrides": {host["name"]: host["url_https"] for host in xapi["hosts"]},
        "xenpool_api_username": xapi["username"],
        "xenpool_api_password": xapi_password,
        "xenpool_api_ca_path": xapi["ca_cert"],
        "xenpool_ontap_hostname": ontap["address"],
        "xenpool_ontap_port": int(ontap["port"]),
        "xenpool_ontap_username": ontap["username"],
        "xenpool_ontap_password": ontap_password,
        "xenpool_ontap_ca_path": ontap["ca_cert"],
    }
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yaml.safe_dump(data, handle, sort_keys=False)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
