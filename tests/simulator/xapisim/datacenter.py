# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Build the simulated estate from a datacenter description (YAML).

Each host starts as an installed standalone XCP-ng/XenServer host: its own
pool of one, local LVM storage, one network per NIC, a control domain and
the default templates. Optional pre-built pools and VMs are then created.
"""
from __future__ import annotations

import copy
import uuid as uuidlib

import yaml

from .model import MIB, VMRules, create_vm, mac_for, memory_overhead, recompute_pool_cpu_info, refresh_host_memory
from . import san
from .handlers_storage import upsert_target
from .pooling import merge_host_into
from .spec import NULL_REF
from .state import Database, World

GIB = 1024 * MIB
NS = uuidlib.UUID("5b0e3f8e-7a57-4c8e-9d0a-7d1c0c9a2b61")
DEFAULT_SOFTWARE = {
    "product_brand": "XCP-ng", "product_version": "8.3.0", "product_version_text": "8.3",
    "product_version_text_short": "8.3", "platform_name": "XCP", "platform_version": "3.4.0",
    "build_number": "cloud", "date": "2024-09-30", "hostname": "localhost", "xapi": "24.19",
    "xapi_build": "24.19.2", "xen": "4.17.5-3", "linux": "4.19.0+1", "xencenter_min": "2.21",
    "xencenter_max": "2.21", "network_backend": "openvswitch", "db_schema": "5.780", "git_id": "0",
}
# name, domain type, memory MiB, disk GiB (0: no disk), vcpus, family
TEMPLATES = [
    ("Debian Bookworm 12", "hvm", 2048, 10, 1, "linux"),
    ("CentOS Stream 9", "hvm", 2048, 10, 1, "linux"),
    ("Ubuntu Jammy Jellyfish 22.04", "hvm", 2048, 10, 1, "linux"),
    ("Rocky Linux 9", "hvm", 2048, 10, 1, "linux"),
    ("CentOS 7", "pv", 2048, 10, 1, "linux"),
    ("Windows Server 2022 (64-bit)", "hvm", 4096, 32, 2, "windows"),
    ("Windows 10 (64-bit)", "hvm", 4096, 32, 2, "windows"),
    ("Other install media", "hvm", 1024, 0, 1, "other"),
]
TEMPLATE_KEPT_FIELDS = ("HVM_boot_policy", "HVM_boot_params", "platform", "PV_bootloader", "domain_type",
                        "actions_after_shutdown", "actions_after_reboot", "actions_after_crash", "HVM_shadow_multiplier")
DEFAULT_CPU = {"vendor": "GenuineIntel", "model": "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz", "cores": 8,
               "speed_mhz": 2200, "family": 6, "model_number": 85, "stepping": 7,
               "features": "1fcbfbff-f7fa3223-2d93fbff-00000423-00000001-000007ab-00000000-00000000-00001000-8c000400"}


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def generated(spec_text: str, base: dict | None = None) -> dict:
    """--generate hosts=64,vms=2000: one pool of N hosts with a shared SR and M VMs."""
    opts = dict(item.split("=", 1) for item in spec_text.split(",") if "=" in item)
    hosts = int(opts.get("hosts", 64))
    vms = int(opts.get("vms", 2000))
    running = opts.get("power_state", "Running")
    conf = copy.deepcopy(base or {})
    conf.setdefault("name", "generated")
    conf.setdefault("credentials", {"username": "root", "password": "xapisim-generated-pw"})
    conf["host_groups"] = [{"name_prefix": "gen-host-", "count": hosts, "cpu": dict(DEFAULT_CPU, cores=32),
                            "memory_gib": 512, "nics": 2}]
    conf["pools"] = [{"name_label": "bench-pool", "master": "gen-host-01",
                      "members": ["gen-host-%02d" % i for i in range(2, hosts + 1)],
                      "shared_sr": {"name_label": "Shared storage", "type": "lvmoiscsi", "size_gib": 20480}}]
    conf["vms"] = [{"pool": "bench-pool", "count": vms, "name_prefix": "bench-vm-", "template": "Debian Bookworm 12",
                    "power_state": running, "vcpus": 1, "memory_mib": 1024, "disk_gib": 0}] if vms else []
    return conf


def _host_names(conf: dict) -> list[tuple[str, dict]]:
    out = []
    for group in conf.get("host_groups", []):
        width = max(2, len(str(group.get("count", 1))))
        for i in range(1, int(group.get("count", 1)) + 1):
            out.append(("%s%0*d" % (group.get("name_prefix", "host-"), width, i), group))
    return out


def build(world: World, conf: dict, address_base: str = "127.0.0.10") -> None:
    """Populate world from conf; hosts get consecutive addresses after address_base."""
    creds = conf.get("credentials") or {}
    world.username = str(creds.get("username", "root"))
    world.password = str(creds.get("password", "xapisim"))
    software = dict(DEFAULT_SOFTWARE, **(conf.get("software_version") or {}))
    if not address_base.startswith("127."):
        raise ValueError("simulated hosts must listen on 127.0.0.0/8, not %s" % address_base)
    prefix, _dot, last = address_base.rpartition(".")
    base = int(last)
    names = _host_names(conf)
    if base + len(names) > 254:
        raise ValueError("too many hosts for address base %s" % address_base)
    rules = VMRules(world.spec)
    for index, (name, group) in enumerate(names, start=1):
        address = "%s.%d" % (prefix, base + index)
        info = {"name": name, "address": address, "group": group, "software": software, "index": index,
                "datacenter": conf.get("name", "datacenter")}
        world.host_info[address] = info
        build_host(world, info, rules)
    by_name = {}
    for address, info in world.host_info.items():
        db, host = world.hosts[address]
        by_name[info["name"]] = (db, host)
    for pconf in conf.get("pools") or []:
        master_db, master_host = by_name[pconf["master"]]
        pool = master_db.one("pool")
        master_db.set("pool", pool, "name_label", str(pconf.get("name_label", "")))
        for member in pconf.get("members") or []:
            member_db, _host = by_name[member]
            merge_host_into(world, member_db, master_db)
            by_name[member] = (master_db, _host)
        if pconf.get("shared_sr"):
            make_shared_sr(world, master_db, pconf["shared_sr"])
        del master_host
    for tconf in conf.get("iscsi_targets") or []:
        upsert_target(world, tconf)
    for econf in conf.get("nfs_exports") or []:
        san.upsert_export(world, econf)
    for vconf in conf.get("vms") or []:
        make_vms(world, vconf, by_name, rules)


def _uuid(info: dict, *parts: str) -> str:
    return str(uuidlib.uuid5(NS, "/".join((info["datacenter"], info["name"]) + parts)))


def build_host(world: World, info: dict, rules: VMRules) -> tuple[Database, str]:
    """A freshly installed standalone host (also used after pool.eject)."""
    spec = world.spec
    db = world.new_db()
    now = world.clock.now_dt()
    group = info["group"]
    cpu = dict(DEFAULT_CPU, **(group.get("cpu") or {}))
    cores = int(cpu["cores"])
    memory_total = int(float(group.get("memory_gib", 16)) * GIB)
    name, address = info["name"], info["address"]
    iqn = "iqn.2026-11.sim.xenpool:%s" % _uuid(info, "iqn")[:8]
    software = dict(info["software"], hostname=name)
    cpu_info = {"cpu_count": str(cores), "socket_count": "1", "vendor": cpu["vendor"], "speed": "%.3f" % float(cpu["speed_mhz"]),
                "modelname": cpu["model"], "family": str(cpu.get("family", 6)), "model": str(cpu.get("model_number", 85)),
                "stepping": str(cpu.get("stepping", 7)), "flags": cpu.get("flags", "fpu de tsc msr pae mce cx8 apic sep"),
                "features_pv": cpu["features"], "features_hvm": cpu["features"],
                "features_pv_host": cpu["features"], "features_hvm_host": cpu["features"]}
    metrics = db.create("host_metrics", {"uuid": _uuid(info, "host_metrics"), "memory_total": memory_total,
                                         "memory_free": memory_total, "live": True, "last_updated": now})
    host = db.create("host", {
        "uuid": _uuid(info, "host"), "name_label": name, "name_description": "Default install", "hostname": name,
        "address": address, "enabled": True, "metrics": metrics, "memory_overhead": int(memory_total * 0.01) // MIB * MIB,
        "API_version_major": int(spec.api_version.get("major", 2)), "API_version_minor": int(spec.api_version.get("minor", 21)),
        "API_version_vendor": "XenSource", "software_version": software, "cpu_info": cpu_info,
        "capabilities": ["xen-3.0-x86_64", "hvm-3.0-x86_32", "hvm-3.0-x86_32p", "hvm-3.0-x86_64"],
        "sched_policy": "credit", "supported_bootloaders": ["pygrub", "eliloader"], "iscsi_iqn": iqn,
        "other_config": {"iscsi_iqn": iqn, "agent_start_time": "%d" % int(world.clock.wall()), "multipathing": "false"},
        "edition": "xcp-ng", "editions": ["xcp-ng"], "license_params": {"sku_type": "free", "expiry": "30000101T00:00:00Z"},
        "bios_strings": {"bios-vendor": "Xen", "system-manufacturer": "Simulated", "system-product-name": "xapisim"},
        "virtual_hardware_platform_versions": [0, 1, 2], "display": "enabled", "power_on_mode": "",
        "cpu_configuration": {}, "chipset_info": {"iommu": "true"}, "tls_verification_enabled": True,
        "ssh_enabled": True, "https_only": False,
    })
    for number in range(cores):
        db.create("host_cpu", {"uuid": _uuid(info, "cpu", str(number)), "host": host, "number": number,
                               "vendor": cpu["vendor"], "speed": int(cpu["speed_mhz"]), "modelname": cpu["model"],
                               "family": int(cpu.get("family", 6)), "model": int(cpu.get("model_number", 85)),
                               "stepping": str(cpu.get("stepping", 7)), "flags": cpu_info["flags"],
                               "features": cpu["features"], "utilisation": 0.0})
    pool = db.create("pool", {"uuid": _uuid(info, "pool"), "name_label": "", "master": host, "cpu_info": {},
                              "other_config": {"auto_poweron": "false"}, "tls_verification_enabled": True,
                              "restrictions": {"restrict_pooling": "false", "restrict_ha": "false"},
                              "ha_cluster_stack": "xhad", "migration_compression": False})
    nics = int(group.get("nics", 2))
    for i in range(nics):
        net = db.create("network", {"uuid": _uuid(info, "net", str(i)), "name_label": "Pool-wide network associated with eth%d" % i,
                                    "bridge": "xenbr%d" % i, "MTU": 1500, "managed": True, "other_config": {"automatic": "true"}})
        mac = "02:%02x:%02x:%02x:00:%02x" % (info["index"] // 256, info["index"] % 256, 0xA0, i)
        pmetrics = db.create("PIF_metrics", {"uuid": _uuid(info, "pifm", str(i)), "carrier": True, "speed": 10000,
                                             "duplex": True, "vendor_name": "Simulated NIC vendor",
                                             "device_name": "10GbE adapter", "pci_bus_path": "0000:%02x:00.0" % (i + 1),
                                             "last_updated": now})
        management = i == 0
        db.create("PIF", {"uuid": _uuid(info, "pif", str(i)), "device": "eth%d" % i, "network": net, "host": host,
                          "MAC": mac, "MTU": 1500, "VLAN": -1, "metrics": pmetrics, "physical": True,
                          "currently_attached": management, "management": management,
                          "ip_configuration_mode": "Static" if management else "None",
                          "IP": address if management else "", "netmask": "255.0.0.0" if management else "",
                          "gateway": "", "DNS": "", "managed": True, "disallow_unplug": management,
                          "primary_address_type": "IPv4", "capabilities": []})
    db.create("network", {"uuid": _uuid(info, "net", "internal"), "name_label": "Host internal management network",
                          "bridge": "xenapi", "MTU": 1500, "managed": True,
                          "other_config": {"is_guest_installer_network": "true", "is_host_internal_management_network": "true"}})
    disk_gib = float(group.get("local_disk_gib", 500))
    sr = db.create("SR", {"uuid": _uuid(info, "sr"), "name_label": "Local storage", "type": "lvm", "content_type": "user",
                          "shared": False, "physical_size": int(disk_gib * GIB), "physical_utilisation": 4 * MIB,
                          "virtual_allocation": 0, "sm_config": {"allocation": "thick", "use_vhd": "true", "devserial": "scsi-sim"},
                          "other_config": {"i18n-key": "local-storage", "i18n-original-value-name_label": "Local storage"},
                          "allowed_operations": ["vdi_create", "vdi_destroy", "scan", "pbd_create", "pbd_destroy", "plug",
                                                 "unplug", "vdi_clone", "vdi_snapshot", "vdi_resize", "update", "forget",
                                                 "destroy"]})
    db.create("PBD", {"uuid": _uuid(info, "pbd"), "host": host, "SR": sr, "device_config": {"device": "/dev/sda3"},
                      "currently_attached": True})
    db.update("pool", pool, {"default_SR": sr, "suspend_image_SR": sr, "crash_dump_SR": sr})
    db.update("host", host, {"suspend_image_sr": sr, "crash_dump_sr": sr})
    dom0_mem = min(8 * GIB, max(1 * GIB, memory_total // 16))
    dom0 = create_vm(db, {"uuid": _uuid(info, "dom0"), "name_label": "Control domain on host: %s" % name,
                          "name_description": "The domain which manages physical devices and manages other domains",
                          "is_control_domain": True, "power_state": "Running", "resident_on": host, "domid": 0,
                          "memory_static_min": dom0_mem, "memory_static_max": dom0_mem, "memory_dynamic_min": dom0_mem,
                          "memory_dynamic_max": dom0_mem, "VCPUs_max": min(cores, 8), "VCPUs_at_startup": min(cores, 8),
                          "domain_type": "pv", "user_version": 1}, now)
    db.update("VM", dom0, {"memory_overhead": 0})
    db.update("VM_metrics", db.get("VM", dom0)["metrics"], {"memory_actual": dom0_mem, "VCPUs_number": min(cores, 8),
                                                            "start_time": now, "current_domain_type": "pv"})
    db.create("console", {"protocol": "rfb", "location": "https://%s/console?ref=%s" % (address, dom0), "VM": dom0})
    db.set("host", host, "control_domain", dom0)
    for tname, dtype, mem_mib, disk, vcpus, family in TEMPLATES:
        make_template(db, info, tname, dtype, mem_mib, disk, vcpus, family, now)
    for vm in db.refs("VM"):
        rules.refresh(db, vm)
    recompute_pool_cpu_info(db)
    refresh_host_memory(db, host)
    world.hosts[address] = (db, host)
    return db, host


def make_template(db: Database, info: dict, name: str, dtype: str, mem_mib: int, disk_gib: int, vcpus: int,
                  family: str, now) -> str:
    other = {"default_template": "true", "install-methods": "cdrom" if dtype == "hvm" else "cdrom,nfs,http,ftp",
             "instant": "true" if family == "other" else "false"}
    if family == "linux":
        other["linux_template"] = "true"
        other["install-distro"] = name.split()[0].lower()
    if disk_gib:
        other["disks"] = ('<provision><disk device="0" size="%d" sr="" bootable="true" type="system"/></provision>'
                          % (disk_gib * GIB))
    platform = {"viridian": "true" if family == "windows" else "false", "acpi": "1", "apic": "true", "pae": "true",
                "nx": "true", "device-model": "qemu-upstream-compat"}
    values = {"uuid": _uuid(info, "template", name), "name_label": name,
              "name_description": "Template which allows VM installation" if family != "other" else "",
              "is_a_template": True, "is_default_template": True, "power_state": "Halted",
              "memory_static_min": mem_mib * MIB // 2, "memory_static_max": mem_mib * MIB,
              "memory_dynamic_min": mem_mib * MIB, "memory_dynamic_max": mem_mib * MIB,
              "VCPUs_max": vcpus, "VCPUs_at_startup": vcpus, "other_config": other, "platform": platform,
              "actions_after_shutdown": "destroy", "actions_after_reboot": "restart", "actions_after_crash": "restart",
              "domain_type": dtype, "user_version": 1, "HVM_shadow_multiplier": 1.0}
    if dtype == "hvm":
        values.update({"HVM_boot_policy": "BIOS order",
                       "HVM_boot_params": {"order": "cd", "firmware": "uefi" if family == "windows" else "bios"}})
    else:
        values.update({"PV_bootloader": "eliloader", "HVM_boot_policy": ""})
    return create_vm(db, values, now)


def make_shared_sr(world: World, db: Database, conf: dict) -> str:
    """A shared SR with a plugged PBD on every host (as after SR.create shared=true)."""
    size = int(float(conf.get("size_gib", 1024)) * GIB)
    sr = db.create("SR", {"name_label": conf.get("name_label", "Shared storage"), "type": conf.get("type", "lvmoiscsi"),
                          "content_type": "", "shared": True, "physical_size": size, "physical_utilisation": 8 * MIB,
                          "sm_config": {"allocation": "thick", "use_vhd": "true", "multipathable": "true"},
                          "allowed_operations": ["vdi_create", "vdi_destroy", "scan", "pbd_create", "pbd_destroy", "plug",
                                                 "unplug", "vdi_clone", "vdi_snapshot", "vdi_resize", "update", "forget",
                                                 "destroy"]})
    scsi = "3600a0980%s" % uuidlib.uuid4().hex[:24]
    iqn = "iqn.1992-08.com.netapp:sn.%s" % uuidlib.uuid4().hex[:8]
    upsert_target(world, {"address": "127.0.0.200", "iqn": iqn,
                          "luns": [{"scsi_id": scsi, "size": size, "sr_uuid": db.get("SR", sr)["uuid"]}]})
    for host in db.refs("host"):
        db.create("PBD", {"host": host, "SR": sr, "currently_attached": True,
                          "device_config": {"target": "127.0.0.200", "targetIQN": iqn, "SCSIid": scsi, "port": "3260"}})
    db.set("pool", db.one("pool"), "default_SR", sr)
    return sr


def make_vms(world: World, vconf: dict, by_name: dict, rules: VMRules) -> None:
    """Create count VMs from a template; Running ones are spread over the pool's hosts."""
    target = vconf["pool"]
    db = None
    for cand in world.dbs:
        pool = cand.one("pool")
        if pool != NULL_REF and cand.get("pool", pool)["name_label"] == target:
            db = cand
    if db is None and target in by_name:
        db = by_name[target][0]
    if db is None:
        raise ValueError("vms: unknown pool %r" % target)
    templates = [r for r, rec in db.tables["VM"].items() if rec["name_label"] == vconf.get("template", "Other install media")
                 and rec["is_a_template"]]
    if not templates:
        raise ValueError("vms: unknown template %r" % vconf.get("template"))
    template = db.get("VM", templates[0])
    now = world.clock.now_dt()
    hosts = sorted(db.refs("host"), key=lambda h: db.get("host", h)["name_label"])
    default_sr = db.get("pool", db.one("pool"))["default_SR"]
    state = vconf.get("power_state", "Halted")
    mem = int(vconf.get("memory_mib", 1024)) * MIB
    vcpus = int(vconf.get("vcpus", 1))
    network = next((n for n, rec in db.tables["network"].items() if rec["bridge"] == "xenbr0"), NULL_REF)
    for i in range(1, int(vconf.get("count", 1)) + 1):
        values = {k: copy.deepcopy(template[k]) for k in TEMPLATE_KEPT_FIELDS}
        other = {k: v for k, v in template["other_config"].items() if k not in ("default_template", "disks")}
        other["base_template_name"] = template["name_label"]
        values.update({"name_label": "%s%04d" % (vconf.get("name_prefix", "vm-"), i), "power_state": "Halted",
                       "memory_static_min": mem // 2, "memory_static_max": mem, "memory_dynamic_min": mem,
                       "memory_dynamic_max": mem, "VCPUs_max": vcpus, "VCPUs_at_startup": vcpus, "other_config": other,
                       "user_version": 1})
        vm = create_vm(db, values, now)
        if int(vconf.get("disk_gib", 0)) and default_sr != NULL_REF:
            vdi = db.create("VDI", {"name_label": "%s disk 0" % values["name_label"], "SR": default_sr,
                                    "virtual_size": int(vconf["disk_gib"]) * GIB, "type": "system", "location": str(uuidlib.uuid4()),
                                    "sm_config": {"vmhint": db.get("VM", vm)["uuid"]}})
            db.create("VBD", {"VM": vm, "VDI": vdi, "userdevice": "0", "bootable": True, "mode": "RW", "type": "Disk",
                              "empty": False, "other_config": {"owner": ""}})
        if network != NULL_REF:
            seed = db.get("VM", vm)["other_config"]["mac_seed"]
            db.create("VIF", {"VM": vm, "network": network, "device": "0", "MAC": mac_for(seed, "0"), "MTU": 1500,
                              "MAC_autogenerated": True})
        if state == "Running" and hosts:
            host = hosts[(i - 1) % len(hosts)]
            rec = db.get("VM", vm)
            db.update("VM", vm, {"power_state": "Running", "resident_on": host, "domid": i,
                                 "memory_overhead": memory_overhead(rec)})
            db.update("VM_metrics", rec["metrics"], {"memory_actual": mem, "VCPUs_number": vcpus, "start_time": now,
                                                     "current_domain_type": rec["domain_type"],
                                                     "VCPUs_utilisation": {str(c): 0.01 for c in range(vcpus)}})
            for vbd in rec["VBDs"]:
                db.set("VBD", vbd, "currently_attached", True)
            for vif in rec["VIFs"]:
                db.set("VIF", vif, "currently_attached", True)
        rules.refresh(db, vm)
    for host in hosts:
        refresh_host_memory(db, host)
