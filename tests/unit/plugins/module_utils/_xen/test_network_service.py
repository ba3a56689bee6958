# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The network service against xapisim in-process: a pool of three hosts with four NICs each, VLANs, bonds and
storage addresses made through xapi's calls; the records and the writes come from the simulator."""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, hosts_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import network as netsvc
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenPlanError


@pytest.fixture(name="xapi")
def xapi_fixture():
    xapi = InProcessXapi(hosts_datacenter(("xen-", 3, "GenuineIntel"), pools=[{"name_label": "pool-a", "master": "xen-01",
                                                                              "members": ["xen-02", "xen-03"]}]))
    yield xapi
    xapi.close()


def converge(xapi, desired, check=False, allow_management=False, purge=False):
    with client(xapi) as master:
        state = netsvc.read(master)
        plan = netsvc.plan(state, dict({"state": "present"}, **desired), purge, allow_management, pending_parent=check)
        net = plan.net
        if plan.changed and not check:
            net = netsvc.apply(master, plan)
    return net, plan


def calls(plan, method=None):
    """The XenAPI methods of the plan's steps, in order."""
    return [s["call"][0] for s in plan.steps if "call" in s and (method is None or s["call"][0] == method)]


def hosts_of(plan, method):
    return [s["object"] for s in plan.steps if s.get("call", ("",))[0] == method]


def vlan_pifs(xapi, net):
    return [p for p in xapi.records("PIF").values() if p["network"] == net]


def tagged(xapi, tag):
    return [p for p in xapi.records("PIF").values() if str(p["VLAN"]) == str(tag)]


def test_vlan_on_every_host_check_then_apply_then_noop(xapi):
    desired = {"name": "storage-a", "device": "eth1", "vlan": 120, "mtu": 9000}
    _net, plan = converge(xapi, desired, check=True)
    assert plan.create is not None and calls(plan) == ["VLAN.create"] * 3
    assert sorted(plan.after["hosts"]) == ["xen-01", "xen-02", "xen-03"]
    assert xapi.writes() == []
    net, _unused = converge(xapi, desired)
    assert sorted(str(p["VLAN"]) for p in vlan_pifs(xapi, net)) == ["120", "120", "120"]
    assert str(xapi.records("network")[net]["MTU"]) == "9000"
    xapi.reset_calls()
    _net, plan = converge(xapi, desired)
    assert not plan.changed and xapi.writes() == []


def test_missing_vlan_on_one_host_is_added_there_only(xapi):
    desired = {"name": "storage-a", "device": "eth1", "vlan": 120}
    net, _unused = converge(xapi, desired)
    pifs, xen02 = xapi.records("PIF"), xapi.find("host", name_label="xen-02")
    victim = next(r for r, v in xapi.records("VLAN").items() if pifs[v["untagged_PIF"]]["host"] == xen02)
    with client(xapi) as master:
        master.call("VLAN.destroy", victim)
    _net, plan = converge(xapi, desired, check=True)
    assert hosts_of(plan, "VLAN.create") == ["xen-02"]
    converge(xapi, desired)
    assert len(vlan_pifs(xapi, net)) == 3


def test_vlan_tag_taken_by_other_network_is_refused(xapi):
    converge(xapi, {"name": "storage-a", "device": "eth1", "vlan": 120})
    xapi.reset_calls()
    with pytest.raises(netsvc.NetworkError) as info:
        converge(xapi, {"name": "other", "device": "eth1", "vlan": 120})
    assert info.value.code == "PIF_VLAN_EXISTS"
    assert xapi.writes() == []


