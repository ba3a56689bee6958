# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from xapisim.testing import hosts_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.network import NETWORK_CLASSES
from ansible_collections.vdc.xenpool.plugins.modules import network as network_module
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, run_module, start


@pytest.fixture(name="xapi")
def xapi_fixture(monkeypatch):
    """xapisim in-process: pool-a of xen-01 (master) and xen-02, four NICs each."""
    pools = [{"name_label": "pool-a", "master": "xen-01", "members": ["xen-02"]}]
    xapi = start(monkeypatch, hosts_datacenter(("xen-", 2, "GenuineIntel"), pools=pools))
    yield xapi
    xapi.close()


def run(xapi, args, expect=Exited, check=False, diff=False):
    return run_module(network_module, "http://" + xapi.master, xapi, args, expect=expect, check=check, diff=diff)


VLAN = {"name": "storage-a", "device": "eth1", "vlan": 120, "mtu": 9000}


def test_create_check_apply_noop_delete(xapi):
    result = run(xapi, VLAN, check=True, diff=True)
    assert result["changed"] and result["diff"]["before"] == {"state": "absent"}
    assert sorted(result["diff"]["after"]["hosts"]) == ["xen-01", "xen-02"]
    assert xapi.writes() == []
    result = run(xapi, VLAN)
    assert result["network"]["mtu"] == 9000 and {h["vlan"] for h in result["network"]["hosts"].values()} == {120}
    xapi.reset_calls()
    assert run(xapi, VLAN)["changed"] is False
    assert xapi.writes() == []
    result = run(xapi, {"name": "storage-a", "state": "absent"}, check=True)
    assert result["changed"] and xapi.writes() == []
    assert run(xapi, {"name": "storage-a", "state": "absent"})["changed"] is True
    assert run(xapi, {"name": "storage-a", "state": "absent"})["changed"] is False


def test_invalid_tag_and_exclusive_options(xapi):
    result = run(xapi, {"name": "x", "device": "eth1", "vlan": 5000}, expect=Failed)
    assert result["msg"].startswith("Failed to configure network 'x': INVALID_VALUE vlan 5000 is outside 0-4094")
    assert xapi.writes() == []
    result = run(xapi, {"name": "x", "vlan": 10, "bond": {"members": ["eth2"]}}, expect=Failed)
    assert "mutually exclusive" in result["msg"]


def test_management_interface_is_protected(xapi):
    args = {"name": "Pool-wide network associated with eth0", "ip_configuration": [{"host": "xen-01", "ip": "10.1.1.1", "netmask": "255.0.0.0"}]}
    result = run(xapi, args, expect=Failed)
    assert result["error_code"] == "PIF_IS_MANAGEMENT_INTERFACE"
    assert xapi.writes() == []


def test_bad_ip_after_vlans_writes_nothing_and_says_what_to_do(xapi):
    """Issue 9 (6): the network and its VLANs were created before PIF.reconfigure_ip refused 999.1.1.1."""
    args = dict(VLAN, ip_configuration=[{"host": "xen-01", "ip": "999.1.1.1", "netmask": "255.255.255.0"}])
    result = run(xapi, args, expect=Failed)
    assert result["msg"] == ("Failed to configure network 'storage-a': INVALID_VALUE ip of host xen-01: '999.1.1.1' is not an IPv4 "
                             "or IPv6 address. Correct these options; nothing was changed")
    assert xapi.writes() == []


def test_plan_is_in_the_result(xapi):
    result = run(xapi, VLAN, check=True)
    assert result["plan"][0] == "create network storage-a"
    assert "VLAN.create xen-01: VLAN 120 on eth1" in result["plan"]


FLEET = [
    {"name": "vm-prod", "vlan": 200, "parent_network": "vm-bond", "description": "Production VMs"},
    {"name": "vm-bond", "bond": {"members": ["eth2", "eth3"], "mode": "active-backup"}},
    dict(VLAN, ip_configuration=[{"host": "xen-01", "ip": "10.120.0.11", "netmask": "255.255.255.0"},
                                 {"host": "xen-02", "ip": "10.120.0.12", "netmask": "255.255.255.0"}]),
]


def test_fleet_check_apply_noop_in_one_read(xapi):
    """The bond comes before the VLAN it carries, whatever the order given; a no-op is one login, one read."""
    result = run(xapi, {"networks": FLEET}, check=True, diff=True)
    assert result["changed"] and [n["name"] for n in result["networks"]] == ["vm-bond", "storage-a", "vm-prod"]
    assert xapi.writes() == [] and len(result["diff"]) == 3
    assert "VLAN.create xen-01: VLAN 200 on bond" in result["networks"][2]["plan"]
    result = run(xapi, {"networks": FLEET})
    assert all(n["changed"] for n in result["networks"])
    prod = result["networks"][2]["network"]
    assert {h["vlan"] for h in prod["hosts"].values()} == {200} and prod["description"] == "Production VMs"
    assert result["networks"][1]["network"]["hosts"]["xen-02"]["ip"] == "10.120.0.12"
    xapi.reset_calls()
    result = run(xapi, {"networks": FLEET}, check=True)
    assert result["changed"] is False and not any(n["changed"] for n in result["networks"])
    assert xapi.writes() == []
    xapi.reset_calls()
    assert run(xapi, {"networks": FLEET})["changed"] is False and xapi.writes() == []
    reads = [method for _address, method in xapi.calls() if method not in ("session.login_with_password", "session.logout")]
    bulk = {"event.from"} | {"%s.get_all_records" % c for c in NETWORK_CLASSES}
    assert set(reads) <= bulk and len(reads) == len(set(reads)) and reads.count("event.from") <= 1, reads
    assert xapi.calls("session.login_with_password") == [(xapi.master, "session.login_with_password")]


def test_fleet_refuses_before_any_write(xapi):
    broken = FLEET + [{"name": "wrong", "device": "eth9", "vlan": 5}]
    result = run(xapi, {"networks": broken}, expect=Failed)
    assert "network 'wrong': host" in result["msg"] and result["error_code"] == "PIF_NOT_FOUND"
    assert xapi.writes() == []
    result = run(xapi, {"networks": [VLAN, dict(VLAN, vlan=121)]}, expect=Failed)
    assert result["error_code"] == "DUPLICATE_NAME" and xapi.writes() == []
    result = run(xapi, {"networks": [{"name": "x", "vlan": 10, "bond": {"members": ["eth2"]}}]}, expect=Failed)
    assert "INVALID_VALUE networks[0] (x)" in result["msg"] and "mutually exclusive" in result["msg"]
    result = run(xapi, {"networks": [VLAN], "mtu": 1500}, expect=Failed)
    assert "mutually exclusive" in result["msg"]
    assert xapi.writes() == []


def test_fleet_defaults_and_absent(xapi):
    run(xapi, {"networks": [VLAN, dict(VLAN, name="storage-b", vlan=121)]})
    result = run(xapi, {"networks": [{"name": "storage-a"}, {"name": "storage-b"}], "state": "absent"})
    assert [n["network"] for n in result["networks"]] == [{"state": "absent"}] * 2
    assert not [n for n in xapi.records("network").values() if n["name_label"].startswith("storage-")]
