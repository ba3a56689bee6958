# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenTaskTimeout
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import parse_task_result, wait_all, wait_task
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi

PENDING = {"status": "pending", "progress": 0.3}


class Clock:
    """A fake monotonic clock that advances only when the code under test sleeps."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


@pytest.fixture
def fake():
    xapi = FakeXapi()
    xapi.seed_pool(hosts=1, vms=1)
    return xapi


@pytest.fixture
def client(fake):
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as c:
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


def test_wait_task_success_returns_result_and_destroys(fake, client):
    task = fake.add_task("VM.clone", [PENDING, PENDING, {"status": "success", "progress": 1.0, "result": "<value>OpaqueRef:new</value>"}])
    clock = Clock()
    assert wait_task(client, task, timeout=60, sleep=clock.sleep, clock=clock) == "OpaqueRef:new"
    assert task not in fake.objects["task"]
    assert fake.counters()["task.get_record"] == 3
    assert fake.counters()["task.destroy"] == 1
    assert clock.sleeps == [0.1, pytest.approx(0.15)]


def test_wait_task_failure_raises_code_and_destroys(fake, client):
    task = fake.add_task("VM.start", [{"status": "failure", "error_info": ["VM_BAD_POWER_STATE", "OpaqueRef:vm", "halted", "running"]}])
    with pytest.raises(XapiError) as info:
        wait_task(client, task, sleep=lambda s: None)
    assert info.value.code == "VM_BAD_POWER_STATE"
    assert info.value.params == ["OpaqueRef:vm", "halted", "running"]
    assert info.value.method == "VM.start"
    assert task not in fake.objects["task"]


def test_wait_task_cancelled(fake, client):
    task = fake.add_task("VM.copy", [{"status": "cancelled", "error_info": []}])
    with pytest.raises(XapiError) as info:
        wait_task(client, task, sleep=lambda s: None)
    assert info.value.code == "TASK_CANCELLED"
    assert info.value.params == [task]


def test_wait_task_timeout_leaves_task_alone(fake, client):
    task = fake.add_task("SR.create", [PENDING])
    clock = Clock()
    with pytest.raises(XenTaskTimeout) as info:
        wait_task(client, task, timeout=10, max_interval=2.0, sleep=clock.sleep, clock=clock)
    assert info.value.task_ref == task
    assert "TASK_TIMEOUT" in str(info.value)
    assert clock.now - 100.0 == pytest.approx(10.0)
    assert max(clock.sleeps) <= 2.0
    assert task in fake.objects["task"]
    assert fake.counters()["task.destroy"] == 0


def test_wait_all_uses_one_call_per_round_and_keeps_order(fake, client):
    done = {"status": "success", "result": "<value>OpaqueRef:%d</value>"}
    tasks = [fake.add_task("VM.start", [PENDING] * n + [dict(done, result=done["result"] % n)]) for n in (3, 1, 2)]
    clock = Clock()
    results = wait_all(client, tasks, timeout=60, sleep=clock.sleep, clock=clock)
    assert results == ["OpaqueRef:3", "OpaqueRef:1", "OpaqueRef:2"]
    counters = fake.counters()
    assert counters["task.get_all_records"] + counters["task.get_record"] <= 4
    assert counters["task.destroy"] == 3
    assert not fake.objects["task"]


def test_wait_all_raises_first_failure_after_all_finished(fake, client):
    ok = fake.add_task("VM.start", [PENDING, {"status": "success", "result": "<value></value>"}])
    bad = fake.add_task("VM.start", [{"status": "failure", "error_info": ["HOST_NOT_ENOUGH_FREE_MEMORY", "2147483648", "1024"]}])
    with pytest.raises(XapiError) as info:
        wait_all(client, [ok, bad], sleep=lambda s: None)
    assert info.value.code == "HOST_NOT_ENOUGH_FREE_MEMORY"
    assert not fake.objects["task"]


def test_wait_all_empty():
    assert wait_all(None, []) == []
