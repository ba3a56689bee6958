#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pool
short_description: Settings, membership and master of a XenServer / XCP-ng pool
version_added: 0.2.0
description:
  - Names a pool, makes the declared hosts its members, chooses its master and default SR, and
    manages its O(other_config) and O(tags).
  - Connect (O(hostname)) to the pool master, or to the standalone host that is to become the master.
  - Hosts listed in O(members) that are not yet members join from their own endpoint (C(pool.join) naming
    the master), all at once; the declared order does not matter. A join is done when every new member is
    enabled and live. The master first holds a joining host disabled and not live until the host's toolstack has
    restarted as a member, and the module waits for that, so the next task finds a usable member.
  - Before any join, every joining host and the pool are read and checked as xapi would check them, in
    xapi's order (management interface, HA, running VMs, VMs with operations in progress, platform version
    and brand, software version and CPU vendor, shared SRs, bonds, tunnels, SR-IOV, VLANs, management VLAN,
    external authentication, edition, network backend, API version, database schema, TLS verification).
    If any host fails, the module fails listing every incompatible host and every reason, and no host joins.
  - CPU feature differences do not block a join (xapi levels the pool's feature set down); they are
    reported in RV(notes).
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  name:
    description: Pool name (name_label). Not managed when omitted.
    type: str
    aliases: [name_label]
  description:
    description: Pool description. Not managed when omitted.
    type: str
  members:
    description:
      - Hosts that must be members of the pool. The master is always a member and need not be listed.
      - A listed host is recognised as a member by its management address, dom0 host name, name label
        or, for a fully qualified name, its first label.
      - Not managed when omitted.
    type: list
    elements: dict
    suboptions:
      address:
        description: URL, host name or IP address of the host's own XenAPI endpoint.
        type: str
        required: true
      name:
        description: Name label of the host, when O(members[].address) does not match its record.
        type: str
      username:
        description: User on the joining host; defaults to O(username).
        type: str
      password:
        description: Password on the joining host; defaults to O(password).
        type: str
  purge_members:
    description:
      - Eject members that are not listed in O(members) (and are not the master).
      - B(Ejecting wipes the host's local state) - its database, network configuration and local storage
        records are reset and it reboots as a standalone host; VMs on its local storage lose their disks.
      - Hosts with VMs that are not halted are never ejected; the module fails and names them.
      - Every declared member must be recognised as a host of the pool (by address, host name or O(members[].name));
        when one is not, nothing is ejected and the module fails naming its address.
    type: bool
    default: false
  master:
    description:
      - Host that must be the pool master (name label or address of a member or of a host in O(members)).
      - A change calls C(pool.designate_new_master) after the joins and waits until the pool answers from the new master.
    type: str
  default_sr:
    description: Name or uuid of the pool's default SR.
    type: str
  force_join:
    description:
      - Join with C(pool.join_force), which skips only the homogeneity check (software version and CPU vendor).
      - Every skipped check is listed in RV(forced_checks). All other checks still apply.
    type: bool
    default: false
  pause_ha_for_joins:
    description:
      - xapi refuses C(pool.join) while the pool has HA on (C(HA_IS_ENABLED)). When hosts of O(members) are to join a
        pool with HA on, V(true) turns HA off (C(pool.disable_ha)) before the joins; the plan shows it as a step of its
        own and RV(ha_paused) says it was done. In check mode the joins are pre-checked as if HA were off, and nothing
        is written.
      - B(HA stays off afterwards.) Turn it on again on the grown pool, for example with M(vdc.xenpool.ha) (the role
        C(vdc.xenpool.ha) and C(playbooks/ha.yml) do it later in the same run of C(playbooks/site.yml)); only then does
        xapi compute the failover capacity of the grown pool.
      - With V(false), joins into a pool with HA on are refused before any write, with C(HA_IS_ENABLED).
      - HA is never turned off when no host joins. Ejects and a master change are refused while HA is on
        (C(HA_IS_ENABLED)) unless HA is turned off for joins in the same run.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds that joins, ejects and a master change may take. The module always waits for them, because every
        later step needs the pool in its new shape.
      - A master change whose call was lost is detected within seconds (the pool still names the old master and no
        designate task runs) and reported as C(MASTER_NOT_CHANGED) instead of being waited for.
    type: int
    default: 900
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.other_config
  - vdc.xenpool.tags
"""

EXAMPLES = r"""
- name: Build the Intel pool around xen-intel-01
  vdc.xenpool.pool:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    name: pool-intel
    description: Intel compute pool
    members:
      - address: xen-intel-02.dc.example.org
      - address: xen-intel-03.dc.example.org
    tags: [prod]
  delegate_to: localhost

- name: Add a host to a pool that has HA on (HA is turned off for the join)
  vdc.xenpool.pool:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    members:
      - address: xen-intel-02.dc.example.org
      - address: xen-intel-03.dc.example.org
      - address: xen-intel-04.dc.example.org
    pause_ha_for_joins: true
  delegate_to: localhost

- name: Turn HA on again, on the grown pool
  vdc.xenpool.ha:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    state: enabled
    heartbeat_srs: [pool-intel-ha-heartbeat]
    host_failures_to_tolerate: 1
  delegate_to: localhost

- name: Move the master role and eject a host (this wipes the host's local state)
  vdc.xenpool.pool:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    master: xen-intel-02
    members:
      - address: xen-intel-02.dc.example.org
    purge_members: true
  delegate_to: localhost
"""

RETURN = r"""
pool:
  description: The pool after the run (the prediction in check mode).
  returned: success
  type: dict
  contains:
    name: {description: Pool name., type: str, returned: success}
    description: {description: Pool description., type: str, returned: success}
    master: {description: Name of the master., type: str, returned: success}
    members: {description: Names of the member hosts., type: list, elements: str, returned: success}
    default_sr: {description: Name of the default SR., type: str, returned: success}
    other_config: {description: other_config map., type: dict, returned: success}
    tags: {description: Tags., type: list, elements: str, returned: success}
joined:
  description: Hosts that joined (would join in check mode).
  returned: success
  type: list
  elements: str
ha_paused:
  description:
    - Whether HA was turned off for the joins (would be, in check mode) because of O(pause_ha_for_joins). It stays off
      until it is turned on again.
  returned: success
  type: bool
ejected:
  description: Hosts that were ejected (would be ejected in check mode).
  returned: success
  type: list
  elements: str
pending_members:
  description:
    - In check mode, the hosts that would join and are therefore not members yet (their host and network settings
      cannot be planned before they join). Empty outside check mode.
  returned: success
  type: list
  elements: str
forced_checks:
  description: Checks skipped because of O(force_join), per host.
  returned: success
  type: list
  elements: dict
plan:
  description: The planned steps, one line each (ejects are marked destructive in the module's plan).
  returned: success
  type: list
  elements: str
notes:
  description: Facts worth knowing that did not block the run, such as CPU feature levelling.
  returned: success
  type: list
  elements: str
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import OTHER_CONFIG_SPEC, TAGS_SPEC
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import pool as poolsvc

ARGUMENT_SPEC = {
    "name": {"type": "str", "aliases": ["name_label"]},
    "description": {"type": "str"},
    "members": {
        "type": "list",
        "elements": "dict",
        "options": {
            "address": {"type": "str", "required": True},
            "name": {"type": "str"},
            "username": {"type": "str"},
            "password": {"type": "str", "no_log": True},
        },
    },
    "purge_members": {"type": "bool", "default": False},
    "master": {"type": "str"},
    "default_sr": {"type": "str"},
    **OTHER_CONFIG_SPEC,
    **TAGS_SPEC,
    "force_join": {"type": "bool", "default": False},
    "pause_ha_for_joins": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 900},
}


def desired_state(params):
    other = params["other_config"]
    return {
        "name": params["name"],
        "description": params["description"],
        "other_config": {str(k): str(v) for k, v in other.items()} if other is not None else None,
        "tags": params["tags"],
        "default_sr": params["default_sr"],
    }


def members_of(params):
    if params["members"] is None:
        return None
    return [
        poolsvc.Member(m["address"], m["username"] or params["username"], m["password"] or params["password"] or "", m["name"])
        for m in params["members"]
    ]


def main():
    module = XenModule(ARGUMENT_SPEC)
    params = module.params
    if params["name"] is not None and not params["name"].strip():
        module.fail("configure", "pool", params["hostname"], PlanError(
            "NAME_EMPTY", "the pool name is empty", "Give the pool a name, or leave name out to keep the current one"))

    def open_host(member):
        return module.new_client(hostname=member.address, username=member.username, password=member.password)

    def reconnect(address):
        return module.new_client(hostname=address)

    def plan(state):
        return poolsvc.plan(
            state, desired_state(params), members_of(params), open_host,
            purge_members=params["purge_members"], purge_other_config=params["purge_other_config"],
            purge_tags=params["purge_tags"], master=params["master"], force_join=params["force_join"],
            pause_ha_for_joins=params["pause_ha_for_joins"],
        )

    def apply(client, state, result):
        poolsvc.apply(client, state, result, params["username"], params["password"] or "", params["force_join"],
                      params["purge_other_config"], params["wait_timeout"], reconnect)
        # after a master change this session's host is no longer the master: the prediction is the answer
        return result.after if result.master is not None else poolsvc.view(poolsvc.read(client))

    def extra(result):
        poolsvc.close_all(result)  # the joining hosts' sessions (joins, when applied, have closed them already)
        notes = result.notes + ["unresolved member address %s is already in the pool" % a for a in result.unresolved]
        joined = [c.name for c in result.joiners]
        return {"joined": joined, "ha_paused": result.pause_ha, "ejected": result.ejected_names, "forced_checks": result.forced, "notes": notes,
                "pending_members": joined if module.check_mode else []}

    module.converge("configure", "pool", params["name"] or module.endpoint_label, poolsvc.read, plan, apply, "pool", extra)


if __name__ == "__main__":
    main()
