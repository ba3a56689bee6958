# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import json

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import pool_overview, read_overview
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import POOL_CLASSES
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.events_fake import EventFake
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi


def overview(hosts=2, vms=3, server=EventFake, **kwargs):  # kwargs: include_templates, only
    fake = server()
    seeded = fake.seed_pool(hosts=hosts, vms=vms)
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as client:
        result = read_overview(client, kwargs.get("include_templates", False), kwargs.get("only"))
    return fake, seeded, client, result


def test_pool_section():
    fake, seeded, _client, result = overview()
    pool = result["pool"]
    assert pool["name"] == "pool-a"
    assert pool["master"] == "xen-01"
    assert pool["master_uuid"] == fake.objects["host"][seeded["hosts"][0]]["uuid"]
    assert pool["default_sr"] == "iSCSI"
    assert pool["default_sr_uuid"] == fake.objects["SR"][seeded["sr"]]["uuid"]
    assert pool["ha_enabled"] is False and pool["ha_host_failures_to_tolerate"] == 0


def test_hosts_section():
    _fake, _seeded, _client, result = overview(hosts=2, vms=3)
    first, second = result["hosts"]
    assert (first["name"], second["name"]) == ("xen-01", "xen-02")
    assert first["is_master"] and not second["is_master"]
    assert first["cpu_count"] == 4 and first["cpu_vendor"] == "GenuineIntel" and first["cpu_speed_mhz"] == 2400
    assert first["cpu_usage_percent"] == 25.0
    assert first["memory_total_mib"] == 64 * 1024
    # memory_free is "0" in the records, so it is estimated: total - overhead - dom0 - 2 VMs of 2 GiB
    assert first["memory_free_mib"] == 64 * 1024 - 512 - 4096 - 2 * 2048
    assert first["resident_vms"] == ["vm-0000", "vm-0002"] and first["resident_vm_count"] == 2
    assert second["resident_vms"] == ["vm-0001"]
    assert first["software_version"] == "8.3.0" and first["product_brand"] == "XCP-ng"


def test_sr_and_network_sections():
    _fake, _seeded, _client, result = overview(hosts=2, vms=1)
    (sr,) = result["srs"]
    assert sr["type"] == "lvmoiscsi" and sr["shared"] is True
    assert sr["physical_size_gib"] == 1000.0 and sr["physical_utilisation_gib"] == 250.0
    assert sr["utilisation_percent"] == 25.0
    assert sr["attached_hosts"] == ["xen-01", "xen-02"]
    (net,) = result["networks"]
    assert net == {"name": "Pool-wide network associated with eth0", "uuid": net["uuid"], "bridge": "xenbr0", "mtu": 1500, "pif_count": 2}


def test_vm_section_excludes_dom0_and_templates():
    fake, seeded, _client, result = overview(hosts=1, vms=2)
    names = [vm["name"] for vm in result["vms"]]
    assert names == ["vm-0000", "vm-0001"]
    vm = result["vms"][0]
    assert vm["power_state"] == "Running" and vm["host"] == "xen-01"
    assert vm["vcpus"] == 2 and vm["memory_mib"] == 2048 and vm["memory_actual_mib"] == 2048
    assert vm["cpu_usage_percent"] == 30.0
    assert vm["disks"] == [{
        "device": "0", "name": "vm-0000 disk", "uuid": vm["disks"][0]["uuid"], "size_gib": 20.0,
        "sr": "iSCSI", "sr_uuid": fake.objects["SR"][seeded["sr"]]["uuid"],
    }]
    assert vm["nics"][0]["network"] == "Pool-wide network associated with eth0"
    assert vm["nics"][0]["mac"] == "aa:bb:cc:00:00:00"
    assert vm["ip"] == "10.0.0.1" and vm["ips"] == ["10.0.0.1", "fe80::1"]
    assert vm["os_name"] == "Debian GNU/Linux 12"
    assert "OpaqueRef" not in json.dumps(result)


def test_include_templates_and_filter():
    _fake, _seeded, _client, result = overview(hosts=1, vms=3, include_templates=True)
    assert "Debian Bookworm 12" in [vm["name"] for vm in result["vms"]]
    assert all(not vm["name"].startswith("Control domain") for vm in result["vms"])
    _fake, _seeded, _client, result = overview(hosts=1, vms=3, only=["vm-0002", "nope"])
    assert [vm["name"] for vm in result["vms"]] == ["vm-0002"]
    assert result["hosts"][0]["resident_vm_count"] == 3


@pytest.mark.parametrize("server, calls", [(EventFake, 3), (FakeXapi, len(POOL_CLASSES) + 3)])
def test_constant_calls_1_vs_200_vms(server, calls):
    """login, one event.from, logout; an old server costs one get_all_records per class after the refused event.from."""
    _f1, _s1, small, _r1 = overview(hosts=1, vms=1, server=server)
    _f2, _s2, big, result = overview(hosts=16, vms=200, server=server)
    assert len(result["vms"]) == 200
    assert small.calls == big.calls
    assert big.call_count == calls


def test_empty_state_is_safe():
    result = pool_overview(PoolState({}))
    assert result["hosts"] == [] and result["vms"] == [] and result["pool"]["master"] is None


def test_one_vm_rule_with_the_inventory_and_vm_info():
    """pool_info lists templates with include_templates, never snapshots or unfinished creations (vm.is_listed)."""
    fake = FakeXapi()
    fake.seed_pool(hosts=1, vms=1)
    base = {"is_a_template": True, "is_control_domain": False, "power_state": "Halted", "VBDs": [], "VIFs": [],
            "other_config": {}, "tags": []}
    fake.add("VM", name_label="nightly snapshot", is_a_snapshot=True, **base)
    fake.add("VM", name_label="xenpool-pending: web9", is_a_snapshot=False, **base)
    with XenClient("127.0.0.10", "root", fake.password, transport_factory=fake.transport_factory) as client:
        names = [vm["name"] for vm in read_overview(client, True)["vms"]]
    assert "Debian Bookworm 12" in names and "vm-0000" in names
    assert "nightly snapshot" not in names and "xenpool-pending: web9" not in names


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
