#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: network
short_description: Pool-wide networks, VLANs, bonds and storage interface addresses of a XenServer / XCP-ng pool
version_added: 0.2.0
description:
  - Manages one pool-wide network, identified by O(name), or with O(networks) every network of the pool in one run
    (one read of the pool, every declaration planned and checked before the first write).
  - With O(vlan), the network is a VLAN on O(device) (a physical NIC) or on the interface of O(parent_network)
    (for example a bond network) of every host of the pool; hosts that lack the VLAN get it.
  - With O(bond), the network is a bond of the same NICs on every host.
  - With neither, O(device) names the physical NIC whose existing pool network is adopted (renamed and configured);
    without O(device) a private network without host interfaces is created.
  - O(ip_configuration) sets the addresses of the network's interfaces, typically for a dedicated storage network.
    The management interface is never reconfigured unless O(allow_management_interface=true).
author:
  - vdc.xenpool contributors (!UNKNOWN)
options:
  name:
    description:
      - Network name (name_label); the identity of the network.
      - Required unless O(networks) is given.
    type: str
    aliases: [name_label]
  networks:
    description:
      - Several networks in one run; each element takes the options of one network (O(name), O(description), O(state),
        O(mtu), O(other_config), O(purge_other_config), O(device), O(parent_network), O(vlan), O(bond),
        O(ip_configuration), O(allow_management_interface)).
      - O(state), O(purge_other_config) and O(allow_management_interface) given beside O(networks) are the defaults of
        every element; the other options of a single network cannot be combined with O(networks).
      - A network that carries the VLANs of other elements (O(parent_network)) is converged before them.
        Each name may appear once; give a VLAN network and its O(ip_configuration) in the same element.
    type: list
    elements: dict
  description:
    description: Network description.
    type: str
  state:
    description: V(absent) destroys the VLANs or bonds of the network and the network itself; physical and management networks are refused.
    type: str
    choices: [present, absent]
    default: present
  mtu:
    description: MTU of the network; interfaces take it the next time they are plugged.
    type: int
  device:
    description: Physical NIC, for example C(eth1), that carries the VLAN or whose network is adopted.
    type: str
  parent_network:
    description: Name of the network whose interface on each host carries the VLAN (for a VLAN on a bond).
    type: str
  vlan:
    description: VLAN tag (0-4094).
    type: int
  bond:
    description: Bond of physical NICs on every host.
    type: dict
    suboptions:
      members:
        description: NIC device names, for example C([eth2, eth3]).
        type: list
        elements: str
        required: true
      mode:
        description: Bond mode.
        type: str
        choices: [balance-slb, active-backup, lacp]
        default: balance-slb
  ip_configuration:
    description: IP configuration of this network's interface on some hosts.
    type: list
    elements: dict
    suboptions:
      host:
        description: Host name label.
        type: str
        required: true
      mode:
        description: Addressing mode.
        type: str
        choices: [static, dhcp, none]
        default: static
      ip:
        description: Address, for O(ip_configuration[].mode=static).
        type: str
      netmask:
        description: Netmask, for O(ip_configuration[].mode=static).
        type: str
      gateway:
        description: Gateway; usually empty on a storage network.
        type: str
      dns:
        description: Comma-separated DNS servers.
        type: str
  allow_management_interface:
    description: Allow O(ip_configuration) to change the management interface.
    type: bool
    default: false
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.other_config
"""

EXAMPLES = r"""
- name: Storage VLAN 120 on eth1 of every host, with static addresses
  vdc.xenpool.network:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    name: storage-a
    device: eth1
    vlan: 120
    mtu: 9000
    ip_configuration:
      - {host: xen-intel-01, ip: 10.120.0.11, netmask: 255.255.255.0}
      - {host: xen-intel-02, ip: 10.120.0.12, netmask: 255.255.255.0}
  delegate_to: localhost

- name: Bond of eth2 and eth3
  vdc.xenpool.network:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    name: vm-bond
    bond:
      members: [eth2, eth3]
      mode: active-backup
  delegate_to: localhost

- name: Every network of the pool in one run (the bond before the VLAN it carries)
  vdc.xenpool.network:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    networks:
      - {name: vm-bond, bond: {members: [eth2, eth3], mode: active-backup}}
      - {name: vm-prod, vlan: 200, parent_network: vm-bond}
      - name: storage-a
        device: eth1
        vlan: 120
        mtu: 9000
        ip_configuration:
          - {host: xen-intel-01, ip: 10.120.0.11, netmask: 255.255.255.0}
  delegate_to: localhost

- name: Remove a VLAN network
  vdc.xenpool.network:
    hostname: https://xen-intel-01.dc.example.org
    password: "{{ vault_xen_root_password }}"
    name: old-vlan
    state: absent
  delegate_to: localhost
