# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import NULL_REF, POOL_CLASSES, is_null, read_pool_state
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi


def read(hosts, vms, classes=POOL_CLASSES):
    fake = FakeXapi()
    fake.seed_pool(hosts=hosts, vms=vms)
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as client:
        state = read_pool_state(client, classes)
    return fake, client, state


def test_constant_call_count_for_1_and_200_vms():
    small_fake, small_client, small = read(1, 1)
    big_fake, big_client, big = read(8, 200)
    assert len(big.all("VM")) == 200 + 8 + 1
    assert len(small.all("VM")) == 1 + 1 + 1
    assert small_client.calls == big_client.calls
    assert small_fake.counters() == big_fake.counters()
    assert big_client.call_count == len(POOL_CLASSES) + 2  # + login + logout
    assert all(n == 1 for method, n in big_client.calls.items())
    assert not [m for m in big_fake.counters() if m.endswith(".get_record")]


def test_subset_of_classes_and_duplicates():
    _fake, client, state = read(1, 1, ["VM", "host", "VM"])
    assert client.calls["VM.get_all_records"] == 1
    assert set(state.records) == {"VM", "host"}
    assert state.all("SR") == {}


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
