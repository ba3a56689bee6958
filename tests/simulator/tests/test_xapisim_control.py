# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""/sim/ control API: call log, faults, save/load, simulated time, shutdown, generated estates."""
from __future__ import annotations

import http.client
import json
import os
import subprocess
import sys
import time

import pytest
import XenAPI

from conftest import DATACENTERS, connect, password, start_sim
from simcommon import simctl


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
    assert os.stat(path).st_mode & 0o777 == 0o600, "saved state holds the secrets load needs: owner only"
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


def _jsonrpc(address: str, port: int, method: str, params: list):
    """One JSON-RPC call on a fresh connection, without any retry (unlike xmlrpc.client)."""
    conn = http.client.HTTPConnection(address, port, timeout=30)
    try:
        conn.request("POST", "/jsonrpc", json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}),
                     {"Content-Type": "application/json"})
        return json.loads(conn.getresponse().read())["result"]
    finally:
        conn.close()


def test_drop_after_apply_the_call_took_effect_but_the_answer_was_lost(small_sim):
    """when="after": the server does the work, then the connection drops before the answer.

    Python's xmlrpc.client (which the XenAPI package uses) re-sends a request once when the
    connection drops, so a non-idempotent call is then applied twice."""
    control = small_sim.control
    x = connect(small_sim).xenapi
    vm = [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]
    control.clear_faults()
    control.reset_calls()
    # one raw JSON-RPC request, no retry: the change happened although no answer came back
    address, port = small_sim.ready["hosts"][0]["address"], small_sim.ready["port"]
    ref = _jsonrpc(address, port, "session.login_with_password", [small_sim.ready["username"], password(small_sim)])
    control.add_fault("VM.set_name_description", action="drop", when="after")
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        _jsonrpc(address, port, "VM.set_name_description", [ref, vm, "applied-then-dropped"])
    assert x.VM.get_name_description(vm) == "applied-then-dropped"
    # through XenAPI (xmlrpc.client): the dropped answer is retried once and that retry is applied again
    control.clear_faults()
    control.reset_calls()
    control.add_fault("VM.clone", action="drop", when="after")
    before = len(x.VM.get_all())
    clone = x.VM.clone(vm, "retried-clone")
    assert x.VM.get_name_label(clone) == "retried-clone"
    assert control.calls()["counters"]["VM.clone"] == 2, "xmlrpc.client sent the request a second time"
    assert len(x.VM.get_by_name_label("retried-clone")) == 2, "so the clone was made twice"
    assert len(x.VM.get_all()) == before + 2
    for ref in x.VM.get_by_name_label("retried-clone"):
        x.VM.destroy(ref)
    # delay after: applied, answered late
    control.clear_faults()
    control.add_fault("VM.set_name_description", action="delay", delay_s=0.3, when="after")
    started = time.time()
    x.VM.set_name_description(vm, "late")
    assert time.time() - started >= 0.3 and x.VM.get_name_description(vm) == "late"
    control.clear_faults()


def test_state_answer_redacts_secrets(small_sim):
    control = small_sim.control
    x = connect(small_sim).xenapi
    ref = x.secret.create({"value": "chap-in-clear-0001", "other_config": {}})
    control.request("POST", "iscsi/targets", {"address": "127.0.0.201", "port": 3260, "iqn": "iqn.2026-01.test:t1",
                                              "chap_user": "u", "chap_password": "target-chap-in-clear", "luns": []})
    try:
        dumped = json.dumps(control.state())
        assert "chap-in-clear-0001" not in dumped and "target-chap-in-clear" not in dumped
        assert x.secret.get_value(ref) == "chap-in-clear-0001", "the secret itself is untouched"
        path = os.path.join(small_sim.state_dir, "with-secrets.json")
        control.save(path)
        with open(path, encoding="utf-8") as handle:
            assert "chap-in-clear-0001" in handle.read(), "the saved file keeps what --load-state needs"
        assert os.stat(path).st_mode & 0o777 == 0o600
    finally:
        x.secret.destroy(ref)
        control.request("DELETE", "iscsi/targets")


def test_idle_timeout_and_watched_process(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "idle", "small.yml", ["--idle-timeout", "2"])
    try:
        for _i in range(4):  # requests keep it alive past the idle timeout
            sim.control.calls()
            time.sleep(0.8)
        assert sim.proc.poll() is None
        sim.proc.wait(30)
        assert sim.proc.returncode == 0, "no request for 2 s: the simulator stopped by itself"
    finally:
        sim.stop()
    # a harness that dies without stopping its simulator (SIGKILL: no trap, no finally) takes it along
    state_dir = str(tmp_path_factory.mktemp("orphan"))
    harness = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])  # pylint: disable=consider-using-with
    try:
        assert simctl.main(["start", "xapisim", "--state-dir", state_dir, "--watch-pid", str(harness.pid), "--",
                            "--datacenter", os.path.join(DATACENTERS, "small.yml"), "--time-scale", "0.01"]) == 0
        with open(os.path.join(state_dir, "ready.json"), encoding="utf-8") as handle:
            pid = json.load(handle)["pid"]
        assert simctl.status(state_dir) == 0
        harness.kill()
        harness.wait(10)
        deadline = time.monotonic() + 30
        while simctl._alive(pid) and time.monotonic() < deadline:  # pylint: disable=protected-access
            time.sleep(0.1)
        assert not simctl._alive(pid), "the simulator noticed its harness was gone"  # pylint: disable=protected-access
        with open(os.path.join(state_dir, "simulator.log"), encoding="utf-8") as handle:
            assert "watched process %d is gone" % harness.pid in handle.read()
        assert simctl.status(state_dir) == 3
        assert simctl.stop(state_dir) == 0, "stopping a simulator that is already gone is fine"
    finally:
        if harness.poll() is None:
            harness.kill()
            harness.wait(10)
        simctl.stop(state_dir)


def test_shutdown_and_lifetime(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "short", "small.yml", ["--lifetime", "1"])
    try:
        sim.proc.wait(15)
        assert sim.proc.returncode == 0, "the process exits by itself at the --lifetime cap"
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
        shared = [r for r in x.SR.get_all_records().values() if r["shared"] and not r["is_tools_sr"]]
        assert len(shared) == 1 and len(shared[0]["PBDs"]) == 8
        tools = [r for r in x.SR.get_all_records().values() if r["is_tools_sr"]]
        assert len(tools) == 1 and len(tools[0]["PBDs"]) == 8, "one Tools SR per pool, a PBD per host"
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
