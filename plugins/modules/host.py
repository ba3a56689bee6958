#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: host
short_description: Name, state, iSCSI and other settings of a host in a XenServer / XCP-ng pool
version_added: 0.2.0
description:
  - Manages one host of the pool reached through O(hostname) (the master or any member).
  - The host is found by O(uuid), else by O(address), else by O(name). When O(uuid) or O(address) is given,
    O(name) is the name label the host must have.
  - O(state=maintenance) disables the host and evacuates its VMs to the other enabled hosts, waits, and
    reports where each VM went. With O(wait=false) it returns once the evacuation has started, with the task in RV(tasks).
  - When xapi says some VM cannot be moved, the module changes nothing and names every such VM with xapi's reason.
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  name:
    description: Name label of the host (identity, or the desired name when O(uuid) or O(address) is given).
    type: str
    aliases: [name_label]
  uuid:
    description: Uuid of the host.
    type: str
  address:
    description: Management address, dom0 host name or FQDN of the host.
    type: str
  description:
    description: Host description.
    type: str
  state:
    description:
      - V(enabled) accepts VMs, V(disabled) refuses new VMs and keeps the running ones,
        V(maintenance) is disabled with every VM evacuated.
    type: str
    choices: [enabled, disabled, maintenance]
  other_config:
    description:
      - Keys of the host's other_config; keys not listed are kept unless O(purge_other_config=true).
      - C(iscsi_iqn) and C(multipathing) are mirrors of their own options and are ignored here.
    type: dict
  purge_other_config:
    description: Remove other_config keys not listed in O(other_config) (the mirrored keys are always kept).
    type: bool
    default: false
  iscsi_iqn:
    description:
      - iSCSI initiator name of the host, checked against RFC 3720 before any change
        (C(iqn.YYYY-MM.reversed.domain[:name]), C(eui.<16 hex digits>) or C(naa.<hex>)).
    type: str
  multipathing:
    description:
      - Storage multipathing. Change it only on a host in maintenance with its PBDs unplugged; xapi does not enforce this.
    type: bool
  hosts:
    description:
      - Settings of several hosts in one run (one bulk read for all of them); each entry names a host by its name label.
      - Mutually exclusive with O(name), O(uuid) and O(address). O(purge_other_config) applies to every entry.
    type: list
    elements: dict
    suboptions:
      name: {description: Name label of the host., type: str, required: true}
      description: {description: Host description., type: str}
      state: {description: See O(state)., type: str, choices: [enabled, disabled, maintenance]}
      other_config: {description: See O(other_config)., type: dict}
      iscsi_iqn: {description: See O(iscsi_iqn)., type: str}
      multipathing: {description: See O(multipathing)., type: bool}
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.wait
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: Put xen-intel-03 into maintenance
  vdc.xenpool.host:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    name: xen-intel-03
    state: maintenance
  delegate_to: localhost
  register: maint

- name: Show where the VMs went
  ansible.builtin.debug:
    var: maint.evacuated

- name: iSCSI settings, back in service
  vdc.xenpool.host:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    address: xen-intel-03.dc.example.org
    name: xen-intel-03
    iscsi_iqn: iqn.2026-01.org.example.dc:xen-intel-03
    multipathing: true
    other_config:
      rack: r12
    state: enabled
  delegate_to: localhost

- name: Settings of several hosts in one run
  vdc.xenpool.host:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    hosts:
      - {name: xen-intel-01, iscsi_iqn: "iqn.2026-01.org.example.dc:xen-intel-01"}
      - {name: xen-intel-02, iscsi_iqn: "iqn.2026-01.org.example.dc:xen-intel-02", multipathing: true}
  delegate_to: localhost
