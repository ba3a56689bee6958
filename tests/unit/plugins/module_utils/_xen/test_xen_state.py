# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bulk read of a pool against xapisim in-process: one event.from, or one get_all_records per class on a server
that refuses event.from (armed as a fault: xapisim itself is a current server)."""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import NULL_REF, POOL_CLASSES, is_null, read_pool_state
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client as client_of

OLD = "old"  # a server without event.from: it answers MESSAGE_METHOD_UNKNOWN


def pool(hosts, vms, server="new"):
    xapi = InProcessXapi(pool_datacenter(hosts, vms))
    if server == OLD:
        xapi.add_fault("event.from", error=["MESSAGE_METHOD_UNKNOWN", "event.from"], repeat=1000)
    return xapi


def read(hosts, vms, classes=POOL_CLASSES, server="new"):
    xapi = pool(hosts, vms, server)
    with client_of(xapi) as client:
        state = read_pool_state(client, classes)
    xapi.close()
    return xapi, client, state


@pytest.mark.parametrize("server, calls", [("new", 3), (OLD, len(POOL_CLASSES) + 3)])
def test_constant_call_count_for_1_and_120_vms(server, calls):
    small_xapi, small_client, small = read(1, 1, server=server)
    big_xapi, big_client, big = read(8, 120, server=server)
    assert len(big.all("VM")) == 120 + 8 + 1  # the VMs, a control domain per host, the template
    assert len(small.all("VM")) == 1 + 1 + 1
    assert small_client.calls == big_client.calls
    assert small_xapi.counters() == big_xapi.counters()
    assert big_client.call_count == calls  # login + event.from (+ one get_all_records per class) + logout
    assert all(n == 1 for method, n in big_client.calls.items())
    assert not [m for m in big_xapi.counters() if m.endswith(".get_record")]


def test_event_from_gives_the_records_of_get_all_records():
    xapi = pool(3, 5)
    xapi.close()  # no scheduled event (a guest agent's report) may change a record between the two reads
    with client_of(xapi) as client:
        state = read_pool_state(client)
        xapi.add_fault("event.from", error=["MESSAGE_METHOD_UNKNOWN", "event.from"], nth=2)
        client.supports_event_from = None  # as a new client of the same module run would
        old = read_pool_state(client)
    assert client.calls["event.from"] == 2 and client.calls["VM.get_all_records"] == 1
    assert xapi.summaries("event.from")[0].endswith("token=, timeout=0.0")
    for cls in POOL_CLASSES:
        assert state.all(cls), cls
        assert state.all(cls) == old.all(cls), cls


def test_subset_of_classes_and_duplicates():
    _xapi, client, state = read(1, 1, ["VM", "host", "VM"])
    assert client.calls["event.from"] == 1
    assert set(state.records) == {"VM", "host"}
    assert state.all("SR") == {}
    _xapi, client, state = read(1, 1, ["VM", "host", "VM"], server=OLD)
    assert client.calls["VM.get_all_records"] == 1
    assert set(state.records) == {"VM", "host"}


def test_old_server_is_asked_once_per_client():
    """The refusal is remembered: the second read of the same module run goes straight to get_all_records."""
    xapi = pool(2, 2, OLD)
    with client_of(xapi) as client:
        first = read_pool_state(client, ["VM", "SR"])
        second = read_pool_state(client, ["VM", "SR"])
    assert client.calls["event.from"] == 1 and xapi.counters()["event.from"] == 1
    assert client.calls["VM.get_all_records"] == client.calls["SR.get_all_records"] == 2
    assert first.records == second.records and len(first.all("VM")) == 2 + 2 + 1


def test_classes_without_events_are_read_per_class():
    xapi = pool(1, 1)
    with client_of(xapi) as client:
        pool_uuid = client.call("pool.get_all_records").popitem()[1]["uuid"]
        client.call("message.create", "HA_HOST_FAILED", "3", "Pool", pool_uuid, "a test message")
        state = read_pool_state(client, ["pool", "message"])
    assert client.calls["event.from"] == 1 and client.calls["message.get_all_records"] == 1
    assert xapi.summaries("event.from") == ["classes=['pool'], token=, timeout=0.0"]
    assert [m["name"] for m in state.all("message").values()] == ["HA_HOST_FAILED"] and len(state.all("pool")) == 1
    xapi.close()


def test_other_failures_of_event_from_are_raised():
    xapi = pool(1, 1)
    xapi.add_fault("event.from", error=["HOST_STILL_BOOTING"])
    with client_of(xapi) as client:
        with pytest.raises(XapiError) as err:
            read_pool_state(client, ["VM"])
    assert err.value.code == "HOST_STILL_BOOTING" and not xapi.calls("VM.get_all_records")
    xapi.close()


def test_resolution_helpers():
    xapi, _client, state = read(2, 3)
    assert state.pool["name_label"] == "pool-a"
    master = state.master_ref
    assert state.name_of("host", master) == "xen-01"
    assert state.uuid_of("host", master) == xapi.records("host")[master]["uuid"]
    ref, record = state.by_uuid("host", xapi.records("host")[master]["uuid"])
    assert ref == master and record["address"] == xapi.master == "127.0.0.11"
    assert state.by_uuid("host", "nope") is None
    assert len(state.by_name("VM", "vm-0001")) == 1
    assert state.get("VM", NULL_REF) is None
    assert state.name_of("SR", "OpaqueRef:unknown") is None


@pytest.mark.parametrize("ref, null", [(NULL_REF, True), ("", True), (None, True), ("OpaqueRef:1", False)])
def test_is_null(ref, null):
    assert is_null(ref) is null
