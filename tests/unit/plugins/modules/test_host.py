# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest
from xapisim.testing import pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError
from ansible_collections.vdc.xenpool.plugins.modules import host as host_module
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Exited, Failed, run_module, start


@pytest.fixture(name="xapi")
def xapi_fixture(monkeypatch):
    """xapisim in-process: pool-a of xen-01 (master) and xen-02 on shared storage, vm-0001 running on xen-01, vm-0002 on xen-02."""
    xapi = start(monkeypatch, pool_datacenter(hosts=2, vms=2))
    yield xapi
    xapi.close()


def run(xapi, args, expect=Exited, check=False, diff=False):
    return run_module(host_module, "http://" + xapi.master, xapi, args, expect=expect, check=check, diff=diff)


def host(xapi, name):
    return xapi.records("host")[xapi.find("host", name_label=name)]


def test_check_apply_noop(xapi):
    args = {"name": "xen-02", "description": "second", "iscsi_iqn": "iqn.2026-01.org.example:x2", "other_config": {"rack": 7}}
    result = run(xapi, args, check=True, diff=True)
    assert result["changed"] and result["diff"]["after"]["iscsi_iqn"] == "iqn.2026-01.org.example:x2"
    assert xapi.writes() == []
    result = run(xapi, args)
    assert result["host"]["other_config"]["rack"] == "7" and result["host"]["description"] == "second"
    assert host(xapi, "xen-02")["other_config"]["rack"] == "7" and host(xapi, "xen-02")["iscsi_iqn"] == "iqn.2026-01.org.example:x2"
    xapi.reset_calls()
    assert run(xapi, args)["changed"] is False
    assert xapi.writes() == []


def test_rename_by_address(xapi):
    result = run(xapi, {"address": "127.0.0.12", "name": "xen-02-renamed"})
    assert result["host"]["name"] == "xen-02-renamed" and xapi.find("host", name_label="xen-02-renamed")


def test_maintenance_reports_where_vms_went(xapi):
    result = run(xapi, {"name": "xen-02", "state": "maintenance"}, check=True)
    assert result["to_evacuate"] == ["vm-0002"] and xapi.writes() == []
    result = run(xapi, {"name": "xen-02", "state": "maintenance"})
    assert result["evacuated"] == {"vm-0002": "xen-01"}
    assert result["host"]["state"] == "maintenance" and host(xapi, "xen-02")["enabled"] is False


def test_maintenance_refused_with_reasons_and_nothing_changed(xapi):
    run(xapi, {"name": "xen-01", "state": "disabled"})
    xapi.reset_calls()
    result = run(xapi, {"name": "xen-02", "state": "maintenance"}, expect=Failed)
    assert result["error_code"] == "CANNOT_EVACUATE_HOST" and "vm-0002: NO_HOSTS_AVAILABLE" in result["msg"]
    assert [p.split(" OpaqueRef")[0] for p in result["error_params"]] == ["vm-0002: NO_HOSTS_AVAILABLE"]
    assert xapi.writes() == []
    assert host(xapi, "xen-02")["enabled"] is True


def test_bulk_hosts_one_read_for_all(xapi):
    args = {"hosts": [{"name": "xen-01", "description": "one"}, {"name": "xen-02", "iscsi_iqn": "iqn.2026-01.org.example:x2", "multipathing": True}]}
    result = run(xapi, args, check=True, diff=True)
    assert result["changed"] and set(result["diff"]["after"]) == {"xen-01", "xen-02"}
    assert xapi.writes() == []
    result = run(xapi, args)
    assert result["hosts"]["xen-01"]["description"] == "one" and result["hosts"]["xen-02"]["multipathing"] is True
    xapi.reset_calls()
    result = run(xapi, args)
    assert result["changed"] is False
    assert [m for m in xapi.counters() if m.endswith("get_all_records") or m == "event.from"] == ["event.from"]
    assert xapi.counters()["event.from"] == 1


def test_bulk_and_single_are_exclusive(xapi):
    result = run(xapi, {"name": "xen-01", "hosts": [{"name": "xen-02"}]}, expect=Failed)
    assert "mutually exclusive" in result["msg"]


@pytest.mark.parametrize("iqn, needle", [
    ("", "iscsi_iqn of host xen-02 is empty"),
    ("iqn.2026-01.org.example:x2; rm -rf /", "is not an iSCSI name"),
    ("iqn 2026-01.org.example", "is not an iSCSI name"),
    ("iqn.2026-13.org.example:x", "is not an iSCSI name"),
    ("eui.12345", "is not an iSCSI name"),
])
def test_bad_iqn_is_refused_before_any_write(xapi, iqn, needle):
    """Issue 9 (6, 7): IQNs with spaces or shell characters were stored; an empty one gave INVALID_VALUE [value, ]."""
    result = run(xapi, {"hosts": [{"name": "xen-01", "description": "one"}, {"name": "xen-02", "iscsi_iqn": iqn}]}, expect=Failed)
    assert result["msg"].startswith("Failed to configure host 'hosts': INVALID_VALUE ")
    assert needle in result["msg"] and result["msg"].endswith("Correct these options; nothing was changed")
    assert xapi.writes() == []


@pytest.mark.parametrize("iqn", ["iqn.2026-01.org.example.dc:xen-02", "iqn.1992-08.com.netapp:sn.4082367740", "eui.02004567A425678D",
                                 "naa.52004567BA64678D"])
def test_valid_iscsi_names_are_accepted(xapi, iqn):
    assert run(xapi, {"name": "xen-02", "iscsi_iqn": iqn})["host"]["iscsi_iqn"] == iqn


def test_empty_name_is_refused(xapi):
    result = run(xapi, {"address": "127.0.0.12", "name": " "}, expect=Failed)
    assert "name of host 127.0.0.12 is empty" in result["msg"] and xapi.writes() == []


def test_maintenance_without_waiting_returns_the_task(xapi):
    result = run(xapi, {"name": "xen-02", "state": "maintenance", "wait": False})
    assert result["changed"] and result["evacuated"] == {} and len(result["tasks"]) == 1
    assert result["tasks"][0] in xapi.records("task")  # not waited for, so not destroyed
    assert xapi.calls("task.get_record") == []


def test_failed_evacuation_gives_the_host_back(xapi, monkeypatch):
    """xapi may refuse a VM while evacuating although the pre-check passed: the host is not left disabled."""
    def refuse(client, task, timeout=600):
        del client, task, timeout
        raise XapiError("VM_LACKS_FEATURE", ["OpaqueRef:vm"])

    monkeypatch.setattr(host_module.hostsvc, "wait_task", refuse)
    result = run(xapi, {"name": "xen-02", "state": "maintenance"}, expect=Failed)
    assert result["error_code"] == "VM_LACKS_FEATURE" and "evacuation of host xen-02 failed, the host was enabled again" in result["msg"]
    assert host(xapi, "xen-02")["enabled"] is True
    assert xapi.writes()[-1] == "host.enable"
