#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: balance
short_description: Balance the running VMs of a XenServer / XCP-ng pool over its hosts with live migrations
version_added: 0.5.0
description:
  - Plans where the running VMs of a pool should run from the pool's current load, then carries the plan out with
    live migrations (C(VM.pool_migrate)). Check mode reports the moves and the load of every host before and after,
    and writes nothing.
  - The plan is greedy and deterministic. While a host is over O(memory_threshold) or O(cpu_threshold), or an
    O(anti_affinity) group has two running VMs on one host, the VM that best relieves the problem (the least memory
    among equals) moves to the least loaded host that can take it. That host is enabled and live, has a PIF on each of the
    VM's networks and a plugged PBD for each of its storage repositories, has the memory free and stays under both
    thresholds, keeps every anti-affinity group apart and, when HA is on, keeps the failover plan for the pool's
    host failures to tolerate (checked as xapi's own planner does, C(binpack.ml)).
    A second run over the result plans nothing.
  - A host added to the pool (enabled, with the pool's networks and storage) is the least loaded host, so a run after
    a scale-out moves VMs onto it wherever other hosts are over a threshold.
  - Memory is a host's used memory over its total (C(host_metrics)); a VM counts for its static maximum plus its
    overhead, which is what xapi reserves when it migrates it. CPU is the average over the last 10 minutes from each
    live host's performance export (C(GET /rrd_updates)), one request per host; a host that does not answer leaves
    its CPU out of the plan and adds a warning.
  - The pool is read in a constant number of calls, whatever the number of VMs.
  - What the plan cannot resolve (no host can take any VM of an overloaded host) is returned in RV(unresolved) and
    warned about; it is not a failure.
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  memory_threshold:
    description: Highest memory use of a host, in percent of its memory, from 1 to 100.
    type: int
    default: 85
  cpu_threshold:
    description: Highest CPU use of a host, in percent of all its CPUs, from 1 to 100.
    type: int
    default: 80
  anti_affinity:
    description:
      - Groups of VMs that must not share a host (redundant spam filters, DNS servers, cluster nodes).
      - A group with more running VMs than the pool has usable hosts is refused before anything is done.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The group's name, used in messages.
        type: str
        required: true
      vms:
        description: VM names, matched exactly; a name that is not in the pool is an error.
        type: list
        elements: str
        default: []
      match:
        description: Shell-style name patterns (C(spam-*)), for groups whose members come and go.
        type: list
        elements: str
        default: []
      tag:
        description: Every VM with this tag belongs to the group.
        type: str
  exclude:
    description: Names of VMs that are never moved (they still count for the load and for anti-affinity).
    type: list
    elements: str
    default: []
  hosts:
    description:
      - Balance only these hosts (name labels, matched exactly); VMs move only between them. Default every host.
    type: list
    elements: str
    default: []
  max_moves:
    description: The most migrations of one run; unset for no limit. The plan stops there and says so in RV(notes).
    type: int
  max_parallel:
    description: How many migrations run at the same time.
    type: int
    default: 2
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.wait.TIMEOUT
seealso:
  - module: vdc.xenpool.pool_info
  - module: vdc.xenpool.host_maintenance
"""

EXAMPLES = r"""
- name: What would balancing move? (writes nothing)
  vdc.xenpool.balance:
    hostname: xen-intel-01.example.com
    memory_threshold: 85
    cpu_threshold: 80
    anti_affinity:
      - name: spamfilters
        match: ["spam-*"]
  check_mode: true
  register: balance_plan

- name: Balance the pool, two migrations at a time, the database servers stay where they are
  vdc.xenpool.balance:
    hostname: xen-intel-01.example.com
    anti_affinity:
      - {name: spamfilters, tag: spamfilter}
      - {name: dns, vms: [dns-01, dns-02]}
    exclude: [db-01, db-02]
    max_parallel: 2
    max_moves: 20
"""

RETURN = r"""
moves:
  description: The migrations, in order; each {vm, vm_uuid, from, to, memory_mib, reason}.
  returned: always
  type: list
  elements: dict
  sample: [{vm: web-0003, vm_uuid: 0b6f..., from: xen-01, to: xen-05, memory_mib: 4128, reason: "xen-01 over threshold"}]
load_before:
  description: Host name -> {memory_percent, cpu_percent (null when unknown), memory_used_mib, memory_total_mib, vm_count} now.
  returned: always
  type: dict
load_after:
  description: The same per host with the moves done, as the plan predicts them (the next read may differ a little, CPU above all).
  returned: always
  type: dict
unresolved:
  description: The problems the plan leaves (a host still over a threshold, an anti-affinity group still together).
  returned: always
  type: list
  elements: str
notes:
  description: What the plan chose or could not know (max_moves reached, HA capacity already short).
  returned: always
  type: list
  elements: str
ha:
  description: The pool's HA settings the plan kept to; with HA on, capacity_now is xapi's count of tolerable failures.
  returned: always
  type: dict
plan:
  description: One line per migration.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import WAIT_TIMEOUT_SPEC
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import balance, balance_run

ARGUMENT_SPEC = dict({
    "memory_threshold": {"type": "int", "default": 85},
    "cpu_threshold": {"type": "int", "default": 80},
    "anti_affinity": {"type": "list", "elements": "dict", "default": [], "options": {
        "name": {"type": "str", "required": True},
        "vms": {"type": "list", "elements": "str", "default": []},
        "match": {"type": "list", "elements": "str", "default": []},
        "tag": {"type": "str"},
    }},
    "exclude": {"type": "list", "elements": "str", "default": []},
    "hosts": {"type": "list", "elements": "str", "default": []},
    "max_moves": {"type": "int"},
    "max_parallel": {"type": "int", "default": 2},
}, **WAIT_TIMEOUT_SPEC)
OPTIONS = ("memory_threshold", "cpu_threshold", "anti_affinity", "exclude", "hosts", "max_moves", "max_parallel")


def main():
    module = XenModule(ARGUMENT_SPEC)
    options = {key: module.params[key] for key in OPTIONS}
    label = module.endpoint_label
    try:
        balance.validate(options)
    except PlanError as err:
        module.fail("balance", "pool", label, err)
    found = {}

    def plan(current):
        _state, pool = current
        found.update(balance.plan_moves(pool, options), ha=pool["ha"])
        result = Plan(before=found["load_before"], after=found["load_after"], changed=bool(found["moves"]))
        for move in found["moves"]:
            result.add("migrate VM", move["vm"], "%s -> %s (%s)" % (move["from"], move["to"], move["reason"]))
        return result

    def apply(client, current, the_plan):
        balance_run.apply(client, current[0], found["moves"], options["max_parallel"], module.params["wait_timeout"])
        return the_plan.after

    def extra(_plan):
        for text in found["unresolved"] + found["notes"]:
            module.warn(text)
        return {key: found[key] for key in ("moves", "load_before", "unresolved", "notes", "ha")}

    module.converge("balance", "pool", label, lambda client: balance_run.read(client, module.warn), plan, apply,
                    "load_after", extra=extra)


if __name__ == "__main__":
    main()
