# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a freshly installed host has besides its local SR: the SM table, the udev SRs and the Tools ISO SR.

* sm `scripts/storage-init` `create_udev_srs` (run at first boot) creates, with its `sr_create` helper,
  "Removable storage" (type udev, content-type disk, sm-config type=block, device-config
  location=/dev/xapi/block, other-config i18n-key local-hotplug-disk) and "DVD drives" (udev, content-type
  iso, sm-config type=cd, location=/dev/xapi/cd, description "Physical DVD drives", i18n-key local-hotplug-cd).
  Both are local (one PBD). Their VDIs appear when a device is plugged (`scripts/local-device-change`):
  simulated servers have no DVD drive or USB stick, so both SRs are empty.
* xen-api `ocaml/xapi/dbsync_master.ml` `create_tools_sr` (names from `xapi_globs.ml`: `tools_sr_name` =
  product_brand ^ " Tools", description ^ " ISOs", `tools_sr_pbd_device_config`): a *shared* iso SR with
  `is_tools_sr` true and other-config xensource_internal / xenserver_tools_sr / i18n keys, one PBD per host.
  Its VDI is the tools ISO as sm's `drivers/ISOSR.py` names it (`tools_iso_name`: guest-tools.iso, with
  sm_config xs-tools-version / xs-tools-build from the file name and xs-tools=true on the newest).
  `pool.join` does not count it as a shared SR (`xapi_pool.ml` `assert_no_shared_srs_on_me`); the joiner's
  copy disappears and the member gets a PBD of the pool's one (`pooling.merge_host_into`).
"""
from __future__ import annotations

import uuid as uuidlib

from . import sm_drivers
from .model import MIB
from .state import Database

TOOLS_DIR = "/opt/xensource/packages/iso"
TOOLS_ISO = "guest-tools.iso"
TOOLS_ISO_BYTES = 46 * MIB
UDEV_OPERATIONS = ["forget", "vdi_introduce", "scan", "destroy", "plug", "update", "unplug"]
ISO_OPERATIONS = ["forget", "vdi_introduce", "scan", "destroy", "plug", "update", "unplug", "vdi_destroy", "vdi_create"]


def tools_pbd_config() -> dict:
    """xapi_globs.ml tools_sr_pbd_device_config."""
    return {"path": TOOLS_DIR, "location": TOOLS_DIR, "legacy_mode": "true"}


def _sr(db: Database, host: str, uuid: str, values: dict, device_config: dict) -> str:
    rec = {"uuid": uuid, "physical_size": 0, "physical_utilisation": 0, "virtual_allocation": 0}
    rec.update(values)
    sr = db.create("SR", rec)
    db.create("PBD", {"uuid": str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, uuid + "/pbd")), "host": host, "SR": sr,
                      "device_config": device_config, "currently_attached": True})
    return sr


def add_fresh_host_objects(db: Database, host: str, brand: str, uuid_of) -> None:
    """SM records, the two udev SRs and the Tools SR for a new standalone host (uuid_of(name) gives stable uuids)."""
    sm_drivers.create_sm_records(db, lambda sr_type: uuid_of("sm", sr_type))
    _sr(db, host, uuid_of("sr-removable"), {
        "name_label": "Removable storage", "type": "udev", "content_type": "disk", "shared": False,
        "sm_config": {"type": "block"}, "allowed_operations": list(UDEV_OPERATIONS),
        "other_config": {"i18n-key": "local-hotplug-disk", "i18n-original-value-name_label": "Removable storage"},
    }, {"location": "/dev/xapi/block"})
    _sr(db, host, uuid_of("sr-dvd"), {
        "name_label": "DVD drives", "name_description": "Physical DVD drives", "type": "udev", "content_type": "iso",
        "shared": False, "sm_config": {"type": "cd"}, "allowed_operations": list(UDEV_OPERATIONS),
        "other_config": {"i18n-key": "local-hotplug-cd", "i18n-original-value-name_label": "DVD drives",
                         "i18n-original-value-name_description": "Physical DVD drives"},
    }, {"location": "/dev/xapi/cd"})
    name = "%s Tools" % brand
    sr = _sr(db, host, uuid_of("sr-tools"), {
        "name_label": name, "name_description": name + " ISOs", "type": "iso", "content_type": "iso", "shared": True,
        "is_tools_sr": True, "sm_config": {}, "allowed_operations": list(ISO_OPERATIONS),
        "physical_size": TOOLS_ISO_BYTES, "physical_utilisation": TOOLS_ISO_BYTES, "virtual_allocation": TOOLS_ISO_BYTES,
        "other_config": {"xensource_internal": "true", "xenserver_tools_sr": "true", "i18n-key": "xenserver-tools",
                         "i18n-original-value-name_label": name, "i18n-original-value-name_description": name + " ISOs"},
    }, tools_pbd_config())
    vdi = db.create("VDI", {"uuid": uuid_of("tools-iso"), "name_label": TOOLS_ISO, "SR": sr, "type": "user",
                            "virtual_size": TOOLS_ISO_BYTES, "physical_utilisation": TOOLS_ISO_BYTES, "read_only": True,
                            "sharable": False, "location": TOOLS_ISO, "managed": True,
                            "sm_config": {"xs-tools-version": "", "xs-tools-build": "0", "xs-tools": "true"}})
    db.meta.setdefault(vdi, {})["iso"] = {"bootable": False}


def adopt_tools_sr(joiner: Database, master: Database, host: str) -> set[str]:
    """pool.join: the joiner's Tools SR is not carried over; the host gets an attached PBD of the pool's Tools SR
    (dbsync_master.ml create_tools_sr / the member's PBD creation at its restart). Returns the joiner's tools
    SR refs (left behind with the joiner's database)."""
    left = {sr for sr, rec in joiner.tables["SR"].items() if rec["is_tools_sr"]}
    pool_tools = [sr for sr, rec in master.tables["SR"].items() if rec["is_tools_sr"]]
    if pool_tools and not any(master.get("PBD", p)["host"] == host for p in master.get("SR", pool_tools[0])["PBDs"]):
        master.create("PBD", {"host": host, "SR": pool_tools[0], "device_config": tools_pbd_config(),
                              "currently_attached": True})
    return left
