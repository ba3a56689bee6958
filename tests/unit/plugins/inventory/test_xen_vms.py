# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The xen_vms inventory plugin against the in-memory XenAPI (real XenAPI.Session, real XML-RPC bodies)."""

from __future__ import annotations

import functools
import json

import pytest
from ansible import constants as C
from ansible.errors import AnsibleParserError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import fragment_loader
from ansible.utils.plugin_docs import get_docstring

from ansible_collections.vdc.xenpool.plugins.inventory import xen_vms
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import GIB, NULL, FakeXapi

NAME = "vdc.xenpool.xen_vms"


@pytest.fixture
def fake(monkeypatch):
    xapi = FakeXapi()
    xapi.seed_pool(hosts=2, vms=2)
    use(monkeypatch, xapi)
    for var in ("XENSERVER_HOST", "XENSERVER_USER", "XENSERVER_PASSWORD", "XENSERVER_VALIDATE_CERTS"):
        monkeypatch.delenv(var, raising=False)
    return xapi


def use(monkeypatch, xapi: FakeXapi) -> None:
    monkeypatch.setattr(xen_vms, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory))


def new_plugin() -> xen_vms.InventoryModule:
    """The plugin with its option definitions registered, as the plugin loader would do."""
    doc = get_docstring(xen_vms.__file__, fragment_loader)[0]
    C.config.initialize_plugin_configuration_definitions("inventory", NAME, doc["options"])
    plugin = xen_vms.InventoryModule()
    plugin._load_name = NAME  # pylint: disable=protected-access
    plugin._redirected_names = [NAME]  # pylint: disable=protected-access
    return plugin


def parse(tmp_path, config: dict, filename: str = "pool.xen_vms.yml") -> InventoryData:
    path = tmp_path / filename
    path.write_text(json.dumps(dict({"plugin": NAME}, **config)), encoding="utf-8")
    plugin = new_plugin()
    assert plugin.verify_file(str(path))
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=False)
    return inventory


def members(inventory: InventoryData, group: str) -> list[str]:
    return sorted(h.name for h in inventory.groups[group].get_hosts()) if group in inventory.groups else []


def hostvars(inventory: InventoryData, name: str) -> dict:
    return inventory.get_host(name).get_vars()


def login(fake: FakeXapi, host: str = "127.0.0.10") -> dict:
    return {"hostname": host, "password": fake.password}


def add_vm(fake: FakeXapi, name: str, **fields) -> str:
    base = {"name_label": name, "is_a_template": False, "is_control_domain": False, "is_a_snapshot": False,
            "power_state": "Halted", "resident_on": NULL, "metrics": NULL, "guest_metrics": NULL, "VBDs": [], "VIFs": [],
            "VCPUs_at_startup": "1", "memory_static_max": str(GIB), "tags": [], "other_config": {}}
    base.update(fields)
    return fake.add("VM", **base)


def test_hosts_groups_and_hostvars(tmp_path, fake):
    add_vm(fake, "snap of vm-0000", is_a_snapshot=True, is_a_template=True)
    add_vm(fake, "stopped", tags=["db", "backup"], other_config={"owner": "ops"})
    inventory = parse(tmp_path, login(fake))
    assert sorted(inventory.hosts) == ["stopped", "vm-0000", "vm-0001"]  # no template, snapshot or control domain
    running = hostvars(inventory, "vm-0000")
    vm_rec = next(r for r in fake.objects["VM"].values() if r["name_label"] == "vm-0000")
    assert running["xenpool_uuid"] == vm_rec["uuid"]
    assert running["xenpool_power_state"] == "Running"
    assert running["xenpool_host"] == "xen-01" and hostvars(inventory, "vm-0001")["xenpool_host"] == "xen-02"
    assert running["xenpool_pool"] == "pool-a"
    assert running["xenpool_vcpus"] == 2 and running["xenpool_memory_mib"] == 2048
    assert running["xenpool_ip"] == "10.0.0.1" and running["ansible_host"] == "10.0.0.1"
    assert hostvars(inventory, "vm-0001")["ansible_host"] == "10.0.0.2"
    assert running["xenpool_tags"] == ["web"] and running["xenpool_other_config"] == {}
    stopped = hostvars(inventory, "stopped")
    assert stopped["xenpool_host"] is None and stopped["xenpool_ip"] is None and "ansible_host" not in stopped
    assert stopped["xenpool_tags"] == ["backup", "db"] and stopped["xenpool_other_config"] == {"owner": "ops"}
    assert members(inventory, "xen_running") == ["vm-0000", "vm-0001"]
    assert members(inventory, "xen_halted") == ["stopped"]
    assert members(inventory, "xen_host_xen_01") == ["vm-0000"] and members(inventory, "xen_host_xen_02") == ["vm-0001"]
    assert not [g for g in inventory.groups if g.startswith("xen_host_") and g not in ("xen_host_xen_01", "xen_host_xen_02")]
    assert fake.open_sessions() == 0


