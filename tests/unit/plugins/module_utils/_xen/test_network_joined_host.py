# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host joins a pool whose VLAN sits on a bond (site.yml after a host is added to the inventory): the bond exists
on the old members only, and the same run makes it on the new host before the VLAN. The VLAN's plan must rest on
that (pending_parent) instead of refusing, and still refuse when nothing in the run makes the parent's interface."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network as netsvc
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network_fleet as fleet
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_pool_world import World

BOND = {"name": "vm-bond", "bond": {"members": ["eth2", "eth3"], "mode": "active-backup"}}
VLAN = {"name": "vm-prod", "parent_network": "vm-bond", "vlan": 200}


@pytest.fixture
def world():
    w = World()
    for i in (1, 2, 3):
        w.standalone("xen-%02d" % i, "10.0.0.%d" % i)
    w.client("10.0.0.2").call_async("pool.join", "10.0.0.1", "root", w.password)
    client = w.client("10.0.0.1")
    fleet.apply_fleet(client, fleet.plan_fleet(netsvc.read(client), [dict(BOND), dict(VLAN)]))
    w.client("10.0.0.3").call_async("pool.join", "10.0.0.1", "root", w.password)
    w.log.clear()
    return w


def vlan_hosts(world):
    db = world.db_of("10.0.0.1")
    return sorted(db["host"][p["host"]]["name_label"] for p in db["PIF"].values() if p["VLAN"] == "200")


def test_the_vlan_is_planned_on_the_bond_the_same_run_gives_the_joined_host(world):
    client = world.client("10.0.0.1")
    items = fleet.plan_fleet(netsvc.read(client), [dict(BOND), dict(VLAN)])
    assert [s["object"] for s in items[1].plan.steps if s.get("call", ("",))[0] == "VLAN.create"] == ["xen-03"]
    assert world.writes() == []
    assert fleet.apply_fleet(client, items)
    assert vlan_hosts(world) == ["xen-01", "xen-02", "xen-03"]


def test_without_the_bond_in_the_run_the_vlan_is_refused_before_any_write(world):
    client = world.client("10.0.0.1")
    with pytest.raises(netsvc.NetworkError) as info:
        fleet.plan_fleet(netsvc.read(client), [dict(VLAN)])
    assert info.value.code == "PIF_NOT_FOUND" and "xen-03" in info.value.message
    assert world.writes() == []
