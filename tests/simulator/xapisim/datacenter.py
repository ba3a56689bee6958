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
import xml.etree.ElementTree as ET

import yaml

from . import san
from .dispatch import Context
from .fresh_host import add_fresh_host_objects
from .handlers_devices import _account_sr, vif_create
from .handlers_storage import upsert_target
from .handlers_vm import clone_vm_records, guest_agent_appears, os_info, parse_provision_xml, provision_disks, set_running
from .model import GIB, MIB, VMRules, create_vm, memory_overhead, recompute_pool_cpu_info, refresh_host_memory, set_time_model
from .pooling import merge_host_into
from .spec import NULL_REF
from .state import Database, World

NS = uuidlib.UUID("5b0e3f8e-7a57-4c8e-9d0a-7d1c0c9a2b61")
DEFAULT_SOFTWARE = {
    "product_brand": "XCP-ng", "product_version": "8.3.0", "product_version_text": "8.3",
    "product_version_text_short": "8.3", "platform_name": "XCP", "platform_version": "3.4.0",
    "build_number": "cloud", "date": "2024-09-30", "hostname": "localhost", "xapi": "24.19",
    "xapi_build": "24.19.2", "xen": "4.17.5-3", "linux": "4.19.0+1", "xencenter_min": "2.21",
    "xencenter_max": "2.21", "network_backend": "openvswitch", "db_schema": "5.780", "git_id": "0",
}
_EL_PV_TEXT = ("Template that allows VM installation from Xen-aware %s-based distros. To use this template from the "
               "CLI, install your VM using vm-install, then set other-config-install-repository to the path to your "
               "network repository, e.g. http://<server>/<path>%s")
