# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError
from ansible_collections.vdc.xenpool.plugins.modules import host as host_module
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_pool_world import World
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, attach, run_module


@pytest.fixture
def world(monkeypatch):
    w = World()
    w.standalone("xen-01", "10.0.0.1")
    w.standalone("xen-02", "10.0.0.2")
    w.client("10.0.0.2").call_async("pool.join", "10.0.0.1", "root", w.password)
    w.log.clear()
    attach(monkeypatch, w)
    return w


def run(world, args, expect=Exited, check=False, diff=False):
    return run_module(host_module, "10.0.0.1", world, args, expect=expect, check=check, diff=diff)


def test_check_apply_noop(world):
    args = {"name": "xen-02", "description": "second", "iscsi_iqn": "iqn.2026-01.org.example:x2", "other_config": {"rack": 7}}
    result = run(world, args, check=True, diff=True)
    assert result["changed"] and result["diff"]["after"]["iscsi_iqn"] == "iqn.2026-01.org.example:x2"
    assert world.writes() == []
    result = run(world, args)
    assert result["host"]["other_config"] == {"rack": "7"} and result["host"]["description"] == "second"
    world.log.clear()
    assert run(world, args)["changed"] is False
    assert world.writes() == []


def test_rename_by_address(world):
    result = run(world, {"address": "10.0.0.2", "name": "xen-02-renamed"})
    assert result["host"]["name"] == "xen-02-renamed"


def test_maintenance_reports_where_vms_went(world):
    db = world.db_of("10.0.0.1")
    h2 = next(r for r, h in db["host"].items() if h["name_label"] == "xen-02")
    World.add_vm(db, h2, "web01")
    result = run(world, {"name": "xen-02", "state": "maintenance"}, check=True)
    assert result["to_evacuate"] == ["web01"] and world.writes() == []
    result = run(world, {"name": "xen-02", "state": "maintenance"})
    assert result["evacuated"] == {"web01": "xen-01"}
    assert result["host"]["state"] == "maintenance"


def test_maintenance_refused_with_reasons_and_nothing_changed(world):
    db = world.db_of("10.0.0.1")
    run(world, {"name": "xen-01", "state": "disabled"})
    h2 = next(r for r, h in db["host"].items() if h["name_label"] == "xen-02")
    World.add_vm(db, h2, "db01")
    world.log.clear()
    result = run(world, {"name": "xen-02", "state": "maintenance"}, expect=Failed)
    assert result["error_code"] == "CANNOT_EVACUATE_HOST" and "db01: NO_HOSTS_AVAILABLE" in result["msg"]
    assert [p.split(" OpaqueRef")[0] for p in result["error_params"]] == ["db01: NO_HOSTS_AVAILABLE"]
    assert world.writes() == []
    assert db["host"][h2]["enabled"] is True


def test_bulk_hosts_one_read_for_all(world):
    args = {"hosts": [{"name": "xen-01", "description": "one"}, {"name": "xen-02", "iscsi_iqn": "iqn.2026-01.org.example:x2", "multipathing": True}]}
    result = run(world, args, check=True, diff=True)
    assert result["changed"] and set(result["diff"]["after"]) == {"xen-01", "xen-02"}
    assert world.writes() == []
    result = run(world, args)
    assert result["hosts"]["xen-01"]["description"] == "one" and result["hosts"]["xen-02"]["multipathing"] is True
    world.log.clear()
    result = run(world, args)
    assert result["changed"] is False
    assert [c[1] for c in world.log if c[1].endswith("get_all_records")] == ["host.get_all_records", "VM.get_all_records"]


def test_bulk_and_single_are_exclusive(world):
    result = run(world, {"name": "xen-01", "hosts": [{"name": "xen-02"}]}, expect=Failed)
    assert "mutually exclusive" in result["msg"]


@pytest.mark.parametrize("iqn, needle", [
    ("", "iscsi_iqn of host xen-02 is empty"),
    ("iqn.2026-01.org.example:x2; rm -rf /", "is not an iSCSI name"),
    ("iqn 2026-01.org.example", "is not an iSCSI name"),
    ("iqn.2026-13.org.example:x", "is not an iSCSI name"),
    ("eui.12345", "is not an iSCSI name"),
])
def test_bad_iqn_is_refused_before_any_write(world, iqn, needle):
    """Issue 9 (6, 7): IQNs with spaces or shell characters were stored; an empty one gave INVALID_VALUE [value, ]."""
    result = run(world, {"hosts": [{"name": "xen-01", "description": "one"}, {"name": "xen-02", "iscsi_iqn": iqn}]}, expect=Failed)
    assert result["msg"].startswith("Failed to configure host 'hosts': INVALID_VALUE ")
    assert needle in result["msg"] and result["msg"].endswith("Correct these options; nothing was changed")
    assert world.writes() == []


@pytest.mark.parametrize("iqn", ["iqn.2026-01.org.example.dc:xen-02", "iqn.1992-08.com.netapp:sn.4082367740", "eui.02004567A425678D",
                                 "naa.52004567BA64678D"])
def test_valid_iscsi_names_are_accepted(world, iqn):
    assert run(world, {"name": "xen-02", "iscsi_iqn": iqn})["host"]["iscsi_iqn"] == iqn


def test_empty_name_is_refused(world):
    result = run(world, {"address": "10.0.0.2", "name": " "}, expect=Failed)
    assert "name of host 10.0.0.2 is empty" in result["msg"] and world.writes() == []


def test_maintenance_without_waiting_returns_the_task(world):
    db = world.db_of("10.0.0.1")
    World.add_vm(db, next(r for r, h in db["host"].items() if h["name_label"] == "xen-02"), "web01")
    result = run(world, {"name": "xen-02", "state": "maintenance", "wait": False})
    assert result["changed"] and result["evacuated"] == {} and len(result["tasks"]) == 1
    assert result["tasks"][0] in db["task"]  # not waited for, so not destroyed
    assert world.calls("task.get_record") == []


def test_failed_evacuation_gives_the_host_back(world, monkeypatch):
    """xapi may refuse a VM while evacuating although the pre-check passed: the host is not left disabled."""
    db = world.db_of("10.0.0.1")
    h2 = next(r for r, h in db["host"].items() if h["name_label"] == "xen-02")
    World.add_vm(db, h2, "no-pv-drivers")

    def refuse(client, task, timeout=600):
        del client, task, timeout
        raise XapiError("VM_LACKS_FEATURE", ["OpaqueRef:vm"])

    monkeypatch.setattr(host_module.hostsvc, "wait_task", refuse)
    result = run(world, {"name": "xen-02", "state": "maintenance"}, expect=Failed)
    assert result["error_code"] == "VM_LACKS_FEATURE" and "evacuation of host xen-02 failed, the host was enabled again" in result["msg"]
    assert db["host"][h2]["enabled"] is True
    assert [c[1] for c in world.writes()][-1] == "host.enable"