def test_bond_create_mode_change_and_member_change_refused(xapi):
    desired = {"name": "vm-bond", "bond": {"members": ["eth2", "eth3"], "mode": "balance-slb"}}
    net, _unused = converge(xapi, desired)
    assert len(xapi.records("Bond")) == 3
    _net, plan = converge(xapi, dict(desired, bond={"members": ["eth3", "eth2"], "mode": "active-backup"}))
    assert calls(plan) == ["Bond.set_mode"] * 3
    assert {b["mode"] for b in xapi.records("Bond").values()} == {"active-backup"}
    with pytest.raises(netsvc.NetworkError) as info:
        converge(xapi, dict(desired, bond={"members": ["eth1", "eth2"], "mode": "active-backup"}))
    assert info.value.code == "BOND_MEMBERS_DIFFER"
    converge(xapi, {"name": "on-bond", "parent_network": "vm-bond", "vlan": 200})
    assert len(tagged(xapi, 200)) == 3
    assert net


def test_storage_ip_configuration_and_management_protection(xapi):
    converge(xapi, {"name": "storage-a", "device": "eth1", "vlan": 120})
    desired = {"name": "storage-a", "ip_configuration": [{"host": "xen-02", "mode": "static", "ip": "10.120.0.12", "netmask": "255.255.255.0"}]}
    _net, plan = converge(xapi, desired)
    assert calls(plan) == ["PIF.reconfigure_ip"]
    xapi.reset_calls()
    _net, plan = converge(xapi, desired)
    assert not plan.changed
    mgmt = {"name": "Pool-wide network associated with eth0",
            "ip_configuration": [{"host": "xen-01", "mode": "static", "ip": "10.9.9.9", "netmask": "255.0.0.0"}]}
    with pytest.raises(netsvc.NetworkError) as info:
        converge(xapi, mgmt)
    assert info.value.code == "PIF_IS_MANAGEMENT_INTERFACE"
    assert xapi.writes() == []
    _net, plan = converge(xapi, mgmt, allow_management=True)
    assert plan.changed


def test_adopt_physical_network_by_device_and_rename(xapi):
    net, plan = converge(xapi, {"name": "storage-phys", "device": "eth1", "other_config": {"purpose": "iscsi"}})
    assert plan.create is None
    assert xapi.records("network")[net]["name_label"] == "storage-phys"


def test_absent_destroys_vlans_then_network_and_refuses_physical(xapi):
    net, _unused = converge(xapi, {"name": "storage-a", "device": "eth1", "vlan": 120})
    _n, plan = converge(xapi, {"name": "storage-a", "state": "absent"})
    assert calls(plan) == ["VLAN.destroy"] * 3 + ["network.destroy"]
    assert all(s["destructive"] for s in plan.steps)
    assert net not in xapi.records("network")
    _n, plan = converge(xapi, {"name": "storage-a", "state": "absent"})
    assert not plan.changed
    with pytest.raises(netsvc.NetworkError):
        converge(xapi, {"name": "Pool-wide network associated with eth1", "state": "absent"})


@pytest.mark.parametrize("desired, needle", [
    ({"name": "b", "bond": {"members": ["eth2"], "mode": "balance-slb"}}, "at least 2 distinct NICs"),
    ({"name": "b", "bond": {"members": ["eth2", "eth2"], "mode": "balance-slb"}}, "at least 2 distinct NICs"),
    ({"name": "m", "device": "eth1", "vlan": 120, "mtu": -9000}, "mtu -9000 is outside 68-65535"),
    ({"name": "m", "device": "eth1", "vlan": 120, "mtu": 99999999}, "mtu 99999999 is outside 68-65535"),
    ({"name": "", "device": "eth1", "vlan": 120}, "name is empty"),
    ({"name": "v", "device": "eth1", "vlan": 4095}, "vlan 4095 is outside 0-4094"),
    ({"name": "v", "vlan": 12}, "a VLAN needs device or parent_network"),
    ({"name": "s", "device": "eth1", "vlan": 120, "ip_configuration": [{"host": "xen-01", "ip": "999.1.1.1", "netmask": "255.255.255.0"}]},
     "'999.1.1.1' is not an IPv4 or IPv6 address"),
    ({"name": "s", "device": "eth1", "vlan": 120, "ip_configuration": [{"host": "xen-01", "ip": "10.1.1.1", "netmask": "255.0.255.0"}]},
     "not a contiguous IPv4 netmask"),
    ({"name": "s", "device": "eth1", "vlan": 120, "ip_configuration": [{"host": "xen-01", "ip": "fd00::5", "netmask": "64",
                                                                       "gateway": "10.0.0.1"}]}, "not of the address family"),
])
def test_bad_input_is_refused_before_any_write(xapi, desired, needle):
    """Issue 9 (6): these were written (a one-NIC bond, MTU -9000) or written half-way (network and VLANs before a bad IP)."""
    with pytest.raises(XenPlanError) as info:
        converge(xapi, desired)
    assert needle in str(info.value)
    assert info.value.code == "INVALID_VALUE" and info.value.hint
    assert xapi.writes() == []


