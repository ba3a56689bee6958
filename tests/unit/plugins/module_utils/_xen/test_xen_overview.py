# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The console overview of a pool read from xapisim in-process: each section against the simulator's own records."""

from __future__ import annotations

import json

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import pool_overview, read_overview
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import POOL_CLASSES, PoolState
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client as client_of

MIB = 1024 * 1024
OLD = "old"  # a server without event.from (armed as a fault)


def overview(hosts=2, vms=3, server="new", arrange=None, **kwargs):  # kwargs: include_templates, only
    """(xapi, client, result) of read_overview against a pool_datacenter; `arrange(xapi)` edits the model first."""
    xapi = InProcessXapi(pool_datacenter(hosts, vms))
    if server == OLD:
        xapi.add_fault("event.from", error=["MESSAGE_METHOD_UNKNOWN", "event.from"], repeat=1000)
    if arrange:
        arrange(xapi)
    with client_of(xapi) as client:
        result = read_overview(client, kwargs.get("include_templates", False), kwargs.get("only"))
    xapi.close()
    return xapi, client, result


def record(xapi, cls, **fields):
    return xapi.records(cls)[xapi.find(cls, **fields)]


def test_pool_section():
    xapi, _client, result = overview()
    pool = result["pool"]
    assert pool["name"] == "pool-a"
    assert pool["master"] == "xen-01"
    assert pool["master_uuid"] == record(xapi, "host", name_label="xen-01")["uuid"]
    assert pool["default_sr"] == "iSCSI"
    assert pool["default_sr_uuid"] == record(xapi, "SR", name_label="iSCSI")["uuid"]
    assert pool["ha_enabled"] is False and pool["ha_host_failures_to_tolerate"] == 0


def test_hosts_section():
    def busy_cpus(xapi):
        for ref in xapi.records("host_cpu"):
            xapi.update("host_cpu", ref, utilisation=0.25)

    xapi, _client, result = overview(hosts=2, vms=3, arrange=busy_cpus)
    first, second = result["hosts"]
    assert (first["name"], second["name"]) == ("xen-01", "xen-02")
    assert first["is_master"] and not second["is_master"]
    assert first["cpu_count"] == 4 and first["cpu_vendor"] == "GenuineIntel" and first["cpu_speed_mhz"] == 2400
    assert first["cpu_usage_percent"] == 25.0  # no rrd figures: the deprecated host_cpu.utilisation
    metrics = xapi.records("host_metrics")[record(xapi, "host", name_label="xen-01")["metrics"]]
    assert first["memory_total_mib"] == 64 * 1024 == metrics["memory_total"] // MIB
    assert 0 < first["memory_free_mib"] == metrics["memory_free"] // MIB < first["memory_total_mib"]
    assert first["resident_vms"] == ["vm-0001", "vm-0003"] and first["resident_vm_count"] == 2
    assert second["resident_vms"] == ["vm-0002"]
    assert first["software_version"] == "8.3.0" and first["product_brand"] == "XCP-ng"


def test_memory_free_is_estimated_when_xapi_no_longer_keeps_it():
    """memory_free reads 0: total - host overhead - what its domains (dom0 and two 2 GiB VMs) actually use."""
    def stale(xapi):
        host = record(xapi, "host", name_label="xen-01")
        xapi.update("host_metrics", host["metrics"], memory_free=0)

    xapi, _client, result = overview(hosts=2, vms=3, arrange=stale)
    host = record(xapi, "host", name_label="xen-01")
    vms, metrics = xapi.records("VM"), xapi.records("VM_metrics")
    actual = [metrics[vms[ref]["metrics"]]["memory_actual"] for ref in host["resident_VMs"]]
    assert len(actual) == 3 and sorted(actual)[:2] == [2048 * MIB, 2048 * MIB]
    assert result["hosts"][0]["memory_free_mib"] == (64 * 1024 * MIB - host["memory_overhead"] - sum(actual)) // MIB


def test_sr_and_network_sections():
    xapi, _client, result = overview(hosts=2, vms=1)
    (sr,) = [s for s in result["srs"] if s["name"] == "iSCSI"]
    rec = record(xapi, "SR", name_label="iSCSI")
    assert sr["type"] == "lvmoiscsi" and sr["shared"] is True and sr["role"] == "vm-storage"
    assert sr["physical_size_gib"] == 1000.0 and sr["physical_utilisation_gib"] == round(rec["physical_utilisation"] / 1024 ** 3, 2)
    assert sr["utilisation_percent"] == round(100.0 * rec["physical_utilisation"] / rec["physical_size"], 1) > 0
    assert sr["attached_hosts"] == ["xen-01", "xen-02"]
    (net,) = [n for n in result["networks"] if n["bridge"] == "xenbr0"]
    assert net == {"name": "Pool-wide network associated with eth0", "uuid": record(xapi, "network", bridge="xenbr0")["uuid"],
                   "bridge": "xenbr0", "mtu": 1500, "pif_count": 2}