def test_clashing_and_empty_names_use_the_uuid(tmp_path, fake):
    first = add_vm(fake, "dup")
    second = add_vm(fake, "dup")
    nameless = add_vm(fake, "")
    add_vm(fake, "vm-0000", is_a_template=True)  # a template does not make the listed vm-0000 clash
    inventory = parse(tmp_path, login(fake))
    uuids = {fake.objects["VM"][ref]["uuid"] for ref in (first, second, nameless)}
    assert "dup" not in inventory.hosts and "" not in inventory.hosts
    assert uuids <= set(inventory.hosts)
    assert "vm-0000" in inventory.hosts
    assert sorted(inventory.hosts) == sorted(uuids | {"vm-0000", "vm-0001"})


@pytest.mark.parametrize("option", ["include_templates", "want_templates"])  # want_templates: the deprecated name
def test_include_templates_adds_templates_not_snapshots(tmp_path, fake, option):
    add_vm(fake, "a snapshot", is_a_snapshot=True, is_a_template=True)
    add_vm(fake, "xenpool-pending: half-made", is_a_template=True)
    inventory = parse(tmp_path, dict(login(fake), **{option: True}))
    assert sorted(inventory.hosts) == ["Debian Bookworm 12", "vm-0000", "vm-0001"]
    assert hostvars(inventory, "Debian Bookworm 12")["xenpool_is_template"] is True
    assert hostvars(inventory, "vm-0000")["xenpool_is_template"] is False


def test_group_names_are_sanitized(tmp_path, fake):
    for host in fake.objects["host"].values():
        if host["name_label"] == "xen-01":
            host["name_label"] = "Xen-01.Lab Rack/3"
    inventory = parse(tmp_path, login(fake))
    assert members(inventory, "xen_host_xen_01_lab_rack_3") == ["vm-0000"]
    assert xen_vms.group_name("xen_", "Suspended") == "xen_suspended"


def test_first_ipv4_in_device_order():
    assert xen_vms.first_ipv4({"0/ipv6/0": "fe80::1", "1/ip": "192.0.2.7", "2/ip": "192.0.2.9"}) == "192.0.2.7"
    assert xen_vms.first_ipv4({"10/ip": "192.0.2.10", "2/ipv4/0": "192.0.2.2"}) == "192.0.2.2"
    assert xen_vms.first_ipv4({"0/ipv6/0": "fe80::1", "0/ip": ""}) is None
    assert xen_vms.first_ipv4(None) is None


def test_constructed_options(tmp_path, fake):
    config = dict(login(fake), compose={"ansible_user": "'admin'", "mem_gib": "xenpool_memory_mib // 1024"},
                  groups={"big": "xenpool_memory_mib >= 2048"},
                  keyed_groups=[{"key": "xenpool_tags", "prefix": "tag"}])
    add_vm(fake, "small")
    inventory = parse(tmp_path, config)
    assert hostvars(inventory, "vm-0000")["ansible_user"] == "admin" and hostvars(inventory, "small")["mem_gib"] == 1
    assert members(inventory, "big") == ["vm-0000", "vm-0001"]
    assert members(inventory, "tag_web") == ["vm-0000", "vm-0001"]


def test_constant_number_of_calls(monkeypatch, tmp_path, fake):
    small = FakeXapi()
    small.seed_pool(hosts=1, vms=1)
    use(monkeypatch, small)
    assert len(parse(tmp_path, login(small)).hosts) == 1
    big = FakeXapi()
    big.seed_pool(hosts=8, vms=200)
    use(monkeypatch, big)
    assert len(parse(tmp_path, login(big)).hosts) == 200
    assert big.counters() == small.counters()
    assert sum(small.counters().values()) == 3 + len(xen_vms.VM_CLASSES)  # FakeXapi refuses event.from: read per class
    assert set(small.counters()) == {"session.login_with_password", "event.from", "session.logout"} | {
        "%s.get_all_records" % cls for cls in xen_vms.VM_CLASSES}
    assert big.open_sessions() == 0 and fake.counters() == {}


