# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network as netsvc
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_pool_world import World


@pytest.fixture
def world():
    w = World()
    for i in (1, 2, 3):
        w.standalone("xen-%02d" % i, "10.0.0.%d" % i)
    for i in (2, 3):
        w.client("10.0.0.%d" % i).call_async("pool.join", "10.0.0.1", "root", w.password)
    w.log.clear()
    return w


def converge(world, desired, check=False, allow_management=False, purge=False):
    client = world.client("10.0.0.1")
    state = netsvc.read(client)
    net, plan = netsvc.plan(state, dict({"state": "present"}, **desired), purge, allow_management)
    if plan.changed and not check:
        net = netsvc.apply(client, net, plan)
    return net, plan


def vlan_pifs(world, net):
    return [p for p in world.db_of("10.0.0.1")["PIF"].values() if p["network"] == net]


def test_vlan_on_every_host_check_then_apply_then_noop(world):
    desired = {"name": "storage-a", "device": "eth1", "vlan": 120, "mtu": 9000}
    _net, plan = converge(world, desired, check=True)
    assert plan.create is not None and len(plan.per_host) == 3
    assert sorted(plan.after["hosts"]) == ["xen-01", "xen-02", "xen-03"]
    assert world.writes() == []
    net, _unused = converge(world, desired)
    assert sorted(p["VLAN"] for p in vlan_pifs(world, net)) == ["120", "120", "120"]
    assert world.db_of("10.0.0.1")["network"][net]["MTU"] == "9000"
    world.log.clear()
    _net, plan = converge(world, desired)
    assert not plan.changed and world.writes() == []


def test_missing_vlan_on_one_host_is_added_there_only(world):
    desired = {"name": "storage-a", "device": "eth1", "vlan": 120}
    net, _unused = converge(world, desired)
    db = world.db_of("10.0.0.1")
    victim = next(r for r, v in db["VLAN"].items() if db["PIF"][v["untagged_PIF"]]["host"] == next(
        h for h, rec in db["host"].items() if rec["name_label"] == "xen-02"))
    world.client("10.0.0.1").call("VLAN.destroy", victim)
    _net, plan = converge(world, desired, check=True)
    assert [db["host"][h]["name_label"] for _m, h, _a in plan.per_host] == ["xen-02"]
    converge(world, desired)
    assert len(vlan_pifs(world, net)) == 3


def test_vlan_tag_taken_by_other_network_is_refused(world):
    converge(world, {"name": "storage-a", "device": "eth1", "vlan": 120})
    world.log.clear()
    with pytest.raises(netsvc.NetworkError) as info:
        converge(world, {"name": "other", "device": "eth1", "vlan": 120})
    assert info.value.code == "PIF_VLAN_EXISTS"
    assert world.writes() == []


def test_bond_create_mode_change_and_member_change_refused(world):
    desired = {"name": "vm-bond", "bond": {"members": ["eth2", "eth3"], "mode": "balance-slb"}}
    net, _unused = converge(world, desired)
    db = world.db_of("10.0.0.1")
    assert len(db["Bond"]) == 3
    _net, plan = converge(world, dict(desired, bond={"members": ["eth3", "eth2"], "mode": "active-backup"}))
    assert [s[0] for s in plan.steps] == ["Bond.set_mode"] * 3
    assert {b["mode"] for b in db["Bond"].values()} == {"active-backup"}
    with pytest.raises(netsvc.NetworkError) as info:
        converge(world, dict(desired, bond={"members": ["eth1", "eth2"], "mode": "active-backup"}))
    assert info.value.code == "BOND_MEMBERS_DIFFER"
    converge(world, {"name": "on-bond", "parent_network": "vm-bond", "vlan": 200})
    assert len([p for p in db["PIF"].values() if p["VLAN"] == "200"]) == 3
    assert net


def test_storage_ip_configuration_and_management_protection(world):
    converge(world, {"name": "storage-a", "device": "eth1", "vlan": 120})
    desired = {"name": "storage-a", "ip_configuration": [{"host": "xen-02", "mode": "static", "ip": "10.120.0.12", "netmask": "255.255.255.0"}]}
    _net, plan = converge(world, desired)
    assert [m for m, _h, _a in plan.per_host] == ["PIF.reconfigure_ip"]
    world.log.clear()
    _net, plan = converge(world, desired)
    assert not plan.changed
    mgmt = {"name": "Pool-wide network associated with eth0",
            "ip_configuration": [{"host": "xen-01", "mode": "static", "ip": "10.9.9.9", "netmask": "255.0.0.0"}]}
    with pytest.raises(netsvc.NetworkError) as info:
        converge(world, mgmt)
    assert info.value.code == "PIF_IS_MANAGEMENT_INTERFACE"
    assert world.writes() == []
    _net, plan = converge(world, mgmt, allow_management=True)
    assert plan.changed


def test_adopt_physical_network_by_device_and_rename(world):
    net, plan = converge(world, {"name": "storage-phys", "device": "eth1", "other_config": {"purpose": "iscsi"}})
    assert plan.create is None
    assert world.db_of("10.0.0.1")["network"][net]["name_label"] == "storage-phys"


def test_absent_destroys_vlans_then_network_and_refuses_physical(world):
    net, _unused = converge(world, {"name": "storage-a", "device": "eth1", "vlan": 120})
    _n, plan = converge(world, {"name": "storage-a", "state": "absent"})
    assert [s[0] for s in plan.steps] == ["VLAN.destroy"] * 3 + ["network.destroy"]
    assert net not in world.db_of("10.0.0.1")["network"]
    _n, plan = converge(world, {"name": "storage-a", "state": "absent"})
    assert not plan.changed
    with pytest.raises(netsvc.NetworkError):
        converge(world, {"name": "Pool-wide network associated with eth1", "state": "absent"})