_JSON_PLATFORM = {"nx": "true", "acpi": "1", "apic": "true", "pae": "true", "hpet": "true", "secureboot": "true"}
_LEGACY_PLATFORM = {"acpi": "true", "apic": "true", "pae": "true", "viridian": "true"}
# Template families as the real template generators build them: xenserver/guest-templates-json (json/base-*.json,
# guesttemplates/blank_template.py) for today's templates, xenserver/guest-templates create_templates.ml
# (hvm_template, eli_install_template) for the XenServer 5.x/6.x ones (PV eliloader installs, Solaris, Windows 2003).
TEMPLATE_BASES = {
    "hvm-linux": {"domain_type": "hvm", "xml": "json", "HVM_boot_params": {"firmware": "bios", "order": "cdn"},
                  "platform": dict(_JSON_PLATFORM, vga="std", videoram="8", viridian="false", device_id="0001",
                                   **{"device-model": "qemu-upstream-compat", "secureboot": "false"}),
                  "other_config": {"linux_template": "true", "install-methods": "cdrom,nfs,http,ftp"},
                  "name_description": "To use this template from the CLI, install your VM using vm-install, then set "
                                      "other-config-install-repository to the path to your network repository, e.g. "
                                      "http://<server>/<path> or nfs:server:/<path>"},
    "windows": {"domain_type": "hvm", "xml": "json", "vcpus": 2, "disk_bootable": False,
                "HVM_boot_params": {"firmware": "bios", "order": "dc"},
                "platform": dict(_JSON_PLATFORM, **{"cores-per-socket": "2", "device_id": "0002", "viridian": "true",
                                                    "viridian_time_ref_count": "true", "viridian_reference_tsc": "true",
                                                    "viridian_apic_assist": "true", "viridian_crash_ctl": "true",
                                                    "viridian_stimer": "true", "device-model": "qemu-upstream-compat",
                                                    "secureboot": "false", "vga": "std", "videoram": "8"}),
                "other_config": {"install-methods": "cdrom"}, "has_vendor_device": True,
                "name_description": "Clones of this template will automatically provision their storage when first booted "
                                    "and then reconfigure themselves with the optimal settings for %(name)s."},
    "legacy-hvm": {"domain_type": "hvm", "xml": "ml", "disk_bootable": False, "HVM_boot_params": {"order": "dc"},
                   "platform": dict(_LEGACY_PLATFORM, nx="false"), "other_config": {"install-methods": "cdrom"},
                   "name_description": "Clones of this template will automatically provision their storage when first "
                                       "booted and then reconfigure themselves with the optimal settings for %(name)s."},
    "el-pv": {"domain_type": "pv", "xml": "ml", "PV_bootloader": "eliloader", "PV_args": "graphical utf8",
              "platform": dict(_LEGACY_PLATFORM, nx="false"),
              "other_config": {"linux_template": "true", "install-methods": "cdrom,nfs,http,ftp", "install-distro": "rhlike"},
              "name_description": _EL_PV_TEXT % ("EL", " or nfs:server:/<path>")},
    "sle-pv": {"domain_type": "pv", "xml": "ml", "PV_bootloader": "eliloader", "PV_args": "console=ttyS0 xencons=ttyS",
               "platform": dict(_LEGACY_PLATFORM, nx="false"),
               "other_config": {"linux_template": "true", "install-methods": "cdrom,nfs,http,ftp",
                                "install-distro": "sleslike", "install-arch": "x86_64"},
               "name_description": _EL_PV_TEXT % ("SLES", " or nfs:server:/<path>")},
    "debian-pv": {"domain_type": "pv", "xml": "ml", "PV_bootloader": "eliloader", "PV_args": "-- quiet console=hvc0",
                  "platform": dict(_LEGACY_PLATFORM, nx="false"),
                  "other_config": {"linux_template": "true", "install-methods": "cdrom,http,ftp",
                                   "install-distro": "debianlike", "install-arch": "amd64"},
                  "name_description": _EL_PV_TEXT % ("Debian", "")},
    "other": {"domain_type": "hvm", "xml": "json", "HVM_boot_params": {"firmware": "bios", "order": "cd"},
              "platform": dict(_JSON_PLATFORM, viridian="true", secureboot="false"),
              "other_config": {"install-methods": "cdrom"},
              "name_description": "Template which allows VM installation from install media"},
}
# The built-in templates every host gets when its datacenter file has no `templates:` list.
DEFAULT_TEMPLATES = [
    {"name_label": "Debian Bookworm 12", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]},
    {"name_label": "CentOS Stream 9", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]},
    {"name_label": "Ubuntu Jammy Jellyfish 22.04", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]},
    {"name_label": "Rocky Linux 9", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]},
    {"name_label": "CentOS 7", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]},
    {"name_label": "Windows Server 2022 (64-bit)", "base": "windows", "min_memory_mib": 2048, "disks_gib": [32]},
    {"name_label": "Windows 10 (64-bit)", "base": "windows", "min_memory_mib": 2048, "disks_gib": [32]},
    {"name_label": "Other install media", "base": "other", "min_memory_mib": 512, "disks_gib": []},
]
DEFAULT_CPU = {"vendor": "GenuineIntel", "model": "Intel(R) Xeon(R) Silver 4214 CPU @ 2.20GHz", "cores": 8,
               "speed_mhz": 2200, "family": 6, "model_number": 85, "stepping": 7,
               "features": "1fcbfbff-f7fa3223-2d93fbff-00000423-00000001-000007ab-00000000-00000000-00001000-8c000400"}


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


# The shapes --generate cycles through, VM by VM: a mix like a real estate's (many small VMs, some database-sized
# ones with a data disk, a few with a second NIC), so a 2,000-VM pool has as many disks, VIFs and guest metrics as
# one would. (vCPUs, memory MiB, system disk GiB, data disk GiB or 0, NICs)
GENERATED_SHAPES = ((1, 1024, 10, 0, 1), (2, 2048, 16, 0, 1), (1, 2048, 10, 50, 1), (4, 8192, 20, 200, 2),
                    (2, 4096, 16, 0, 2), (1, 1024, 10, 0, 1), (2, 4096, 20, 100, 1), (8, 16384, 40, 500, 2))


