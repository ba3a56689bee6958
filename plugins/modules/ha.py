#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ha
short_description: High availability of a XenServer / XCP-ng pool, with VM protection levels and a capacity check
version_added: 0.2.0
description:
  - Enables or disables pool HA with a heartbeat SR on shared storage, sets how many host failures the pool must
    tolerate, and sets the protection level of VMs (C(Protected), C(Restart if possible), C(Do not restart)).
  - Before any write, the module asks the pool's own planner
    (C(pool.ha_compute_hypothetical_max_host_failures_to_tolerate)) whether the declared protection levels can be
    honoured with O(host_failures_to_tolerate) failed hosts. If not, it fails naming the protected VMs, their
    memory, the hosts and the shortfall, and changes nothing, unless O(allow_overcommit=true).
  - The result is the pool's HA screen as data, including each VM's agility (whether it can restart on another host,
    and why not).
  - Changing the heartbeat SR or the timeout of an enabled pool disables HA and enables it again.
options:
  state:
    description:
      - V(enabled) turns HA on (or keeps it on); V(disabled) turns it off. Disabling never destroys the heartbeat SR
        or its VDIs; remove the SR with M(vdc.xenpool.sr) if wanted.
    type: str
    choices: [enabled, disabled]
    default: enabled
  heartbeat_srs:
    description:
      - Names or uuids of the shared SRs for the HA statefile. Each must be shared and plugged on every host.
      - Required to enable HA on a pool where it is off.
    type: list
    elements: str
  host_failures_to_tolerate:
    description:
      - How many host failures the pool must survive with every protected VM restarted. Between 0 and the number of
        hosts minus one.
    type: int
  allow_overcommit:
    description:
      - Accept protection levels the pool cannot honour for O(host_failures_to_tolerate) failures (xapi's
        C(ha_allow_overcommit)). Without it such a declaration is refused before any write.
    type: bool
  ha_timeout:
    description: Seconds without heartbeat after which a host is considered failed (xapi's HA C(timeout), at least 10).
    type: int
  vms:
    description:
      - Protection levels of VMs, by name or uuid. VMs that are not listed keep theirs, and count as they are in the
        capacity check.
    type: list
    elements: dict
    suboptions:
      name:
        description: VM name or uuid; a name must match exactly one VM of the pool.
        type: str
        required: true
      restart_priority:
        description:
          - V(restart) (Protected), V(best-effort) (Restart if possible) or V(do-not-restart).
        type: str
        choices: [restart, best-effort, do-not-restart]
      order:
        description: Restart order; lower restarts first.
        type: int
      start_delay:
        description: Seconds to wait after starting this VM before starting the next in order.
        type: int
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.wait
  - vdc.xenpool.attributes
notes:
  - With O(wait=false) the module returns once the final enable or disable task has started, and returns its
    reference in RV(tasks); earlier steps are always waited for.
author:
  - vdc.xenpool contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: HA on the Intel pool, surviving one host failure, with the talk's protection levels
  vdc.xenpool.ha:
    heartbeat_srs: [ha-heartbeat-intel]
    host_failures_to_tolerate: 1
    vms:
      - {name: it-dcot-dev, restart_priority: restart, order: 1}
      - {name: spamfilter1, restart_priority: restart, order: 2}
      - {name: spamfilter2, restart_priority: best-effort}
      - {name: spamfilter1-clone, restart_priority: do-not-restart}
  delegate_to: localhost

- name: HA off (the heartbeat SR stays)
  vdc.xenpool.ha:
    state: disabled
  delegate_to: localhost
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.attributes
ha:
  description: The pool's HA state after the run (the prediction in check mode).
  returned: success
  type: dict
  contains:
    enabled: {description: Whether HA is on., type: bool, returned: always}
    heartbeat_srs: {description: Names of the SRs holding the HA statefile., type: list, elements: str, returned: always}
    host_failures_to_tolerate: {description: The configured failure capacity., type: int, returned: always}
    plan_exists_for: {description: The current failure capacity (failures a plan exists for)., type: int, returned: always}
    max_host_failures_to_tolerate:
      description: The most host failures the pool can tolerate with its (desired) protection levels.
      type: int
      returned: when HA is enabled or to be enabled
    summary:
      description: The capacity in one sentence, as the HA screen says it.
      type: str
      returned: when computed
    overcommitted: {description: Whether the pool cannot honour its configured capacity., type: bool, returned: always}
    allow_overcommit: {description: xapi's C(ha_allow_overcommit)., type: bool, returned: always}
    timeout:
      description: The HA timeout in seconds, when configured.
      type: int
      returned: always
    vms:
      description: Every VM with its protection level and agility.
      type: list
      elements: dict
      returned: always
      sample:
        - {name: spamfilter1, restart_priority: restart, protection: Protected, agile: true, not_agile_because: [],
           order: 2, start_delay: 0, memory_mib: 1024, power_state: Running, uuid: "..."}
notes:
  description:
    - In check mode, what the plan cannot know yet because an earlier step of the same run creates it (the
      heartbeat SR, the pool's members); the real run checks it.
  returned: when there is something to say
  type: list
  elements: str
tasks:
  description: References of the tasks left running with O(wait=false).
  returned: when O(wait=false) and a task was started
  type: list
  elements: str
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import ha as hasvc

ARGUMENT_SPEC = {
    "state": {"type": "str", "choices": ["enabled", "disabled"], "default": "enabled"},
    "heartbeat_srs": {"type": "list", "elements": "str"},
    "host_failures_to_tolerate": {"type": "int"},
    "allow_overcommit": {"type": "bool"},
    "ha_timeout": {"type": "int"},
    "vms": {
        "type": "list",
        "elements": "dict",
        "options": {
            "name": {"type": "str", "required": True},
            "restart_priority": {"type": "str", "choices": list(hasvc.PRIORITIES)},
            "order": {"type": "int"},
            "start_delay": {"type": "int"},
        },
    },
}


def desired_state(params):
    for item in params["vms"] or []:
        for field in ("order", "start_delay"):
            if item[field] is not None and item[field] < 0:
                raise ValueError("%s of VM '%s' is %d; use 0 or more" % (field, item["name"], item[field]))
    return {
        "state": params["state"],
        "heartbeat_srs": params["heartbeat_srs"],
        "host_failures_to_tolerate": params["host_failures_to_tolerate"],
        "allow_overcommit": params["allow_overcommit"],
        "timeout": params["ha_timeout"],
        "vms": params["vms"],
    }


def predicted(full, managed):
    """The full HA view with the plan's managed fields applied: what check mode reports."""
    result = dict(full, **{k: v for k, v in managed.items() if k != "vms"})
    result["vms"] = [dict(row, **managed["vms"].get(row["name"], {})) for row in full["vms"]]
    return result


def main():
    module = XenModule(ARGUMENT_SPEC, wait=True)
    params = module.params
    verb = "enable HA on" if params["state"] == "enabled" else "disable HA on"
    try:
        desired = desired_state(params)
    except ValueError as exc:
        module.fail(verb, "pool", params["hostname"], "INVALID_VALUE %s" % exc)
    tasks = []
    with module.session(verb, "pool", params["hostname"]) as client:
        state = hasvc.read(client)
        plan, possible = hasvc.plan(client, state, desired, predict=module.check_mode)
        after = predicted(hasvc.view(state, possible), plan.after)
        if plan.changed and not module.check_mode:
            tasks = hasvc.apply(client, plan, params["wait"], params["wait_timeout"])
            state = hasvc.read(client)
            after = hasvc.view(state, hasvc.current_capacity(client, state) if (state.pool or {}).get("ha_enabled") else None)
    result = {"tasks": tasks} if tasks else {}
    if plan.notes:
        result["notes"] = plan.notes
    module.exit_result(changed=plan.changed, before=plan.before, after=plan.after, ha=after, plan=plan.summary(), **result)


if __name__ == "__main__":
    main()
