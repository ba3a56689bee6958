# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pool module's main() against xapisim in-process: three Intel hosts and one AMD host, standalone as after a
fresh install; joins, ejects and refusals as xapi makes them, writes read from the simulator's call log."""

from __future__ import annotations

import json

import pytest
from xapisim.testing import hosts_datacenter

from ansible_collections.vdc.xenpool.plugins.modules import pool as pool_module
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, run_module, start

MASTER, INTEL_02, INTEL_03, AMD_01 = "127.0.0.11", "127.0.0.12", "127.0.0.13", "127.0.0.14"
MEMBERS = [{"address": "https://%s" % INTEL_03}, {"address": INTEL_02}]


@pytest.fixture(name="xapi")
def xapi_fixture(monkeypatch):
    xapi = start(monkeypatch, hosts_datacenter(("xen-intel-", 3, "GenuineIntel"), ("xen-amd-", 1, "AuthenticAMD")))
    yield xapi
    xapi.close()


def run(xapi, args, expect=Exited, check=False, diff=False):
    return run_module(pool_module, "https://%s" % MASTER, xapi, args, expect=expect, check=check, diff=diff)


def test_check_mode_predicts_and_writes_nothing(xapi):
    result = run(xapi, {"name": "pool-intel", "members": MEMBERS}, check=True, diff=True)
    assert result["changed"] is True
    assert sorted(result["joined"]) == ["xen-intel-02", "xen-intel-03"]
    assert result["diff"]["before"]["members"] == ["xen-intel-01"]
    assert result["diff"]["after"]["members"] == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert result["diff"]["after"]["name"] == "pool-intel"
    assert sorted(result["pending_members"]) == ["xen-intel-02", "xen-intel-03"]
    assert xapi.writes() == []
    assert xapi.host_names() == ["xen-intel-01"]


def test_apply_then_noop_and_no_secret_in_result(xapi):
    result = run(xapi, {"name": "pool-intel", "members": MEMBERS})
    assert result["changed"] is True and result["pending_members"] == []
    assert result["pool"]["members"] == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert xapi.host_names() == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    assert xapi.password not in json.dumps(result)
    xapi.reset_calls()
    result = run(xapi, {"name": "pool-intel", "members": list(reversed(MEMBERS))})
    assert result["changed"] is False
    assert xapi.writes() == []


def test_drift_rename_and_missing_member(xapi):
    run(xapi, {"name": "pool-intel", "members": MEMBERS[:1]})
    xapi.update("pool", next(iter(xapi.records("pool"))), name_label="renamed")
    xapi.reset_calls()
    result = run(xapi, {"name": "pool-intel", "members": MEMBERS}, check=True, diff=True)
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert {k for k in before if before[k] != after[k]} == {"name", "members"}
    assert result["joined"] == ["xen-intel-02"]
    assert xapi.writes() == []


def test_amd_member_fails_naming_host_and_vendor(xapi):
    result = run(xapi, {"name": "pool-intel", "members": MEMBERS + [{"address": AMD_01}]}, expect=Failed)
    assert "xen-amd-01" in result["msg"] and "CPUs differ" in result["msg"] and "AuthenticAMD" in result["msg"]
    assert result["error_code"] == "HOSTS_NOT_HOMOGENEOUS"
    assert xapi.writes() == []
    assert xapi.host_names() == ["xen-intel-01"]


def test_member_password_never_in_failure(xapi):
    result = run(xapi, {"members": [{"address": INTEL_02, "password": "Wr0ng-Secret"}]}, expect=Failed)
    assert "Wr0ng-Secret" not in json.dumps(result)
    assert "SESSION_AUTHENTICATION_FAILED" in result["msg"]


def test_purge_and_delete_member(xapi):
    run(xapi, {"members": MEMBERS})
    xapi.reset_calls()
    result = run(xapi, {"members": MEMBERS[:1], "purge_members": True}, check=True)
    assert result["ejected"] == ["xen-intel-02"] and xapi.writes() == []
    assert result["plan"] == ["eject xen-intel-02: the host's local state is wiped"]
    result = run(xapi, {"members": MEMBERS[:1], "purge_members": True})
    assert result["pool"]["members"] == ["xen-intel-01", "xen-intel-03"]
    assert xapi.host_names(INTEL_02) == ["xen-intel-02"]  # a standalone host again
    result = run(xapi, {"members": MEMBERS[:1], "purge_members": True})
    assert result["changed"] is False


def test_force_join_reports_skipped_checks(xapi):
    result = run(xapi, {"members": [{"address": AMD_01}], "force_join": True})
    assert result["forced_checks"][0]["code"] == "HOSTS_NOT_HOMOGENEOUS"
    assert "xen-amd-01" in result["pool"]["members"] and "xen-amd-01" in xapi.host_names()


def test_purge_refuses_a_member_known_only_by_another_address(xapi):
    """Issue 9 (3): xen-intel-02 declared by a second IP answers from the pool but matches no record; never eject it."""
    run(xapi, {"members": MEMBERS})
    xapi.add_address("127.0.0.112", INTEL_02)  # a second address of xen-intel-02 (DNS alias, second IP)
    xapi.reset_calls()
    result = run(xapi, {"members": [{"address": "127.0.0.112"}, {"address": INTEL_03}], "purge_members": True}, expect=Failed)
    assert result["error_code"] == "MEMBER_UNRESOLVED"
    assert "127.0.0.112" in result["msg"] and "members[].name" in result["msg"]
    assert xapi.writes() == []
    assert xapi.host_names() == ["xen-intel-01", "xen-intel-02", "xen-intel-03"]
    result = run(xapi, {"members": [{"address": "127.0.0.112", "name": "xen-intel-02"}, {"address": INTEL_03}], "purge_members": True})
    assert result["changed"] is False and result["ejected"] == []


def test_wait_is_not_an_option_of_pool(xapi):
    """Joins and master changes are always waited for: the module has wait_timeout, not a wait it would ignore."""
    result = run(xapi, {"wait": False}, expect=Failed)
    assert "Unsupported parameters" in result["msg"] and "wait" in result["msg"]


def test_the_master_under_another_address_is_neither_joined_nor_purged_around(xapi):
    """The master reached by a second address answers itself (no redirect): it was taken for a joiner and pool.join failed."""
    run(xapi, {"members": MEMBERS})
    xapi.add_address("127.0.0.111", MASTER)
    xapi.reset_calls()
    result = run(xapi, {"members": [{"address": "127.0.0.111"}, {"address": INTEL_03}], "purge_members": True}, expect=Failed)
    assert result["error_code"] == "MEMBER_UNRESOLVED" and "127.0.0.111" in result["msg"]
    assert xapi.writes() == []
    result = run(xapi, {"members": [{"address": "127.0.0.111"}] + MEMBERS})
    assert result["changed"] is False and result["joined"] == []
    assert result["notes"] == ["unresolved member address 127.0.0.111 is already in the pool"]
