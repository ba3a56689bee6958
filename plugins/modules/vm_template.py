#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_template
short_description: Templates from prototype VMs in a XenServer / XCP-ng pool
version_added: 0.4.0
description:
  - Turns a prototype VM into a template (C(VM.set_is_a_template)), or a template back into a VM, and copies a
    template to another SR (C(VM.copy), a full copy) so that VMs cloned there are fast copy-on-write clones.
  - xapi makes only a halted VM into a template. A running VM is refused unless O(shutdown=true), which shuts it down
    cleanly first (the plan marks this destructive).
  - Default templates are never touched. The VM modules (M(vdc.xenpool.vm), M(vdc.xenpool.vms)) then clone from the
    template by its name.
  - The plan is returned in RV(plan); in check mode nothing is written and RV(template) is the prediction.
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  name:
    description: Name label of the prototype VM or template.
    type: str
    required: true
  uuid:
    description: Uuid of the VM or template; then O(name) is only used in messages.
    type: str
  state:
    description: V(template) makes it a template, V(vm) makes it a VM again.
    type: str
    choices: [template, vm]
    default: template
  shutdown:
    description: Shut a running VM down (cleanly) before making it a template.
    type: bool
    default: false
  copy_to_sr:
    description: Name or uuid of an SR to hold a full copy of the template (made once; an existing copy is kept).
    type: str
  copy_name:
    description: Name of the copy; default C(<name> (<SR name>)).
    type: str
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.wait
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: The prototype becomes the golden template, shut down if it still runs
  vdc.xenpool.vm_template:
    name: sl6-prototype
    shutdown: true

- name: A copy of it on the AMD pool's SR
  vdc.xenpool.vm_template:
    name: sl6-prototype
    copy_to_sr: NetApp iSCSI pool-amd
    copy_name: sl6-golden-amd

- name: Back to a VM, to update it
  vdc.xenpool.vm_template:
    name: sl6-prototype
    state: vm
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.attributes
template:
  description: The record after the run (the prediction in check mode); with O(copy_to_sr), its copy under C(copy).
  returned: always
  type: dict
  sample: {"name": "sl6-prototype", "uuid": "0d6c5d9e-5d93-4f0c-9d51-6f1b8d6a0a11", "kind": "template", "power_state": "halted",
           "srs": ["NetApp iSCSI pool-intel"], "disks": [{"position": "0", "name": "0", "size_gib": 8.0,
           "sr": "NetApp iSCSI pool-intel", "uuid": "c6d99e2f-ceea-4af1-8cc2-393f9b30fc50"}]}
plan:
  sample: ["shut down VM sl6-prototype [needs power-off]", "make into template sl6-prototype"]
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.template import TEMPLATE_CLASSES, apply_template, plan_template, result

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True}, "uuid": {"type": "str"},
    "state": {"type": "str", "choices": ["template", "vm"], "default": "template"},
    "shutdown": {"type": "bool", "default": False}, "copy_to_sr": {"type": "str"}, "copy_name": {"type": "str"},
}


def main():
    module = XenModule(ARGUMENT_SPEC, wait=True)
    params = module.params
    request = {k: params[k] for k in ("name", "uuid", "state", "shutdown", "copy_to_sr", "copy_name")}
    verb = "make a template of" if params["state"] == "template" else "make a VM of"

    def apply(client, _state, plan):
        apply_template(client, plan, params["wait_timeout"])
        return result(read_pool_state(client, TEMPLATE_CLASSES), request, plan)

    module.converge(verb, "VM", params["name"], read=lambda client: read_pool_state(client, TEMPLATE_CLASSES),
                    plan=lambda state: plan_template(state, request), apply=apply, result_key="template")


if __name__ == "__main__":
    main()