def generated(spec_text: str, base: dict | None = None) -> dict:
    """--generate hosts=64,vms=2000: one pool of N hosts (32 CPUs, 512 GiB, 2 NICs each) with a shared SR and M VMs
    built like a client builds them: shapes cycled from GENERATED_SHAPES (1-8 vCPUs, 1-16 GiB, a system disk and
    often a data disk on the shared SR, one or two VIFs), spread round-robin; running ones have booted their OS
    (guest metrics with IP addresses present). power_state=Halted leaves them halted."""
    opts = dict(item.split("=", 1) for item in spec_text.split(",") if "=" in item)
    hosts = int(opts.get("hosts", 64))
    vms = int(opts.get("vms", 2000))
    running = opts.get("power_state", "Running")
    conf = copy.deepcopy(base or {})
    conf.setdefault("name", "generated")
    conf.setdefault("credentials", {"username": "root", "password": "xapisim-generated-pw"})
    conf["host_groups"] = [{"name_prefix": "gen-host-", "count": hosts, "cpu": dict(DEFAULT_CPU, cores=32),
                            "memory_gib": 512, "nics": 2}]
    disk_gib = sum(shape[2] + shape[3] for shape in GENERATED_SHAPES) / len(GENERATED_SHAPES)
    conf["pools"] = [{"name_label": "bench-pool", "master": "gen-host-01",
                      "members": ["gen-host-%02d" % i for i in range(2, hosts + 1)],
                      "shared_sr": {"name_label": "Shared storage", "type": "lvmoiscsi",
                                    "size_gib": max(20480, int(vms * disk_gib * 1.2))}}]
    conf["vms"] = [{"pool": "bench-pool", "count": vms, "name_prefix": "bench-vm-", "template": "Debian Bookworm 12",
                    "power_state": running, "shapes": [list(shape) for shape in GENERATED_SHAPES]}] if vms else []
    conf.pop("golden_templates", None)
    conf.pop("iso_library", None)
    return conf


def _host_names(conf: dict) -> list[tuple[str, dict]]:
    out = []
    for group in conf.get("host_groups", []):
        width = max(2, len(str(group.get("count", 1))))
        for i in range(1, int(group.get("count", 1)) + 1):
            out.append(("%s%0*d" % (group.get("name_prefix", "host-"), width, i), group))
    return out


def build(world: World, conf: dict, address_base: str = "127.0.0.10") -> None:
    """Populate world from conf; hosts get consecutive addresses after address_base. The caller holds world.lock."""
    creds = conf.get("credentials") or {}
    world.username = str(creds.get("username", "root"))
    world.password = str(creds.get("password", "xapisim"))
    set_time_model(world, conf.get("time_model"))
    software = dict(DEFAULT_SOFTWARE, **(conf.get("software_version") or {}))
    if not address_base.startswith("127."):
        raise ValueError("simulated hosts must listen on 127.0.0.0/8, not %s" % address_base)
    prefix, _dot, last = address_base.rpartition(".")
    base = int(last)
    names = _host_names(conf)
    if base + len(names) > 254:
        raise ValueError("too many hosts for address base %s" % address_base)
    rules = world.rules or VMRules(world.spec)
    world.rules = rules
    templates = conf.get("templates") or DEFAULT_TEMPLATES
    for index, (name, group) in enumerate(names, start=1):
        address = "%s.%d" % (prefix, base + index)
        info = {"name": name, "address": address, "group": group, "software": software, "index": index,
                "datacenter": conf.get("name", "datacenter"), "templates": templates}
        world.host_info[address] = info
        db, _host = build_host(world, info, rules)
        if conf.get("iso_library"):
            make_iso_library(world, db, info, conf["iso_library"])
    by_name = {}
    for address, info in world.host_info.items():
        db, host = world.hosts[address]
        by_name[info["name"]] = (db, host)
    world.bulk = {"srs": set(), "hosts": set()}  # accounting once at the end, not per VM (fast --generate)
    try:
        for pconf in conf.get("pools") or []:
            master_db, _master_host = by_name[pconf["master"]]
            pool = master_db.one("pool")
            master_db.set("pool", pool, "name_label", str(pconf.get("name_label", "")))
            for member in pconf.get("members") or []:
                member_db, member_host = by_name[member]
                merge_host_into(world, member_db, master_db)
                by_name[member] = (master_db, member_host)
            if pconf.get("shared_sr"):
                make_shared_sr(world, master_db, pconf["shared_sr"])
        for tconf in conf.get("iscsi_targets") or []:
            upsert_target(world, tconf)
        for econf in conf.get("nfs_exports") or []:
            san.upsert_export(world, econf)
        for gconf in conf.get("golden_templates") or []:
            make_golden_templates(world, gconf, by_name)
        for vconf in conf.get("vms") or []:
            make_vms(world, vconf, by_name)
    finally:
        bulk, world.bulk = world.bulk, None
    dbs = {id(db): db for db in world.dbs}
    for db_id, sr in bulk["srs"]:
        db = dbs.get(db_id)
        if db is not None and sr in db.tables["SR"]:
            _account_sr(Context(world, db, db.get("pool", db.one("pool"))["master"], None, "datacenter"), sr)
    for db_id, vm in bulk.get("vms", ()):
        db = dbs.get(db_id)
        if db is not None and vm in db.tables["VM"]:
            rules.refresh(db, vm)
    for db_id, host in bulk["hosts"]:
        db = dbs.get(db_id)
        if db is not None and host in db.tables["host"]:
            refresh_host_memory(db, host)


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
    add_fresh_host_objects(db, host, software.get("product_brand", "XCP-ng"), lambda *parts: _uuid(info, *parts))
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
    for tconf in info.get("templates") or DEFAULT_TEMPLATES:
        make_template(db, info, tconf, now)
    for vm in db.refs("VM"):
        rules.refresh(db, vm)
    recompute_pool_cpu_info(db)
    refresh_host_memory(db, host)
    world.hosts[address] = (db, host)
    return db, host


