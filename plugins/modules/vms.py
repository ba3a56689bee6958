#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vms
short_description: The whole declared VM list of a XenServer / XCP-ng pool
version_added: 0.3.0
description:
  - Converges every VM of O(vms) on the pool reached through O(hostname), with one bulk read of the pool
    (a constant number of XenAPI calls whatever the number of VMs) and one plan per VM.
  - Every plan is made, and every refusal raised, before the first write. Creations and changes then run in
    parallel, at most O(max_parallel) VMs at a time, each through its own XenAPI session.
  - Each element of O(vms) takes the options of M(vdc.xenpool.vm) (not the connection options and not
    O(vdc.xenpool.vm#module:wait_timeout)), merged over O(defaults).
  - Two elements with the same name, or the same MAC on two NICs, are an error.
  - "Placement: O(vdc.xenpool.vm#module:resident_on) on an element places that VM (live migration of a running VM, start on
    that host, or affinity of a halted one) and a changed O(vdc.xenpool.vm#module:disks[].sr) moves a disk live, as
    in M(vdc.xenpool.vm). The whole list is checked first: VMs sent to the same host claim its free memory together,
    disks sent to the same SR its free space, and one that does not fit refuses the run before any write. The
    migrations then run as XenAPI tasks, at most O(max_parallel) at a time."
  - O(prune=true) destroys the VMs that carry this collection's ownership marker (C(other_config:xenpool_managed))
    and are no longer declared. A VM without the marker is never pruned. Their disks are kept unless
    O(destroy_disks=true).
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  vms:
    description: The declared VMs; each element takes the options of M(vdc.xenpool.vm).
    type: list
    elements: dict
    required: true
  defaults:
    description: Options every element of O(vms) starts from (for example template, sr, nics, power_state).
    type: dict
    default: {}
  prune:
    description: Destroy managed VMs that are no longer declared (hard shutdown first).
    type: bool
    default: false
  destroy_disks:
    description: With O(prune=true), also destroy the pruned VMs' VDIs. Data is lost.
    type: bool
    default: false
  max_parallel:
    description: VMs created or changed at the same time (live migrations and disk moves included).
    type: int
    default: 4
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.wait.TIMEOUT
seealso:
  - module: vdc.xenpool.vm
  - module: vdc.xenpool.vm_info
"""

EXAMPLES = r"""
- name: The VMs of pool-intel, as kept in git
  vdc.xenpool.vms:
    hostname: xen-intel-01.example.com
    password: "{{ vault_xen_password }}"
    max_parallel: 8
    prune: true
    defaults:
      template: golden-sl6
      sr: NetApp iSCSI pool-intel
      nics: [{network: Pool-wide network associated with eth0}]
      power_state: running
    vms:
      - {name: bibwiki, vcpus: 1, memory_mib: 1024}
      - {name: spamfilter1, vcpus: 2, memory_mib: 1024, ha_restart_priority: restart, order: 1}
      - {name: it-dcot-dev, memory_mib: 2048, disks: [{size_gib: 12}, {size_gib: 50, name: data}]}

- name: Spread the web servers over two hosts, live
  vdc.xenpool.vms:
    hostname: xen-intel-01.example.com
    max_parallel: 2
    vms:
      - {name: web1, resident_on: xen-intel-01}
      - {name: web2, resident_on: xen-intel-02}
      - {name: web3, resident_on: xen-intel-02}
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.vm_notes
vms:
  description: One entry per declared and per pruned VM, in that order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: VM name.
      type: str
    changed:
      description: Whether this VM changed (or would change in check mode).
      type: bool
    pruned:
      description: Whether this VM is pruned (not declared, has the ownership marker).
      type: bool
    plan:
      description: The VM's planned steps, with C(needs reboot) / C(needs power-off) in brackets.
      type: list
      elements: str
    vm:
      description: The VM after the change (the prediction in check mode); see M(vdc.xenpool.vm).
      type: dict
  sample: [{"name": "bibwiki", "changed": true, "pruned": false, "plan": ["create VM: clone of template 'golden-sl6'",
           "name VM: bibwiki", "start VM"], "vm": {"name": "bibwiki", "power_state": "running"}}]
summary:
  description: Counts of VMs created, changed, pruned and unchanged.
  returned: always
  type: dict
  sample: {"created": 1, "changed": 0, "pruned": 0, "unchanged": 89}
"""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import WAIT_TIMEOUT_SPEC
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError, PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import mask_mapping
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.ha import guard_protection_changes
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import VM_CLASSES
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_fleet import apply_fleet, plan_fleet
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_plan import diff_view
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_spec import VM_SPEC, normalise

ARGUMENT_SPEC = dict({
    "vms": {"type": "list", "elements": "dict", "required": True},
    "defaults": {"type": "dict", "default": {}},
    "prune": {"type": "bool", "default": False},
    "destroy_disks": {"type": "bool", "default": False},
    "max_parallel": {"type": "int", "default": 4},
}, **WAIT_TIMEOUT_SPEC)


def desired_state(params):
    """Each element over the defaults, validated with the vm module's spec and normalised."""
    out = []
    for index, item in enumerate(params["vms"]):
        merged = dict(params["defaults"] or {}, **(item or {}))
        result = ArgumentSpecValidator(VM_SPEC).validate(merged)
        if result.error_messages:
            raise PlanError("VM_INVALID", "vms[%d] (%s): %s" % (index, merged.get("name", "?"), "; ".join(result.error_messages)),
                            "See the options of vdc.xenpool.vm")
        try:
            out.append(normalise(result.validated_parameters))
        except PlanError as err:
            raise PlanError(err.code, "VM '%s': %s" % (merged.get("name"), err.message), err.hint) from None
    return out


def _entry(name, want, plan, after):
    return {"name": name, "changed": plan.changed, "pruned": want is None, "plan": plan.summary(),
            "vm": mask_mapping(after if after is not None else plan.after)}


def main():
    module = XenModule(ARGUMENT_SPEC)
    params = module.params
    if params["max_parallel"] < 1:
        module.fail("configure", "VMs of pool", params["hostname"], PlanError(
            "INVALID_VALUE", "max_parallel %d" % params["max_parallel"], "Run at least one creation at a time: max_parallel 1 or more"))
    with module.session("configure", "VMs of pool", params["hostname"]) as client:
        state = read_pool_state(client, VM_CLASSES)
        if module.check_mode:
            state.predicted = []
        label = (state.pool or {}).get("name_label") or params["hostname"]
        try:
            fleet = plan_fleet(state, desired_state(params), params["prune"], params["destroy_disks"])
            guard_protection_changes(client, state, ((getattr(plan, "ref", None), plan) for _n, _w, plan in fleet.items))
        except CollectionError as err:
            module.fail("configure", "VMs of pool", label, err)
    outcomes = {}
    if fleet.changed and not module.check_mode:
        for outcome in apply_fleet(module.new_client, state, fleet, params["max_parallel"], params["wait_timeout"]):
            outcomes[outcome["name"]] = outcome
    entries, diffs, summary = [], [], {"created": 0, "changed": 0, "pruned": 0, "unchanged": 0}
    for name, want, plan in fleet.items:
        outcome = outcomes.get(name, {})
        after = outcome.get("after")
        entries.append(_entry(name, want, plan, after))
        kind = "pruned" if want is None else ("created" if plan.before == {} else "changed") if plan.changed else "unchanged"
        summary[kind] += 1
        if plan.changed:
            diff_after = diff_view(after, want) if after and want else ({} if want is None else plan.after)
            diffs.append({"before_header": "vm %s" % name, "after_header": "vm %s" % name,
                          "before": mask_mapping(plan.before), "after": mask_mapping(diff_after)})
    failed = [o for o in outcomes.values() if o.get("error") is not None]
    result = {"vms": entries, "summary": summary}
    if state.predicted:
        result["notes"] = state.predicted
    if module.diff_mode:
        result["diff"] = diffs
    if failed:
        first = failed[0]["error"]
        detail = "; ".join("VM '%s': %s" % (o["name"], o["error"]) for o in failed)
        module.fail("configure", "VMs of pool", label, PlanError(getattr(first, "code", "") or "VM_FAILED", detail,
                    getattr(first, "hint", "")), changed=True, **result)
    module.exit_result(changed=fleet.changed, **result)


if __name__ == "__main__":
    main()
