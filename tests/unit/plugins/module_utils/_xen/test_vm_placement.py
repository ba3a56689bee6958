# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Placement (XenMotion) over hand-built PoolStates: which steps, which refusals, and the calls apply makes."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import LIVE
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import vm as vmc
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.placement import host_free_memory
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_apply import VmApplier
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_fleet import apply_fleet, plan_fleet
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_plan import plan_vm
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_vm_apply import ScriptedClient
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.test_vm_plan import vm_record, want

MIB = 1024 * 1024
GIB = 1024 * MIB
HOSTS = {  # name: (memory GiB, enabled, networks with a PIF)
    "xen-01": (16, True, ("n0",)), "xen-02": (16, True, ("n0",)), "xen-03": (16, False, ("n0",)),
    "xen-04": (16, True, ()), "xen-05": (2, True, ("n0",)),
}


def world(web_power="Running", nfs_free_gib=100):
    """Five hosts (xen-03 disabled, xen-04 without a PIF on net0, xen-05 with 2 GiB), two shared SRs on all of
    them, a template, and web1 (1 GiB, disk 0 on the iSCSI SR, a NIC on net0) resident on xen-01."""
    records = {"pool": {"p": {"uuid": "pool-uuid", "name_label": "pool", "default_SR": "iscsi", "master": "xen-01"}},
               "host": {}, "host_metrics": {}, "PBD": {}, "network": {"n0": {"uuid": "n0-uuid", "name_label": "net0", "PIFs": []}},
               "SR": {"iscsi": {"uuid": "iscsi-uuid", "name_label": "iSCSI", "type": "lvmoiscsi", "content_type": "",
                                "physical_size": str(500 * GIB), "physical_utilisation": str(20 * GIB), "PBDs": []},
                      "nfs": {"uuid": "nfs-uuid", "name_label": "NFS", "type": "nfs", "content_type": "",
                              "physical_size": str(nfs_free_gib * GIB), "physical_utilisation": "0", "PBDs": []}},
               "VM": {"tpl": vm_record("CentOS 7", is_a_template=True)}, "VBD": {}, "VDI": {}, "VIF": {}}
    for name, (gib, enabled, nets) in HOSTS.items():
        pifs = ["pif-%s-%s" % (name, n) for n in nets]
        records["host"][name] = {"uuid": name + "-uuid", "name_label": name, "enabled": enabled, "metrics": "m-" + name,
                                 "memory_overhead": str(100 * MIB), "PIFs": pifs}
        records["host_metrics"]["m-" + name] = {"memory_total": str(gib * GIB), "live": True}
        records["network"]["n0"]["PIFs"] += pifs
        for sr in ("iscsi", "nfs"):
            records["PBD"]["%s-%s" % (sr, name)] = {"host": name, "SR": sr, "currently_attached": True}
            records["SR"][sr]["PBDs"].append("%s-%s" % (sr, name))
        records["VM"]["dom0-" + name] = vm_record("Control domain on " + name, power="Running", mem=1024, is_control_domain=True,
                                                  resident_on=name)
    resident = "xen-01" if web_power == "Running" else "OpaqueRef:NULL"
    records["VM"]["web"] = vm_record("web1", power=web_power, mem=1024, vbds=["vbd0"], vifs=["vif0"], resident_on=resident,
                                     memory_overhead=str(10 * MIB), other_config={vmc.MARKER: "true"})
    records["VBD"]["vbd0"] = {"VM": "web", "VDI": "vdi0", "type": "Disk", "userdevice": "0", "currently_attached": True,
                              "unpluggable": True, "empty": False}
    records["VDI"]["vdi0"] = {"uuid": "vdi0-uuid", "name_label": "web1 0", "SR": "iscsi", "virtual_size": str(10 * GIB),
                              "physical_utilisation": str(4 * GIB), "allowed_operations": [], "VBDs": ["vbd0"]}
    records["VIF"]["vif0"] = {"VM": "web", "device": "0", "network": "n0", "MAC": "02:00:00:00:00:01", "currently_attached": True}
    return PoolState(records)


def plan_of(state=None, **params):
    return plan_vm(state or world(), want(**dict({"name": "web1"}, **params)), {vmc.MARKER_POOL: "pool-uuid"})


def refused(state=None, **params):
    with pytest.raises(PlanError) as info:
        plan_of(state, **params)
    return info.value


def test_running_vm_elsewhere_migrates_live_and_shows_the_host_in_the_diff():
    plan = plan_of(resident_on="xen-02")
    assert plan.summary() == ["migrate web1 from xen-01 to xen-02"]
    step = plan.steps[0]
    assert step["impact"] == LIVE and step["op"] == "migrate" and step["host"] == "xen-02"
    assert plan.before["resident_on"] == "xen-01" and plan.after["resident_on"] == "xen-02"