def test_ipv6_static_configuration_is_accepted(xapi):
    _net, plan = converge(xapi, {"name": "s6", "device": "eth1", "vlan": 130,
                                 "ip_configuration": [{"host": "xen-02", "ip": "fd00::12", "netmask": "64", "gateway": "fd00::1"}]},
                          check=True)
    assert calls(plan) == ["VLAN.create"] * 3 + ["PIF.reconfigure_ip"]


def test_bonding_the_management_nic_needs_the_explicit_option(xapi):
    desired = {"name": "mgmt-bond", "bond": {"members": ["eth0", "eth1"], "mode": "active-backup"}}
    with pytest.raises(netsvc.NetworkError) as info:
        converge(xapi, desired)
    assert info.value.code == "PIF_IS_MANAGEMENT_INTERFACE" and "allow_management_interface" in info.value.hint
    assert xapi.writes() == []
    _net, plan = converge(xapi, desired, check=True, allow_management=True)
    assert calls(plan) == ["Bond.create"] * 3


def test_vlan_on_a_bond_network_that_is_only_predicted(xapi):
    """Issue 9 (9): --check of a fresh pool predicts the VLAN on the bond created by the task before it."""
    _net, plan = converge(xapi, {"name": "vm-prod", "parent_network": "vm-bond", "vlan": 200}, check=True)
    assert calls(plan) == ["VLAN.create"] * 3
    assert plan.notes and "vm-bond" in plan.notes[0]
    assert xapi.writes() == []
    with pytest.raises(netsvc.NetworkError) as info:
        converge(xapi, {"name": "vm-prod", "parent_network": "vm-bond", "vlan": 200})
    assert info.value.code == "PIF_NOT_FOUND" and xapi.writes() == []


def test_ip_configuration_for_unknown_hosts_names_them_all(xapi):
    with pytest.raises(netsvc.NetworkError) as info:
        converge(xapi, {"name": "s", "device": "eth1", "vlan": 120, "ip_configuration": [
            {"host": "xen-09", "ip": "10.1.1.9", "netmask": "255.255.255.0"},
            {"host": "xen-08", "ip": "10.1.1.8", "netmask": "255.255.255.0"}]})
    assert info.value.code == "HOST_NOT_FOUND" and "'xen-08', 'xen-09'" in str(info.value)
    assert xapi.writes() == []


def test_a_failed_write_names_the_host_the_value_and_what_was_done(xapi):
    """Issue 9 (7): 'INVALID_IP_ADDRESS_SPECIFIED [ip]' named neither the host nor the value."""
    xapi.fail("PIF.reconfigure_ip", ["INVALID_IP_ADDRESS_SPECIFIED", "ip"])
    with client(xapi) as master:
        plan = netsvc.plan(netsvc.read(master), {"name": "s", "state": "present", "device": "eth1", "vlan": 120,
                                                 "ip_configuration": [{"host": "xen-02", "ip": "10.1.1.2", "netmask": "255.255.255.0"}]})
        with pytest.raises(netsvc.NetworkError) as info:
            netsvc.apply(master, plan)
    text = str(info.value)
    assert text.startswith("INVALID_IP_ADDRESS_SPECIFIED PIF.reconfigure_ip on xen-02 (static 10.1.1.2) failed")
    assert "done before it: create network s, VLAN.create xen-01, VLAN.create xen-02, VLAN.create xen-03" in text
    assert info.value.hint
