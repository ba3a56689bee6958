# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SM records of a pool: one per storage driver the simulator serves.

xapi registers every driver it finds in /opt/xensource/sm as an `SM` record (`ocaml/xapi/xapi_sm.ml`
`create_from_query_result`, from the driver's `DRIVER_INFO`): name, description, vendor, copyright,
version, required_api_version, configuration (key -> description), capabilities and features (a capability
`NAME/2` is feature NAME version 2, others version 1; `smint.ml` `parse_capability_int`). The table below is
read from the drivers of xapi-project/sm at commit 471cf7ed7163f4f66c1e1ef9caafb1e353e70b56
(`libs/sm/drivers/<driver>.py`: DRIVER_INFO, CAPABILITIES, CONFIGURATION; `libs/sm/nfs.py` NFS_VERSION).
"""
from __future__ import annotations

from .state import Database

SM_DRIVERS: dict[str, dict] = {
    "lvm": {
        "driver": "LVHDSR",
        "name": "Local VHD on LVM",
        "description": "SR plugin which represents disks as VHD disks on Logical Volumes within a locally-attached Volume Group",
        "vendor": "XenSource Inc",
        "copyright": "(C) 2008 XenSource Inc",
        "version": "1.0",
        "required_api_version": "1.0",
        "capabilities": (
            "SR_PROBE", "SR_UPDATE", "SR_TRIM", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH",
            "VDI_MIRROR", "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE", "ATOMIC_PAUSE", "VDI_RESET_ON_BOOT/2",
            "VDI_UPDATE", "VDI_CONFIG_CBT", "VDI_ACTIVATE", "VDI_DEACTIVATE"
        ),
        "configuration": {
            "device": "local device path (required) (e.g. /dev/sda3)",
        },
    },
    "ext": {
        "driver": "EXTSR",
        "name": "Local EXT3 VHD",
        "description": "SR plugin which represents disks as VHD files stored on a local EXT3 filesystem, created inside an LVM volume",
        "vendor": "Citrix Systems Inc",
        "copyright": "(C) 2008 Citrix Systems Inc",
        "version": "1.0",
        "required_api_version": "1.0",
        "capabilities": (
            "SR_PROBE", "SR_UPDATE", "SR_SUPPORTS_LOCAL_CACHING", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH",
            "VDI_DETACH", "VDI_UPDATE", "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE", "VDI_MIRROR",
            "VDI_GENERATE_CONFIG", "VDI_RESET_ON_BOOT/2", "ATOMIC_PAUSE", "VDI_CONFIG_CBT", "VDI_ACTIVATE",
            "VDI_DEACTIVATE", "THIN_PROVISIONING", "VDI_READ_CACHING"
        ),
        "configuration": {
            "device": "local device path (required) (e.g. /dev/sda3)",
        },
    },
    "nfs": {
        "driver": "NFSSR",
        "name": "NFS VHD",
        "description": "SR plugin which stores disks as VHD files on a remote NFS filesystem",
        "vendor": "Citrix Systems Inc",
        "copyright": "(C) 2008 Citrix Systems Inc",
        "version": "1.0",
        "required_api_version": "1.0",
        "capabilities": (
            "SR_PROBE", "SR_UPDATE", "SR_CACHING", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH",
            "VDI_UPDATE", "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE", "VDI_GENERATE_CONFIG", "VDI_MIRROR",
            "VDI_RESET_ON_BOOT/2", "ATOMIC_PAUSE", "VDI_CONFIG_CBT", "VDI_ACTIVATE", "VDI_DEACTIVATE",
            "THIN_PROVISIONING", "VDI_READ_CACHING"
        ),
        "configuration": {
            "server": "hostname or IP address of NFS server (required)",
            "serverpath": "path on remote server (required)",
            "nfsversion": "NFS protocol version - 3, 4, 4.0, 4.1",
        },
    },
    "iso": {
        "driver": "ISOSR",
        "name": "ISO",
        "description": "Handles CD images stored as files in iso format",
        "vendor": "Citrix Systems Inc",
        "copyright": "(C) 2008 Citrix Systems Inc",
        "version": "1.0",
        "required_api_version": "1.0",
        "capabilities": (
            "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH", "SR_SCAN", "SR_ATTACH", "SR_DETACH"
        ),
        "configuration": {
            "location": "path to mount (required) (e.g. server:/path)",
            "options": "extra options to pass to mount (e.g. '-o ro')",
            "type": "cifs (SMB) or nfs_iso",
        },
    },
    "lvmoiscsi": {
        "driver": "LVHDoISCSISR",
        "name": "LVHD over iSCSI",
        "description": "SR plugin which represents disks as Logical Volumes within a Volume Group created on an iSCSI LUN",
        "vendor": "Citrix Systems Inc",
        "copyright": "(C) 2008 Citrix Systems Inc",
        "version": "1.0",
        "required_api_version": "1.0",
        "capabilities": (
            "SR_PROBE", "SR_UPDATE", "SR_METADATA", "SR_TRIM", "SR_CACHING", "VDI_CREATE", "VDI_DELETE",
            "VDI_ATTACH", "VDI_DETACH", "VDI_GENERATE_CONFIG", "VDI_CLONE", "VDI_SNAPSHOT", "VDI_RESIZE",
            "ATOMIC_PAUSE", "VDI_RESET_ON_BOOT/2", "VDI_UPDATE", "VDI_MIRROR", "VDI_CONFIG_CBT", "VDI_ACTIVATE",
            "VDI_DEACTIVATE"
        ),
        "configuration": {
            "SCSIid": "The scsi_id of the destination LUN",
            "target": "IP address or hostname of the iSCSI target",
            "targetIQN": "The IQN of the target LUN group to be attached",
            "chapuser": "The username to be used during CHAP authentication",
            "chappassword": "The password to be used during CHAP authentication",
            "incoming_chapuser": "The incoming username to be used during bi-directional CHAP authentication (optional)",
            "incoming_chappassword": "The incoming password to be used during bi-directional CHAP authentication (optional)",
            "port": "The network port number on which to query the target",
            "multihomed": "Enable multi-homing to this target, true or false (optional, defaults to same value as host.other_config:multipathing)",
            "usediscoverynumber": "The specific iscsi record index to use. (optional)",
            "allocation": "Valid values are thick or thin (optional, defaults to thick)",
        },
    },
    "udev": {
        "driver": "udevSR",
        "name": "udev",
        "description": "SR plugin which represents devices plugged in via udev as VDIs",
        "vendor": "Citrix Systems Inc",
        "copyright": "(C) 2008 Citrix Systems Inc",
        "version": "1.0",
        "required_api_version": "1.1",
        "capabilities": (
            "VDI_INTRODUCE", "VDI_ATTACH", "VDI_DETACH", "VDI_UPDATE", "SR_UPDATE"
        ),
        "configuration": {
            "location": "path to mount (required) (e.g. server:/path)",
        },
    },
    "file": {
        "driver": "FileSR",
        "name": "Local Path VHD",
        "description": "SR plugin which represents disks as VHD files stored on a local path",
        "vendor": "Citrix Systems Inc",
        "copyright": "(C) 2008 Citrix Systems Inc",
        "version": "1.0",
        "required_api_version": "1.0",
        "capabilities": (
            "SR_PROBE", "SR_UPDATE", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH", "VDI_CLONE",
            "VDI_SNAPSHOT", "VDI_RESIZE", "VDI_MIRROR", "VDI_GENERATE_CONFIG", "ATOMIC_PAUSE", "VDI_CONFIG_CBT",
            "VDI_ACTIVATE", "VDI_DEACTIVATE", "THIN_PROVISIONING"
        ),
        "configuration": {
            "location": "local directory path (required)",
        },
    },
}

# the installed names in /opt/xensource/sm (the LVHD drivers are installed under their type's old name)
FILENAMES = {"lvm": "LVMSR", "ext": "EXTSR", "nfs": "NFSSR", "iso": "ISOSR", "lvmoiscsi": "LVMoISCSISR", "udev": "udevSR",
             "file": "FileSR"}


def features(capabilities) -> dict[str, int]:
    """smint.ml: "NAME/2" -> {NAME: 2}, "NAME" -> {NAME: 1}."""
    out = {}
    for cap in capabilities:
        name, _sep, version = cap.partition("/")
        out[name] = int(version) if version.isdigit() else 1
    return out


def create_sm_records(db: Database, uuid_of) -> None:
    """The pool's SM table (uuid_of(type) gives a stable uuid)."""
    for sr_type, drv in SM_DRIVERS.items():
        db.create("SM", {
            "uuid": uuid_of(sr_type), "name_label": drv["name"], "name_description": drv["description"],
            "type": sr_type, "vendor": drv["vendor"], "copyright": drv["copyright"], "version": drv["version"],
            "required_api_version": drv["required_api_version"], "configuration": dict(drv["configuration"]),
            "capabilities": [c.partition("/")[0] for c in drv["capabilities"]],
            "features": features(drv["capabilities"]), "driver_filename": "/opt/xensource/sm/" + FILENAMES[sr_type],
            "required_cluster_stack": [], "supported_image_formats": [],
        })
