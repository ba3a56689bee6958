# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vm, vms and vm_info main() against the in-memory FakeXapi: results, refusals, and check mode that never writes.

Creation and change end to end are in tests/integration/targets/vms (xapisim); here the modules' wiring.
"""

from __future__ import annotations

import functools

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.modules import vm, vm_info, vms
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi

READS = ("session.login_with_password", "session.logout", "event.from")


class Exited(Exception):
    pass


class Failed(Exception):
    pass


@pytest.fixture(name="fake")
def fake_fixture(monkeypatch):
    xapi = FakeXapi()
    xapi.seed_pool(hosts=2, vms=2)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory))

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    def fail_json(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    return xapi


def run(module, fake, args, expect=Exited, check=False, diff=False):
    base = {"hostname": "127.0.0.10", "password": fake.password, "_ansible_check_mode": check, "_ansible_diff": diff}
    with patch_module_args(dict(base, **args)):
        with pytest.raises(expect) as info:
            module.main()
    return info.value.args[0]


def writes(fake):
    return [m for m in fake.counters() if not (m.endswith(".get_all_records") or m in READS)]


def test_vm_info_lists_vms_with_devices_not_templates(fake):
    result = run(vm_info, fake, {})
    assert [v["name"] for v in result["vms"]] == ["vm-0000", "vm-0001"]
    first = result["vms"][0]
    assert first["disks"] == [{"position": "0", "name": "vm-0000 disk", "size_gib": 20.0, "sr": "iSCSI", "uuid": first["disks"][0]["uuid"]}]
    assert first["nics"][0]["network"] == "Pool-wide network associated with eth0" and first["ip"] == "10.0.0.1"
    assert first["managed"] is False and first["cdrom"] == {"iso": ""}
    with_templates = run(vm_info, fake, {"include_templates": True, "names": ["Debian Bookworm 12"]})
    assert [v["name"] for v in with_templates["vms"]] == ["Debian Bookworm 12"]
    assert writes(fake) == []


def test_vm_create_in_check_mode_plans_and_writes_nothing(fake):
    result = run(vm, fake, {"name": "web9", "template": "Debian Bookworm 12", "power_state": "running",
                            "nics": [{"network": "Pool-wide network associated with eth0"}]}, check=True, diff=True)
    assert result["changed"] is True
    assert result["plan"][0] == "create VM: clone of template 'Debian Bookworm 12'" and result["plan"][-1] == "start VM"
    assert result["diff"]["before"] == {} and result["diff"]["after"]["power_state"] == "running"
    assert writes(fake) == []


def test_vm_refusal_has_the_house_shape_and_no_write(fake):
    result = run(vm, fake, {"name": "web9", "template": "No such"}, expect=Failed)
    assert result["msg"].startswith("Failed to configure VM 'web9': TEMPLATE_NOT_FOUND ")
    assert result["error_code"] == "TEMPLATE_NOT_FOUND" and fake.password not in result["msg"]
    assert writes(fake) == []


def test_vms_duplicates_and_bad_items_are_refused_before_any_write(fake):
    result = run(vms, fake, {"vms": [{"name": "a", "template": "Debian Bookworm 12"}, {"name": "a"}]}, expect=Failed)
    assert result["msg"].startswith("Failed to configure VMs of pool 'pool-a': DUPLICATE_NAME ")
    result = run(vms, fake, {"vms": [{"name": "a", "vcpus": "many"}]}, expect=Failed)
    assert result["error_code"] == "VM_INVALID" and "vms[0] (a)" in result["msg"]
    assert writes(fake) == []


def test_vms_unchanged_declaration_is_a_no_op(fake):
    declared = [{"name": "vm-0000", "power_state": "running", "tags": ["web"]},
                {"name": "vm-0001", "power_state": "running"}]
    result = run(vms, fake, {"vms": declared, "prune": True}, check=True)
    assert result["changed"] is False
    assert result["summary"] == {"created": 0, "changed": 0, "pruned": 0, "unchanged": 2}
    assert writes(fake) == []
