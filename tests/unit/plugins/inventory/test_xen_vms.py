# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The xen_vms inventory plugin against xapisim in-process (real XenAPI.Session, real XML-RPC bodies, xapi's records)."""

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
from xapisim.testing import InProcessXapi

from ansible_collections.vdc.xenpool.plugins.inventory import xen_vms
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient

NAME = "vdc.xenpool.xen_vms"
MASTER, MEMBER = "127.0.0.11", "127.0.0.12"


def datacenter(hosts: int = 2, vms: int = 2) -> dict:
    """One pool of `hosts` hosts on a shared SR, `vms` running VMs spread over them (each with a guest IP)."""
    return {
        "name": "inventory", "credentials": {"username": "root", "password": "xen-vms-unit-not-a-secret"},
        "host_groups": [{"name_prefix": "xen-", "count": hosts, "memory_gib": 64, "nics": 1,
                         "cpu": {"vendor": "GenuineIntel", "model": "Xeon", "cores": 4, "speed_mhz": 2400}}],
        "pools": [{"name_label": "pool-a", "master": "xen-01", "members": ["xen-%02d" % (i + 1) for i in range(1, hosts)],
                   "shared_sr": {"name_label": "iSCSI", "type": "lvmoiscsi", "size_gib": 1000}}],
        "templates": [{"name_label": "Debian Bookworm 12", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]}],
        "vms": [{"pool": "pool-a", "count": vms, "name_prefix": "vm-", "template": "Debian Bookworm 12", "power_state": "Running",
                 "vcpus": 2, "memory_mib": 2048, "disk_gib": 20}],
    }


@pytest.fixture
def fake(monkeypatch):
    xapi = InProcessXapi(datacenter())
    for ref, rec in xapi.records("VM").items():
        if rec["name_label"].startswith("vm-"):
            xapi.update("VM", ref, tags=["web"])
    xapi.reset_calls()
    use(monkeypatch, xapi)
    for var in ("XENSERVER_HOST", "XENSERVER_USER", "XENSERVER_PASSWORD", "XENSERVER_VALIDATE_CERTS"):
        monkeypatch.delenv(var, raising=False)
    yield xapi
    xapi.close()


def use(monkeypatch, xapi: InProcessXapi) -> None:
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


def login(fake: InProcessXapi, host: str = MASTER) -> dict:
    return {"hostname": host, "password": fake.password}


def add_vm(fake: InProcessXapi, name: str, **fields) -> str:
    """A halted VM record (the datamodel's defaults for the rest), as a test's arrangement."""
    return fake.add("VM", name_label=name, **fields)


def guest_ip(fake: InProcessXapi, vm_name: str) -> str:
    vm = fake.records("VM")[fake.find("VM", name_label=vm_name)]
    return fake.records("VM_guest_metrics")[vm["guest_metrics"]]["networks"]["0/ip"]


def test_hosts_groups_and_hostvars(tmp_path, fake):
    add_vm(fake, "snap of vm-0001", is_a_snapshot=True, is_a_template=True)
    add_vm(fake, "stopped", tags=["db", "backup"], other_config={"owner": "ops"})
    inventory = parse(tmp_path, login(fake))
    assert sorted(inventory.hosts) == ["stopped", "vm-0001", "vm-0002"]  # no template, snapshot or control domain
    running = hostvars(inventory, "vm-0001")
    assert running["xenpool_uuid"] == fake.records("VM")[fake.find("VM", name_label="vm-0001")]["uuid"]
    assert running["xenpool_power_state"] == "Running"
    assert running["xenpool_host"] == "xen-01" and hostvars(inventory, "vm-0002")["xenpool_host"] == "xen-02"
    assert running["xenpool_pool"] == "pool-a"
    assert running["xenpool_vcpus"] == 2 and running["xenpool_memory_mib"] == 2048
    assert running["xenpool_ip"] == guest_ip(fake, "vm-0001") and running["ansible_host"] == running["xenpool_ip"]
    assert hostvars(inventory, "vm-0002")["ansible_host"] == guest_ip(fake, "vm-0002")
    assert running["xenpool_tags"] == ["web"]
    stopped = hostvars(inventory, "stopped")
    assert stopped["xenpool_host"] is None and stopped["xenpool_ip"] is None and "ansible_host" not in stopped
    assert stopped["xenpool_tags"] == ["backup", "db"] and stopped["xenpool_other_config"] == {"owner": "ops"}
    assert members(inventory, "xen_running") == ["vm-0001", "vm-0002"]
    assert members(inventory, "xen_halted") == ["stopped"]
    assert members(inventory, "xen_host_xen_01") == ["vm-0001"] and members(inventory, "xen_host_xen_02") == ["vm-0002"]
    assert not [g for g in inventory.groups if g.startswith("xen_host_") and g not in ("xen_host_xen_01", "xen_host_xen_02")]
    assert fake.open_sessions() == 0 and fake.writes() == []


def test_clashing_and_empty_names_use_the_uuid(tmp_path, fake):
    first = add_vm(fake, "dup")
    second = add_vm(fake, "dup")
    nameless = add_vm(fake, "")
    add_vm(fake, "vm-0001", is_a_template=True)  # a template does not make the listed vm-0001 clash
    inventory = parse(tmp_path, login(fake))
    uuids = {fake.records("VM")[ref]["uuid"] for ref in (first, second, nameless)}
    assert "dup" not in inventory.hosts and "" not in inventory.hosts
    assert uuids <= set(inventory.hosts)
    assert "vm-0001" in inventory.hosts
    assert sorted(inventory.hosts) == sorted(uuids | {"vm-0001", "vm-0002"})


