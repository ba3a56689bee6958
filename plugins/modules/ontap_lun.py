#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ontap_lun
short_description: Manage an ONTAP LUN for a XenServer lvmoiscsi SR
version_added: 0.1.0
description:
  - Create, grow or delete a LUN and return the identifiers XenServer needs (serial, NAA id and SCSIid).
  - A LUN only grows. A smaller O(size_gib) fails and changes nothing.
  - O(os_type) is fixed when the LUN is created; a different O(os_type) on an existing LUN is an error.
  - A mapped LUN is never deleted; unmap it first with M(vdc.xenpool.ontap_lun_map) O(vdc.xenpool.ontap_lun_map#module:state=absent).
options:
  state:
    description: Whether the LUN should exist.
    type: str
    choices: [present, absent]
    default: present
  svm:
    description: SVM that owns the LUN.
    type: str
    required: true
  volume:
    description: Volume that holds the LUN.
    type: str
    required: true
  name:
    description: LUN name inside the volume; the path is C(/vol/<volume>/<name>).
    type: str
    required: true
  size_gib:
    description:
      - LUN size in GiB (1024^3 bytes). Required to create; a larger value grows the LUN online.
    type: float
  os_type:
    description:
      - ONTAP OS type of the LUN. V(xen) suits an LVM SR managed by XenServer Dom0.
    type: str
    default: xen
    choices: [xen, linux, vmware, windows, windows_2008, windows_gpt, hyper_v, solaris, solaris_efi, aix, hpux, netware, openvms]
  space_reservation:
    description: Space reservation (thick LUN) on or off. Unset keeps the ONTAP default or the current value.
    type: bool
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.attributes.ONTAP_GROUP
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
"""

EXAMPLES = r"""
- name: LUN for the pool SR
  vdc.xenpool.ontap_lun:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    volume: xen_sr1
    name: lun0
    size_gib: 500
  register: sr_lun

- name: Show the SCSIid to use in device-config
  ansible.builtin.debug:
    msg: "{{ sr_lun.lun.scsi_id }}"

- name: Delete the LUN (must be unmapped first)
  vdc.xenpool.ontap_lun:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    volume: xen_sr1
    name: lun0
    state: absent
"""

RETURN = r"""
lun:
  description: The LUN after the task (the prediction in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    path: {description: "LUN path.", type: str, returned: success, sample: /vol/xen_sr1/lun0}
    name: {description: "LUN name.", type: str, returned: success}
    uuid: {description: "LUN UUID (null when only predicted).", type: str, returned: success}
    svm: {description: "SVM.", type: str, returned: success}
    volume: {description: "Volume.", type: str, returned: success}
    size_bytes: {description: "Size in bytes.", type: int, returned: success}
    os_type: {description: "OS type.", type: str, returned: success}
    space_reservation: {description: "Whether space is reserved.", type: bool, returned: success}
    serial: {description: "12-character ONTAP serial number.", type: str, returned: success}
    naa_id: {description: "NAA identifier, C(600a0980) plus the hex of the serial.", type: str, returned: success}
    scsi_id: {description: "SCSIid as XenServer shows it (C(3) plus the NAA id).", type: str, returned: success,
              sample: 3600a098077663049712b4e3475636b33}
    mapped: {description: "Whether the LUN is mapped to an igroup.", type: bool, returned: success}
transport:
  description: Which ONTAP API ran, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError, OntapUsageError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LunService, lun_path
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import gib_to_bytes

MANAGED = ("path", "size_bytes", "os_type", "space_reservation")
OS_TYPES = ["xen", "linux", "vmware", "windows", "windows_2008", "windows_gpt", "hyper_v", "solaris", "solaris_efi", "aix", "hpux",
            "netware", "openvms"]


def main() -> None:
    om = OntapModule({
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "svm": {"type": "str", "required": True},
        "volume": {"type": "str", "required": True},
        "name": {"type": "str", "required": True},
        "size_gib": {"type": "float"},
        "os_type": {"type": "str", "default": "xen", "choices": OS_TYPES},
        "space_reservation": {"type": "bool"},
    })
    p = om.params
    path = lun_path(p["volume"], p["name"])
    size = gib_to_bytes(p["size_gib"])
    service = LunService(om.connect())
    try:
        current = service.get(p["svm"], path)
        if p["state"] == "absent":
            if current and current.get("mapped"):
                om.fail("delete", "LUN", path, "the LUN is mapped",
                        "Unmap it first with vdc.xenpool.ontap_lun_map state=absent (nothing was changed)")
            if current and not om.check_mode:
                service.delete(current)
            om.exit(bool(current), "lun", current, None, MANAGED)
        if current is None:
            if size is None:
                om.fail("create", "LUN", path, "size_gib is required to create a LUN")
            after = {"path": path, "name": p["name"], "uuid": None, "svm": p["svm"], "volume": p["volume"], "size_bytes": size,
                     "os_type": p["os_type"], "space_reservation": p["space_reservation"], "serial": None, "naa_id": None,
                     "scsi_id": None, "mapped": False}
            if not om.check_mode:
                after = service.create(p["svm"], path, size, p["os_type"], p["space_reservation"])
            om.exit(True, "lun", None, after, MANAGED)
        if current["os_type"] != p["os_type"]:
            om.fail("update", "LUN", path, "os_type is %s, requested %s" % (current["os_type"], p["os_type"]),
                    "ONTAP fixes os_type when a LUN is created; recreate the LUN (after moving its data) or set os_type: %s"
                    % current["os_type"])
        if size is not None and size < current["size_bytes"]:
            raise OntapUsageError("shrinking from %d to %d bytes is refused; LUNs only grow (nothing was changed)" % (current["size_bytes"], size))
        grow = size is not None and size > current["size_bytes"]
        reserve = p["space_reservation"] is not None and p["space_reservation"] != current["space_reservation"]
        after = dict(current, size_bytes=size if grow else current["size_bytes"],
                     space_reservation=p["space_reservation"] if reserve else current["space_reservation"])
        if not om.check_mode:
            if grow:
                current_now = service.resize(current, size)
                after = current_now or after
            if reserve:
                after = service.set_space_reservation(after, p["space_reservation"]) or after
        om.exit(grow or reserve, "lun", current, after, MANAGED)
    except OntapError as exc:
        om.fail("manage" if p["state"] == "present" else "delete", "LUN", path, exc)


if __name__ == "__main__":
    main()
