# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HA: heartbeat SR choice, statefile/metadata VDIs, planner numbers, guarded changes."""
from __future__ import annotations

import pytest
import XenAPI
import yaml

from conftest import connect, password, start_sim
from test_xapisim_storage import DATACENTER, LUN1, TARGET_IQN

GIB = 1024 ** 3


@pytest.fixture(scope="module", name="ha_sim")
def ha_sim_fixture(tmp_path_factory):
    path = tmp_path_factory.mktemp("dc") / "ha.yml"
    path.write_text(yaml.safe_dump(DATACENTER))
    sim = start_sim(tmp_path_factory, "ha", None, ["--datacenter", str(path)])
    yield sim
    sim.stop()


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


def protected_vm(x, name, host):
    vm = x.VM.clone(x.VM.get_by_name_label("Other install media")[0], name)
    x.VM.provision(vm)
    x.VM.set_memory_limits(vm, str(GIB), str(2 * GIB), str(2 * GIB), str(2 * GIB))
    x.VM.set_ha_restart_priority(vm, "restart")
    assert x.VM.get_ha_always_run(vm) is False, "a halted VM is not protected yet"
    x.VM.start_on(vm, host, False, False)
    assert x.VM.get_ha_always_run(vm) is True
    return vm


def test_ha_lifecycle(ha_sim):
    x = connect(ha_sim).xenapi
    pool = x.pool.get_all()[0]
    master = x.pool.get_master(pool)
    hosts = sorted(x.host.get_all(), key=x.host.get_name_label)
    assert details(x.pool.enable_ha, [], {}) == ["CANNOT_CREATE_STATE_FILE"]
    local = [sr for sr in x.SR.get_all() if x.SR.get_type(sr) == "lvm"][0]
    assert details(x.pool.enable_ha, [local], {}) == ["SR_HAS_NO_PBDS", local]
    config = {"target": "127.0.0.200", "targetIQN": TARGET_IQN, "SCSIid": LUN1, "chapuser": "chapu",
              "chappassword": "chap-secret"}
    sr = x.SR.create(master, config, "0", "heartbeat", "", "lvmoiscsi", "", True, {})
    vm1 = protected_vm(x, "ha-1", hosts[0])
    vm2 = protected_vm(x, "ha-2", hosts[1])
    assert x.pool.ha_compute_hypothetical_max_host_failures_to_tolerate({vm1: "restart", vm2: "restart"}) == "1"
    assert x.pool.ha_compute_hypothetical_max_host_failures_to_tolerate({vm1: "best-effort"}) == "2"
    big = x.VM.clone(x.VM.get_by_name_label("Other install media")[0], "ha-big")
    x.VM.provision(big)
    x.VM.set_memory_limits(big, str(GIB), str(13 * GIB), str(13 * GIB), str(13 * GIB))
    assert x.pool.ha_compute_hypothetical_max_host_failures_to_tolerate({big: "restart"}) == "0", \
        "an offline protected VM that fits nowhere leaves no plan"
    x.VM.set_memory_limits(big, str(GIB), str(4 * GIB), str(4 * GIB), str(4 * GIB))
    assert x.pool.ha_compute_hypothetical_max_host_failures_to_tolerate({big: "restart", vm1: "restart"}) == "1"
    assert details(x.pool.ha_compute_hypothetical_max_host_failures_to_tolerate, {vm1: "3"}) == \
        ["INVALID_VALUE", "ha_restart_priority", "3"]
    assert details(x.pool.enable_ha, [sr], {"timeout": "5"}) == ["INVALID_VALUE", "timeout", "5"]
    x.pool.enable_ha([sr], {"timeout": "30"})
    rec = x.pool.get_record(pool)
    assert rec["ha_enabled"] is True and rec["ha_configuration"] == {"timeout": "30"} and rec["ha_cluster_stack"] == "xhad"
    statefile = rec["ha_statefiles"][0]
    assert x.VDI.get_type(statefile) == "ha_statefile" and x.VDI.get_virtual_size(statefile) == "266240"
    assert x.VDI.get_name_label(statefile) == "Statefile for HA"
    redo = [v for v in x.SR.get_VDIs(sr) if x.VDI.get_type(v) == "redo_log"]
    assert len(redo) == 1 and x.VDI.get_virtual_size(redo[0]) == "3988783104"
    assert rec["ha_plan_exists_for"] == "0" and rec["ha_overcommitted"] is False
    assert x.pool.ha_compute_max_host_failures_to_tolerate() == "1"
    assert x.pool.ha_failover_plan_exists("1") is True and x.pool.ha_failover_plan_exists("2") is False
    x.pool.set_ha_host_failures_to_tolerate(pool, "1")
    assert x.pool.get_ha_plan_exists_for(pool) == "1" and x.pool.get_ha_overcommitted(pool) is False
    assert details(x.pool.set_ha_host_failures_to_tolerate, pool, "2") == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    assert details(x.host.disable, hosts[1]) == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    assert x.host.get_enabled(hosts[1]) is True
    hog = x.VM.clone(x.VM.get_by_name_label("Other install media")[0], "memory-hog")
    x.VM.provision(hog)
    x.VM.set_memory_limits(hog, str(GIB), str(9 * GIB), str(9 * GIB), str(9 * GIB))
    x.VM.start_on(hog, hosts[0], False, False)
    assert x.VM.get_power_state(hog) == "Running", "a start that keeps the plan is allowed"
    x.VM.hard_shutdown(hog)
    x.VM.set_memory_limits(hog, str(GIB), str(11 * GIB), str(11 * GIB), str(11 * GIB))
    assert details(x.VM.start_on, hog, hosts[0], False, False) == ["HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN"]
    assert x.VM.get_power_state(hog) == "Halted"
    x.pool.set_ha_allow_overcommit(pool, True)
    x.VM.start_on(hog, hosts[0], False, False)
    x.VM.hard_shutdown(hog)
    x.pool.set_ha_allow_overcommit(pool, False)
    assert details(x.pool.set_ha_host_failures_to_tolerate, pool, "-1")[0] == "INVALID_VALUE"
    assert details(x.VM.set_ha_restart_priority, vm1, "0") == ["INVALID_VALUE", "ha_restart_priority", "0"]
    assert details(x.VM.set_order, vm1, "-1")[0] == "INVALID_VALUE"
    joiner = connect(ha_sim, 2).xenapi
    assert details(joiner.pool.join, ha_sim.ready["hosts"][0]["address"], "root", password(ha_sim)) == ["HA_IS_ENABLED"]
    assert details(x.pool.designate_new_master, hosts[1]) == ["HA_IS_ENABLED"]
    assert details(x.pool.enable_ha, [sr], {}) == ["HA_IS_ENABLED"]
    x.pool.disable_ha()
    assert x.pool.get_ha_enabled(pool) is False and x.pool.get_ha_plan_exists_for(pool) == "0"
    assert details(x.pool.disable_ha) == ["HA_NOT_ENABLED"]
    vdis_before = sorted(x.SR.get_VDIs(sr))
    x.pool.enable_ha([], {})
    assert sorted(x.SR.get_VDIs(sr)) == vdis_before, "existing statefile and metadata VDIs are reused"
    x.pool.disable_ha()
