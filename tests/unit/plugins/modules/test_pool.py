# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import pool as pool_module
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_pool_world import World
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, attach, run_module


@pytest.fixture
def world(monkeypatch):
    w = World()
    for i in (1, 2, 3):
        w.standalone("xen-intel-%02d" % i, "10.0.0.%d" % i)
    w.standalone("xen-amd-01", "10.0.1.1", vendor="AuthenticAMD")
    attach(monkeypatch, w, pool_module)
    return w


def run(world, args, expect=Exited, check=False, diff=False):
    return run_module(pool_module, "https://10.0.0.1", world, args, expect=expect, check=check, diff=diff)


MEMBERS = [{"address": "https://10.0.0.3"}, {"address": "10.0.0.2"}]


def test_check_mode_predicts_and_writes_nothing(world):
    result = run(world, {"name": "pool-intel", "members": MEMBERS}, check=True, diff=True)
    assert result["changed"] is True
    assert result["joined"] == ["xen-intel-02", "xen-intel-03"] or sorted(result["joined"]) == ["xen-intel-02", "xen-intel-03"]
    assert result["diff"]["before"]["members"] == ["xen-intel-01"]
    assert result["diff"]["after"]["members"] == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert result["diff"]["after"]["name"] == "pool-intel"
    assert sorted(result["pending_members"]) == ["xen-intel-02", "xen-intel-03"]
    assert world.writes() == []


def test_apply_then_noop_and_no_secret_in_result(world):
    result = run(world, {"name": "pool-intel", "members": MEMBERS})
    assert result["changed"] is True and result["pending_members"] == []
    assert result["pool"]["members"] == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert world.password not in json.dumps(result)
    world.log.clear()
    result = run(world, {"name": "pool-intel", "members": list(reversed(MEMBERS))})
    assert result["changed"] is False
    assert world.writes() == []


def test_drift_rename_and_missing_member(world):
    run(world, {"name": "pool-intel", "members": MEMBERS[:1]})
    world.pool_of("10.0.0.1")["name_label"] = "renamed"
    world.log.clear()
    result = run(world, {"name": "pool-intel", "members": MEMBERS}, check=True, diff=True)
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert {k for k in before if before[k] != after[k]} == {"name", "members"}
    assert result["joined"] == ["xen-intel-02"]
    assert world.writes() == []


def test_amd_member_fails_naming_host_and_vendor(world):
    result = run(world, {"name": "pool-intel", "members": MEMBERS + [{"address": "10.0.1.1"}]}, expect=Failed)
    assert "xen-amd-01" in result["msg"] and "CPUs differ" in result["msg"] and "AuthenticAMD" in result["msg"]
    assert result["error_code"] == "HOSTS_NOT_HOMOGENEOUS"
    assert world.writes() == []
    assert world.member_names("10.0.0.1") == ["xen-intel-01"]


def test_member_password_never_in_failure(world):
    result = run(world, {"members": [{"address": "10.0.0.2", "password": "Wr0ng-Secret"}]}, expect=Failed)
    assert "Wr0ng-Secret" not in json.dumps(result)
    assert "SESSION_AUTHENTICATION_FAILED" in result["msg"]


def test_purge_and_delete_member(world):
    run(world, {"members": MEMBERS})
    world.log.clear()
    result = run(world, {"members": MEMBERS[:1], "purge_members": True}, check=True)
    assert result["ejected"] == ["xen-intel-02"] and world.writes() == []
    assert result["plan"] == ["eject xen-intel-02: the host's local state is wiped"]
    result = run(world, {"members": MEMBERS[:1], "purge_members": True})
    assert result["pool"]["members"] == ["xen-intel-01", "xen-intel-03"]
    result = run(world, {"members": MEMBERS[:1], "purge_members": True})
    assert result["changed"] is False


def test_force_join_reports_skipped_checks(world):
    result = run(world, {"members": [{"address": "10.0.1.1"}], "force_join": True})
    assert result["forced_checks"][0]["code"] == "HOSTS_NOT_HOMOGENEOUS"
    assert "xen-amd-01" in result["pool"]["members"]


def test_purge_refuses_a_member_known_only_by_another_address(world):
    """Issue 9 (3): xen-intel-02 declared by a second IP answers from the pool but matches no record; never eject it."""
    run(world, {"members": MEMBERS})
    world.hosts["10.9.9.2"] = world.hosts["10.0.0.2"]  # a second address of xen-intel-02 (DNS alias, second IP)
    world.log.clear()
    result = run(world, {"members": [{"address": "10.9.9.2"}, {"address": "10.0.0.3"}], "purge_members": True}, expect=Failed)
    assert result["error_code"] == "MEMBER_UNRESOLVED"
    assert "10.9.9.2" in result["msg"] and "members[].name" in result["msg"]
    assert world.writes() == []
    assert world.member_names("10.0.0.1") == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    result = run(world, {"members": [{"address": "10.9.9.2", "name": "xen-intel-02"}, {"address": "10.0.0.3"}], "purge_members": True})
    assert result["changed"] is False and result["ejected"] == []


def test_wait_is_not_an_option_of_pool(world):
    """Joins and master changes are always waited for: the module has wait_timeout, not a wait it would ignore."""
    result = run(world, {"wait": False}, expect=Failed)
    assert "Unsupported parameters" in result["msg"] and "wait" in result["msg"]


def test_the_master_under_another_address_is_neither_joined_nor_purged_around(world):
    """The master reached by a second address answers itself (no redirect): it was taken for a joiner and pool.join failed."""
    run(world, {"members": MEMBERS})
    world.hosts["10.9.9.1"] = world.hosts["10.0.0.1"]
    world.log.clear()
    result = run(world, {"members": [{"address": "10.9.9.1"}, {"address": "10.0.0.3"}], "purge_members": True}, expect=Failed)
    assert result["error_code"] == "MEMBER_UNRESOLVED" and "10.9.9.1" in result["msg"]
    assert world.writes() == []
    result = run(world, {"members": [{"address": "10.9.9.1"}] + MEMBERS})
    assert result["changed"] is False and result["joined"] == []
    assert result["notes"] == ["unresolved member address 10.9.9.1 is already in the pool"]
