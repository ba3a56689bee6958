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
  - The building blocks of the C(vdc.xenpool.rolling_maintenance) role.
  - O(action=check) (read-only) gives the maintenance order of O(hosts) (members by name, the master last), cut into
    batches of O(batch_size), and, for each host, the VMs on it, xapi's list of VMs that would prevent its evacuation,
    and where each VM would go with its whole batch away (xapi's bin-packer, C(pool.ha_compute_vm_failover_plan) with
    the batch as failed; with HA on, the failover plan). It fails when a host cannot be evacuated, naming every VM and
    reason, unless O(fail_on_blockers=false). Hosts that booted after O(skip_booted_after) are left out (RV(skipped_hosts)).
  - O(action=evacuate) checks O(hosts) as one batch like O(action=check), then disables them all and empties them;
    with HA on, xapi's C(host.evacuate) refuses unprotected VMs, so they are live-migrated first (C(VM.pool_migrate)),
    then C(host.evacuate) moves the protected ones. If xapi refuses half-way, the hosts are enabled again.
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
    choices: [check, evacuate, reboot, migrate_back]
    required: true
  hosts:
    description: Host name labels (default every host of the pool, for O(action=check)).
    type: list
    elements: str
    default: []
  batch_size:
    description: With O(action=check), how many hosts are maintained together (checked with all of them away at once).
    type: int
    default: 1
  skip_booted_after:
    description:
      - With O(action=check), leave out the hosts that booted after this time (seconds since the epoch, compared with
        the host's C(other_config:boot_time), which xapi writes at every start-up); their maintenance is done.
      - A re-run of a maintenance that stopped half-way, with the time it started, carries on with the hosts not yet
        rebooted. V(0) leaves out none.
    type: int
    default: 0
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
"""

EXAMPLES = r"""
- name: Can xen-intel-03 be emptied?
  vdc.xenpool.host_maintenance:
    hostname: xen-intel-01.example.com
    action: check
    hosts: [xen-intel-03]

- name: The pool's order in pairs, leaving out the hosts rebooted since the window opened
  vdc.xenpool.host_maintenance:
    hostname: xen-intel-01.example.com
    action: check
    batch_size: 2
    skip_booted_after: 1796486400
  register: maintenance_order

- name: Disable and empty xen-intel-03 (its unprotected VMs live-migrated first when HA is on)
  vdc.xenpool.host_maintenance:
    hostname: xen-intel-01.example.com
    action: evacuate
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
  description: The hosts in maintenance order (without RV(skipped_hosts)).
  returned: always
  type: list
  elements: str
batches:
  description: RV(order) cut into batches of O(batch_size) (O(action=check)); one batch of O(hosts) otherwise.
  returned: always
  type: list
  elements: list
skipped_hosts:
  description: The hosts left out because they booted after O(skip_booted_after).
  returned: always
  type: list
  elements: str
checks:
  description:
    - Host name -> {host, vms, blockers (VM -> reason), moves (VM -> host it would go to), enabled, ha_enabled}
      (O(action=check) and O(action=evacuate)).
  returned: always
  type: dict
evacuated:
  description: With O(action=evacuate), {left (VM -> host it was on), moved (VM -> host it went to)}; the prediction in check mode.
  returned: always
  type: dict
rebooted:
  description: Host name -> {live, pbds_plugged, enabled, seconds} (O(action=reboot); empty in check mode).
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
    "action": {"type": "str", "choices": ["check", "evacuate", "reboot", "migrate_back"], "required": True},
    "hosts": {"type": "list", "elements": "str", "default": []},
    "batch_size": {"type": "int", "default": 1},
    "skip_booted_after": {"type": "int", "default": 0},
    "fail_on_blockers": {"type": "bool", "default": True},
    "moves": {"type": "dict", "default": {}},
}


def check(client, state, refs, params, out):
    """The order in batches and each batch's check; hosts that booted after skip_booted_after are left out."""
    if params["batch_size"] < 1:
        raise PlanError("INVALID_BATCH_SIZE", "batch_size is %d" % params["batch_size"], "Set it to 1 or more")
    out["skipped_hosts"] = [state.name_of("host", r) for r in refs if maint.booted_after(state, r, params["skip_booted_after"])]
    refs = [r for r in refs if state.name_of("host", r) not in out["skipped_hosts"]]
    out["order"] = [state.name_of("host", r) for r in refs]
    size = params["batch_size"]
    for start in range(0, len(refs), size):
        out["batches"].append(out["order"][start:start + size])
        out["checks"].update(maint.check_batch(client, state, refs[start:start + size]))
    blocked = {n: c["blockers"] for n, c in out["checks"].items() if c["blockers"]}
    if blocked and params["fail_on_blockers"]:
        raise maint.cannot_evacuate(blocked)
    return False, out


def evacuate(module, client, state, refs, out):
    """Disable and empty the hosts as one batch (refused before any write when a VM cannot go)."""
    out["batches"] = [out["order"]]
    enabled = [state.name_of("host", r) for r in refs if state.all("host")[r].get("enabled")]
    if module.check_mode:
        out["checks"] = maint.check_batch(client, state, refs)
        blocked = {n: c["blockers"] for n, c in out["checks"].items() if c["blockers"]}
        if blocked:
            raise maint.cannot_evacuate(blocked)
        out["evacuated"] = {"left": {vm: c["host"] for c in out["checks"].values() for vm in c["vms"]},
                            "moved": {vm: dest for c in out["checks"].values() for vm, dest in c["moves"].items()}}
    else:
        out["evacuated"] = maint.evacuate_batch(client, state, refs, module.params["wait_timeout"])
    out["plan"] = ["disable host %s" % n for n in enabled] + ["migrate VM %s to %s" % kv for kv in sorted(out["evacuated"]["moved"].items())]
    return bool(out["plan"]), out


def run(module, client, params):
    """The action; returns (changed, result keys)."""
    state = read_pool_state(client, maint.MAINTENANCE_CLASSES)
    refs = maint.order(state, params["hosts"])
    names = [state.name_of("host", r) for r in refs]
    out = {"order": names, "batches": [], "skipped_hosts": [], "checks": {}, "evacuated": {}, "rebooted": {}, "migrated": {}, "plan": []}
    if params["action"] == "check":
        return check(client, state, refs, params, out)
    if params["action"] == "evacuate":
        return evacuate(module, client, state, refs, out)
    out["batches"] = [names]
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
    verb = {"check": "check maintenance of", "evacuate": "evacuate", "reboot": "reboot", "migrate_back": "migrate VMs back to"}[params["action"]]
    with module.session(verb, "host", label) as client:
        changed, out = run(module, client, params)
    module.exit_result(changed=changed, **out)


if __name__ == "__main__":
    main()
