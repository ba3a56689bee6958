# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool's ha_off_before_join: site.yml turns HA off before a join, so its check mode must plan the join as if HA were
off, while a real run still refuses to join a pool whose HA is on (xapi pre_join_checks: HA_IS_ENABLED)."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import pool as pool_module
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_pool_world import World
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, attach, run_module


@pytest.fixture
def world(monkeypatch):
    w = World()
    for i in (1, 2):
        w.standalone("xen-intel-%02d" % i, "10.0.0.%d" % i)
    attach(monkeypatch, w, pool_module)
    w.pool_of("10.0.0.1")["ha_enabled"] = True
    return w


def run(world, args, expect=Exited, check=False):
    return run_module(pool_module, "https://10.0.0.1", world, dict(args, members=[{"address": "10.0.0.2"}]),
                      expect=expect, check=check, diff=True)


def test_ha_on_refuses_the_join_in_check_mode_without_the_option(world):
    result = run(world, {}, expect=Failed, check=True)
    assert result["error_code"] == "HA_IS_ENABLED" and "xen-intel-02" in result["msg"]
    assert world.writes() == []


def test_check_mode_plans_the_join_when_an_earlier_task_turns_ha_off(world):
    result = run(world, {"ha_off_before_join": True}, check=True)
    assert result["changed"] is True and result["pending_members"] == ["xen-intel-02"]
    assert result["diff"]["after"]["members"] == ["xen-intel-01", "xen-intel-02"]
    assert world.writes() == []
    assert world.pool_of("10.0.0.1")["ha_enabled"] is True


def test_a_real_run_reads_ha_as_it_is(world):
    result = run(world, {"ha_off_before_join": True}, expect=Failed)
    assert result["error_code"] == "HA_IS_ENABLED"
    assert world.writes() == []
    assert world.member_names("10.0.0.1") == ["xen-intel-01"]
