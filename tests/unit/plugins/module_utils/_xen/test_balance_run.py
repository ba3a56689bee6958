# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the balance model from a (fake) pool, and running moves in bounded batches."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import balance_run
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi

GIB = 1024 ** 3
DONE = [{"status": "success", "progress": 1.0, "result": ""}]


@pytest.fixture
def fake():
    xapi = FakeXapi()
    xapi.seed_pool(hosts=3, vms=6)
    return xapi


@pytest.fixture
def client(fake):
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as c:
        yield c


def no_figures(url, tls, timeout):
    return 500, b""


def test_read_is_constant_in_the_number_of_vms_and_models_the_pool(fake, client):
    warnings = []
    _state, pool = balance_run.read(client, warnings.append, getter=no_figures)
    calls = [c[1] for c in fake.log if not c[1].startswith("session.")]
    assert "VM.get_record" not in calls and len(calls) == len(set(calls))
    bigger = FakeXapi()
    bigger.seed_pool(hosts=3, vms=60)
    with XenClient("127.0.0.10", "root", bigger.password, transport_factory=bigger.transport_factory) as other:
        balance_run.read(other, getter=no_figures)
    assert len([c for c in bigger.log if not c[1].startswith("session.")]) == len(calls)
    assert len(warnings) == 3 and all("CPU figures are not used" in w for w in warnings)
    hosts = {h["name"]: h for h in pool["hosts"]}
    assert sorted(hosts) == ["xen-01", "xen-02", "xen-03"]
    # 64 GiB hosts; memory_free is 0 in the fake, so used is estimated: overhead, dom0 and two 2 GiB VMs
    assert hosts["xen-01"]["memory_total_mib"] == 65536
    assert hosts["xen-01"]["memory_used_mib"] == 512 + 4096 + 2 * 2048
    assert len(hosts["xen-01"]["networks"]) == 1 and len(hosts["xen-01"]["srs"]) == 1
    vm = next(v for v in pool["vms"] if v["name"] == "vm-0000")
    assert vm["host"] == hosts["xen-01"]["uuid"] and vm["running"] and vm["memory_mib"] == 2048
    assert vm["networks"] == hosts["xen-01"]["networks"] and vm["srs"] == hosts["xen-01"]["srs"]
    assert vm["tags"] == ["web"] and not vm["protected"]
    assert [v["name"] for v in pool["vms"]] == ["vm-%04d" % i for i in range(6)]


def test_ha_on_costs_one_capacity_call(fake, client):
    pool_ref = next(iter(fake.objects["pool"]))
    fake.objects["pool"][pool_ref].update(ha_enabled=True, ha_host_failures_to_tolerate="1")
    calls = []

    class Recording:
        def __init__(self, inner):
            self.inner = inner

        def __getattr__(self, name):
            return getattr(self.inner, name)

        def call(self, method, *args):
            calls.append(method)
            if method == "pool.ha_compute_hypothetical_max_host_failures_to_tolerate":
                return "2"
            return self.inner.call(method, *args)

    _state, pool = balance_run.read(Recording(client), getter=no_figures)
    assert pool["ha"] == {"enabled": True, "host_failures_to_tolerate": 1, "allow_overcommit": False, "capacity_now": 2}
    assert calls.count("pool.ha_compute_hypothetical_max_host_failures_to_tolerate") == 1


def move(vm, source, target):
    return {"vm": vm, "vm_uuid": vm, "from": source, "to": target}


def test_batches_respect_max_parallel_and_wait_for_memory_to_be_freed():
    moves = [move("a", "h1", "h3"), move("b", "h1", "h4"), move("c", "h2", "h1"), move("d", "h2", "h5"), move("e", "h5", "h6")]
    assert [[m["vm"] for m in b] for b in balance_run.batches(moves, 2)] == [["a", "b"], ["c", "d"], ["e"]]
    # c lands on h1, which a and b leave: it waits for them; e leaving h5 while d arrives is as planned (d first)
    assert [[m["vm"] for m in b] for b in balance_run.batches(moves, 5)] == [["a", "b"], ["c", "d", "e"]]
    assert [[m["vm"] for m in b] for b in balance_run.batches(moves, 1)] == [["a"], ["b"], ["c"], ["d"], ["e"]]
    twice = [move("a", "h1", "h2"), move("a", "h2", "h3")]
    assert len(balance_run.batches(twice, 4)) == 2


def planned(fake, count):
    """count moves of the fake's VMs to the next host, as the planner writes them."""
    state = read_pool_state(fake_client_state(fake), ("host", "VM"))
    hosts = sorted(rec["name_label"] for rec in state.all("host").values())
    out = []
    for ref, rec in sorted(state.all("VM").items(), key=lambda kv: kv[1]["name_label"]):
        if rec.get("is_control_domain") or rec.get("is_a_template") or len(out) >= count:
            continue
        source = state.name_of("host", rec["resident_on"])
        out.append({"vm": rec["name_label"], "vm_uuid": rec["uuid"], "from": source, "to": hosts[(hosts.index(source) + 1) % 3]})
    return state, out


def fake_client_state(fake):
    class Reader:
        def call(self, method):
            cls = method.split(".")[0]
            return {ref: dict(rec) for ref, rec in fake.objects[cls].items()}
    return Reader()


def test_apply_runs_live_migrations_at_most_max_parallel_at_a_time(fake, client):
    fake.async_handlers["VM.pool_migrate"] = lambda vm, host, options: list(DONE)
    state, moves = planned(fake, 3)
    done = balance_run.apply(client, state, moves, max_parallel=2, timeout=60)
    assert done == moves
    started = [c for c in fake.log if c[1] == "Async.VM.pool_migrate"]
    assert len(started) == 3 and all(c[2][2] == {"live": "true"} for c in started)
    order = [c[1] for c in fake.log if c[1] in ("Async.VM.pool_migrate", "task.destroy")]
    # two in flight, both finished, then the third
    assert order[:4] == ["Async.VM.pool_migrate", "Async.VM.pool_migrate", "task.destroy", "task.destroy"]


def test_a_failed_migration_stops_the_run_after_its_batch_and_names_what_was_done(fake, client):
    outcomes = iter([DONE, [{"status": "failure", "error_info": ["VM_REQUIRES_SR", "OpaqueRef:x", "OpaqueRef:y"]}], DONE])
    fake.async_handlers["VM.pool_migrate"] = lambda vm, host, options: list(next(outcomes))
    state, moves = planned(fake, 4)
    with pytest.raises(balance_run.MigrationFailed) as err:
        balance_run.apply(client, state, moves, max_parallel=2, timeout=60)
    assert err.value.code == "VM_REQUIRES_SR"
    assert err.value.done == moves[:1]
    assert "migrating VM %s" % moves[1]["vm"] in str(err.value)
    assert "Moves done: %s to %s" % (moves[0]["vm"], moves[0]["to"]) in err.value.hint
    assert len([c for c in fake.log if c[1] == "Async.VM.pool_migrate"]) == 2
