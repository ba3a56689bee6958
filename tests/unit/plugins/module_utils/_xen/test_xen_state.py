# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import NULL_REF, POOL_CLASSES, is_null, read_pool_state
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.events_fake import EventFake
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi

OLD = "old"  # a server without event.from: FakeXapi answers MESSAGE_METHOD_UNKNOWN to it


def read(hosts, vms, classes=POOL_CLASSES, server="new"):
    fake = EventFake() if server == "new" else FakeXapi()
    fake.seed_pool(hosts=hosts, vms=vms)
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as client:
        state = read_pool_state(client, classes)
    return fake, client, state


@pytest.mark.parametrize("server, calls", [("new", 3), (OLD, len(POOL_CLASSES) + 3)])
def test_constant_call_count_for_1_and_200_vms(server, calls):
    small_fake, small_client, small = read(1, 1, server=server)
    big_fake, big_client, big = read(8, 200, server=server)
    assert len(big.all("VM")) == 200 + 8 + 1
    assert len(small.all("VM")) == 1 + 1 + 1
    assert small_client.calls == big_client.calls
    assert small_fake.counters() == big_fake.counters()
    assert big_client.call_count == calls  # login + event.from (+ one get_all_records per class) + logout
    assert all(n == 1 for method, n in big_client.calls.items())
    assert not [m for m in big_fake.counters() if m.endswith(".get_record")]


def test_event_from_gives_the_records_of_get_all_records():
    fake, client, state = read(3, 5)
    assert client.calls["event.from"] == 1 and not [m for m in client.calls if m.endswith("get_all_records")]
    assert fake.calls("event.from")[0][2][1:] == ("", 0.0)
    _old_fake, _old_client, old = read(3, 5, server=OLD)
    for cls in POOL_CLASSES:
        assert state.all(cls) == dict(fake.objects.get(cls, {})), cls
        assert len(old.all(cls)) == len(state.all(cls)), cls


def test_subset_of_classes_and_duplicates():
    _fake, client, state = read(1, 1, ["VM", "host", "VM"])
    assert client.calls["event.from"] == 1
    assert set(state.records) == {"VM", "host"}
    assert state.all("SR") == {}
    _fake, client, state = read(1, 1, ["VM", "host", "VM"], server=OLD)
    assert client.calls["VM.get_all_records"] == 1
    assert set(state.records) == {"VM", "host"}


def test_old_server_is_asked_once_per_client():
    """The refusal is remembered: the second read of the same module run goes straight to get_all_records."""
    fake = FakeXapi()
    fake.seed_pool(hosts=2, vms=2)
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as client:
        first = read_pool_state(client, ["VM", "SR"])
        second = read_pool_state(client, ["VM", "SR"])
    assert client.calls["event.from"] == 1
    assert client.calls["VM.get_all_records"] == client.calls["SR.get_all_records"] == 2
    assert first.records == second.records and len(first.all("VM")) == 2 + 2 + 1


def test_classes_without_events_are_read_per_class():
    fake = EventFake()
    fake.seed_pool()
    fake.add("message", name="HA_HOST_FAILED")
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as client:
        state = read_pool_state(client, ["pool", "message"])
    assert client.calls["event.from"] == 1 and client.calls["message.get_all_records"] == 1
    assert fake.calls("event.from")[0][2][0] == ["pool"]
    assert len(state.all("message")) == 1 and len(state.all("pool")) == 1


def test_other_failures_of_event_from_are_raised():
    fake = EventFake()
    fake.seed_pool()
    fake.fail("event.from", ["HOST_STILL_BOOTING"])
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as client:
        with pytest.raises(XapiError) as err:
            read_pool_state(client, ["VM"])
    assert err.value.code == "HOST_STILL_BOOTING" and not fake.calls("VM.get_all_records")


def test_resolution_helpers():
    fake, _client, state = read(2, 3)
    pool = state.pool
    assert pool["name_label"] == "pool-a"
    master = state.master_ref
    assert state.name_of("host", master) == "xen-01"
    assert state.uuid_of("host", master) == fake.objects["host"][master]["uuid"]
    ref, record = state.by_uuid("host", fake.objects["host"][master]["uuid"])
    assert ref == master and record["address"] == "127.0.0.10"
    assert state.by_uuid("host", "nope") is None
    assert len(state.by_name("VM", "vm-0001")) == 1
    assert state.get("VM", NULL_REF) is None
    assert state.name_of("SR", "OpaqueRef:unknown") is None


@pytest.mark.parametrize("ref, null", [(NULL_REF, True), ("", True), (None, True), ("OpaqueRef:1", False)])
def test_is_null(ref, null):
    assert is_null(ref) is null
