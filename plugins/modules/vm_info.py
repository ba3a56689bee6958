#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_info
short_description: The VMs of a XenServer / XCP-ng pool with their devices, as the VM modules see them
version_added: 0.3.0
description:
  - Reads every VM of the pool reached through O(hostname) in a constant number of XenAPI calls (one C(event.from),
    or one C(get_all_records) per class on servers without it) and returns each with the fields M(vdc.xenpool.vm) manages (vCPUs, memory range,
    disks, NICs, CD, boot order, HA protection, ownership marker, power state and guest IP addresses).
  - Templates are listed only with O(include_templates=true); snapshots and control domains never are, and neither
    are creations a killed run left unfinished.
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  names:
    description: Only the VMs with these names or uuids (default all).
    type: list
    elements: str
  include_templates:
    description: Also list templates.
    type: bool
    default: false
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes.INFO_MODULE
seealso:
  - module: vdc.xenpool.vm
  - module: vdc.xenpool.pool_info
"""

EXAMPLES = r"""
- name: Two VMs with their disks and NICs
  vdc.xenpool.vm_info:
    hostname: xen-intel-01.example.com
    password: "{{ vault_xen_password }}"
    names: [bibwiki, spamfilter1]
  register: info

- name: The VMs this collection created
  ansible.builtin.debug:
    msg: "{{ info.vms | selectattr('managed') | map(attribute='name') | list }}"
"""

RETURN = r"""
vms:
  description: VMs sorted by name, with the keys of RV(vdc.xenpool.vm#module:vm).
  returned: always
  type: list
  elements: dict
  sample: [{"name": "bibwiki", "uuid": "0b4e5f3a-1d1e-4f32-8a0e-0f3c2f4b6a11", "power_state": "running", "managed": true,
            "vcpus": 1, "memory_mib": 1024, "disks": [], "nics": [], "cdrom": null, "ip": "10.1.54.61"}]
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import mask_mapping
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import VM_CLASSES, is_listed, vm_view

ARGUMENT_SPEC = {
    "names": {"type": "list", "elements": "str"},
    "include_templates": {"type": "bool", "default": False},
}


def main():
    module = XenModule(ARGUMENT_SPEC)
    params = module.params
    wanted = set(params["names"]) if params["names"] is not None else None
    with module.session("read", "VMs of pool", params["hostname"]) as client:
        state = read_pool_state(client, VM_CLASSES)
    vms = [vm_view(state, ref) for ref, rec in state.all("VM").items()
           if is_listed(rec, params["include_templates"])
           and (wanted is None or rec.get("name_label") in wanted or rec.get("uuid") in wanted)]
    module.exit_result(changed=False, vms=mask_mapping(sorted(vms, key=lambda v: (v["name"], v["uuid"]))))


if __name__ == "__main__":
    main()
