# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool's pause_ha_for_joins, against xapisim in-process: xapi refuses pool.join while the pool has HA on
(`xapi_pool.ml` `pre_join_checks`, HA_IS_ENABLED), so the module turns HA off as a step of its own plan before the
joins, or refuses the joins before any write. The truth is read from the simulator's state and call log."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import pool as pool_module
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, run_module, start

# pool-a (xen-01 master, xen-02) with HA on, and xen-03 standalone: the host to add.
DATACENTER = {
    "name": "ha-joins", "credentials": {"username": "root", "password": "pool-ha-unit-not-a-secret"},
    "host_groups": [{"name_prefix": "xen-", "count": 3, "memory_gib": 64, "nics": 1,
                     "cpu": {"vendor": "GenuineIntel", "model": "Xeon", "cores": 4, "speed_mhz": 2400}}],
    "pools": [{"name_label": "pool-a", "master": "xen-01", "members": ["xen-02"],
               "shared_sr": {"name_label": "iSCSI", "type": "lvmoiscsi", "size_gib": 1000}}],
    "templates": [{"name_label": "Debian Bookworm 12", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]}],
}
RUNNING_VM_ON_XEN_03 = {"pool": "xen-03", "count": 1, "name_prefix": "busy-", "template": "Debian Bookworm 12",
                        "power_state": "Running", "vcpus": 1, "memory_mib": 1024, "disk_gib": 10}


def start_ha_on(monkeypatch, datacenter):
    xapi = start(monkeypatch, datacenter)
    xapi.update("pool", next(iter(xapi.records("pool"))), ha_enabled=True)
    return xapi


@pytest.fixture(name="xapi")
def xapi_fixture(monkeypatch):
    xapi = start_ha_on(monkeypatch, DATACENTER)
    yield xapi
    xapi.close()


def address(xapi, name):
    """The management address of the host named `name`, in whichever pool (or on its own) it is."""
    return next(rec["address"] for a in xapi.addresses for rec in xapi.records("host", a).values() if rec["name_label"] == name)


def run(xapi, args, expect=Exited, check=False, members=("xen-02", "xen-03")):
    declared = [{"address": address(xapi, name)} for name in members]
    return run_module(pool_module, "https://%s" % xapi.master, xapi, dict({"username": "root", "members": declared}, **args),
                      expect=expect, check=check, diff=True)


def members(xapi):
    return sorted(rec["name_label"] for rec in xapi.records("host").values())


def ha_enabled(xapi):
    return next(iter(xapi.records("pool").values()))["ha_enabled"]


def test_check_mode_plans_ha_off_before_the_join_and_writes_nothing(xapi):
    out = run(xapi, {"pause_ha_for_joins": True}, check=True)
    assert out["changed"] is True and out["joined"] == ["xen-03"] and out["ha_paused"] is True
    assert out["pending_members"] == ["xen-03"] and out["diff"]["after"]["members"] == ["xen-01", "xen-02", "xen-03"]
    assert out["plan"] == ["turn HA off pool-a: for the join of xen-03; it stays off until it is turned on again", "join xen-03"]
    assert xapi.writes() == []
    assert ha_enabled(xapi) is True and members(xapi) == ["xen-01", "xen-02"]


def test_a_real_run_turns_ha_off_then_joins_and_the_next_run_changes_nothing(xapi):
    out = run(xapi, {"pause_ha_for_joins": True})
    assert out["changed"] is True and out["joined"] == ["xen-03"] and out["ha_paused"] is True
    writes = xapi.writes()
    assert writes.count("Async.pool.disable_ha") == 1 and writes.index("Async.pool.disable_ha") < writes.index("Async.pool.join")
    assert members(xapi) == ["xen-01", "xen-02", "xen-03"] and ha_enabled(xapi) is False
    xapi.reset_calls()
    again = run(xapi, {"pause_ha_for_joins": True})
    assert again["changed"] is False and again["joined"] == [] and again["ha_paused"] is False and again["plan"] == []
    assert xapi.writes() == []


@pytest.mark.parametrize("check", [True, False])
def test_without_the_option_the_join_is_refused_naming_the_pool_the_code_and_the_fix(xapi, check):
    out = run(xapi, {"name": "pool-a"}, expect=Failed, check=check)
    assert out["error_code"] == "HA_IS_ENABLED"
    assert out["msg"].startswith("Failed to configure pool 'pool-a': HA_IS_ENABLED HA is enabled on pool 'pool-a'")
    assert "xen-03 cannot join" in out["msg"] and "pause_ha_for_joins: true" in out["msg"] and "turn HA off first" in out["msg"]
    assert xapi.writes() == [] and ha_enabled(xapi) is True and members(xapi) == ["xen-01", "xen-02"]


def test_ha_stays_on_when_no_host_joins(xapi):
    out = run(xapi, {"pause_ha_for_joins": True, "name": "pool-a"}, members=("xen-02",))
    assert out["changed"] is False and out["ha_paused"] is False and out["plan"] == []
    assert xapi.writes() == [] and ha_enabled(xapi) is True


def test_an_eject_with_ha_on_is_refused_before_any_write(xapi):
    out = run(xapi, {"pause_ha_for_joins": True, "purge_members": True}, expect=Failed, members=())
    assert out["error_code"] == "HA_IS_ENABLED" and "pool.eject" in out["msg"] and "state: disabled" in out["msg"]
    assert xapi.writes() == [] and members(xapi) == ["xen-01", "xen-02"]


@pytest.fixture(name="busy")
def busy_fixture(monkeypatch):
    datacenter = copy.deepcopy(DATACENTER)
    datacenter["vms"] = [RUNNING_VM_ON_XEN_03]
    xapi = start_ha_on(monkeypatch, datacenter)
    yield xapi
    xapi.close()


def test_ha_is_not_turned_off_for_a_join_that_would_be_refused(busy):
    out = run(busy, {"pause_ha_for_joins": True}, expect=Failed)
    assert out["error_code"] == "JOINING_HOST_CANNOT_HAVE_RUNNING_VMS" and "HA_IS_ENABLED" not in out["msg"]
    assert busy.writes() == [] and ha_enabled(busy) is True


def test_the_ha_refusal_names_every_other_pre_join_problem(busy):
    out = run(busy, {}, expect=Failed, check=True)
    assert out["error_code"] == "HA_IS_ENABLED"
    assert "other pre-join problems: xen-03: JOINING_HOST_CANNOT_HAVE_RUNNING_VMS running VMs: busy-" in out["msg"]
    assert "fix the other pre-join problems" in out["msg"] and busy.writes() == []