def test_already_there_is_no_change():
    plan = plan_of(resident_on="xen-01", power_state="running")
    assert not plan.changed and plan.steps == []


def test_refusals_before_any_write_name_the_host_network_and_memory():
    assert refused(resident_on="xen-09").code == "HOST_NOT_FOUND"
    err = refused(resident_on="xen-03")
    assert err.code == "HOST_DISABLED" and "xen-03" in err.message
    err = refused(resident_on="xen-04")
    assert err.code == "VM_REQUIRES_NETWORK" and "'net0'" in err.message and "xen-04" in err.message
    err = refused(resident_on="xen-05")
    # 2048 MiB - 100 overhead - 1024 dom0 = 924 MiB free; web1 needs 1024 + 10
    assert err.code == "HOST_NOT_ENOUGH_FREE_MEMORY" and "1034 MiB" in err.message and "924 MiB free" in err.message


def test_free_memory_is_xapis_maximum_compression_figure():
    state = world()
    assert host_free_memory(state, "xen-01") == 16 * GIB - 100 * MIB - 1024 * MIB - 1034 * MIB
    state.records["host_metrics"]["m-xen-02"] = {"memory_free": str(3 * GIB)}  # no total: the reported figure
    assert host_free_memory(state, "xen-02") == 3 * GIB


def test_a_host_without_the_sr_is_refused():
    state = world()
    state.records["PBD"]["iscsi-xen-02"]["currently_attached"] = False
    err = refused(state, resident_on="xen-02")
    assert err.code == "VM_REQUIRES_SR" and "'iSCSI'" in err.message


def test_halted_vm_starts_on_the_host_only_when_asked_to_run():
    plan = plan_of(world("Halted"), resident_on="xen-02", power_state="running")
    start = plan.steps[-1]
    assert plan.summary()[-1] == "start VM: on xen-02" and start["host"] == "xen-02"
    assert plan.after["resident_on"] == "xen-02"
    plan = plan_of(world("Halted"), resident_on="xen-02")
    assert plan.summary() == ["set affinity:  -> xen-02"] and plan.after["affinity"] == "xen-02"
    assert plan.after["resident_on"] is None
    assert refused(world("Halted"), resident_on="xen-05", power_state="running").code == "HOST_NOT_ENOUGH_FREE_MEMORY"
    # a declared affinity wins for a VM that stays halted: nothing to record
    assert plan_of(world("Halted"), resident_on="xen-02", affinity="").steps == []


def test_restart_for_a_power_off_change_starts_on_the_host_instead_of_migrating():
    plan = plan_of(resident_on="xen-02", memory_mib=2048, allow_restart=True)
    assert plan.summary()[0] == "shut down VM [needs power-off]"
    assert plan.summary()[-1] == "start VM: on xen-02"
    assert not [s for s in plan.steps if s.get("op") == "migrate"]


def test_created_vm_starts_on_its_host():
    plan = plan_vm(world(), want(name="db1", template="CentOS 7", memory_mib=1024, power_state="running", resident_on="xen-02",
                                 nics=[{"network": "net0"}]), {})
    assert plan.summary()[-1] == "start VM: on xen-02"
    with pytest.raises(PlanError) as info:
        plan_vm(world(), want(name="db1", template="CentOS 7", power_state="running", resident_on="xen-04",
                              nics=[{"network": "net0"}]), {})
    assert info.value.code == "VM_REQUIRES_NETWORK"


def test_disk_moves_live_to_another_sr_and_space_is_checked():
    plan = plan_of(disks=[{"position": "0", "sr": "NFS"}])
    assert plan.summary() == ["move disk 0 of web1 from SR iSCSI to SR NFS"]
    assert plan.steps[0]["op"] == "disk_move" and plan.steps[0]["sr"] == "nfs" and plan.steps[0]["vdi"] == "vdi0"
    assert plan.before["disks"][0]["sr"] == "iSCSI" and plan.after["disks"][0]["sr"] == "NFS"
    assert plan_of(disks=[{"position": "0", "sr": "iSCSI"}]).steps == []
    # NFS is thin: the 4 GiB written count, not the 10 GiB size
    assert refused(world(nfs_free_gib=3), disks=[{"position": "0", "sr": "NFS"}]).code == "SR_FULL"
    assert plan_of(world(nfs_free_gib=5), disks=[{"position": "0", "sr": "NFS"}]).changed


def test_disk_of_a_halted_vm_is_refused_with_a_hint():
    err = refused(world("Halted"), disks=[{"position": "0", "sr": "NFS"}])
    assert err.code == "DISK_MOVE_NEEDS_RUNNING_VM" and "power_state: running" in err.hint


