# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: xen_vms
short_description: The VMs of a XenServer / XCP-ng pool as an inventory
version_added: 0.1.0
description:
  - Reads the VMs of one pool from its master in a fixed number of XenAPI calls (one C(get_all_records) for
    each of the classes C(pool), C(host), C(VM) and C(VM_guest_metrics), plus login and logout),
    whatever the number of VMs.
  - Every VM that is not a template, not a snapshot and not a control domain becomes an inventory host.
    With O(include_templates=true) templates are listed too; snapshots, control domains and creations a killed
    run left unfinished never are (the same rule as M(vdc.xenpool.pool_info) and M(vdc.xenpool.vm_info)).
  - A host is named by the VM's C(name_label). When that name is empty or is shared by more than one listed VM,
    each of those VMs is named by its uuid instead, so that no name depends on the order XenAPI returns records in.
  - "Host variables: C(xenpool_uuid), C(xenpool_power_state), C(xenpool_host) (name of the host the VM runs on,
    null when it does not run), C(xenpool_pool), C(xenpool_vcpus), C(xenpool_memory_mib) (static maximum),
    C(xenpool_ip) (the first IPv4 address the guest agent reports, null without one), C(xenpool_tags),
    C(xenpool_other_config), C(xenpool_is_template), and C(ansible_host) set to C(xenpool_ip) when it is known."
  - "Groups: C(xen_<power state>) (for example C(xen_running), C(xen_halted)) and C(xen_host_<host name>) for the host
    a VM runs on. Group names are lower case, and every character other than a letter, a digit or C(_)
    becomes C(_) (C(xen-01.example) gives C(xen_host_xen_01_example))."
  - The inventory file name must end in C(xen_vms.yml) or C(xen_vms.yaml).
  - The password never appears in the inventory, in messages or in errors.
extends_documentation_fragment:
  - constructed
  - inventory_cache
requirements:
  - XenAPI (the official Python XenAPI client, C(pip install XenAPI))
