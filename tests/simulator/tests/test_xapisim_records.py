# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Records of every served class match the committed spec: keys and wire types."""
from __future__ import annotations

import re
import time
import xmlrpc.client

import pytest

from xapisim.spec import Spec, parse_type

SPEC = Spec()
SERVED = ["session", "pool", "host", "host_metrics", "host_cpu", "network", "PIF", "PIF_metrics", "Bond", "VLAN", "SR",
          "PBD", "VDI", "VBD", "VIF", "VM", "VM_metrics", "VM_guest_metrics", "console", "task", "event", "message", "secret",
          "SM"]
# served, but a simulated pool has no such object unless a client creates one (test_xapisim_fidelity.py)
EMPTY = ["VM_appliance", "VMSS", "DR_task", "host_crashdump", "tunnel", "network_sriov", "PCI", "PGPU", "GPU_group", "VGPU",
         "VGPU_type", "PUSB", "USB_group", "VUSB", "PVS_site", "PVS_server", "PVS_proxy", "PVS_cache_storage", "SDN_controller",
         "Cluster", "Cluster_host", "pool_update", "Repository", "subject", "blob"]
DT_RE = re.compile(r"^\d{8}T\d{2}:\d{2}:\d{2}Z$")


def check_wire(value, ftype, where: str) -> None:
    """Assert value is what Python's xmlrpc.client yields for a xapi value of this type."""
    kind = ftype[0]
    if kind == "int":
        assert isinstance(value, str) and re.match(r"^-?\d+$", value), "%s: int must arrive as a decimal string, got %r" % (where, value)
    elif kind == "float":
        assert isinstance(value, float), "%s: float expected, got %r" % (where, value)
    elif kind == "bool":
        assert isinstance(value, bool), "%s: bool expected, got %r" % (where, value)
    elif kind == "datetime":
        assert isinstance(value, xmlrpc.client.DateTime) and DT_RE.match(value.value), "%s: %r" % (where, value)
    elif kind == "ref":
        assert isinstance(value, str) and value.startswith("OpaqueRef:"), "%s: ref expected, got %r" % (where, value)
    elif kind == "enum":
        assert value in SPEC.enums[ftype[1]], "%s: %r not in enum %s" % (where, value, ftype[1])
    elif kind == "set":
        assert isinstance(value, list), "%s: list expected" % where
        for item in value:
            check_wire(item, ftype[1], where + "[]")
    elif kind == "map":
        assert isinstance(value, dict), "%s: dict expected" % where
        for key, item in value.items():
            assert isinstance(key, str), "%s: map keys travel as strings" % where
            check_wire(item, ftype[2], "%s[%s]" % (where, key))
    else:
        assert isinstance(value, str), "%s: string expected, got %r" % (where, value)


def test_spec_file_is_the_reduced_extract():
    assert sorted(SPEC.classes) == sorted(SERVED + EMPTY)
    for cls in SERVED:
        assert SPEC.classes[cls]["record_fields"], cls
    assert SPEC.errors["VM_BAD_POWER_STATE"] == ["vm", "expected", "actual"]
    assert ("VBD", "VM") in SPEC.relations and SPEC.relations[("VBD", "VM")] == ("VM", "VBDs")


@pytest.fixture(scope="module", name="populated")
def populated_fixture(small_sim):
    """Make sure every class has at least one object (task, message, secret, VLAN, Bond, guest metrics)."""
    from conftest import connect  # pylint: disable=import-outside-toplevel
    session = connect(small_sim)
    x = session.xenapi
    vm = [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]
    task = x.Async.VM.start(vm, False, False)
    host = x.host.get_all()[0]
    x.message.create("SIM_TEST", "3", "Host", x.host.get_uuid(host), "body")
    x.secret.create({"value": "s3cret-value", "other_config": {}})
    pifs = x.host.get_PIFs(host)
    net = x.network.create({"name_label": "vlan net", "name_description": "", "MTU": "1500", "other_config": {}})
    x.VLAN.create(pifs[1], "42", net)
    bond_net = x.network.create({"name_label": "bond net", "name_description": "", "MTU": "1500", "other_config": {}})
    x.Bond.create(bond_net, [pifs[1]], "", "active-backup", {})
    deadline = time.time() + 10
    while x.task.get_status(task) == "pending" and time.time() < deadline:
        time.sleep(0.02)
    while x.VM.get_guest_metrics(vm) == "OpaqueRef:NULL" and time.time() < deadline:
        time.sleep(0.02)
    yield session
    session.xenapi.session.logout()


