# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a read-only or no-op module run costs in XenAPI calls on a current server: login, one event.from, logout,
the same for 1 VM as for 300 (issue 14). Counted by the call log of xapisim in-process, as the server sees them."""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.modules import network, pool_info, vm_info, vms
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import attach, run_module

READ = ["session.login_with_password", "event.from", "session.logout"]


@pytest.fixture(name="pools", scope="module")
def pools_fixture():
    """Pools of 4 hosts with 1 and with 300 VMs, shared by the runs of this file: none of them writes."""
    pools = {count: InProcessXapi(pool_datacenter(hosts=4, vms=count)) for count in (1, 300)}
    yield pools
    for xapi in pools.values():
        xapi.close()


def calls_of(monkeypatch, xapi, module, args):
    """The methods one run of module sent, in order."""
    xapi.reset_calls()
    attach(monkeypatch, xapi)
    result = run_module(module, "127.0.0.11", xapi, args)
    assert result["changed"] is False and xapi.writes() == []
    return [method for _address, method in xapi.calls()]


def declared_vms(count):
    return {"vms": [{"name": "vm-%04d" % i, "power_state": "running"} for i in range(1, count + 1)]}


@pytest.mark.parametrize("module, args", [
    (pool_info, lambda n: {"io_metrics": False}),
    (vm_info, lambda n: {}),
    (vms, declared_vms),
    (network, lambda n: {"networks": [{"name": "Pool-wide network associated with eth0"}]}),
], ids=["pool_info", "vm_info", "vms", "network"])
def test_one_read_whatever_the_number_of_vms(monkeypatch, pools, module, args):
    small = calls_of(monkeypatch, pools[1], module, args(1))
    big = calls_of(monkeypatch, pools[300], module, args(300))
    assert small == big == READ
