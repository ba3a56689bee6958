# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""/sim/ control API: call log, faults, save/load, simulated time, shutdown, generated estates."""
from __future__ import annotations

import http.client
import json
import os
import time

import pytest
import XenAPI

from conftest import connect, password, start_sim


def test_call_log_counts_reads_and_writes(small_sim):
    control = small_sim.control
    x = connect(small_sim).xenapi
    control.reset_calls()
    vm = [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]
    x.VM.get_name_label(vm)
    log = control.calls()
    assert log["writes"] == 0
    assert log["counters"] == {"VM.get_all_records": 1, "VM.get_name_label": 1}
    x.VM.set_name_description(vm, "written")
    x.VM.add_to_other_config(vm, "owner", "pytest")
    log = control.calls()
    assert log["writes"] == 2
    writes = [c for c in log["calls"] if c["write"]]
    assert [c["method"] for c in writes] == ["VM.set_name_description", "VM.add_to_other_config"]
    assert writes[0]["endpoint"] == small_sim.ready["hosts"][0]["address"]
    assert "written" in writes[0]["summary"]
    control.reset_calls()
    x.secret.create({"value": "top-secret-value", "other_config": {}})
    x.login_with_password("root", password(small_sim), "1.0", "again")
    dumped = json.dumps(control.calls())
    assert "top-secret-value" not in dumped and password(small_sim) not in dumped


def test_fault_injection_error_and_drop(small_sim):
    control = small_sim.control
    x = connect(small_sim).xenapi
    control.clear_faults()
    control.add_fault("host.get_all", nth=2, error=["HOST_OFFLINE", "OpaqueRef:x"])
    assert x.host.get_all()
    with pytest.raises(XenAPI.Failure) as info:
        x.host.get_all()
    assert info.value.details == ["HOST_OFFLINE", "OpaqueRef:x"]
    assert x.host.get_all(), "the fault fires on the nth call only"
    control.clear_faults()
    # xmlrpc.client silently retries once on a dropped keep-alive connection, so drop two calls
    control.add_fault("pool.get_all", nth=1, action="drop", repeat=2)
    control.reset_calls()
    with pytest.raises((http.client.HTTPException, ConnectionError, OSError)):
        connect(small_sim).xenapi.pool.get_all()
    assert control.calls()["counters"]["pool.get_all"] == 2
    assert x.pool.get_all(), "later calls are answered again"
    control.clear_faults()
    control.add_fault("pool.get_all", nth=1, action="delay", delay_s=0.3)
    started = time.time()
    x.pool.get_all()
    assert time.time() - started >= 0.3
    control.clear_faults()


def test_save_load_and_time(tmp_path_factory, small_sim):
    control = small_sim.control
    x = connect(small_sim).xenapi
    vm = [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]
    x.VM.set_name_label(vm, "persisted-name")
    state = control.state()
    assert state["version"] == 1 and state["dbs"]
    assert password(small_sim) not in json.dumps(state)
    path = os.path.join(small_sim.state_dir, "saved.json")
    control.save(path)
    assert os.path.exists(path)
    before = x.host.get_other_config(x.host.get_all()[0])
    del before
    control.advance(3600)
    clone = start_sim(tmp_path_factory, "loaded", "small.yml", ["--load-state", path])
    try:
        y = connect(clone).xenapi
        assert y.VM.get_by_name_label("persisted-name") == [vm], "refs survive save/load"
        assert y.VM.get_record(vm)["name_label"] == "persisted-name"
        y.VM.start(vm, False, False)
        assert y.VM.get_power_state(vm) == "Running"
    finally:
        clone.stop()


def test_shutdown_and_lifetime(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "short", "small.yml", ["--lifetime", "1"])
    try:
        sim.proc.wait(15)
        assert sim.proc.returncode == 0, "the process exits by itself after --lifetime"
    finally:
        sim.stop()
    sim = start_sim(tmp_path_factory, "stop", "small.yml")
    try:
        sim.control.shutdown()
        sim.proc.wait(15)
        assert sim.proc.returncode == 0
    finally:
        sim.stop()


def test_generated_pool(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "generated", None, ["--generate", "hosts=8,vms=40"])
    try:
        assert len(sim.ready["hosts"]) == 8
        x = connect(sim).xenapi
        assert len(x.host.get_all()) == 8 and len(x.pool.get_all()) == 1
        vms = [r for r in x.VM.get_all_records().values() if not r["is_a_template"] and not r["is_control_domain"]]
        assert len(vms) == 40
        assert {r["resident_on"] for r in vms if r["power_state"] == "Running"} == set(x.host.get_all())
        shared = [r for r in x.SR.get_all_records().values() if r["shared"]]
        assert len(shared) == 1 and len(shared[0]["PBDs"]) == 8
        with pytest.raises(XenAPI.Failure) as info:
            connect(sim, 3)
        assert info.value.details == ["HOST_IS_SLAVE", sim.ready["hosts"][0]["address"]]
    finally:
        sim.stop()


def test_simulated_clock_advance(tmp_path_factory):
    """At real-time scale a VM start takes 8 s; jumping the clock finishes it and boots the guest agent."""
    sim = start_sim(tmp_path_factory, "realtime", "small.yml", ["--time-scale", "1.0"])
    try:
        x = connect(sim).xenapi
        vm = [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]
        before = x.host.get_servertime(x.host.get_all()[0]).value
        task = x.Async.VM.start(vm, False, False)
        time.sleep(0.3)
        assert x.task.get_status(task) == "pending"
        assert x.VM.get_power_state(vm) == "Halted"
        sim.control.advance(10)
        deadline = time.time() + 5
        while x.task.get_status(task) == "pending" and time.time() < deadline:
            time.sleep(0.05)
        assert x.task.get_status(task) == "success" and x.VM.get_power_state(vm) == "Running"
        assert x.VM.get_guest_metrics(vm) == "OpaqueRef:NULL"
        sim.control.advance(30)
        while x.VM.get_guest_metrics(vm) == "OpaqueRef:NULL" and time.time() < deadline:
            time.sleep(0.05)
        assert x.VM.get_guest_metrics(vm) != "OpaqueRef:NULL"
        assert x.host.get_servertime(x.host.get_all()[0]).value > before, "datetimes follow the jumps"
    finally:
        sim.stop()