@pytest.mark.parametrize("option", ["include_templates", "want_templates"])  # want_templates: the deprecated name
def test_include_templates_adds_templates_not_snapshots(tmp_path, fake, option):
    add_vm(fake, "a snapshot", is_a_snapshot=True, is_a_template=True)
    add_vm(fake, "xenpool-pending: half-made", is_a_template=True)
    inventory = parse(tmp_path, dict(login(fake), **{option: True}))
    assert sorted(inventory.hosts) == ["Debian Bookworm 12", "vm-0001", "vm-0002"]
    assert hostvars(inventory, "Debian Bookworm 12")["xenpool_is_template"] is True
    assert hostvars(inventory, "vm-0001")["xenpool_is_template"] is False


def test_group_names_are_sanitized(tmp_path, fake):
    fake.update("host", fake.find("host", name_label="xen-01"), name_label="Xen-01.Lab Rack/3")
    inventory = parse(tmp_path, login(fake))
    assert members(inventory, "xen_host_xen_01_lab_rack_3") == ["vm-0001"]
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
    add_vm(fake, "small", memory_static_max=1024 ** 3)
    inventory = parse(tmp_path, config)
    assert hostvars(inventory, "vm-0001")["ansible_user"] == "admin" and hostvars(inventory, "small")["mem_gib"] == 1
    assert members(inventory, "big") == ["vm-0001", "vm-0002"]
    assert members(inventory, "tag_web") == ["vm-0001", "vm-0002"]


def test_constant_number_of_calls(monkeypatch, tmp_path, fake):
    small = InProcessXapi(datacenter(hosts=1, vms=1))
    use(monkeypatch, small)
    assert len(parse(tmp_path, login(small)).hosts) == 1
    big = InProcessXapi(datacenter(hosts=4, vms=60))
    use(monkeypatch, big)
    assert len(parse(tmp_path, login(big)).hosts) == 60
    assert big.counters() == small.counters()
    # xapi answers event.from, so the whole read is one call whatever the number of VMs and classes
    assert set(small.counters()) == {"session.login_with_password", "event.from", "session.logout"}
    assert big.open_sessions() == 0 and fake.calls() == []
    small.close()
    big.close()


def test_wrong_password(tmp_path, fake):
    with pytest.raises(AnsibleParserError) as info:
        parse(tmp_path, {"hostname": MASTER, "password": "Not-The-Password-42"})
    msg = str(info.value)
    assert msg.startswith(f"Failed to read pool '{MASTER}': SESSION_AUTHENTICATION_FAILED [root, ")
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
        parse(tmp_path, {"hostname": "ftp://%s" % MASTER, "password": fake.password})
    assert f"Failed to read pool 'ftp://{MASTER}': unsupported URL scheme" in str(info.value)
    assert fake.calls() == []


def test_member_host_and_env_fallbacks(monkeypatch, tmp_path, fake):
    monkeypatch.setenv("XENSERVER_HOST", MEMBER)
    monkeypatch.setenv("XENSERVER_PASSWORD", fake.password)
    inventory = parse(tmp_path, {})
    assert sorted(inventory.hosts) == ["vm-0001", "vm-0002"]
    assert [c[0] for c in fake.calls("session.login_with_password")] == [MEMBER, MASTER]


def test_password_from_a_template(monkeypatch, tmp_path, fake):
    monkeypatch.setenv("H10_XEN_PW", fake.password)
    inventory = parse(tmp_path, {"host": MASTER, "password": "{{ lookup('env', 'H10_XEN_PW') }}"})
    assert len(inventory.hosts) == 2


def test_verify_file(tmp_path):
    plugin = new_plugin()
    for name, expected in (("a.xen_vms.yml", True), ("xen_vms.yaml", True), ("a.xen_vms.json", False), ("hosts.yml", False)):
        (tmp_path / name).write_text("plugin: %s\n" % NAME, encoding="utf-8")
        assert plugin.verify_file(str(tmp_path / name)) is expected, name
    assert plugin.verify_file(str(tmp_path / "missing.xen_vms.yml")) is False


def test_other_plugin_name_is_refused(tmp_path, fake):
    path = tmp_path / "pool.xen_vms.yml"
    path.write_text(json.dumps({"plugin": "other.collection.vms", "hostname": MASTER}), encoding="utf-8")
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
    assert calls == 3  # login, event.from, logout
    stored = "".join(p.read_text(encoding="utf-8") for p in cache_dir.iterdir())
    assert "vm-0001" in stored and fake.password not in stored
    inventory = InventoryData()
    new_plugin().parse(inventory, DataLoader(), str(path), cache=True)
    assert len(fake.calls()) == calls
    assert sorted(inventory.hosts) == ["vm-0001", "vm-0002"] and members(inventory, "xen_host_xen_02") == ["vm-0002"]
    new_plugin().parse(InventoryData(), DataLoader(), str(path), cache=False)  # a refresh reads the pool again
    assert len(fake.calls()) == 2 * calls