"""

RETURN = r"""
host:
  description: The host after the run (the prediction in check mode).
  returned: when O(hosts) is not given
  type: dict
  contains:
    name: {description: Name label., type: str, returned: success}
    description: {description: Description., type: str, returned: success}
    uuid: {description: Uuid., type: str, returned: success}
    address: {description: Management address., type: str, returned: success}
    state: {description: "V(enabled), V(disabled) or V(maintenance) (disabled with no VM).", type: str, returned: success}
    iscsi_iqn: {description: iSCSI IQN., type: str, returned: success}
    multipathing: {description: Multipathing., type: bool, returned: success}
    other_config: {description: other_config without the mirrored keys., type: dict, returned: success}
hosts:
  description: With O(hosts), host name -> the same dict as RV(host).
  returned: when O(hosts) is given
  type: dict
plan:
  description: "The planned steps, one line each (C(set <field> <host>: <value>))."
  returned: success
  type: list
  elements: str
evacuated:
  description: VM name -> name of the host it moved to (empty in check mode).
  returned: success
  type: dict
tasks:
  description:
    - With O(wait=false), the references of the evacuation tasks left running (poll them with C(task.get_record)).
    - Empty when the module waited.
  returned: success
  type: list
  elements: str
to_evacuate:
  description: Names of the VMs that would be moved, in check mode.
  returned: check mode
  type: list
  elements: str
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import host as hostsvc

SETTINGS_SPEC = {
    "description": {"type": "str"},
    "state": {"type": "str", "choices": list(hostsvc.STATES)},
    "other_config": {"type": "dict"},
    "iscsi_iqn": {"type": "str"},
    "multipathing": {"type": "bool"},
}

ARGUMENT_SPEC = dict(
    SETTINGS_SPEC,
    name={"type": "str", "aliases": ["name_label"]},
    uuid={"type": "str"},
    address={"type": "str"},
    purge_other_config={"type": "bool", "default": False},
    hosts={"type": "list", "elements": "dict", "options": dict(SETTINGS_SPEC, name={"type": "str", "required": True})},
)


def desired_state(params, rename=False):
    other = params.get("other_config")
    return {
        "name": params.get("name") if rename else None,
        "description": params.get("description"),
        "state": params.get("state"),
        "other_config": {str(k): str(v) for k, v in other.items()} if other is not None else None,
        "iscsi_iqn": params.get("iscsi_iqn"),
        "multipathing": params.get("multipathing"),
    }


def targets(state, params):
    """(label, host ref, desired) for the single host or for every entry of hosts."""
    if params["hosts"] is not None:
        return [(item["name"], hostsvc.locate(state, name=item["name"]), desired_state(item)) for item in params["hosts"]]
    label = params["address"] or params["uuid"] or params["name"]
    ref = hostsvc.locate(state, params["uuid"], params["address"], params["name"])
    return [(label, ref, desired_state(params, rename=bool(params["uuid"] or params["address"])))]


def main():
    module = XenModule(ARGUMENT_SPEC, wait=True, required_one_of=[("name", "uuid", "address", "hosts")],
                       mutually_exclusive=[("hosts", "name"), ("hosts", "uuid"), ("hosts", "address")])
    params = module.params
    purge = params["purge_other_config"]
    single = params["hosts"] is None
    opened = {}

    def read(client):
        opened["client"] = client  # the plan asks xapi which VMs would block an evacuation (a read)
        return hostsvc.read(client)

    def plan(state):
        result = hostsvc.plan_all(opened["client"], state, targets(state, params), purge)
        if single:
            label = result.targets[0][0]
            result.before, result.after = result.before[label], result.after[label]
        return result

    def apply(client, state, result):
        after = hostsvc.apply_all(client, state, result, purge, params["wait_timeout"], params["wait"])
        return next(iter(after.values())) if single else after

    def extra(result):
        out = {"evacuated": result.evacuated, "tasks": result.tasks}
        if module.check_mode:
            out["to_evacuate"] = sorted(result.to_evacuate)
        return out

    label = params["address"] or params["uuid"] or params["name"] or "hosts"
    module.converge("configure", "host", label, read, plan, apply, "host" if single else "hosts", extra)


if __name__ == "__main__":
    main()
