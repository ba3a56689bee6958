# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Waiting for tasks of xapisim in-process. The polling tests arrange task records in the simulator's database and
let them finish when the code under test has slept a given number of times (a fake clock, so no test waits in real
time); the last ones wait for real Async calls of the simulator."""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenTaskTimeout
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import parse_task_result, wait_all, wait_task
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client as client_of


class Clock:
    """A monotonic clock that advances only when the code under test sleeps; after its nth sleep the tasks
    scheduled for n take their final record in the simulator."""

    def __init__(self, xapi=None):
        self.xapi = xapi
        self.now = 100.0
        self.sleeps = []
        self.finishing = {}  # sleeps -> [(task, final fields)]

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds
        for task, fields in self.finishing.pop(len(self.sleeps), []):
            self.xapi.update("task", task, **fields)

    def __call__(self):
        return self.now

    def task(self, name, after, **final):
        """A pending task named as xapi names an Async call's task; it takes `final` after `after` sleeps (0: at once)."""
        ref = self.xapi.add("task", name_label=name, status="pending", progress=0.3)
        if final and not after:
            self.xapi.update("task", ref, **final)
        elif final:
            self.finishing.setdefault(after, []).append((ref, final))
        return ref


@pytest.fixture(name="xapi")
def xapi_fixture():
    xapi = InProcessXapi(pool_datacenter(hosts=1, vms=1))
    yield xapi
    xapi.close()


@pytest.fixture
def client(xapi):
    with client_of(xapi) as c:
        yield c


@pytest.mark.parametrize("text, expected", [
    ("<value>OpaqueRef:abc</value>", "OpaqueRef:abc"),
    ("<value></value>", None),
    ("<value/>", None),
    ("", None),
    (None, None),
    ("<value><array><data><value>a</value><value>b</value></data></array></value>", ["a", "b"]),
    ("<value>OpaqueRef:x", "<value>OpaqueRef:x"),
    ("<value><int>42</int></value>", 42),
    ("<value><struct><member><name>k</name><value>v</value></member></struct></value>", {"k": "v"}),
    ("OpaqueRef:bare", "OpaqueRef:bare"),
])
def test_parse_task_result(text, expected):
    assert parse_task_result(text) == expected


def test_wait_task_success_returns_result_and_destroys(xapi, client):
    clock = Clock(xapi)
    task = clock.task("Async.VM.clone", 2, status="success", progress=1.0, result="<value>OpaqueRef:new</value>")
    assert wait_task(client, task, timeout=60, sleep=clock.sleep, clock=clock) == "OpaqueRef:new"
    assert task not in xapi.records("task")
    assert xapi.counters()["task.get_record"] == 3
    assert xapi.counters()["task.destroy"] == 1
    assert clock.sleeps == [0.1, pytest.approx(0.15)]


def test_wait_task_failure_raises_code_and_destroys(xapi, client):
    clock = Clock(xapi)
    task = clock.task("Async.VM.start", 0, status="failure", error_info=["VM_BAD_POWER_STATE", "OpaqueRef:vm", "halted", "running"])
    with pytest.raises(XapiError) as info:
        wait_task(client, task, sleep=clock.sleep, clock=clock)
    assert info.value.code == "VM_BAD_POWER_STATE"
    assert info.value.params == ["OpaqueRef:vm", "halted", "running"]
    assert info.value.method == "Async.VM.start"
    assert task not in xapi.records("task") and clock.sleeps == []


def test_wait_task_cancelled(xapi, client):
    clock = Clock(xapi)
    task = clock.task("Async.VM.copy", 0, status="cancelled", error_info=[])
    with pytest.raises(XapiError) as info:
        wait_task(client, task, sleep=clock.sleep, clock=clock)
    assert info.value.code == "TASK_CANCELLED"
    assert info.value.params == [task]


def test_wait_task_timeout_leaves_task_alone(xapi, client):
    clock = Clock(xapi)
    task = clock.task("Async.SR.create", 0)
    with pytest.raises(XenTaskTimeout) as info:
        wait_task(client, task, timeout=10, max_interval=2.0, sleep=clock.sleep, clock=clock)
    assert info.value.task_ref == task
    assert "TASK_TIMEOUT" in str(info.value)
    assert clock.now - 100.0 == pytest.approx(10.0)
    assert max(clock.sleeps) <= 2.0
    assert xapi.records("task")[task]["status"] == "pending"
    assert xapi.counters()["task.destroy"] == 0


def test_wait_all_uses_one_call_per_round_and_keeps_order(xapi, client):
    clock = Clock(xapi)
    tasks = [clock.task("Async.VM.start", n, status="success", result="<value>OpaqueRef:%d</value>" % n) for n in (3, 1, 2)]
    results = wait_all(client, tasks, timeout=60, sleep=clock.sleep, clock=clock)
    assert results == ["OpaqueRef:3", "OpaqueRef:1", "OpaqueRef:2"]
    counters = xapi.counters()
    assert counters["task.get_all_records"] + counters["task.get_record"] == 4  # one read per round
    assert counters["task.destroy"] == 3
    assert not set(tasks) & set(xapi.records("task"))


def test_wait_all_raises_first_failure_after_all_finished(xapi, client):
    clock = Clock(xapi)
    ok = clock.task("Async.VM.start", 1, status="success", result="<value></value>")
    bad = clock.task("Async.VM.start", 0, status="failure", error_info=["HOST_NOT_ENOUGH_FREE_MEMORY", "2147483648", "1024"])
    with pytest.raises(XapiError) as info:
        wait_all(client, [ok, bad], sleep=clock.sleep, clock=clock)
    assert info.value.code == "HOST_NOT_ENOUGH_FREE_MEMORY"
    assert not {ok, bad} & set(xapi.records("task"))


def test_wait_all_empty():
    assert wait_all(None, []) == []


def test_real_async_calls_give_their_value_and_xapis_error_codes(xapi, client):
    """The simulator's own tasks: a clone's result is the new VM; starting a running VM fails as xapi's task does."""
    template = xapi.find("VM", name_label="Debian Bookworm 12")
    clone = wait_task(client, client.call_async("VM.clone", template, "web9"), timeout=120)
    assert xapi.records("VM")[clone]["name_label"] == "web9"
    with pytest.raises(XapiError) as info:
        wait_task(client, client.call_async("VM.start", xapi.find("VM", name_label="vm-0001"), False, False), timeout=120)
    assert info.value.code == "VM_BAD_POWER_STATE" and info.value.params[1:] == ["halted", "running"]
    assert info.value.method == "Async.VM.start"
    assert not xapi.records("task")