options:
  plugin:
    description: The name of this plugin; it marks the file as an inventory source for it.
    type: str
    required: true
    choices: [vdc.xenpool.xen_vms]
  hostname:
    description:
      - The pool master (or any pool member, the plugin then follows it to the master), as a host name,
        an IP address or a URL.
      - A bare host name or address means C(https://<hostname>/). Use an C(http://) URL only on trusted networks,
        because the password then travels in clear text.
    type: str
    required: true
    aliases: [host, url]
    env:
      - name: XENSERVER_HOST
  username:
    description: The user to log in as.
    type: str
    default: root
    env:
      - name: XENSERVER_USER
  password:
    description:
      - The password of O(username).
      - Prefer the environment variable or a vaulted value to writing it in the inventory file.
    type: str
    env:
      - name: XENSERVER_PASSWORD
  validate_certs:
    description:
      - Whether to verify the TLS certificate of the host (chain and host name).
      - Set to V(false) only for hosts with self-signed certificates on trusted networks; prefer O(ca_path).
    type: bool
    default: true
    env:
      - name: XENSERVER_VALIDATE_CERTS
  ca_path:
    description:
      - A PEM file with the CA certificate(s) that signed the host certificate.
      - Without it the system trust store is used.
    type: path
  timeout:
    description: Socket timeout in seconds for each XenAPI request, including the connection attempt.
    type: int
    default: 60
  include_templates:
    description: Also list templates (never snapshots, never control domains).
    type: bool
    default: false
    version_added: 0.3.0
  want_templates:
    description:
      - Deprecated, use O(include_templates), the name pool_info and vm_info use for the same rule.
        Still honoured; will be removed in 2.0.0.
    type: bool
    default: false
notes:
  - The session is logged out when the inventory has been read, on success and on failure.
"""

EXAMPLES = r"""
# pool-a.xen_vms.yml: the VMs of pool-a, the password from XENSERVER_PASSWORD
plugin: vdc.xenpool.xen_vms
hostname: xen-01.example.com
ca_path: /etc/pki/xen-ca.pem
---
# The same, with more groups built from the host variables
plugin: vdc.xenpool.xen_vms
hostname: https://xen-01.example.com
password: "{{ lookup('ansible.builtin.env', 'XEN_PASSWORD') }}"
keyed_groups:
  - key: xenpool_tags
    prefix: tag
groups:
  big: xenpool_memory_mib >= 16384
compose:
  ansible_user: xenpool_other_config.ansible_user | default('root')
"""

import ipaddress
import re
import typing as t

from ansible.errors import AnsibleParserError
from ansible.plugins.inventory import BaseInventoryPlugin, Cacheable, Constructable

from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import scrub
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import guest_addresses
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import is_listed

# VM names, tags and other_config are written by whoever manages the VMs: they must never be templated.
# ansible-core 2.19+ treats inventory plugin data as untrusted by itself (and marks it `trusted_by_default`);
# older cores need it wrapped as unsafe.
_WRAP_UNSAFE = not hasattr(BaseInventoryPlugin, "trusted_by_default")


def _untrusted(value: t.Any) -> t.Any:
    if not _WRAP_UNSAFE:
        return value
    from ansible.utils.unsafe_proxy import wrap_var  # pylint: disable=import-outside-toplevel  # only on ansible-core < 2.19

    return wrap_var(value)


# The only classes the inventory needs: one get_all_records each.
VM_CLASSES: tuple[str, ...] = ("pool", "host", "VM", "VM_guest_metrics")
MIB = 1024 * 1024
_UNSAFE_GROUP_CHARS = re.compile(r"[^a-z0-9_]")


def group_name(prefix: str, text: str) -> str:
    """`<prefix><text>` lower-cased, every character Ansible would reject in a group name turned into `_`."""
    return _UNSAFE_GROUP_CHARS.sub("_", ("%s%s" % (prefix, text)).lower())


def _int(value: t.Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def first_ipv4(networks: dict[str, t.Any] | None) -> str | None:
    """The first IPv4 address, in device order, of a guest agent's `networks` map."""
    for address in guest_addresses(networks or {}):
        try:
            if ipaddress.ip_address(str(address)).version == 4:
                return str(address)
        except ValueError:
            continue
    return None


def vm_hosts(state: PoolState, include_templates: bool = False) -> list[dict[str, t.Any]]:
    """[{name, vars, groups}] for the listed VMs, sorted by name; pure, no XenAPI call.

    Names are the name_label unless it is empty or shared by several listed VMs: those get their uuid,
    all of them, so a VM keeps its inventory name whatever order the records come in.
    """
    pool = state.pool or {}
    vms = [vm for vm in state.all("VM").values() if is_listed(vm, include_templates)]
    counts: dict[str, int] = {}
    for vm in vms:
        label = vm.get("name_label") or ""
        counts[label] = counts.get(label, 0) + 1
    hosts = []
    for vm in vms:
        label = vm.get("name_label") or ""
        name = label if label and counts[label] == 1 else vm.get("uuid", "")
        guest = state.get("VM_guest_metrics", vm.get("guest_metrics")) or {}
        power = str(vm.get("power_state") or "unknown")
        resident = state.name_of("host", vm.get("resident_on"))
        ip = first_ipv4(guest.get("networks"))
        hostvars: dict[str, t.Any] = {
            "xenpool_uuid": vm.get("uuid", ""),
            "xenpool_power_state": power,
            "xenpool_host": resident,
            "xenpool_pool": pool.get("name_label", ""),
            "xenpool_vcpus": _int(vm.get("VCPUs_at_startup")),
            "xenpool_memory_mib": _int(vm.get("memory_static_max")) // MIB,
            "xenpool_ip": ip,
            "xenpool_tags": sorted(vm.get("tags") or []),
            "xenpool_other_config": dict(vm.get("other_config") or {}),
            "xenpool_is_template": bool(vm.get("is_a_template", False)),
        }
        if ip:
            hostvars["ansible_host"] = ip
        groups = [group_name("xen_", power)]
        if resident:
            groups.append(group_name("xen_host_", resident))
        hosts.append({"name": name, "vars": hostvars, "groups": groups})
    return sorted(hosts, key=lambda h: h["name"])


class InventoryModule(BaseInventoryPlugin, Constructable, Cacheable):
    """Builds the inventory from one bulk read of the pool; the session is always logged out."""

    NAME = "vdc.xenpool.xen_vms"

    def verify_file(self, path: str) -> bool:
        return bool(super().verify_file(path) and path.endswith(("xen_vms.yml", "xen_vms.yaml")))

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache)
        self._read_config_data(path)
        cache_key = self.get_cache_key(path)
        use_cache = bool(self.get_option("cache"))
        hosts = None
        if use_cache and cache:
            try:
                hosts = self._cache[cache_key]
            except KeyError:
                hosts = None
        if hosts is None:
            hosts = self._read_hosts()
            if use_cache:
                self._cache[cache_key] = hosts
        self._populate(hosts)

    def _read_hosts(self) -> list[dict[str, t.Any]]:
        """One session, one get_all_records per class in VM_CLASSES; errors in the house message shape."""
        hostname = self._text_option("hostname")
        password = self._text_option("password")
        ca_path = self._text_option("ca_path")
        try:
            client = XenClient(
                hostname=hostname,
                username=self._text_option("username") or "root",
                password=password,
                validate_certs=bool(self.get_option("validate_certs")),
                ca_path=ca_path or None,
                timeout=int(self.get_option("timeout")),
            )
        except ValueError as exc:
            raise AnsibleParserError(_scrub("Failed to read pool '%s': %s. Check the hostname option." % (hostname, exc), password)) from None
        try:
            with client:
                state = read_pool_state(client, VM_CLASSES)
        except XenError as err:
            msg = "Failed to read pool '%s': %s" % (hostname, err)
            if err.hint:
                msg = "%s. %s" % (msg, err.hint)
            raise AnsibleParserError(_scrub(msg, password)) from None
        return vm_hosts(state, bool(self.get_option("include_templates") or self.get_option("want_templates")))

    def _text_option(self, name: str) -> str:
        """A plain str option, templated when it is a template (a vaulted or looked-up password).

        Values read from the inventory file carry Ansible's data tags, which XML-RPC cannot marshal.
        """
        value = self.get_option(name)
        if value is None:
            return ""
        if isinstance(value, str) and self.templar.is_template(value):
            value = self.templar.template(value)
        return str(value)

    def _populate(self, hosts: list[dict[str, t.Any]]) -> None:
        strict = self.get_option("strict")
        for entry in hosts:
            name = entry["name"]
            self.inventory.add_host(name)
            for group in entry["groups"]:
                self.inventory.add_group(group)
                self.inventory.add_child(group, name)
            hostvars = {key: _untrusted(value) for key, value in entry["vars"].items()}
            for key, value in hostvars.items():
                self.inventory.set_variable(name, key, value)
            self._set_composite_vars(self.get_option("compose"), hostvars, name, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, name, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, name, strict=strict)


def _scrub(text: str, password: str) -> str:
    return scrub(text, [password])