@pytest.mark.parametrize("cls", [c for c in SERVED if c not in ("event",)])
def test_records_match_spec(populated, cls):
    x = populated.xenapi
    api = getattr(x, cls)
    if "get_all_records" in SPEC.messages[cls]:
        records = api.get_all_records()
        assert records, "no %s objects to check" % cls
        refs = api.get_all()
        assert sorted(refs) == sorted(records)
    else:
        ref = populated._session  # pylint: disable=protected-access
        records = {ref: x.session.get_record(ref)} if cls == "session" else {}
        assert records
    expected = SPEC.classes[cls]["record_fields"]
    for ref, record in records.items():
        assert ref.startswith("OpaqueRef:") and ref != "OpaqueRef:NULL"
        assert sorted(record) == sorted(expected), "%s keys differ: %s" % (cls, set(record) ^ set(expected))
        for field, value in record.items():
            check_wire(value, parse_type(SPEC.fields[cls][field]["type"]), "%s.%s" % (cls, field))
        if "uuid" in record:
            assert ref != "OpaqueRef:" + record["uuid"], "refs are unrelated to uuids"
            assert api.get_by_uuid(record["uuid"]) == ref
            assert api.get_record(ref) == record or cls in ("task", "host_metrics", "VM_metrics", "session")


def test_getters_agree_with_record(populated):
    x = populated.xenapi
    host = x.host.get_all()[0]
    rec = x.host.get_record(host)
    assert x.host.get_name_label(host) == rec["name_label"]
    assert x.host.get_memory_overhead(host) == rec["memory_overhead"]
    assert x.host.get_software_version(host)["product_brand"] == "XCP-ng"
    assert rec["iscsi_iqn"] and rec["other_config"]["iscsi_iqn"] == rec["iscsi_iqn"]
    for key in ("vendor", "features_pv", "modelname", "cpu_count"):
        assert key in rec["cpu_info"]


def test_password_keys_become_secrets(populated):
    x = populated.xenapi
    host = x.host.get_all()[0]
    sr = x.SR.get_all()[0]
    pbds_before = set(x.PBD.get_all())
    with pytest.raises(Exception) as info:
        x.PBD.create({"host": host, "SR": sr, "device_config": {"chappassword": "pw"}, "other_config": {}})
    assert "PBD_EXISTS" in str(info.value)
    assert set(x.PBD.get_all()) == pbds_before


def test_relations_follow_creates_and_destroys(populated):
    x = populated.xenapi
    vm = [v for v, r in x.VM.get_all_records().items() if not r["is_a_template"] and not r["is_control_domain"]][0]
    sr = x.SR.get_all()[0]
    vdi = x.VDI.create({"name_label": "rel disk", "SR": sr, "virtual_size": str(3 * 1024 * 1024), "type": "user",
                        "sharable": False, "read_only": False, "other_config": {}})
    assert int(x.VDI.get_virtual_size(vdi)) == 4 * 1024 * 1024, "LVM rounds sizes up to 2 MiB"
    assert vdi in x.SR.get_VDIs(sr)
    vbd = x.VBD.create({"VM": vm, "VDI": vdi, "userdevice": "autodetect", "bootable": False, "mode": "RW", "type": "Disk",
                        "empty": False, "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}})
    assert vbd in x.VM.get_VBDs(vm) and vbd in x.VDI.get_VBDs(vdi)
    assert x.VBD.get_userdevice(vbd) == "1"
    with pytest.raises(Exception) as info:
        x.VBD.create({"VM": vm, "VDI": vdi, "userdevice": "1", "bootable": False, "mode": "RW", "type": "Disk",
                      "empty": False, "other_config": {}, "qos_algorithm_type": "", "qos_algorithm_params": {}})
    assert "DEVICE_ALREADY_EXISTS" in str(info.value)
    with pytest.raises(Exception) as info:
        x.VBD.create({"VM": vm, "userdevice": "2"})
    assert "INTERNAL_ERROR" in str(info.value) and "VDI" in str(info.value)
    x.VBD.destroy(vbd)
    assert vbd not in x.VM.get_VBDs(vm) and vbd not in x.VDI.get_VBDs(vdi)
    x.VDI.destroy(vdi)
    assert vdi not in x.SR.get_VDIs(sr)


def test_pif_reconfigure_ip(populated):
    x = populated.xenapi
    host = x.host.get_all()[0]
    eth1 = [p for p in x.host.get_PIFs(host) if x.PIF.get_device(p) == "eth1" and x.PIF.get_VLAN(p) == "-1"][0]
    x.PIF.reconfigure_ip(eth1, "Static", "192.168.50.11", "255.255.255.0", "", "")
    rec = x.PIF.get_record(eth1)
    assert (rec["ip_configuration_mode"], rec["IP"], rec["netmask"]) == ("Static", "192.168.50.11", "255.255.255.0")
    assert rec["currently_attached"] is True
    with pytest.raises(Exception) as info:
        x.PIF.reconfigure_ip(eth1, "Static", "300.1.1.1", "255.255.255.0", "", "")
    assert "INVALID_IP_ADDRESS_SPECIFIED" in str(info.value)
    x.PIF.reconfigure_ip(eth1, "dhcp", "", "", "", "")
    assert x.PIF.get_ip_configuration_mode(eth1) == "DHCP" and x.PIF.get_IP(eth1).startswith("10.200.")
    mgmt = [p for p in x.host.get_PIFs(host) if x.PIF.get_management(p)][0]
    with pytest.raises(Exception) as info:
        x.PIF.unplug(mgmt)
    assert "PIF_DOES_NOT_ALLOW_UNPLUG" in str(info.value)