def test_wrong_password(tmp_path, fake):
    with pytest.raises(AnsibleParserError) as info:
        parse(tmp_path, {"hostname": "127.0.0.10", "password": "Not-The-Password-42"})
    msg = str(info.value)
    assert msg.startswith("Failed to read pool '127.0.0.10': SESSION_AUTHENTICATION_FAILED [root, Authentication failure]")
    assert "Check the username and password options." in msg
    assert "Not-The-Password-42" not in msg and "Traceback" not in msg
    assert info.value.__cause__ is None
    assert fake.open_sessions() == 0


def test_unreachable_host(tmp_path, fake):
    with pytest.raises(AnsibleParserError) as info:
        parse(tmp_path, {"hostname": "127.0.0.99", "password": fake.password})
    msg = str(info.value)
    assert msg.startswith("Failed to read pool '127.0.0.99': CONNECTION_FAILED [https://127.0.0.99/, unreachable: Connection refused]")
    assert "Check hostname" in msg and fake.password not in msg


def test_bad_hostname(tmp_path, fake):
    with pytest.raises(AnsibleParserError) as info:
        parse(tmp_path, {"hostname": "ftp://127.0.0.10", "password": fake.password})
    assert "Failed to read pool 'ftp://127.0.0.10': unsupported URL scheme" in str(info.value)
    assert fake.calls() == []


def test_member_host_and_env_fallbacks(monkeypatch, tmp_path, fake):
    monkeypatch.setenv("XENSERVER_HOST", "127.0.0.11")
    monkeypatch.setenv("XENSERVER_PASSWORD", fake.password)
    inventory = parse(tmp_path, {})
    assert sorted(inventory.hosts) == ["vm-0000", "vm-0001"]
    assert [c[0] for c in fake.calls("session.login_with_password")] == ["127.0.0.11", "127.0.0.10"]


def test_password_from_a_template(monkeypatch, tmp_path, fake):
    monkeypatch.setenv("H10_XEN_PW", fake.password)
    inventory = parse(tmp_path, {"host": "127.0.0.10", "password": "{{ lookup('env', 'H10_XEN_PW') }}"})
    assert len(inventory.hosts) == 2


def test_verify_file(tmp_path):
    plugin = new_plugin()
    for name, expected in (("a.xen_vms.yml", True), ("xen_vms.yaml", True), ("a.xen_vms.json", False), ("hosts.yml", False)):
        (tmp_path / name).write_text("plugin: %s\n" % NAME, encoding="utf-8")
        assert plugin.verify_file(str(tmp_path / name)) is expected, name
    assert plugin.verify_file(str(tmp_path / "missing.xen_vms.yml")) is False


def test_other_plugin_name_is_refused(tmp_path, fake):
    path = tmp_path / "pool.xen_vms.yml"
    path.write_text(json.dumps({"plugin": "other.collection.vms", "hostname": "127.0.0.10"}), encoding="utf-8")
    with pytest.raises(AnsibleParserError, match="Incorrect plugin name"):
        new_plugin().parse(InventoryData(), DataLoader(), str(path), cache=False)
    assert fake.calls() == []


def test_cache_serves_the_second_run_without_calls(tmp_path, fake):
    cache_dir = tmp_path / "cache"
    config = dict(login(fake), cache=True, cache_plugin="jsonfile", cache_connection=str(cache_dir))
    path = tmp_path / "pool.xen_vms.yml"
    path.write_text(json.dumps(dict({"plugin": NAME}, **config)), encoding="utf-8")
    first = new_plugin()
    first.parse(InventoryData(), DataLoader(), str(path), cache=True)
    first.update_cache_if_changed()  # what the inventory manager does after parse()
    calls = len(fake.calls())
    assert calls == 3 + len(xen_vms.VM_CLASSES)
    stored = "".join(p.read_text(encoding="utf-8") for p in cache_dir.iterdir())
    assert "vm-0000" in stored and fake.password not in stored
    inventory = InventoryData()
    new_plugin().parse(inventory, DataLoader(), str(path), cache=True)
    assert len(fake.calls()) == calls
    assert sorted(inventory.hosts) == ["vm-0000", "vm-0001"] and members(inventory, "xen_host_xen_02") == ["vm-0001"]
    new_plugin().parse(InventoryData(), DataLoader(), str(path), cache=False)  # a refresh reads the pool again
    assert len(fake.calls()) == 2 * calls
