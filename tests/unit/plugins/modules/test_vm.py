# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vm, vms and vm_info main() against xapisim in-process: results, refusals, and check mode that never writes.

Creation and change end to end are in tests/integration/targets/vms (xapisim over its listeners); here the modules' wiring.
"""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.modules import vm, vm_info, vms
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Failed, attach, run_module

MASTER = "127.0.0.11"


@pytest.fixture(name="xapi")
def xapi_fixture(monkeypatch):
    xapi = InProcessXapi(pool_datacenter(hosts=2, vms=2))
    first = xapi.find("VM", name_label="vm-0001")
    xapi.update("VM", first, tags=["web"])
    xapi.add("VBD", VM=first, type="CD", userdevice="3", mode="RO", empty=True)  # an empty DVD drive
    attach(monkeypatch, xapi)
    yield xapi
    xapi.close()


def run(module, xapi, args, **kwargs):
    return run_module(module, MASTER, xapi, args, **kwargs)


def test_vm_info_lists_vms_with_devices_not_templates(xapi):
    result = run(vm_info, xapi, {})
    assert [v["name"] for v in result["vms"]] == ["vm-0001", "vm-0002"]
    first = result["vms"][0]
    rec = xapi.records("VM")[xapi.find("VM", name_label="vm-0001")]
    vdi = xapi.records("VDI")[xapi.records("VBD")[rec["VBDs"][0]]["VDI"]]
    assert first["disks"] == [{"position": "0", "name": vdi["name_label"], "size_gib": 20.0, "sr": "iSCSI", "uuid": vdi["uuid"]}]
    guest = xapi.records("VM_guest_metrics")[rec["guest_metrics"]]
    assert first["nics"][0]["network"] == "Pool-wide network associated with eth0" and first["ip"] == guest["networks"]["0/ip"]
    assert first["managed"] is False and first["tags"] == ["web"] and first["cdrom"] == {"iso": ""}
    with_templates = run(vm_info, xapi, {"include_templates": True, "names": ["Debian Bookworm 12"]})
    assert [v["name"] for v in with_templates["vms"]] == ["Debian Bookworm 12"]
    assert xapi.writes() == []


def test_vm_create_in_check_mode_plans_and_writes_nothing(xapi):
    result = run(vm, xapi, {"name": "web9", "template": "Debian Bookworm 12", "power_state": "running",
                            "nics": [{"network": "Pool-wide network associated with eth0"}]}, check=True, diff=True)
    assert result["changed"] is True
    assert result["plan"][0] == "create VM: clone of template 'Debian Bookworm 12'" and result["plan"][-1] == "start VM"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["power_state"] == "running"
    assert xapi.writes() == []


def test_vm_refusal_has_the_house_shape_and_no_write(xapi):
    result = run(vm, xapi, {"name": "web9", "template": "No such"}, expect=Failed)
    assert result["msg"].startswith("Failed to configure VM 'web9': TEMPLATE_NOT_FOUND ")
    assert result["error_code"] == "TEMPLATE_NOT_FOUND" and xapi.password not in result["msg"]
    assert xapi.writes() == []


def test_vms_duplicates_and_bad_items_are_refused_before_any_write(xapi):
    result = run(vms, xapi, {"vms": [{"name": "a", "template": "Debian Bookworm 12"}, {"name": "a"}]}, expect=Failed)
    assert result["msg"].startswith("Failed to configure VMs of pool 'pool-a': DUPLICATE_NAME ")
    result = run(vms, xapi, {"vms": [{"name": "a", "vcpus": "many"}]}, expect=Failed)
    assert result["error_code"] == "VM_INVALID" and "vms[0] (a)" in result["msg"]
    assert xapi.writes() == []


def test_vms_unchanged_declaration_is_a_no_op(xapi):
    declared = [{"name": "vm-0001", "power_state": "running", "tags": ["web"]},
                {"name": "vm-0002", "power_state": "running"}]
    result = run(vms, xapi, {"vms": declared, "prune": True}, check=True)
    assert result["changed"] is False
    assert result["summary"] == {"created": 0, "changed": 0, "pruned": 0, "unchanged": 2}
    assert xapi.writes() == []