def provision_xml(disks: list[dict], style: str) -> str:
    """other_config:disks as the template generators write it: blank_template.py DiskDevices.toxml (attributes
    size, sr, bootable, type, device) or create_templates.ml xml_of_disks (device, size, sr, bootable, type)."""
    root = ET.Element("provision")
    for position, disk in enumerate(disks):
        attrs = {"size": str(disk["size"]), "sr": disk.get("sr", ""), "bootable": "true" if disk.get("bootable", True) else "false",
                 "type": disk.get("type", "system")}
        order = ("size", "sr", "bootable", "type", "device") if style == "json" else ("device", "size", "sr", "bootable", "type")
        attrs["device"] = str(position)
        ET.SubElement(root, "disk", {k: attrs[k] for k in order})
    return ET.tostring(root, encoding="unicode", short_empty_elements=True).replace(" />", "/>")


def make_template(db: Database, info: dict, tconf: dict, now) -> str:
    """A built-in (default) template from a datacenter `templates:` entry: {name_label, base (a TEMPLATE_BASES
    family), min_memory_mib (static_min; static_max = dynamic = 2x, as both generators do), vcpus, disks_gib,
    and optional other_config / platform / HVM_boot_params / PV_args / name_description overrides}."""
    base = TEMPLATE_BASES[tconf.get("base", "other")]
    name = str(tconf["name_label"])
    min_mib = int(tconf.get("min_memory_mib", 512))
    vcpus = int(tconf.get("vcpus", base.get("vcpus", 1)))
    other = {"default_template": "true"}
    other.update(base.get("other_config", {}))
    other.update({str(k): str(v) for k, v in (tconf.get("other_config") or {}).items()})
    disks = [{"size": int(float(g) * GIB), "bootable": base.get("disk_bootable", True)} for g in tconf.get("disks_gib") or []]
    if disks:
        other["disks"] = provision_xml(disks, base.get("xml", "json"))
    platform = dict(base.get("platform", {}))
    for key, value in (tconf.get("platform") or {}).items():  # a null value removes the family's key
        if value is None:
            platform.pop(str(key), None)
        else:
            platform[str(key)] = str(value).lower() if isinstance(value, bool) else str(value)
    description = str(tconf.get("name_description", base.get("name_description", ""))) % {"name": name}
    values = {"uuid": _uuid(info, "template", name), "name_label": name, "name_description": description,
              "is_a_template": True, "is_default_template": True, "power_state": "Halted",
              "memory_static_min": min_mib * MIB, "memory_static_max": 2 * min_mib * MIB,
              "memory_dynamic_min": 2 * min_mib * MIB, "memory_dynamic_max": 2 * min_mib * MIB,
              "VCPUs_max": vcpus, "VCPUs_at_startup": vcpus, "other_config": other, "platform": platform,
              "actions_after_shutdown": "destroy", "actions_after_reboot": "restart", "actions_after_crash": "restart",
              "domain_type": base["domain_type"], "user_version": 1, "HVM_shadow_multiplier": 1.0,
              "has_vendor_device": bool(base.get("has_vendor_device", False)),
              "recommendations": ('<restrictions><restriction field="memory-static-max" max="%d"/>'
                                  '<restriction field="vcpus-max" max="%d"/><restriction property="number-of-vbds" max="255"/>'
                                  '<restriction property="number-of-vifs" max="7"/></restrictions>'
                                  % (int(tconf.get("max_memory_gib", 128)) * GIB, int(tconf.get("vcpus_max", 32))))}
    if base["domain_type"] == "hvm":
        params = dict(base.get("HVM_boot_params", {}))
        params.update({str(k): str(v) for k, v in (tconf.get("HVM_boot_params") or {}).items()})
        values.update({"HVM_boot_policy": "BIOS order", "HVM_boot_params": params})
    else:
        values.update({"PV_bootloader": base.get("PV_bootloader", "pygrub"), "HVM_boot_policy": "",
                       "PV_args": str(tconf.get("PV_args", base.get("PV_args", "")))})
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


