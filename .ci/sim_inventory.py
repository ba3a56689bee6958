#!/usr/bin/env python
"""Write an Ansible inventory (and a secrets vars file) for the hosts of a running XenAPI simulator.

Usage: sim_inventory.py READY_JSON INVENTORY_OUT SECRETS_OUT
Every simulated host starts as a pool of one, so each becomes one entry of the `xen_pools` group.
"""

from __future__ import annotations

import json
import os
import sys

import yaml


def main(ready_path: str, inventory_out: str, secrets_out: str) -> int:
    with open(ready_path, encoding="utf-8") as handle:
        ready = json.load(handle)
    with open(ready["password_file"], encoding="utf-8") as handle:
        password = handle.read().strip()
    hosts = {}
    for host in ready["hosts"]:
        hosts[host["name"]] = {
            "ansible_connection": "local",
            "xenpool_api_url": host["url_https"],
        }
    inventory = {
        "all": {
            "children": {
                "xen_pools": {
                    "hosts": hosts,
                    "vars": {
                        "ansible_python_interpreter": sys.executable,
                        "xenpool_api_username": ready["username"],
                        "xenpool_api_ca_path": ready["ca_cert"],
                    },
                },
            },
        },
    }
    with open(inventory_out, "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle, sort_keys=False)
    fd = os.open(secrets_out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        yaml.safe_dump({"xenpool_api_password": password}, handle)
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