def test_disk_move_and_migration_together_check_the_target_sr():
    state = world()
    state.records["PBD"]["nfs-xen-02"]["currently_attached"] = False
    assert refused(state, resident_on="xen-02", disks=[{"position": "0", "sr": "NFS"}]).code == "VM_REQUIRES_SR"
    plan = plan_of(resident_on="xen-02", disks=[{"position": "0", "sr": "NFS"}])
    assert [s["op"] for s in plan.steps] == ["disk_move", "migrate"]


def test_a_fleet_claims_memory_host_by_host():
    state = world()
    for index in range(1, 4):  # three 4 GiB VMs on xen-01; xen-02 has 16 GiB - 100 MiB - 1 GiB free
        state.records["VM"]["big%d" % index] = vm_record("big%d" % index, power="Running", mem=4096, resident_on="xen-01")
    names = ["big1", "big2", "big3"]
    fleet = plan_fleet(state, [want(name=n, resident_on="xen-02") for n in names[:3]])
    assert [p.summary() for _n, _w, p in fleet.items] == [["migrate %s from xen-01 to xen-02" % n] for n in names]
    state = world()
    for index in range(1, 5):
        state.records["VM"]["big%d" % index] = vm_record("big%d" % index, power="Running", mem=4096, resident_on="xen-01")
    with pytest.raises(PlanError) as info:
        plan_fleet(state, [want(name="big%d" % i, resident_on="xen-02") for i in range(1, 5)])
    assert info.value.code == "HOST_NOT_ENOUGH_FREE_MEMORY" and "big4" in info.value.message


def test_apply_checks_then_migrates_live_and_moves_disks_as_tasks():
    state = world()
    plan = plan_of(state, resident_on="xen-02", disks=[{"position": "0", "sr": "NFS"}])
    client = ScriptedClient(state.records)
    VmApplier(client, state, timeout=5, sleep=lambda _s: None).apply(plan, "web")
    writes = [c for c in client.log if not c[0].startswith(("task.", "VM.get", "VBD.get", "VDI.get", "VIF.get"))]
    assert writes == [("Async.VDI.pool_migrate", "vdi0", "nfs", {}), ("VM.assert_can_boot_here", "web", "xen-02"),
                      ("Async.VM.pool_migrate", "web", "xen-02", {"live": "true"})]


def test_apply_starts_on_the_host():
    state = world("Halted")
    plan = plan_of(state, resident_on="xen-02", power_state="running")
    client = ScriptedClient(state.records)
    VmApplier(client, state, timeout=5, sleep=lambda _s: None).apply(plan, "web")
    assert ("Async.VM.start_on", "web", "xen-02", False, False) in client.log
    assert not [c for c in client.log if c[0] == "Async.VM.start"]


def test_check_mode_of_a_whole_site_notes_a_host_still_to_join():
    state = world()
    state.predicted = []
    plan = plan_of(state, resident_on="xen-09")
    assert plan.steps == [] and state.predicted == [
        "host 'xen-09' does not exist yet: an earlier step of this run creates it, or the run will stop here"]
    assert refused(resident_on="xen-09").hint == "Check resident_on, or join the host to the pool first"


def test_a_fleet_migrates_each_vm_through_its_own_session():
    state = world()
    for index in (1, 2, 3):
        state.records["VM"]["app%d" % index] = vm_record("app%d" % index, power="Running", mem=512, resident_on="xen-01")
    fleet = plan_fleet(state, [want(name="app%d" % i, resident_on="xen-02") for i in (1, 2, 3)])
    clients = []

    def new_client():
        client = ScriptedClient(state.records)
        client.login = client.close = lambda: None
        clients.append(client)
        return client

    outcomes = apply_fleet(new_client, state, fleet, max_parallel=2, timeout=5)
    assert [o["error"] for o in outcomes] == [None, None, None]
    migrations = sorted(c[1] for client in clients for c in client.log if c[0] == "Async.VM.pool_migrate")
    assert migrations == ["app1", "app2", "app3"] and len(clients) == 3


def test_a_block_sr_needs_the_whole_virtual_size():
    state = world()
    state.records["VDI"]["vdi0"]["SR"] = "nfs"  # 10 GiB disk, 4 GiB written; the iSCSI SR has 480 GiB free
    assert plan_of(state, disks=[{"position": "0", "sr": "iSCSI"}]).summary() == ["move disk 0 of web1 from SR NFS to SR iSCSI"]
    state = world()
    state.records["VDI"]["vdi0"]["SR"] = "nfs"
    state.records["SR"]["iscsi"]["physical_utilisation"] = str(492 * GIB)  # 8 GiB free: more than written, less than the size
    err = refused(state, disks=[{"position": "0", "sr": "iSCSI"}])
    assert err.code == "SR_FULL" and "10.0 GiB" in err.message and "8.0 GiB free" in err.message
