#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: vm_snapshot
short_description: Snapshots of VMs in a XenServer / XCP-ng pool, with revert and retention
version_added: 0.4.0
description:
  - Creates, reverts and deletes snapshots of one VM (O(vm) or O(vm_uuid)) or of a selection (O(vms), O(tags)),
    and keeps only the newest O(keep) and/or those younger than O(max_age).
  - A snapshot is found by name or uuid among the snapshots of its VM. A named snapshot that exists is not created again.
  - O(memory=true) takes a checkpoint (C(VM.checkpoint)), disks plus the memory image, where xapi allows it for the VM;
    otherwise a disk-only snapshot (C(VM.snapshot)).
  - "Revert (O(state=reverted)) replaces the VM's disks and settings by the snapshot's. The VM ends in the snapshot's
    power state: a disk-only snapshot leaves it halted (a running VM's domain is destroyed), a checkpoint leaves it
    suspended at the moment of the checkpoint. O(start=true) starts (or resumes) it afterwards. A revert is always a change."
  - Deleting a snapshot destroys its record and, explicitly, its disks (and a checkpoint's memory image), which
    C(VM.destroy) alone would leave behind.
  - The plan is returned in RV(plan); in check mode nothing is written.
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  vm:
    description: Name label of the one VM.
    type: str
  vm_uuid:
    description: Uuid of the one VM.
    type: str
  vms:
    description: Names of several VMs (creation and retention apply to each).
    type: list
    elements: str
  tags:
    description: VMs carrying any of these tags are selected too.
    type: list
    elements: str
  snapshot:
    description: Name (or uuid) of the snapshot to create, revert to or delete.
    type: str
  state:
    description:
      - V(present) creates O(snapshot) if missing, then applies retention.
      - V(reverted) reverts the one VM to O(snapshot). V(absent) deletes O(snapshot).
    type: str
    choices: [present, reverted, absent]
    default: present
  memory:
    description: Take a checkpoint (memory included) instead of a disk-only snapshot.
    type: bool
    default: false
  start:
    description: After a revert, start the VM (or resume it, for a checkpoint).
    type: bool
    default: false
  keep:
    description: Retention; keep the newest N snapshots (matching O(name_prefix)) of each VM, delete the others.
    type: int
  max_age:
    description: Retention; delete snapshots (matching O(name_prefix)) older than this (C(45s), C(90m), C(12h), C(7d), C(2w)).
    type: str
  name_prefix:
    description: Retention only considers snapshots whose name starts with this (default every snapshot of the VM).
    type: str
    default: ""
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.wait
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: Nightly snapshot of the web tier, keep a week
  vdc.xenpool.vm_snapshot:
    tags: [web]
    snapshot: "nightly-{{ now(utc=true, fmt='%Y%m%d') }}"
    name_prefix: nightly-
    keep: 7

- name: Before an upgrade, with memory
  vdc.xenpool.vm_snapshot:
    vm: web1
    snapshot: before-upgrade
    memory: true

- name: Back to it, and running again
  vdc.xenpool.vm_snapshot:
    vm: web1
    snapshot: before-upgrade
    state: reverted
    start: true

- name: Drop it
  vdc.xenpool.vm_snapshot:
    vm: web1
    snapshot: before-upgrade
    state: absent
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.attributes
snapshot:
  description: The named snapshot after the run (uuid, time, disks); empty when deleted or in check mode before creation.
  returned: always
  type: dict
  sample: {"name": "before-upgrade", "uuid": "6f1c8f0a-2d7e-4a55-9d7f-0c6b1f1f3a10", "time": "2026-12-05T19:40:00Z",
           "vm": "web1", "vm_uuid": "e0483378-7dc6-47ff-af75-cfd81607755c", "checkpoint": false,
           "power_state_at_snapshot": "running",
           "disks": [{"position": "0", "name": "0", "size_gib": 8.0, "sr": "NetApp iSCSI pool-intel",
                      "uuid": "c6d99e2f-ceea-4af1-8cc2-393f9b30fc50"}]}
snapshots:
  description: VM name -> its snapshots after the run, oldest first (same keys as RV(snapshot)).
  returned: always
  type: dict
plan:
  sample: ["create snapshot web1: nightly-20261205", "delete snapshot web1: nightly-20261127 (2026-11-27T01:00:00Z, 1 VDI) by retention"]
notes:
  description: What the plan does to a VM's power state, in words.
  returned: always
  type: list
  elements: str
"""

import datetime

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.snapshot import (
    SNAPSHOT_CLASSES, apply_snapshots, parse_age, parse_time, plan_snapshots, result_views)
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state

ARGUMENT_SPEC = {
    "vm": {"type": "str"}, "vm_uuid": {"type": "str"}, "vms": {"type": "list", "elements": "str"},
    "tags": {"type": "list", "elements": "str"}, "snapshot": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "reverted", "absent"], "default": "present"},
    "memory": {"type": "bool", "default": False}, "start": {"type": "bool", "default": False},
    "keep": {"type": "int"}, "max_age": {"type": "str"}, "name_prefix": {"type": "str", "default": ""},
}


def request_of(params):
    """The module's options as the service's request; a bad max_age is refused here, before any connection."""
    return {"vm": params["vm"], "vm_uuid": params["vm_uuid"], "vms": params["vms"], "tags": params["tags"],
            "snapshot": params["snapshot"], "state": params["state"], "memory": params["memory"], "start": params["start"],
            "keep": params["keep"], "max_age_seconds": parse_age(params["max_age"]), "name_prefix": params["name_prefix"]}


def server_now(client, state):
    """The pool's clock (the master's), so that ages are measured in the pool's time, not the controller's."""
    master = state.master_ref or next(iter(state.all("host")), None)
    if master is None:
        return datetime.datetime.now(datetime.timezone.utc)
    return parse_time(client.call("host.get_servertime", master))


def main():
    module = XenModule(ARGUMENT_SPEC, wait=True, mutually_exclusive=[("vm", "vm_uuid", "vms"), ("vm", "vm_uuid", "tags")],
                       required_one_of=[("vm", "vm_uuid", "vms", "tags")])
    params = module.params
    label = params["vm"] or params["vm_uuid"] or ", ".join((params["vms"] or []) + (params["tags"] or []))
    verb = {"present": "snapshot", "reverted": "revert", "absent": "delete snapshot of"}[params["state"]]
    try:
        request = request_of(params)
    except CollectionError as err:
        module.fail(verb, "VM", label, err)
    with module.session(verb, "VM", label) as client:
        state = read_pool_state(client, SNAPSHOT_CLASSES + ("pool",))
        plan = plan_snapshots(state, request, server_now(client, state))
        if plan.changed and plan.steps and not module.check_mode:
            apply_snapshots(client, plan, params["wait_timeout"])
            state = read_pool_state(client, SNAPSHOT_CLASSES + ("pool",))
        views = result_views(state, plan, request)
    module.exit_result(changed=bool(plan.steps), before=plan.before, after=plan.after, plan=plan.summary(),
                       notes=plan.notes, **views)


if __name__ == "__main__":
    main()
