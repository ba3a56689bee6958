# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host service against xapisim in-process: a pool of two hosts on shared storage, vm-0001 running on xen-01 and
vm-0002 on xen-02; evacuation, its blockers and the settings follow xapi's rules, writes come from the call log."""

from __future__ import annotations

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import host as hostsvc
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client


@pytest.fixture(name="xapi")
def xapi_fixture():
    xapi = InProcessXapi(pool_datacenter(hosts=2, vms=2))
    xapi.reset_calls()
    yield xapi
    xapi.close()


def host(xapi, name):
    return xapi.records("host")[xapi.find("host", name_label=name)]


def converge(xapi, name, desired, purge=False, check=False):
    with client(xapi) as master:
        state = hostsvc.read(master)
        ref = hostsvc.locate(state, name=name)
        changes = hostsvc.plan(state, ref, desired, purge)
        moved = {}
        if changes and not check:
            moved, _task = hostsvc.apply(master, state, ref, changes, purge, 30)
    return changes, moved


def test_settings_drift_then_noop(xapi):
    desired = {"description": "rack 1", "iscsi_iqn": "iqn.2026-01.org.example:x2", "multipathing": True, "other_config": {"rack": "r1"}}
    changes, _unused = converge(xapi, "xen-02", desired, check=True)
    assert set(changes.fields) == {"description", "iscsi_iqn", "multipathing", "other_config"}
    assert xapi.writes() == []
    converge(xapi, "xen-02", desired)
    rec = host(xapi, "xen-02")
    assert rec["iscsi_iqn"] == "iqn.2026-01.org.example:x2" and rec["multipathing"] is True
    assert rec["other_config"]["rack"] == "r1" and rec["name_description"] == "rack 1"
    xapi.reset_calls()
    changes, _unused = converge(xapi, "xen-02", desired)
    assert not changes
    assert xapi.writes() == []


def test_purge_other_config_keeps_mirrored_keys(xapi):
    ref = xapi.find("host", name_label="xen-02")
    xapi.update("host", ref, other_config=dict(host(xapi, "xen-02")["other_config"], stale="1"))
    converge(xapi, "xen-02", {"other_config": {"rack": "r2"}}, purge=True)
    rec = host(xapi, "xen-02")
    assert rec["other_config"] == {"rack": "r2", "iscsi_iqn": rec["iscsi_iqn"], "multipathing": "false"}


def test_maintenance_evacuates_and_reports_destinations(xapi):
    changes, moved = converge(xapi, "xen-02", {"state": "maintenance"})
    assert changes.fields["state"] == ("enabled", "maintenance")
    assert moved == {"vm-0002": "xen-01"}
    assert host(xapi, "xen-02")["enabled"] is False
    assert xapi.records("VM")[xapi.find("VM", name_label="vm-0002")]["resident_on"] == xapi.find("host", name_label="xen-01")
    changes, _unused = converge(xapi, "xen-02", {"state": "maintenance"})
    assert not changes
    changes, _unused = converge(xapi, "xen-02", {"state": "disabled"})
    assert not changes  # an empty disabled host is fine as disabled
    converge(xapi, "xen-02", {"state": "enabled"})
    assert host(xapi, "xen-02")["enabled"] is True


def test_blockers_name_each_vm(xapi):
    converge(xapi, "xen-01", {"state": "disabled"})
    with client(xapi) as master:
        state = hostsvc.read(master)
        blocked = hostsvc.blockers(master, state, xapi.find("host", name_label="xen-02"))
    assert list(blocked) == ["vm-0002"] and "NO_HOSTS_AVAILABLE" in blocked["vm-0002"]


def test_unknown_host(xapi):
    with pytest.raises(hostsvc.HostError) as info:
        converge(xapi, "xen-99", {})
    assert info.value.code == "HOST_NOT_FOUND"
