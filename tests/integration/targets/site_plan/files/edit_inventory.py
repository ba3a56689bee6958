# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Edit the target's copy of the inventory between stages, as an administrator would edit it in git.

Usage: edit_inventory.py INVENTORY_DIR add-host HOST IP | grow-vms
add-host: HOST joins pool-a (members, its host settings and its storage address);
grow-vms: two new VMs (app03, app04), and db01 grows (memory 4096 -> 6144 MiB, data disk 20 -> 30 GiB), which needs
  a restart that the administrator allows (allow_restart).
The files are rewritten through YAML, so the comments of the copy are lost; the copy is thrown away afterwards.
"""

from __future__ import annotations

import os
import sys

import yaml


def _edit(path: str, change) -> None:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    change(data)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("---\n")
        yaml.safe_dump(data, handle, sort_keys=False)


def add_host(data: dict, host: str, ip: str) -> None:
    pool = data["pool_build_pool"]
    if host in pool["members"]:
        sys.exit("%s is a member already" % host)
    pool["members"].append(host)
    pool["hosts"][host] = {"iscsi_iqn": "iqn.2026-01.org.example.site:" + host, "multipathing": True}
    data["xenpool_storage_interfaces"].append({"network": "storage-a", "host": host, "ip": ip, "netmask": "255.255.255.0"})


def grow_vms(data: dict) -> None:
    vms = data["vm_provision_vms"]
    db01 = next(vm for vm in vms if vm["name"] == "db01")
    db01["memory_mib"] = 6144  # above its static maximum, and LVM disks grow offline: db01 must restart
    db01["allow_restart"] = True
    next(disk for disk in db01["disks"] if disk.get("name") == "data")["size_gib"] = 30
    vms.append({"name": "app03", "vcpus": 2, "memory_mib": 2048, "tags": ["app"]})
    vms.append({"name": "app04", "vcpus": 1, "memory_mib": 1024, "disks": [{"size_gib": 8}, {"size_gib": 10, "name": "logs"}],
                "tags": ["app"], "ha_restart_priority": "best-effort"})


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.exit(__doc__)
    inventory, verb = argv[0], argv[1]
    if verb == "add-host" and len(argv) == 4:
        _edit(os.path.join(inventory, "host_vars", "pool-a", "pool.yml"), lambda data: add_host(data, argv[2], argv[3]))
    elif verb == "grow-vms" and len(argv) == 2:
        _edit(os.path.join(inventory, "host_vars", "pool-a", "vms.yml"), grow_vms)
    else:
        sys.exit(__doc__)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
