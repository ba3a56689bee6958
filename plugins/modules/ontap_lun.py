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
  - Names are matched exactly; empty names, names with characters ONTAP does not allow and sizes that are not positive
    are refused before any call.
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
options:
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
  - vdc.xenpool.ontap_object
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: LUN for the pool SR
  vdc.xenpool.ontap_lun:
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
    svm: svm_xen
    volume: xen_sr1
    name: lun0
    state: absent
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
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
"""

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import ONTAP_OBJECT_SPEC, merge_specs
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan, removal
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LunService, check_lun_resize, lun_path
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun_map import LunMapService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import VolumeService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.validate import MAX_LUN_BYTES, MIN_LUN_BYTES, check_name, check_parent, check_size

OS_TYPES = ["xen", "linux", "vmware", "windows", "windows_2008", "windows_gpt", "hyper_v", "solaris", "solaris_efi", "aix", "hpux",
            "netware", "openvms"]
SPEC: dict[str, dict[str, t.Any]] = merge_specs(ONTAP_OBJECT_SPEC, {
    "volume": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
    "size_gib": {"type": "float"},
    "os_type": {"type": "str", "default": "xen", "choices": OS_TYPES},
    "space_reservation": {"type": "bool"},
})
GIB = 1024 ** 3


def desired_state(params: dict) -> dict:
    """The wanted LUN, every option checked against ONTAP's rules before any call."""
    check_name("svm", params["svm"], "svm")
    check_name("volume", params["volume"], "volume")
    check_name("LUN", params["name"])
    return {"path": lun_path(params["volume"], params["name"]), "size_bytes": check_size("LUN", params["size_gib"], MIN_LUN_BYTES, MAX_LUN_BYTES),
            "os_type": params["os_type"], "space_reservation": params["space_reservation"]}


def read(client: t.Any, params: dict, desired: dict) -> dict:
    """The LUN; its maps when it is mapped and would be deleted (to name them); its volume when it is to be created."""
    lun = LunService(client).get(params["svm"], desired["path"])
    maps = []
    if lun is not None and lun.get("mapped") and params["state"] == "absent":
        maps = LunMapService(client).list(params["svm"], lun_path=desired["path"])
    volume = VolumeService(client).get(params["svm"], params["volume"]) if lun is None and params["state"] == "present" else None
    return {"lun": lun, "maps": maps, "volume": volume}


def plan_lun(state: dict, params: dict, desired: dict, check_mode: bool = False) -> Plan:
    """Create, grow, set the reservation or delete; every refusal happens here, before the first write."""
    current = public(state["lun"])
    path = desired["path"]
    if params["state"] == "absent":
        if current is not None and current.get("mapped"):
            igroups = ", ".join(sorted(m["igroup"] for m in state["maps"])) or "an igroup"
            raise PlanError("LUN_MAPPED", "LUN %s is mapped to %s" % (path, igroups),
                            "Unmap it first with vdc.xenpool.ontap_lun_map state=absent (nothing was changed)")
        return removal(current, "LUN " + path)
    if current is None:
        if desired["size_bytes"] is None:
            raise PlanError("MISSING_OPTION", "size_gib is required to create a LUN", "Give size_gib (nothing was changed)")
        check_parent(state["volume"], "volume", params["volume"], params["svm"], check_mode)
        after = {"path": path, "name": params["name"], "uuid": None, "svm": params["svm"], "volume": params["volume"],
                 "size_bytes": desired["size_bytes"], "os_type": desired["os_type"], "space_reservation": desired["space_reservation"],
                 "serial": None, "naa_id": None, "scsi_id": None, "mapped": False}
        plan = Plan(None, after, changed=True)
        plan.add("create", "LUN " + path, "%.2f GiB, os_type %s" % (desired["size_bytes"] / GIB, desired["os_type"]))
        return plan
    if current["os_type"] != desired["os_type"]:
        raise PlanError("OS_TYPE_FIXED", "LUN %s has os_type %s, requested %s" % (path, current["os_type"], desired["os_type"]),
                        "ONTAP fixes os_type when a LUN is created; set os_type: %s, or recreate the LUN after moving its data "
                        "(nothing was changed)" % current["os_type"])
    plan = Plan(current, dict(current), changed=False)
    if desired["size_bytes"] is not None and desired["size_bytes"] != current["size_bytes"]:
        check_lun_resize(current, desired["size_bytes"])
        plan.after["size_bytes"] = desired["size_bytes"]
        plan.add("grow", "LUN " + path, "%.2f -> %.2f GiB" % (current["size_bytes"] / GIB, desired["size_bytes"] / GIB))
    if desired["space_reservation"] is not None and desired["space_reservation"] != current["space_reservation"]:
        plan.after["space_reservation"] = desired["space_reservation"]
        plan.add("set", "LUN " + path, "space_reservation: %s -> %s" % (current["space_reservation"], desired["space_reservation"]))
    return Plan(plan.before, plan.after, plan.steps, changed=bool(plan.steps))


def apply(client: t.Any, state: dict, params: dict, desired: dict) -> dict | None:
    service = LunService(client)
    current = state["lun"]
    if current is None:
        return public(service.create(params["svm"], desired["path"], desired["size_bytes"], desired["os_type"], desired["space_reservation"]))
    after = current
    if desired["size_bytes"] is not None and desired["size_bytes"] > current["size_bytes"]:
        after = service.resize(current, desired["size_bytes"]) or after
    if desired["space_reservation"] is not None and desired["space_reservation"] != current["space_reservation"]:
        after = service.set_space_reservation(after, desired["space_reservation"]) or after
    return public(after)


# --diff shows what the module manages, not the figures that change on their own.
DIFF_FIELDS = ("path", "svm", "size_bytes", "os_type", "space_reservation")


def main() -> None:
    om = OntapModule(SPEC)
    om.run("LUN", "/vol/%s/%s" % (om.params["volume"], om.params["name"]), desired_state, read, plan_lun, apply,
           result_key="lun", service=LunService, record="lun", diff_fields=DIFF_FIELDS)


if __name__ == "__main__":
    main()
