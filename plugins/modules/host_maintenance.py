#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host_maintenance
short_description: The steps around a host's maintenance in a XenServer / XCP-ng pool (check, reboot, VMs back)
version_added: 0.4.0
description:
  - The building blocks of the C(vdc.xenpool.rolling_maintenance) role; disabling and evacuating a host is
    M(vdc.xenpool.host) with C(state=maintenance).
  - O(action=check) (read-only) gives the maintenance order of O(hosts) (members by name, the master last) and, for
    each, the VMs on it, xapi's list of VMs that would prevent its evacuation and, with HA on, the HA failover
    plan without the host (where each protected VM would go, or why it could not). It fails when a host of O(hosts)
    cannot be evacuated, naming every VM and reason, unless O(fail_on_blockers=false).
  - O(action=reboot) reboots O(hosts) (they must be disabled and run no guest, since a reboot would kill them) and
    waits, bounded by O(wait_timeout), until each is live again with every PBD plugged. Always a change.
  - O(action=migrate_back) live-migrates VMs (O(moves), VM name -> host name) with C(VM.pool_migrate); a VM already
    there is skipped.
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  action:
    description: What to do.
    type: str
    choices: [check, reboot, migrate_back]
    required: true
  hosts:
    description: Host name labels (default every host of the pool, for O(action=check)).
    type: list
    elements: str
    default: []
  fail_on_blockers:
    description: With O(action=check), fail when a host cannot be evacuated.
    type: bool
    default: true
  moves:
    description: With O(action=migrate_back), VM name -> name of the host to migrate it to.
    type: dict
    default: {}
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.wait
  - vdc.xenpool.attributes
  - vdc.xenpool.attributes.XEN_GROUP
"""

EXAMPLES = r"""
- name: Can xen-intel-03 be emptied?
  vdc.xenpool.host_maintenance:
    hostname: xen-intel-01.example.com
    action: check
    hosts: [xen-intel-03]

- name: Reboot it (disabled and evacuated before) and wait until it is back with its storage
  vdc.xenpool.host_maintenance:
    hostname: xen-intel-01.example.com
    action: reboot
    hosts: [xen-intel-03]
    wait_timeout: 1200
"""

RETURN = r"""
order:
  description: The hosts in maintenance order (O(action=check)).
  returned: always
  type: list
  elements: str
checks:
  description: Host name -> {host, vms, blockers (VM -> reason), moves (VM -> host, from the HA plan), enabled, ha_enabled}.
  returned: always
  type: dict
rebooted:
  description: Host name -> {live, pbds_plugged, seconds} (O(action=reboot); empty in check mode).
  returned: always
  type: dict
migrated:
  description: VM name -> host it was migrated to (O(action=migrate_back)).
  returned: always
  type: dict
plan:
  description: The planned steps, one line each.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import maintenance as maint
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state

ARGUMENT_SPEC = {
    "action": {"type": "str", "choices": ["check", "reboot", "migrate_back"], "required": True},
    "hosts": {"type": "list", "elements": "str", "default": []},
    "fail_on_blockers": {"type": "bool", "default": True},
    "moves": {"type": "dict", "default": {}},
}


def run(module, client, params):
    """The action; returns (changed, result keys)."""
    state = read_pool_state(client, maint.MAINTENANCE_CLASSES)
    refs = maint.order(state, params["hosts"])
    names = [state.name_of("host", r) for r in refs]
    out = {"order": names, "checks": {}, "rebooted": {}, "migrated": {}, "plan": []}
    if params["action"] == "check":
        for ref in refs:
            out["checks"][state.name_of("host", ref)] = maint.check_host(client, state, ref)
        blocked = {n: c["blockers"] for n, c in out["checks"].items() if c["blockers"]}
        if blocked and params["fail_on_blockers"]:
            raise PlanError("HOST_CANNOT_BE_EVACUATED", "; ".join("%s: %s" % (h, ", ".join("%s (%s)" % kv for kv in sorted(b.items())))
                                                                  for h, b in sorted(blocked.items())),
                            "Move or shut down those VMs, or free memory on the other hosts, then run again")
        return False, out
    if params["action"] == "reboot":
        out["plan"] = ["reboot host %s" % n for n in names]
        problems = [] if module.check_mode else maint.reboot_problems(state, refs)
        if problems:
            raise PlanError("HOST_NOT_EVACUATED", "; ".join(problems), "Put the host in maintenance first (vdc.xenpool.host state: maintenance)")
        if not module.check_mode:
            out["rebooted"] = maint.reboot_and_wait(client, state, refs, params["wait_timeout"])
        return True, out
    out["plan"] = ["migrate VM %s to %s" % kv for kv in sorted(params["moves"].items())]
    if not module.check_mode:
        out["migrated"] = maint.migrate_back(client, state, params["moves"], params["wait_timeout"])
        return bool(out["migrated"]), out
    return bool(out["plan"]), out


def main():
    module = XenModule(ARGUMENT_SPEC, wait=True)
    params = module.params
    label = ", ".join(params["hosts"]) or "pool"
    verb = {"check": "check maintenance of", "reboot": "reboot", "migrate_back": "migrate VMs back to"}[params["action"]]
    with module.session(verb, "host", label) as client:
        changed, out = run(module, client, params)
    module.exit_result(changed=changed, **out)


if __name__ == "__main__":
    main()
