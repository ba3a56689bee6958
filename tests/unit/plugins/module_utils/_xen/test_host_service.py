# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import host as hostsvc
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_pool_world import World


@pytest.fixture
def world():
    w = World()
    w.standalone("xen-01", "10.0.0.1")
    w.standalone("xen-02", "10.0.0.2")
    w.client("10.0.0.2").call_async("pool.join", "10.0.0.1", "root", w.password)
    w.log.clear()
    return w


def host_ref(world, name):
    return next(r for r, h in world.db_of("10.0.0.1")["host"].items() if h["name_label"] == name)


def converge(world, name, desired, purge=False, check=False):
    client = world.client("10.0.0.1")
    state = hostsvc.read(client)
    ref = hostsvc.locate(state, name=name)
    changes = hostsvc.plan(state, ref, desired, purge)
    moved = {}
    if changes and not check:
        moved, _task = hostsvc.apply(client, state, ref, changes, purge, 30)
    return changes, moved


def test_settings_drift_then_noop(world):
    desired = {"description": "rack 1", "iscsi_iqn": "iqn.2026-01.org.example:x2", "multipathing": True, "other_config": {"rack": "r1"}}
    changes, _unused = converge(world, "xen-02", desired, check=True)
    assert set(changes.fields) == {"description", "iscsi_iqn", "multipathing", "other_config"}
    assert world.writes() == []
    converge(world, "xen-02", desired)
    rec = world.db_of("10.0.0.1")["host"][host_ref(world, "xen-02")]
    assert rec["iscsi_iqn"] == "iqn.2026-01.org.example:x2" and rec["multipathing"] is True
    assert rec["other_config"]["rack"] == "r1"
    world.log.clear()
    changes, _unused = converge(world, "xen-02", desired)
    assert not changes
    assert world.writes() == []


def test_purge_other_config_keeps_mirrored_keys(world):
    rec = world.db_of("10.0.0.1")["host"][host_ref(world, "xen-02")]
    rec["other_config"]["stale"] = "1"
    converge(world, "xen-02", {"other_config": {"rack": "r2"}}, purge=True)
    assert rec["other_config"] == {"rack": "r2", "iscsi_iqn": rec["iscsi_iqn"], "multipathing": "false"}


def test_maintenance_evacuates_and_reports_destinations(world):
    db = world.db_of("10.0.0.1")
    World.add_vm(db, host_ref(world, "xen-02"), "web01")
    changes, moved = converge(world, "xen-02", {"state": "maintenance"})
    assert changes.fields["state"] == ("enabled", "maintenance")
    assert moved == {"web01": "xen-01"}
    assert db["host"][host_ref(world, "xen-02")]["enabled"] is False
    changes, _unused = converge(world, "xen-02", {"state": "maintenance"})
    assert not changes
    changes, _unused = converge(world, "xen-02", {"state": "disabled"})
    assert not changes  # an empty disabled host is fine as disabled
    converge(world, "xen-02", {"state": "enabled"})
    assert db["host"][host_ref(world, "xen-02")]["enabled"] is True


def test_blockers_name_each_vm(world):
    db = world.db_of("10.0.0.1")
    converge(world, "xen-01", {"state": "disabled"})
    World.add_vm(db, host_ref(world, "xen-02"), "db01")
    client = world.client("10.0.0.1")
    state = hostsvc.read(client)
    blocked = hostsvc.blockers(client, state, host_ref(world, "xen-02"))
    assert list(blocked) == ["db01"] and "NO_HOSTS_AVAILABLE" in blocked["db01"]


def test_unknown_host(world):
    with pytest.raises(hostsvc.HostError) as info:
        converge(world, "xen-99", {})
    assert info.value.code == "HOST_NOT_FOUND"