"""

RETURN = r"""
network:
  description: The network after the run (the prediction in check mode); C(state=absent) when it does not exist.
  returned: success, without O(networks)
  type: dict
  contains:
    name: {description: Name., type: str, returned: when present}
    description: {description: Description., type: str, returned: when present}
    mtu: {description: MTU., type: int, returned: when present}
    other_config: {description: other_config without the collection's ownership marker., type: dict, returned: when present}
    hosts:
      description: Host name -> interface (device, vlan, ip_mode, ip, netmask, gateway, management, bond).
      type: dict
      returned: when present
plan:
  description: "The planned writes in order, one line each (C(<XenAPI call> <host>: <detail>))."
  returned: success, without O(networks)
  type: list
  elements: str
networks:
  description: With O(networks), one entry per network in the order they were converged.
  returned: success, with O(networks)
  type: list
  elements: dict
  contains:
    name: {description: Network name., type: str, returned: always}
    changed: {description: Whether this network changed (would change in check mode)., type: bool, returned: always}
    plan: {description: "Its planned writes, like RV(plan).", type: list, elements: str, returned: always}
    network: {description: "The network after the run, like RV(network).", type: dict, returned: always}
"""

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import OTHER_CONFIG_SPEC
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError, PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network as netsvc
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network_fleet as fleet
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.validate import BOND_MODES

NETWORK_SPEC = {
    "name": {"type": "str", "required": True, "aliases": ["name_label"]},
    "description": {"type": "str"},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "mtu": {"type": "int"},
    **OTHER_CONFIG_SPEC,
    "device": {"type": "str"},
    "parent_network": {"type": "str"},
    "vlan": {"type": "int"},
    "bond": {
        "type": "dict",
        "options": {
            "members": {"type": "list", "elements": "str", "required": True},
            "mode": {"type": "str", "choices": list(BOND_MODES), "default": "balance-slb"},
        },
    },
    "ip_configuration": {
        "type": "list",
        "elements": "dict",
        "options": {
            "host": {"type": "str", "required": True},
            "mode": {"type": "str", "choices": ["static", "dhcp", "none"], "default": "static"},
            "ip": {"type": "str"},
            "netmask": {"type": "str"},
            "gateway": {"type": "str"},
            "dns": {"type": "str"},
        },
    },
    "allow_management_interface": {"type": "bool", "default": False},
}
NETWORK_EXCLUSIVE = [("vlan", "bond"), ("device", "parent_network"), ("device", "bond")]
# Options of one network that have no default: beside `networks` they would be ambiguous.
SINGLE_ONLY = ("name", "description", "mtu", "other_config", "device", "parent_network", "vlan", "bond", "ip_configuration")
# Options with a default: beside `networks` they are the defaults of every element.
FLEET_DEFAULTS = ("state", "purge_other_config", "allow_management_interface")
ARGUMENT_SPEC = dict(NETWORK_SPEC, name={"type": "str", "aliases": ["name_label"]}, networks={"type": "list", "elements": "dict"})


def desired_state(params):
    other = params["other_config"]
    return {
        "name": params["name"],
        "description": params["description"],
        "state": params["state"],
        "mtu": params["mtu"],
        "other_config": {str(k): str(v) for k, v in other.items()} if other is not None else None,
        "device": params["device"],
        "parent_network": params["parent_network"],
        "vlan": params["vlan"],
        "bond": params["bond"],
        "ip_configuration": params["ip_configuration"],
        "purge_other_config": params["purge_other_config"],
        "allow_management_interface": params["allow_management_interface"],
    }


def fleet_desired(params):
    """Each element of networks over the fleet defaults, validated like a single network's options."""
    out = []
    for index, item in enumerate(params["networks"]):
        merged = dict({k: params[k] for k in FLEET_DEFAULTS}, **(item or {}))
        result = ArgumentSpecValidator(NETWORK_SPEC, mutually_exclusive=NETWORK_EXCLUSIVE).validate(merged)
        if result.error_messages:
            raise PlanError("INVALID_VALUE", "networks[%d] (%s): %s" % (index, merged.get("name", "?"), "; ".join(result.error_messages)),
                            "See the options of a single network")
        out.append(desired_state(result.validated_parameters))
    return out


def converge_one(module):
    params = module.params
    desired = desired_state(params)

    def plan(state):
        # In check mode the parent of a VLAN may be a bond network that an earlier task only predicted.
        result = netsvc.plan(state, desired, params["purge_other_config"], params["allow_management_interface"],
                             pending_parent=module.check_mode)
        for note in result.notes:
            module.warn(note)
        return result

    def apply(client, _state, result):
        net = netsvc.apply(client, result)
        return netsvc.view(netsvc.read(client), net) if not result.destroy else {"state": "absent"}

    module.converge("configure", "network", params["name"], netsvc.read, plan, apply, "network")


def converge_fleet(module):
    """One read; every plan before the first write; apply in order; one more read for the result after writes."""
    label = module.params["hostname"]
    items = []
    try:
        wanted = fleet_desired(module.params)
    except PlanError as err:
        module.fail("configure", "networks of pool", label, err)
    with module.session("configure", "networks of pool", label) as client:
        try:
            items = fleet.plan_fleet(netsvc.read(client), wanted, pending=module.check_mode)
            final = None
            if any(item.plan.changed for item in items) and not module.check_mode and fleet.apply_fleet(client, items):
                final = netsvc.read(client)
        except CollectionError as err:
            module.fail("configure", "networks of pool", label, err, changed=any(item.applied for item in items))
    entries, diffs = [], []
    for item in items:
        for note in item.plan.notes:
            module.warn(note)
        after = fleet.view(final, item) if final is not None else item.plan.after
        entries.append({"name": item.name, "changed": item.plan.changed, "plan": item.plan.summary(), "network": after})
        if item.plan.changed:
            diffs.append({"before_header": "network %s" % item.name, "after_header": "network %s" % item.name,
                          "before": item.plan.before, "after": after})
    result = {"networks": entries}
    if module.diff_mode:
        result["diff"] = diffs
    module.exit_result(changed=any(item.plan.changed for item in items), **result)


def main():
    module = XenModule(
        ARGUMENT_SPEC,
        mutually_exclusive=NETWORK_EXCLUSIVE + [("networks", key) for key in SINGLE_ONLY],
        required_one_of=[("name", "networks")],
    )
    if module.params["networks"] is None:
        converge_one(module)
    else:
        converge_fleet(module)


if __name__ == "__main__":
    main()
