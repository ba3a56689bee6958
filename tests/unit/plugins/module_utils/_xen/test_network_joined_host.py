# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A host joins a pool whose VLAN sits on a bond (site.yml after a host is added to the inventory): the bond exists
on the old members only, and the same run makes it on the new host before the VLAN. The VLAN's plan must rest on
that (pending_parent) instead of refusing, and still refuse when nothing in the run makes the parent's interface.
Against xapisim in-process: xen-03 joins with xapi's pool.join, so its PIFs land on the pool's networks as xapi puts them."""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, hosts_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network as netsvc
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network_fleet as fleet
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import pool as poolsvc
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client

BOND = {"name": "vm-bond", "bond": {"members": ["eth2", "eth3"], "mode": "active-backup"}}
VLAN = {"name": "vm-prod", "parent_network": "vm-bond", "vlan": 200}
JOINER = "127.0.0.13"


@pytest.fixture(name="xapi")
def xapi_fixture():
    xapi = InProcessXapi(hosts_datacenter(("xen-", 3, "GenuineIntel"), pools=[{"name_label": "pool-a", "master": "xen-01",
                                                                              "members": ["xen-02"]}]))
    with client(xapi) as master:
        fleet.apply_fleet(master, fleet.plan_fleet(netsvc.read(master), [dict(BOND), dict(VLAN)]))
    with client(xapi) as master:  # xen-03 joins, as the pool module joins it
        state = poolsvc.read(master)
        plan = poolsvc.plan(state, {}, [poolsvc.Member(JOINER, "root", xapi.password)], lambda m: client(xapi, m.address))
        poolsvc.apply(master, state, plan, "root", xapi.password, False, False, 30)
    assert xapi.host_names() == ["xen-01", "xen-02", "xen-03"]
    xapi.reset_calls()
    yield xapi
    xapi.close()


def vlan_hosts(xapi):
    hosts = xapi.records("host")
    return sorted(hosts[p["host"]]["name_label"] for p in xapi.records("PIF").values() if str(p["VLAN"]) == "200")


def test_the_vlan_is_planned_on_the_bond_the_same_run_gives_the_joined_host(xapi):
    with client(xapi) as master:
        items = fleet.plan_fleet(netsvc.read(master), [dict(BOND), dict(VLAN)])
        assert [s["object"] for s in items[1].plan.steps if s.get("call", ("",))[0] == "VLAN.create"] == ["xen-03"]
        assert xapi.writes() == []
        assert fleet.apply_fleet(master, items)
    assert vlan_hosts(xapi) == ["xen-01", "xen-02", "xen-03"]


def test_without_the_bond_in_the_run_the_vlan_is_refused_before_any_write(xapi):
    with client(xapi) as master:
        with pytest.raises(netsvc.NetworkError) as info:
            fleet.plan_fleet(netsvc.read(master), [dict(VLAN)])
    assert info.value.code == "PIF_NOT_FOUND" and "xen-03" in info.value.message
    assert xapi.writes() == []