def _pool_db(world: World, target: str, by_name: dict, what: str) -> Database:
    """A pool by name_label, or (for a standalone host or a pool member) the database of the host's pool."""
    for cand in world.dbs:
        pool = cand.one("pool")
        if pool != NULL_REF and cand.get("pool", pool)["name_label"] == target:
            return cand
    if target in by_name:
        return by_name[target][0]
    raise ValueError("%s: unknown pool or host %r" % (what, target))


def _template(db: Database, name: str, what: str) -> str:
    found = [r for r, rec in db.tables["VM"].items() if rec["name_label"] == name and rec["is_a_template"]
             and not rec["is_a_snapshot"]]
    if not found:
        raise ValueError("%s: unknown template %r" % (what, name))
    return found[0]


def _build_context(world: World, db: Database) -> Context:
    return Context(world, db, db.get("pool", db.one("pool"))["master"], None, "datacenter")


def install_vm(ctx: Context, template: str, name: str, sr: str, memory: int | None = None, vcpus: int | None = None,
               disk_gib: float = 0, network: str = NULL_REF, os_name: str = "", data_disk_gib: float = 0,
               extra_networks: tuple[str, ...] = ()) -> str:
    """A VM the way a client makes one (as xe vm-install does it), through the API code paths: VM.clone of the template,
    other_config:disks pointed at `sr` (device 0 resized to disk_gib when given, a non-bootable user disk of
    data_disk_gib added), VM.provision, memory/VCPUs, a VIF on `network` and one on each of `extra_networks`; then
    the OS counts as installed on its boot disk (as after an unattended install; for an eliloader template
    eliloader's hand-over to pygrub has happened too)."""
    db = ctx.db
    vm = clone_vm_records(ctx, template, name)
    rec = db.get("VM", vm)
    other = dict(rec["other_config"])
    if other.get("disks") and sr != NULL_REF:
        root = ET.fromstring(other["disks"])
        for node in root:
            node.set("sr", db.get("SR", sr)["uuid"])
            if disk_gib and node.get("device") == "0":
                node.set("size", str(int(float(disk_gib) * GIB)))
        if data_disk_gib:
            ET.SubElement(root, "disk", {"device": str(len(root)), "size": str(int(float(data_disk_gib) * GIB)),
                                         "sr": db.get("SR", sr)["uuid"], "bootable": "false", "type": "user"})
        other["disks"] = ET.tostring(root, encoding="unicode").replace(" />", "/>")
        parse_provision_xml(other["disks"])
    db.update("VM", vm, {"other_config": other, "is_a_template": False})
    provision_disks(ctx, vm, timed=False)
    upd = {}
    if memory:
        upd.update({"memory_static_min": min(rec["memory_static_min"], memory), "memory_static_max": memory,
                    "memory_dynamic_min": memory, "memory_dynamic_max": memory, "memory_target": memory})
    if vcpus:
        upd.update({"VCPUs_max": int(vcpus), "VCPUs_at_startup": int(vcpus)})
    if db.get("VM", vm)["PV_bootloader"] == "eliloader":
        upd["PV_bootloader"] = "pygrub"
        upd["other_config"] = {k: v for k, v in db.get("VM", vm)["other_config"].items()
                               if k not in ("install-distro", "install-round")}
    if upd:
        db.update("VM", vm, upd)
    db.set("VM", vm, "memory_overhead", memory_overhead(db.get("VM", vm)))
    rec = db.get("VM", vm)
    disks = sorted((v for v in rec["VBDs"] if db.get("VBD", v)["type"] == "Disk"), key=lambda v: db.get("VBD", v)["userdevice"])
    if disks:
        for vbd in disks:
            db.set("VBD", vbd, "bootable", db.get("VBD", vbd)["userdevice"] == "0")
        db.meta.setdefault(db.get("VBD", disks[0])["VDI"], {})["os"] = os_info(
            os_name or rec["other_config"].get("base_template_name", name))
    for device, net in enumerate(n for n in (network,) + tuple(extra_networks) if n != NULL_REF):
        vif_create(ctx, {"device": str(device), "network": net, "VM": vm, "MAC": "", "MTU": 1500, "other_config": {},
                         "qos_algorithm_type": "", "qos_algorithm_params": {}})
    ctx.world.rules.refresh(db, vm)
    return vm


