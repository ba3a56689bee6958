# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The balance module's main() over the fake XenAPI: check mode writes nothing, apply migrates, bad input fails early."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import rrd as rrd_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.modules import balance
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Failed, attach, run_module

READS = ("get_all_records", "get_record", "ha_compute_hypothetical_max_host_failures_to_tolerate")


class Pool:
    """Three 64 GiB hosts of the fake, every guest piled on xen-01 (26 % of its memory)."""

    def __init__(self) -> None:
        self.fake = FakeXapi()
        refs = self.fake.seed_pool(hosts=3, vms=6)["hosts"]
        vms = self.fake.objects["VM"]
        hosts = self.fake.objects["host"]
        for ref, vm in vms.items():
            if not vm["is_control_domain"] and not vm["is_a_template"]:
                hosts[vm["resident_on"]]["resident_VMs"].remove(ref)
                vm["resident_on"] = refs[0]
                hosts[refs[0]]["resident_VMs"].append(ref)
        self.password = self.fake.password
        self.fake.async_handlers["VM.pool_migrate"] = lambda vm, host, options: [{"status": "success", "result": ""}]

    def client(self, address, username="root", password=""):
        return XenClient(address, username, password, transport_factory=self.fake.transport_factory)

    def writes(self):
        return [c[1] for c in self.fake.log
                if not c[1].startswith(("session.", "task.")) and not c[1].endswith(READS) and c[1] != "event.from"]


@pytest.fixture
def pool(monkeypatch):
    world = Pool()
    attach(monkeypatch, world)
    monkeypatch.setattr(rrd_mod, "http_get", lambda url, tls, timeout: (503, b""))
    return world


def test_check_mode_plans_moves_and_writes_nothing(pool):
    result = run_module(balance, "127.0.0.10", pool, {"memory_threshold": 20}, check=True)
    assert result["changed"] and result["moves"]
    assert {m["from"] for m in result["moves"]} == {"xen-01"}
    assert result["load_before"]["xen-01"]["memory_percent"] > 20 >= result["load_after"]["xen-01"]["memory_percent"]
    assert result["plan"][0].startswith("migrate VM vm-")
    assert pool.writes() == []


def test_apply_migrates_live_and_a_pool_within_thresholds_is_left_alone(pool):
    result = run_module(balance, "127.0.0.10", pool, {"memory_threshold": 20, "max_parallel": 2})
    assert result["changed"]
    migrations = [c for c in pool.fake.log if c[1] == "Async.VM.pool_migrate"]
    assert len(migrations) == len(result["moves"]) and all(c[2][2] == {"live": "true"} for c in migrations)
    calm = run_module(balance, "127.0.0.10", pool, {})
    assert not calm["changed"] and calm["moves"] == []


@pytest.mark.parametrize("args, words", [
    ({"memory_threshold": 0}, "INVALID_VALUE memory_threshold is 0. Set memory_threshold to a percentage from 1 to 100"),
    ({"max_parallel": 0}, "INVALID_VALUE max_parallel is 0"),
])
def test_bad_values_fail_before_connecting(pool, args, words):
    failure = run_module(balance, "127.0.0.10", pool, args, expect=Failed)
    assert failure["msg"].startswith("Failed to balance pool '127.0.0.10': " + words)
    assert pool.fake.log == []


def test_unknown_host_fails_with_the_one_shape_and_no_write(pool):
    failure = run_module(balance, "127.0.0.10", pool, {"hosts": ["xen-09"]}, expect=Failed)
    assert failure["msg"] == ("Failed to balance pool '127.0.0.10': HOST_NOT_FOUND no host 'xen-09' in the pool. "
                              "Check the names in hosts (name labels, matched exactly)")
    assert failure["error_code"] == "HOST_NOT_FOUND" and pool.writes() == []
