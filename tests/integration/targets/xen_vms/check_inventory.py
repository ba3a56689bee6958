# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drives `ansible-inventory --list` on vdc.xenpool.xen_vms inventory files against the running simulator.

Usage: check_inventory.py SIM_VARS_JSON WORK_DIR. Writes the inventory files (mode 0600, the password never
on a command line), checks the halted VM of the small datacenter, starts it through XenAPI, waits (bounded)
for its guest agent, checks it again as running with its IP, then checks a wrong password fails cleanly.
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import time
import xmlrpc.client

import XenAPI


def write_inventory(path: str, sim: dict, password: str) -> None:
    config = {
        "plugin": "vdc.xenpool.xen_vms",
        "hostname": sim["sim_hosts"][0]["url_https"],
        "username": sim["sim_username"],
        "password": password,
        "validate_certs": True,
        "ca_path": sim["sim_ca_cert"],
        "timeout": 20,
        "keyed_groups": [{"key": "\"vcpus%d\" % xenpool_vcpus", "prefix": "size"}],
        "groups": {"small_memory": "xenpool_memory_mib <= 1024"},
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(config, handle)  # JSON is YAML


def plain(value):
    """ansible-inventory marks untrusted strings (all inventory plugin data on ansible-core 2.19+) as {"__ansible_unsafe": text}."""
    if isinstance(value, dict):
        if set(value) == {"__ansible_unsafe"}:
            return value["__ansible_unsafe"]
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def inventory(path: str) -> tuple[int, dict, str]:
    proc = subprocess.run(["ansible-inventory", "-i", path, "--list"], capture_output=True, text=True, timeout=120, check=False,
                          env=dict(os.environ, ANSIBLE_INVENTORY_UNPARSED_FAILED="true", ANSIBLE_NOCOLOR="1"))
    data = plain(json.loads(proc.stdout)) if proc.stdout.strip().startswith("{") else {}
    return proc.returncode, data, proc.stdout + proc.stderr


def members(data: dict, group: str) -> list:
    return sorted(data.get(group, {}).get("hosts", []))


def check(condition: bool, what: str, detail: object = "") -> None:
    if not condition:
        sys.exit("FAILED: %s %s" % (what, detail))
    print("ok: %s" % what)


def start_vm(sim: dict, name: str) -> None:
    """VM.start through the official XenAPI client, then wait (at most 60s) for the guest agent's IP."""
    context = ssl.create_default_context(cafile=sim["sim_ca_cert"])
    session = XenAPI.Session(sim["sim_hosts"][0]["url_https"], transport=xmlrpc.client.SafeTransport(context=context))
    session.xenapi.login_with_password(sim["sim_username"], sim["sim_password"], "1.0", "xen_vms-it")
    try:
        vm = session.xenapi.VM.get_by_name_label(name)[0]
        session.xenapi.VM.start(vm, False, False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            gm = session.xenapi.VM.get_guest_metrics(vm)
            if gm != "OpaqueRef:NULL" and session.xenapi.VM_guest_metrics.get_networks(gm):
                return
            time.sleep(0.5)
        sys.exit("FAILED: the guest agent of %s did not report an address within 60s" % name)
    finally:
        session.xenapi.session.logout()


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as handle:
        sim = json.load(handle)
    work = sys.argv[2]
    good, bad = os.path.join(work, "good.xen_vms.yml"), os.path.join(work, "bad.xen_vms.yml")
    wrong = "not-the-password-%d" % os.getpid()
    write_inventory(good, sim, sim["sim_password"])
    write_inventory(bad, sim, wrong)
    host = sim["sim_hosts"][0]["name"]

    rc, data, text = inventory(good)
    check(rc == 0, "ansible-inventory --list succeeds", text[-2000:])
    hostvars = data["_meta"]["hostvars"]
    check(sorted(hostvars) == ["small-vm-0001"], "the small datacenter's one VM is the only host", sorted(hostvars))
    vm = hostvars["small-vm-0001"]
    check(vm["xenpool_power_state"] == "Halted" and vm["xenpool_host"] is None and vm["xenpool_ip"] is None, "halted VM vars", vm)
    check(vm["xenpool_vcpus"] == 1 and vm["xenpool_memory_mib"] == 1024 and "ansible_host" not in vm, "size vars", vm)
    check(len(vm["xenpool_uuid"]) == 36 and isinstance(vm["xenpool_other_config"], dict), "uuid and other_config", vm)
    check(members(data, "xen_halted") == ["small-vm-0001"], "group xen_halted", data.get("xen_halted"))
    check(members(data, "size_vcpus1") == ["small-vm-0001"] and members(data, "small_memory") == ["small-vm-0001"],
          "constructed keyed_groups and groups", sorted(data))
    check(not any(g.startswith("xen_host_") for g in data), "no host group for a VM that does not run", sorted(data))
    check(sim["sim_password"] not in text, "no password in the output")

    start_vm(sim, "small-vm-0001")
    rc, data, text = inventory(good)
    check(rc == 0, "ansible-inventory --list succeeds after the start", text[-2000:])
    vm = data["_meta"]["hostvars"]["small-vm-0001"]
    check(vm["xenpool_power_state"] == "Running" and vm["xenpool_host"] == host, "running VM vars", vm)
    check(bool(vm["xenpool_ip"]) and vm["xenpool_ip"].count(".") == 3 and vm.get("ansible_host") == vm["xenpool_ip"],
          "first IPv4 as ansible_host", vm)
    host_group = "xen_host_" + host.lower().replace("-", "_")
    check(members(data, "xen_running") == ["small-vm-0001"] and members(data, host_group) == ["small-vm-0001"],
          "groups xen_running and %s" % host_group, sorted(data))
    check(not data.get("xen_halted", {}).get("hosts"), "no longer in xen_halted", data.get("xen_halted"))

    rc, data, text = inventory(bad)
    check(rc != 0 and not data.get("_meta", {}).get("hostvars"), "a wrong password fails and lists no host", (rc, text[-2000:]))
    check("Failed to read pool '%s': SESSION_AUTHENTICATION_FAILED" % sim["sim_hosts"][0]["url_https"] in text,
          "the house message shape", text[-2000:])
    check("Check the username and password options" in text and "Traceback" not in text, "a hint and no traceback", text[-2000:])
    check(wrong not in text and sim["sim_password"] not in text, "no password (right or wrong) in the error")


if __name__ == "__main__":
    main()