def boot_running(ctx: Context, vm: str, host: str) -> None:
    """VM.start's result on `host`, and the guest as it is after booting a while: its agent has reported."""
    set_running(ctx, vm, host)
    meta = ctx.db.meta.get(vm, {})
    if (meta.get("plan") or ["none"])[0] == "os":
        guest_agent_appears(ctx, vm, meta["boot"])
    ctx.world.rules.refresh(ctx.db, vm)


def make_vms(world: World, vconf: dict, by_name: dict, _rules: VMRules | None = None) -> None:
    """count VMs from a template, built like a client builds them (install_vm): a disk of disk_gib on the pool's
    default SR, a VIF on xenbr0; Running ones are spread round-robin over the pool's hosts and have booted.
    With `shapes` ([vCPUs, memory MiB, disk GiB, data disk GiB, NICs] each) the VMs take them in turn instead."""
    db = _pool_db(world, vconf["pool"], by_name, "vms")
    ctx = _build_context(world, db)
    template = _template(db, vconf.get("template", "Other install media"), "vms")
    hosts = sorted(db.refs("host"), key=lambda h: db.get("host", h)["name_label"])
    default_sr = db.get("pool", db.one("pool"))["default_SR"]
    bridges = {rec["bridge"]: n for n, rec in db.tables["network"].items()}
    networks = [bridges.get("xenbr%d" % i, NULL_REF) for i in range(2)]
    shapes = vconf.get("shapes") or [[vconf.get("vcpus", 1), vconf.get("memory_mib", 1024), vconf.get("disk_gib", 0), 0, 1]]
    for i in range(1, int(vconf.get("count", 1)) + 1):
        vcpus, memory_mib, disk_gib, data_gib, nics = shapes[(i - 1) % len(shapes)]
        sr = default_sr if float(disk_gib) and default_sr in db.tables["SR"] else NULL_REF
        name = "%s%04d" % (vconf.get("name_prefix", "vm-"), i)
        vm = install_vm(ctx, template, name, sr, memory=int(memory_mib) * MIB, vcpus=int(vcpus), disk_gib=float(disk_gib),
                        network=networks[0], data_disk_gib=float(data_gib) if sr != NULL_REF else 0,
                        extra_networks=tuple(networks[1:int(nics)]))
        if vconf.get("power_state", "Halted") == "Running" and hosts:
            boot_running(ctx, vm, hosts[(i - 1) % len(hosts)])


