# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host_maintenance module against xapisim in-process: batches and skipped hosts, check mode writes nothing,
and an evacuation with HA on moves the unprotected VMs itself (xapi's host.evacuate refuses them)."""

from __future__ import annotations

import functools

import pytest
from xapisim.testing import InProcessXapi

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.modules import host_maintenance

from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, run_module

DATACENTER = {
    "name": "maintenance", "credentials": {"username": "root", "password": "host-maintenance-unit-not-a-secret"},
    "host_groups": [{"name_prefix": "xen-", "count": 4, "memory_gib": 64, "nics": 1,
                     "cpu": {"vendor": "GenuineIntel", "model": "Xeon", "cores": 4, "speed_mhz": 2400}}],
    "pools": [{"name_label": "pool-a", "master": "xen-01", "members": ["xen-02", "xen-03", "xen-04"],
               "shared_sr": {"name_label": "iSCSI", "type": "lvmoiscsi", "size_gib": 1000}}],
    "templates": [{"name_label": "Debian Bookworm 12", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]}],
    "vms": [{"pool": "pool-a", "count": 8, "name_prefix": "vm-", "template": "Debian Bookworm 12", "power_state": "Running",
             "vcpus": 1, "memory_mib": 2048, "disk_gib": 10}],
}


@pytest.fixture(name="xapi")
def xapi_fixture(monkeypatch):
    xapi = InProcessXapi(DATACENTER)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory))

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    def fail_json(_self, msg, **kwargs):
        raise Failed(dict(kwargs, msg=msg))

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    xapi.reset_calls()
    yield xapi
    xapi.close()


def run(xapi, args, expect=Exited, check=False):
    return run_module(host_maintenance, "https://%s" % xapi.master, xapi, dict(args, username="root"), expect=expect, check=check)


def resident(xapi, host_name):
    host = xapi.find("host", name_label=host_name)
    return sorted(rec["name_label"] for rec in xapi.records("VM").values()
                  if rec["resident_on"] == host and not rec["is_control_domain"])


def test_check_gives_batches_without_the_hosts_already_done_and_writes_nothing(xapi):
    xapi.update("host", xapi.find("host", name_label="xen-03"), other_config={"boot_time": "2000000000"})
    xapi.reset_calls()
    out = run(xapi, {"action": "check", "batch_size": 2, "skip_booted_after": 1900000000})
    assert out["skipped_hosts"] == ["xen-03"] and out["order"] == ["xen-02", "xen-04", "xen-01"]
    assert out["batches"] == [["xen-02", "xen-04"], ["xen-01"]]
    assert sorted(out["checks"]["xen-02"]["moves"]) == resident(xapi, "xen-02")
    assert not set(out["checks"]["xen-02"]["moves"].values()) & {"xen-02", "xen-04"}, "a VM planned onto its own batch"
    assert xapi.writes() == [] and not out["changed"]


def test_evacuate_in_check_mode_predicts_every_move_with_zero_writes(xapi):
    on_host = resident(xapi, "xen-02")
    out = run(xapi, {"action": "evacuate", "hosts": ["xen-02"]}, check=True)
    assert out["changed"] and sorted(out["evacuated"]["moved"]) == on_host and xapi.writes() == []
    assert resident(xapi, "xen-02") == on_host


def test_evacuate_with_ha_on_moves_the_unprotected_vms_itself(xapi):
    pool = next(iter(xapi.records("pool")))
    on_host = resident(xapi, "xen-02")
    protected = xapi.find("VM", name_label=on_host[0])
    xapi.update("VM", protected, ha_restart_priority="restart", ha_always_run=True)
    xapi.update("pool", pool, ha_enabled=True)
    xapi.reset_calls()
    out = run(xapi, {"action": "evacuate", "hosts": ["xen-02"]})
    assert resident(xapi, "xen-02") == [] and sorted(out["evacuated"]["left"]) == on_host
    assert not xapi.records("host")[xapi.find("host", name_label="xen-02")]["enabled"]
    writes = xapi.writes()
    assert writes.index("host.disable") < writes.index("Async.VM.pool_migrate") < writes.index("Async.host.evacuate")
    assert writes.count("Async.VM.pool_migrate") == len(on_host) - 1
    assert set(out["evacuated"]["moved"].values()) <= {"xen-01", "xen-03", "xen-04"}


def test_reboot_refused_for_an_enabled_host_with_nothing_written(xapi):
    out = run(xapi, {"action": "reboot", "hosts": ["xen-02"]}, expect=Failed)
    assert "HOST_NOT_EVACUATED" in out["msg"] and "xen-02" in out["msg"] and xapi.writes() == []
