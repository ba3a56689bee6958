# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The balance module's main() against xapisim in-process: check mode writes nothing, apply migrates, bad input fails early."""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import rrd as rrd_mod
from ansible_collections.vdc.xenpool.plugins.modules import balance
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client as client_of
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Failed, attach, run_module

MASTER = "127.0.0.11"


@pytest.fixture(name="xapi")
def xapi_fixture(monkeypatch):
    """Three 64 GiB hosts, every guest (six of 2 GiB) started on xen-01 (about a quarter of its memory)."""
    xapi = InProcessXapi(pool_datacenter(hosts=3, vms=6, power_state="Halted"))
    first = xapi.find("host", name_label="xen-01")
    with client_of(xapi) as client:
        for i in range(1, 7):
            client.call("VM.start_on", xapi.find("VM", name_label="vm-%04d" % i), first, False, False)
    xapi.reset_calls()
    attach(monkeypatch, xapi)
    monkeypatch.setattr(rrd_mod, "http_get", lambda url, tls, timeout: (503, b""))  # no CPU figures: memory decides
    yield xapi
    xapi.close()


def resident(xapi):
    hosts = xapi.records("host")
    return {rec["name_label"]: hosts[rec["resident_on"]]["name_label"] for rec in xapi.records("VM").values()
            if rec["name_label"].startswith("vm-")}


def test_check_mode_plans_moves_and_writes_nothing(xapi):
    result = run_module(balance, MASTER, xapi, {"memory_threshold": 20}, check=True)
    assert result["changed"] and result["moves"]
    assert {m["from"] for m in result["moves"]} == {"xen-01"}
    assert result["load_before"]["xen-01"]["memory_percent"] > 20 >= result["load_after"]["xen-01"]["memory_percent"]
    assert result["plan"][0].startswith("migrate VM vm-")
    assert xapi.writes() == [] and set(resident(xapi).values()) == {"xen-01"}


def test_apply_migrates_live_and_a_pool_within_thresholds_is_left_alone(xapi):
    result = run_module(balance, MASTER, xapi, {"memory_threshold": 20, "max_parallel": 2})
    assert result["changed"]
    migrations = xapi.summaries("Async.VM.pool_migrate")
    assert len(migrations) == len(result["moves"]) and all(s.endswith("options={'live': 'true'}") for s in migrations)
    where = resident(xapi)
    assert all(where[m["vm"]] == m["to"] for m in result["moves"])
    xapi.reset_calls()
    calm = run_module(balance, MASTER, xapi, {})
    assert not calm["changed"] and calm["moves"] == [] and xapi.writes() == []


@pytest.mark.parametrize("args, words", [
    ({"memory_threshold": 0}, "INVALID_VALUE memory_threshold is 0. Set memory_threshold to a percentage from 1 to 100"),
    ({"max_parallel": 0}, "INVALID_VALUE max_parallel is 0"),
])
def test_bad_values_fail_before_connecting(xapi, args, words):
    failure = run_module(balance, MASTER, xapi, args, expect=Failed)
    assert failure["msg"].startswith("Failed to balance pool '%s': %s" % (MASTER, words))
    assert xapi.calls() == []


def test_unknown_host_fails_with_the_one_shape_and_no_write(xapi):
    failure = run_module(balance, MASTER, xapi, {"hosts": ["xen-09"]}, expect=Failed)
    assert failure["msg"] == ("Failed to balance pool '%s': HOST_NOT_FOUND no host 'xen-09' in the pool. "
                              "Check the names in hosts (name labels, matched exactly)" % MASTER)
    assert failure["error_code"] == "HOST_NOT_FOUND" and xapi.writes() == []