def make_iso_library(world: World, db: Database, info: dict, conf: dict) -> str:
    """A local ISO SR (type iso, content_type iso, device_config location + legacy_mode, as `xe sr-create
    type=iso content-type=iso device-config:location=<dir> device-config:legacy_mode=true` makes it) holding the
    datacenter file's ISOs. Each entry: {name, size_mib, os (what it installs), unattended, tools}."""
    host = db.get("pool", db.one("pool"))["master"]
    location = str(conf.get("location", "/var/opt/xen/iso_import"))
    sr = db.create("SR", {"uuid": _uuid(info, "iso-sr"), "name_label": str(conf.get("name_label", "ISO library")),
                          "name_description": str(conf.get("name_description", "")), "type": "iso", "content_type": "iso",
                          "shared": False, "physical_size": 0, "physical_utilisation": 0, "virtual_allocation": 0,
                          "sm_config": {}, "other_config": {},
                          "allowed_operations": ["forget", "vdi_introduce", "scan", "destroy", "plug", "update", "unplug",
                                                 "vdi_destroy", "vdi_create"]})
    db.create("PBD", {"uuid": _uuid(info, "iso-pbd"), "host": host, "SR": sr, "currently_attached": True,
                      "device_config": {"location": location, "legacy_mode": "true"}})
    total = 0
    for iso in conf.get("isos") or []:
        name = str(iso["name"])
        size = int(float(iso.get("size_mib", 700)) * MIB)
        total += size
        sm_config = {"xs-tools": "true", "xs-tools-version": str(iso.get("version", "6.2.0"))} if iso.get("tools") else {}
        vdi = db.create("VDI", {"uuid": str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, db.get("SR", sr)["uuid"] + "/" + name)),
                                "name_label": name, "SR": sr, "virtual_size": size, "physical_utilisation": size,
                                "type": "user", "read_only": True, "sharable": False, "location": name, "managed": True,
                                "sm_config": sm_config})
        meta = {"bootable": False} if iso.get("tools") else {
            "bootable": True, "unattended": bool(iso.get("unattended", True)),
            "os": os_info(str(iso.get("os") or name.rsplit(".", 1)[0]), family=str(iso.get("family", "")))}
        db.meta.setdefault(vdi, {})["iso"] = meta
    db.update("SR", sr, {"physical_size": total, "physical_utilisation": total, "virtual_allocation": total})
    return sr


def make_golden_templates(world: World, gconf: dict, by_name: dict) -> None:
    """A prepared template with an installed disk (for fast clones), on the default SR of every pool/host listed
    in `hosts`: installed from `template` like a VM, named name_label, turned into a template (VM.set_is_a_template)."""
    for target in gconf.get("hosts") or []:
        db = _pool_db(world, target, by_name, "golden_templates")
        ctx = _build_context(world, db)
        template = _template(db, str(gconf.get("template", "Other install media")), "golden_templates")
        sr = db.get("pool", db.one("pool"))["default_SR"]
        network = next((n for n, rec in db.tables["network"].items() if rec["bridge"] == gconf.get("network", "xenbr0")),
                       NULL_REF)
        vm = install_vm(ctx, template, str(gconf["name_label"]), sr,
                        memory=int(gconf.get("memory_mib", 1024)) * MIB, vcpus=int(gconf.get("vcpus", 1)),
                        disk_gib=float(gconf.get("disk_gib", 0)), network=network, os_name=str(gconf.get("os", "")))
        db.update("VM", vm, {"is_a_template": True, "name_description": str(gconf.get("name_description", ""))})
        world.rules.refresh(db, vm)
