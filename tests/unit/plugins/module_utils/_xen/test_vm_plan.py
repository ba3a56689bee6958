# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VM concept, validator and planner over hand-built PoolStates: pure, no XenAPI, no network."""

from __future__ import annotations

import pytest
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import LIVE, POWER_OFF, REBOOT
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import vm as vmc
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_fleet import plan_fleet
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_plan import plan_vm
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm_spec import VM_SPEC, normalise

MIB = 1024 * 1024
GIB = 1024 * MIB
DISKS_XML = '<provision><disk device="0" size="%d" sr="" bootable="true" type="system"/></provision>' % (10 * GIB)


def vm_record(name, power="Halted", vcpus=1, vcpus_max=2, mem=1024, vbds=(), vifs=(), **extra):
    rec = {"uuid": "uuid-" + name, "name_label": name, "name_description": "", "power_state": power,
           "is_a_template": False, "is_a_snapshot": False, "is_control_domain": False, "VCPUs_at_startup": str(vcpus),
           "VCPUs_max": str(vcpus_max), "memory_static_min": str(mem * MIB // 2), "memory_static_max": str(mem * MIB),
           "memory_dynamic_min": str(mem * MIB), "memory_dynamic_max": str(mem * MIB), "domain_type": "pv",
           "HVM_boot_params": {}, "PV_args": "", "affinity": "OpaqueRef:NULL", "tags": [], "other_config": {},
           "xenstore_data": {}, "ha_restart_priority": "", "order": "0", "start_delay": "0", "VBDs": list(vbds),
           "VIFs": list(vifs), "guest_metrics": "OpaqueRef:NULL", "resident_on": "OpaqueRef:NULL"}
    rec.update(extra)
    return rec


def world():
    """One 16 GiB host, a shared SR and an ISO SR, a template, a running VM with a disk and a NIC."""
    records = {
        "pool": {"p": {"uuid": "pool-uuid", "name_label": "pool-intel", "default_SR": "sr1", "master": "h1"}},
        "host": {"h1": {"uuid": "h1-uuid", "name_label": "xen-01", "metrics": "hm1"}},
        "host_metrics": {"hm1": {"memory_total": str(16 * GIB)}},
        "SR": {"sr1": {"uuid": "sr1-uuid", "name_label": "shared", "content_type": "user"},
               "iso": {"uuid": "iso-uuid", "name_label": "ISOs", "content_type": "iso"}},
        "network": {"n0": {"uuid": "n0-uuid", "name_label": "net0", "MTU": "1500"}},
        "VM": {"tpl": vm_record("CentOS 7", is_a_template=True, other_config={"disks": DISKS_XML}),
               "web": vm_record("web1", power="Running", vbds=["vbd1"], vifs=["vif1"], other_config={vmc.MARKER: "true"}),
               "snap": vm_record("web1-snap", is_a_snapshot=True, is_a_template=True),
               "dom0": vm_record("Control domain", is_control_domain=True)},
        "VBD": {"vbd1": {"VM": "web", "VDI": "vdi1", "type": "Disk", "userdevice": "0", "currently_attached": True,
                         "unpluggable": True}},
        "VDI": {"vdi1": {"uuid": "vdi1-uuid", "name_label": "web1 disk", "SR": "sr1", "virtual_size": str(10 * GIB),
                         "allowed_operations": []},
                "isovdi": {"uuid": "isovdi-uuid", "name_label": "sol-11.iso", "SR": "iso", "virtual_size": "1"},
                "notiso": {"uuid": "notiso-uuid", "name_label": "fake.iso", "SR": "sr1", "virtual_size": "1"}},
        "VIF": {"vif1": {"VM": "web", "device": "0", "network": "n0", "MAC": "02:00:00:00:00:01", "currently_attached": True}},
    }
    return PoolState(records)


def want(**params):
    result = ArgumentSpecValidator(VM_SPEC).validate(params)
    assert not result.error_messages, result.error_messages
    return normalise(result.validated_parameters)


def plan(**params):
    return plan_vm(world(), want(**params), {vmc.MARKER_POOL: "pool-uuid"})


def refusal(**params):
    with pytest.raises(PlanError) as info:
        plan(**params)
    return info.value


def test_which_records_are_vms():
    state = world()
    listed = sorted(r["name_label"] for r in state.all("VM").values() if vmc.is_listed(r))
    assert listed == ["web1"]
    with_templates = sorted(r["name_label"] for r in state.all("VM").values() if vmc.is_listed(r, include_templates=True))
    assert with_templates == ["CentOS 7", "web1"]
    pending = vm_record(vmc.pending_name("db1"), is_a_template=True)
    assert not vmc.is_listed(pending) and vmc.is_pending(pending)


def test_same_name_twice_is_an_error_not_a_guess():
    state = world()
    state.records["VM"]["web-b"] = vm_record("web1", power="Halted")
    with pytest.raises(PlanError) as info:
        vmc.find_vm(state, "web1")
    assert info.value.code == "VM_NAME_AMBIGUOUS" and "uuid-web1" in info.value.message
    assert vmc.find_vm(state, "ignored", uuid="uuid-web1")[0] == "web"


def test_create_from_template_clones_provisions_and_names_last():
    result = plan(name="db1", template="CentOS 7", vcpus=2, memory_mib=2048, disks=[{"size_gib": 20}],
                  nics=[{"network": "net0"}], power_state="running")
    ops = [s.get("op") for s in result.steps]
    assert ops[0] == "create" and ops[-2:] == ["rename", "power"]
    create = result.steps[0]
    assert create["mode"] == "clone" and create["provision"] and create["sr"] == "sr1"
    assert "grow disk 0: 10.0 -> 20.0 GiB" in result.summary()
    assert result.before == {} and result.after["power_state"] == "running" and result.after["uuid"] is None
    assert all(s.get("part_of_create") for s in result.steps[1:-2])


def test_running_vm_live_and_refused_changes():
    live = plan(name="web1", vcpus=2, memory_mib=1024, memory_dynamic_min_mib=512, tags=["web"])
    impacts = {s["object"]: s["impact"] for s in live.steps}
    assert impacts == {"vcpus": LIVE, "memory dynamic range": LIVE, "tag": LIVE}
    assert next(s for s in live.steps if s["object"] == "vcpus")["method"] == "VM.set_VCPUs_number_live"
    err = refusal(name="web1", memory_mib=2048)
    assert err.code == "RESTART_REQUIRED" and "web1" in err.message and "memory" in err.message
    allowed = plan(name="web1", memory_mib=2048, allow_restart=True)
    assert [s["action"] for s in allowed.steps] == ["shut down", "set", "start"]
    assert allowed.steps[1]["impact"] == POWER_OFF


def test_boot_order_needs_a_reboot_and_restart_with_allow_restart():
    result = plan(name="web1", boot_order="dc")
    assert [s["impact"] for s in result.steps] == [REBOOT]
    result = plan(name="web1", boot_order="dc", allow_restart=True)
    assert [s["action"] for s in result.steps] == ["set", "reboot"]


def test_disks_grow_never_shrink_and_purge_only_when_asked():
    err = refusal(name="web1", disks=[{"size_gib": 5}])
    assert err.code == "DISK_SHRINK"
    assert refusal(name="web1", disks=[{"size_gib": 20}]).code == "RESTART_REQUIRED"  # no online resize on this SR
    added = plan(name="web1", disks=[{"size_gib": 10}, {"size_gib": 4, "sr": "shared"}])
    assert [s["op"] for s in added.steps] == ["disk_add"] and added.steps[0]["plug"] is True
    kept = plan(name="web1", disks=[])
    assert not kept.changed
    purged = plan(name="web1", disks=[], purge_disks=True)
    assert purged.steps[0]["op"] == "disk_remove" and purged.steps[0]["destroy"] is False and purged.steps[0]["destructive"]


def test_bad_input_is_refused_before_any_write():
    assert refusal(name="x", template="No such template").code == "TEMPLATE_NOT_FOUND"
    assert refusal(name="x", template="CentOS 7", sr="nope").code == "SR_NOT_FOUND"
    assert refusal(name="x", template="CentOS 7", nics=[{"network": "nope"}]).code == "NETWORK_NOT_FOUND"
    assert refusal(name="x", template="CentOS 7", memory_mib=32768).code == "MEMORY_TOO_LARGE"
    assert refusal(name="x", template="CentOS 7", memory_mib=1024, memory_static_min_mib=2048).code == "MEMORY_CONSTRAINT_VIOLATION_ORDER"
    assert refusal(name="x", template="CentOS 7", cdrom={"iso": "fake.iso"}).code == "ISO_NOT_FOUND"
    assert refusal(name="x", template="CentOS 7", nics=[{"network": "net0", "mac": "zz:00"}]).code == "MAC_INVALID"
    assert refusal(name="x", template="CentOS 7", nics=[{"network": "net0", "mac": "02:00:00:00:00:01"}]).code == "MAC_IN_USE"
    assert refusal(name="x").code == "SOURCE_MISSING"
    assert refusal(name="x", template="CentOS 7", snapshot="web1-snap").code == "SOURCE_AMBIGUOUS"
    assert refusal(name="x", source_vm="web1").code == "VM_BAD_POWER_STATE"  # running: xapi clones halted VMs only


def test_iso_install_sets_cd_and_boot_order_once():
    result = plan(name="sol1", template="CentOS 7", install={"method": "iso", "iso": "sol-11.iso"})
    summary = result.summary()
    assert "add CD drive: sol-11.iso" in summary and "set boot_order:  -> dc" in summary
    assert not [s for s in result.steps if s.get("after_ip")]
    waited = plan(name="sol1", template="CentOS 7", install={"method": "iso", "iso": "sol-11.iso"}, power_state="running",
                  wait_for_ip=True)
    assert waited.steps[-1]["op"] == "eject_install" and waited.steps[-1]["after_ip"]
    assert waited.after["cdrom"] == {"iso": ""} and waited.after["boot_order"] == "c"


def test_fleet_duplicates_and_prune_touches_only_marked_vms():
    state = world()
    state.records["VM"]["other"] = vm_record("hand-made")
    with pytest.raises(PlanError) as info:
        plan_fleet(state, [want(name="a", template="CentOS 7"), want(name="a", template="CentOS 7")])
    assert info.value.code == "DUPLICATE_NAME"
    fleet = plan_fleet(state, [want(name="db1", template="CentOS 7")], prune=True)
    names = [(name, bool(w)) for name, w, _p in fleet.items]
    assert names == [("db1", True), ("web1", False)]  # hand-made is unmarked: never pruned
    prune = fleet.items[1][2]
    assert [s["op"] for s in prune.steps] == ["power", "destroy"] and prune.steps[1]["vdis"] == []
    with_disks = plan_fleet(state, [], prune=True, destroy_disks=True).items[0][2]
    assert with_disks.steps[1]["vdis"] == ["vdi1"]


def test_pending_creation_is_cleaned_up_first():
    state = world()
    state.records["VM"]["half"] = vm_record(vmc.pending_name("db1"), is_a_template=True)
    result = plan_vm(state, want(name="db1", template="CentOS 7"), {})
    assert [s["op"] for s in result.steps][:2] == ["cleanup_pending", "create"]


def test_suspended_vm_changes_only_metadata_live():
    state = world()
    state.records["VM"]["web"]["power_state"] = "Suspended"
    result = plan_vm(state, want(name="web1", tags=["x"]), {})
    assert [s["impact"] for s in result.steps] == [LIVE]
    with pytest.raises(PlanError) as info:
        plan_vm(state, want(name="web1", memory_mib=2048), {})
    assert info.value.code == "RESTART_REQUIRED" and "suspended" in info.value.message
    allowed = plan_vm(state, want(name="web1", memory_mib=2048, allow_restart=True), {})
    assert allowed.steps[0]["action"] == "shut down" and allowed.steps[0]["destructive"]


def test_prune_cleans_up_unfinished_creations_no_longer_declared():
    state = world()
    state.records["VM"]["half"] = vm_record(vmc.pending_name("gone"), is_a_template=True)
    state.records["VM"]["half2"] = vm_record(vmc.pending_name("db1"), is_a_template=True)
    fleet = plan_fleet(state, [want(name="db1", template="CentOS 7"), want(name="web1")], prune=True)
    ops = [(name, [s["op"] for s in p.steps]) for name, _w, p in fleet.items]
    assert ops[0][1][:2] == ["cleanup_pending", "create"]  # db1's own leftover, then db1
    assert (vmc.pending_name("gone"), ["cleanup_pending"]) in ops
    assert not [o for o in ops if o[0] == vmc.pending_name("db1")]
    assert plan_fleet(state, [want(name="web1")]).changed is False  # without prune, a stranger's leftover stays


def test_check_mode_of_a_whole_site_predicts_on_an_sr_and_network_still_to_be_created():
    """site.yml --check on a fresh estate: the storage and network steps of the same run create them."""
    state = world()
    state.predicted = []
    result = plan_vm(state, want(name="new1", template="CentOS 7", sr="pool-intel-sr01", nics=[{"network": "vm-prod"}]),
                     {vmc.MARKER_POOL: "pool-uuid"})
    assert result.changed and result.steps
    assert any("SR 'pool-intel-sr01' does not exist yet" in n for n in state.predicted)
    assert any("network 'vm-prod' does not exist yet" in n for n in state.predicted)
    # the real run refuses the same declaration before any write
    assert refusal(name="new1", template="CentOS 7", sr="pool-intel-sr01").code == "SR_NOT_FOUND"