def test_vm_section_excludes_dom0_and_templates():
    def busy_vcpus(xapi):
        vm = record(xapi, "VM", name_label="vm-0001")
        xapi.update("VM_metrics", vm["metrics"], VCPUs_utilisation={"0": 0.5, "1": 0.1})

    xapi, _client, result = overview(hosts=1, vms=2, arrange=busy_vcpus)
    assert [vm["name"] for vm in result["vms"]] == ["vm-0001", "vm-0002"]
    vm = result["vms"][0]
    assert vm["power_state"] == "Running" and vm["host"] == "xen-01"
    assert vm["vcpus"] == 2 and vm["memory_mib"] == 2048 and vm["memory_actual_mib"] == 2048
    assert vm["cpu_usage_percent"] == 30.0  # no rrd figures: the deprecated VCPUs_utilisation, averaged
    rec = record(xapi, "VM", name_label="vm-0001")
    (vbd,) = rec["VBDs"]
    vdi = xapi.records("VDI")[xapi.records("VBD")[vbd]["VDI"]]
    assert vm["disks"] == [{"device": "0", "name": vdi["name_label"], "uuid": vdi["uuid"], "size_gib": 20.0,
                            "sr": "iSCSI", "sr_uuid": record(xapi, "SR", name_label="iSCSI")["uuid"]}]
    (vif,) = rec["VIFs"]
    assert vm["nics"][0]["network"] == "Pool-wide network associated with eth0"
    assert vm["nics"][0]["mac"] == xapi.records("VIF")[vif]["MAC"]
    networks = xapi.records("VM_guest_metrics")[rec["guest_metrics"]]["networks"]
    assert vm["ip"] == networks["0/ip"] and vm["ips"][0] == networks["0/ip"] and set(vm["ips"]) == set(networks.values())
    assert vm["os_name"] == "Debian Bookworm 12" and vm["pv_drivers_detected"] is True
    assert "OpaqueRef" not in json.dumps(result)


def test_include_templates_and_filter():
    _xapi, _client, result = overview(hosts=1, vms=3, include_templates=True)
    assert "Debian Bookworm 12" in [vm["name"] for vm in result["vms"]]
    assert all(not vm["name"].startswith("Control domain") for vm in result["vms"])
    _xapi, _client, result = overview(hosts=1, vms=3, only=["vm-0002", "nope"])
    assert [vm["name"] for vm in result["vms"]] == ["vm-0002"]
    assert result["hosts"][0]["resident_vm_count"] == 3


@pytest.mark.parametrize("server, calls", [("new", 3), (OLD, len(POOL_CLASSES) + 3)])
def test_constant_calls_1_vs_120_vms(server, calls):
    """login, one event.from, logout; an old server costs one get_all_records per class after the refused event.from."""
    _x1, small, _r1 = overview(hosts=1, vms=1, server=server)
    _x2, big, result = overview(hosts=12, vms=120, server=server)
    assert len(result["vms"]) == 120
    assert small.calls == big.calls
    assert big.call_count == calls


def test_one_vm_rule_with_the_inventory_and_vm_info():
    """pool_info lists templates with include_templates, never snapshots or unfinished creations (vm.is_listed)."""
    def more(xapi):
        xapi.add("VM", name_label="nightly snapshot", is_a_snapshot=True, is_a_template=True)
        xapi.add("VM", name_label="xenpool-pending: web9", is_a_template=True)

    _xapi, _client, result = overview(hosts=1, vms=1, arrange=more, include_templates=True)
    names = [vm["name"] for vm in result["vms"]]
    assert "Debian Bookworm 12" in names and "vm-0001" in names
    assert "nightly snapshot" not in names and "xenpool-pending: web9" not in names


def test_empty_state_is_safe():
    result = pool_overview(PoolState({}))
    assert result["hosts"] == [] and result["vms"] == [] and result["pool"]["master"] is None


def test_cpu_comes_from_the_rrd_figures_and_falls_back_to_the_deprecated_fields():
    from ansible_collections.vdc.xenpool.plugins.module_utils._xen import overview as ov

    figures = {"u1": {"cpu_percent": {"avg": 27.04, "max": 40.0}}}
    assert ov._cpu_percent(figures, "u1", [0.0]) == 27.0  # pylint: disable=protected-access
    assert ov._cpu_percent(None, "u1", [0.5, 0.25]) == 37.5  # pylint: disable=protected-access
    assert ov._cpu_percent(figures, "u1", [0.5], running=False) is None  # pylint: disable=protected-access
    assert ov._cpu_percent({}, "u1", []) is None  # pylint: disable=protected-access


def test_sr_roles():
    from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import sr_role

    assert sr_role({"type": "udev", "content_type": "iso"}) == "dvd"
    assert sr_role({"type": "udev", "content_type": "disk"}) == "removable"
    assert sr_role({"type": "iso", "content_type": "iso", "is_tools_sr": True}) == "tools"
    assert sr_role({"type": "iso", "content_type": "iso"}) == "iso"
    assert sr_role({"type": "lvmoiscsi", "content_type": ""}) == "vm-storage"
