# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading the balance model from xapisim in-process, and running its moves (real Async.VM.pool_migrate) in bounded batches."""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import balance_run
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import read_pool_state
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client as client_of

MIB = 1024 * 1024
GIB = 1024 * MIB


def new_pool(vms):
    return InProcessXapi(pool_datacenter(hosts=3, vms=vms))


@pytest.fixture(name="xapi")
def xapi_fixture():
    xapi = new_pool(6)
    xapi.update("VM", xapi.find("VM", name_label="vm-0001"), tags=["web"])
    yield xapi
    xapi.close()


@pytest.fixture
def client(xapi):
    with client_of(xapi) as c:
        yield c


def no_figures(url, tls, timeout):
    return 500, b""


def api_calls(xapi):
    return [method for _address, method in xapi.calls() if not method.startswith("session.")]


def test_read_is_constant_in_the_number_of_vms_and_models_the_pool(xapi, client):
    warnings = []
    _state, pool = balance_run.read(client, warnings.append, getter=no_figures)
    calls = api_calls(xapi)
    assert "VM.get_record" not in calls and len(calls) == len(set(calls))
    bigger = new_pool(60)
    with client_of(bigger) as other:
        balance_run.read(other, getter=no_figures)
    bigger.close()
    assert api_calls(bigger) == calls
    assert len(warnings) == 3 and all("CPU figures are not used" in w for w in warnings)
    hosts = {h["name"]: h for h in pool["hosts"]}
    assert sorted(hosts) == ["xen-01", "xen-02", "xen-03"]
    metrics = xapi.records("host_metrics")[xapi.records("host")[xapi.find("host", name_label="xen-01")]["metrics"]]
    assert hosts["xen-01"]["memory_total_mib"] == 65536
    assert hosts["xen-01"]["memory_used_mib"] == 65536 - metrics["memory_free"] // MIB > 2 * 2048  # dom0 and two VMs
    shared = xapi.records("SR")[xapi.find("SR", name_label="iSCSI")]["uuid"]
    eth0 = xapi.records("network")[xapi.find("network", bridge="xenbr0")]["uuid"]
    assert all(h["networks"] == [eth0] and shared in h["srs"] for h in hosts.values())
    vm = next(v for v in pool["vms"] if v["name"] == "vm-0001")
    assert vm["host"] == hosts["xen-01"]["uuid"] and vm["running"] and vm["memory_mib"] >= 2048
    assert vm["networks"] == [eth0] and vm["srs"] == [shared]
    assert vm["tags"] == ["web"] and not vm["protected"]
    assert [v["name"] for v in pool["vms"]] == ["vm-%04d" % i for i in range(1, 7)]


def test_ha_on_costs_one_capacity_call(xapi, client):
    pool_ref = xapi.find("pool", name_label="pool-a")
    xapi.update("pool", pool_ref, ha_enabled=True, ha_host_failures_to_tolerate=1)
    for i in range(1, 7):
        xapi.update("VM", xapi.find("VM", name_label="vm-%04d" % i), ha_restart_priority="restart")
    xapi.reset_calls()
    _state, pool = balance_run.read(client, getter=no_figures)
    # six protected 2 GiB VMs fit on any one of the three 64 GiB hosts: two may fail (xapi's planner, in xapisim)
    assert pool["ha"] == {"enabled": True, "host_failures_to_tolerate": 1, "allow_overcommit": False, "capacity_now": 2}
    assert all(vm["protected"] for vm in pool["vms"])
    assert xapi.counters()["pool.ha_compute_hypothetical_max_host_failures_to_tolerate"] == 1


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


def planned(client, count, target="xen-03"):
    """count moves of the pool's VMs onto `target`, in name order, as the planner writes them (none leaves target, so
    only max_parallel splits them into batches)."""
    state = read_pool_state(client, ("host", "VM"))
    out = []
    for _ref, rec in sorted(state.all("VM").items(), key=lambda kv: kv[1]["name_label"]):
        source = state.name_of("host", rec["resident_on"])
        if rec.get("is_control_domain") or rec.get("is_a_template") or source == target or len(out) >= count:
            continue
        out.append({"vm": rec["name_label"], "vm_uuid": rec["uuid"], "from": source, "to": target})
    return state, out


def resident(xapi, vm_name):
    return xapi.records("host")[xapi.records("VM")[xapi.find("VM", name_label=vm_name)]["resident_on"]]["name_label"]


def test_apply_runs_live_migrations_at_most_max_parallel_at_a_time(xapi, client):
    state, moves = planned(client, 3)
    done = balance_run.apply(client, state, moves, max_parallel=2, timeout=120)
    assert done == moves
    assert all(resident(xapi, m["vm"]) == m["to"] for m in moves)
    started = xapi.summaries("Async.VM.pool_migrate")
    assert len(started) == 3 and all(s.endswith("options={'live': 'true'}") for s in started)
    assert [m["vm"] for m in moves] == ["vm-0001", "vm-0002", "vm-0004"]
    order = [m for _a, m in xapi.calls() if m in ("Async.VM.pool_migrate", "task.destroy")]
    # two in flight, both finished, then the third
    assert order == ["Async.VM.pool_migrate", "Async.VM.pool_migrate", "task.destroy", "task.destroy",
                     "Async.VM.pool_migrate", "task.destroy"]


def test_a_failed_migration_stops_the_run_after_its_batch_and_names_what_was_done(xapi, client):
    """vm-0002 has a second disk on xen-02's local SR: xen-03 cannot see it, so its migration fails (VM_REQUIRES_SR)."""
    source = xapi.find("host", name_label="xen-02")
    local = next(pbd["SR"] for pbd in xapi.records("PBD").values()
                 if pbd["host"] == source and xapi.records("SR")[pbd["SR"]]["type"] == "lvm")
    vdi = xapi.add("VDI", name_label="vm-0002 local data", SR=local, virtual_size=GIB, type="user")
    xapi.add("VBD", VM=xapi.find("VM", name_label="vm-0002"), VDI=vdi, type="Disk", userdevice="1", mode="RW")
    state, moves = planned(client, 4)
    assert moves[1]["vm"] == "vm-0002" and moves[1]["to"] == "xen-03"
    with pytest.raises(balance_run.MigrationFailed) as err:
        balance_run.apply(client, state, moves, max_parallel=2, timeout=120)
    assert err.value.code == "VM_REQUIRES_SR" and err.value.params[1] == local
    assert err.value.done == moves[:1]
    assert "migrating VM vm-0002" in str(err.value)
    assert "Moves done: %s to %s" % (moves[0]["vm"], moves[0]["to"]) in err.value.hint
    assert len(xapi.calls("Async.VM.pool_migrate")) == 2
    assert [resident(xapi, "vm-%04d" % i) for i in (1, 2, 4, 5)] == ["xen-03", "xen-02", "xen-01", "xen-02"]
