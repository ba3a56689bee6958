# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM lifecycle, provisioning, snapshots, memory/VCPU settings, the guest model and data sources (xapi `xapi_vm.ml`, `xapi_vm_clone.ml`, `xapi_vm_snapshot.ml`).

The datacenter builder (datacenter.py) creates its VMs through the functions
here (clone_vm_records, provision_disks, set_running ...), so a VM built
Running from a datacenter file looks exactly like one an API client cloned,
provisioned and started.

Guest model: what a disk holds is kept in the simulator's own metadata
(db.meta[vdi]["os"], copied by VDI.clone/copy/snapshot). At every boot the
boot device is chosen like the real boot path (PV: eliloader / pygrub / the
bootable disk; HVM: HVM_boot_params order over disk, CD, network); an
installed OS brings its guest agent up after the time model's boot_to_agent,
an unattended installer writes the OS onto the disk after the install time
and reboots the guest.
"""
from __future__ import annotations

import copy
import re
import xml.etree.ElementTree as ET
import zlib

from .dispatch import Context, constructor_values, handler
from .handlers_devices import (_account_sr, _new_vdi_like, attach_vbd, clone_seconds, copy_vdi_work, create_vdi,
                               create_vdi_record, refresh_vbd_operations, refresh_vif_operations, timed_vdi_op, vbd_create)
from .handlers_ha import assert_preserves_plan, refresh_plan
from .model import (MIB, choose_host, create_vm, duration, gen_mac, host_compute_free_memory, host_problem,
                    memory_overhead, refresh_memory, sources_list, vm_start_memory)
from .sources import vm_plan
from .spec import NULL_REF, XapiError
from .state import clone, new_ref

VBD_COPIED_FIELDS = ("userdevice", "bootable", "mode", "type", "unpluggable", "empty", "other_config", "qos_algorithm_type",
                     "qos_algorithm_params")
VCPU_RULE = "VCPU values must satisfy: 0 < VCPUs_at_startup \u2264 VCPUs_max"
VCPU_LIVE_RULE = "VCPU values must satisfy: 0 < VCPUs \u2264 VCPUs_max"
ELILOADER_ROUNDS = {"rhlike": 1, "sleslike": 2, "debianlike": 1, "pygrub": 1}  # eliloader's `rounds` table
# what makes an eliloader install unattended, per install-distro (kickstart, AutoYaST, preseed)
UNATTENDED_ARGS = {"rhlike": re.compile(r"(^|\s)ks="), "sleslike": re.compile(r"(^|\s)autoyast="),
                   "debianlike": re.compile(r"(^|\s)(auto(=true)?|url=|preseed/url=)"), "pygrub": re.compile(r".")}
RESUME_AGENT_S = 2.0
BAD_REPOSITORY = ("UNSUPPORTED_INSTALL_METHOD\nother-config:install-repository was not set to an appropriate value, "
                  "and this is required for the selected distribution type.\n")


# --------------------------------------------------------------------------- helpers
def _rules(ctx: Context):
    return ctx.world.rules


def begin(ctx: Context, vm: str, op: str) -> str:
    _rules(ctx).check(ctx.db, vm, op)
    key = ctx.task or new_ref()
    ops = dict(ctx.db.get("VM", vm)["current_operations"], **{key: op})
    ctx.db.set("VM", vm, "current_operations", ops)
    _rules(ctx).refresh(ctx.db, vm)
    return key


def end(ctx: Context, vm: str, key: str) -> None:
    ctx.released(vm)
    if vm in ctx.db.tables["VM"]:
        ops = {k: v for k, v in ctx.db.get("VM", vm)["current_operations"].items() if k != key}
        ctx.db.set("VM", vm, "current_operations", ops)
        _rules(ctx).refresh(ctx.db, vm)


def run_op(ctx: Context, vm: str, op: str, work, prepare=None, apply=None):
    """check+mark under the lock, spend simulated time unlocked, then apply under the lock.
    `work` is a duration in simulated seconds or a function(state) spending it (called unlocked)."""
    world = ctx.world
    key = ctx.retry_busy(lambda: begin(ctx, vm, op), vm)  # with_vm_operation waits out other operations
    with world.lock:
        try:
            state = prepare() if prepare else None
        except XapiError:
            end(ctx, vm, key)
            raise
    try:
        if callable(work):
            work(state)
        else:
            ctx.work(work)
    except XapiError:
        with world.lock:
            end(ctx, vm, key)
        raise
    with world.lock:
        try:
            return apply(state) if apply else None
        finally:
            end(ctx, vm, key)


def _os_family(name: str) -> str:
    lower = name.lower()
    if "windows" in lower:
        return "windows"
    if "solaris" in lower:
        return "solaris"
    return "linux" if lower else "other"


def os_info(name: str, **extra) -> dict:
    """What the simulator remembers about an installed guest OS (db.meta[vdi]["os"])."""
    family = extra.pop("family", "") or _os_family(name)
    words = name.split()
    version = next((w for w in words if w[:1].isdigit()), "")
    major, _sep, minor = version.partition(".")
    distro = extra.pop("distro", "") or ("windows" if family == "windows" else (words[0].lower() if words else ""))
    info = {"name": name, "family": family, "distro": distro,
            "major": extra.pop("major", "") or major, "minor": extra.pop("minor", "") or minor or "0"}
    info.update(extra)
    return info


def template_os(rec: dict) -> dict:
    """The OS an installer puts on a VM cloned from a template: named after the template."""
    return os_info(rec["other_config"].get("base_template_name") or rec["name_label"])


def disk_vbds(db, rec: dict) -> list[str]:
    return sorted((v for v in rec["VBDs"] if db.get("VBD", v)["type"] == "Disk" and not db.get("VBD", v)["empty"]),
                  key=lambda v: int(db.get("VBD", v)["userdevice"]) if db.get("VBD", v)["userdevice"].isdigit() else 99)


def boot_disk(db, rec: dict, pv: bool) -> str | None:
    """The VDI the guest boots from: PV bootloaders use the bootable disk, the HVM BIOS the first disk."""
    vbds = disk_vbds(db, rec)
    if pv:
        vbds = [v for v in vbds if db.get("VBD", v)["bootable"]]
    for vbd in vbds:
        vdi = db.get("VBD", vbd)["VDI"]
        if vdi in db.tables["VDI"]:
            return vdi
    return None


def installed_os(db, rec: dict, pv: bool) -> dict | None:
    vdi = boot_disk(db, rec, pv)
    return db.meta.get(vdi, {}).get("os") if vdi else None


def iso_of(db, vdi: str) -> dict:
    """What an ISO boots: the meta the datacenter file gave it, else guessed from its name (tools ISOs don't boot)."""
    meta = db.meta.get(vdi, {}).get("iso")
    if meta is not None:
        return meta
    name = db.get("VDI", vdi)["name_label"]
    if "tools" in name.lower():
        return {"bootable": False}
    return {"bootable": True, "os": os_info(re.sub(r"\.(iso|img)$", "", name)), "unattended": True}


def is_pv_boot(rec: dict) -> bool:
    return rec["domain_type"] in ("pv", "pvh", "pv_in_pvh")


# --------------------------------------------------------------------------- placement and boot
def _ha_guard(ctx: Context, vm: str, host: str) -> None:
    """Starting/resuming/migrating onto a host uses its spare capacity (xapi `message_forwarding.ml` `check_vm_preserves_ha_plan`)."""
    rec = ctx.db.get("VM", vm)
    changes = [("VM", vm, "scheduled_to_be_resident_on", host)]
    if rec["resident_on"] not in (NULL_REF, host):
        changes.append(("VM", vm, "resident_on", NULL_REF))
    if rec["ha_restart_priority"] == "restart":
        changes.append(("VM", vm, "ha_always_run", True))
    assert_preserves_plan(ctx.db, changes)


def bootloader_problem(ctx: Context, vm: str) -> XapiError | None:
    """What xenopsd's domain build reports before the guest runs (xenops_server_xen.ml build_domain):
    an unknown bootloader, no bootable device, pygrub finding no kernel, eliloader refusing the install setup."""
    db = ctx.db
    rec = db.get("VM", vm)
    if not is_pv_boot(rec):
        return None
    loader = rec["PV_bootloader"]
    if loader not in ("", "pygrub", "eliloader"):
        return XapiError("INTERNAL_ERROR", "VM = %s; domid = %d; Bootloader.Unknown_bootloader %s"
                         % (rec["uuid"], getattr(ctx.world, "next_domid", 0) + 1, loader))
    if loader == "":
        return None
    if not any(db.get("VBD", v)["bootable"] for v in rec["VBDs"]):
        return XapiError("INTERNAL_ERROR", "there is no bootable device")
    if loader == "pygrub":
        if installed_os(db, rec, pv=True) is None:
            return XapiError("BOOTLOADER_FAILED", vm, "Unable to find partition containing kernel")
        return None
    other = rec["other_config"]
    distro = other.get("install-distro", "rhlike")
    if distro not in ELILOADER_ROUNDS:
        return XapiError("BOOTLOADER_FAILED", vm, "UNSUPPORTED_INSTALL_METHOD\nDistribution '%s' is not supported.\n" % distro)
    if other.get("install-round", "1") == "2":
        if installed_os(db, rec, pv=True) is None:
            return XapiError("BOOTLOADER_FAILED", vm, "Unable to find partition containing kernel")
        return None
    repo = other.get("install-repository", "")
    if repo != "cdrom" and not repo.startswith(("http", "ftp", "nfs")):
        return XapiError("BOOTLOADER_FAILED", vm, BAD_REPOSITORY)
    if repo == "cdrom" and not any(db.get("VBD", v)["type"] == "CD" and not db.get("VBD", v)["empty"] for v in rec["VBDs"]):
        return XapiError("BOOTLOADER_FAILED", vm, "INVALID_SOURCE\ncdrom repo \n")
    return None


def _eliloader_boot(ctx: Context, vm: str, rec: dict) -> tuple:
    """The eliloader rounds (eliloader handle_first_boot / handle_second_boot / update_rounds): EL and Debian
    installers switch the VM to pygrub during the install boot, SLES ones at the first boot after the install;
    when all rounds are done install-round and install-distro leave other_config."""
    db = ctx.db
    other = dict(rec["other_config"])
    distro = other.get("install-distro", "rhlike")
    current = int(other.get("install-round", "1"))
    rounds = ELILOADER_ROUNDS[distro]
    updates: dict = {}
    if current == 1:
        if other.get("install-repository") == "cdrom":
            for vbd in rec["VBDs"]:  # tweak_bootable_disk: boot from the first disk next time
                db.set("VBD", vbd, "bootable", db.get("VBD", vbd)["userdevice"] == "0")
        if rounds == 1:
            updates["PV_bootloader"] = "pygrub"
        unattended = bool(UNATTENDED_ARGS[distro].search(rec["PV_args"]))
        plan = ("install", "kickstart", template_os(rec)) if unattended else ("interactive", "kickstart")
    else:
        updates["PV_bootloader"] = "pygrub"
        plan = ("os", installed_os(db, rec, pv=True))
    other.pop("install-round", None)
    if current != rounds:
        other["install-round"] = str(current + 1)
    else:
        other.pop("install-distro", None)
    updates["other_config"] = other
    db.update("VM", vm, updates)
    return plan


def boot_plan(ctx: Context, vm: str) -> tuple:
    """What this boot of the guest does: ("os", info) | ("install", method, info) | ("interactive", method) |
    ("none",). Runs once per domain build (eliloader's side effects included)."""
    db = ctx.db
    rec = db.get("VM", vm)
    if is_pv_boot(rec):
        if rec["PV_bootloader"] == "eliloader":
            return _eliloader_boot(ctx, vm, rec)
        found = installed_os(db, rec, pv=True)
        return ("os", found) if found else ("none",)
    found = installed_os(db, rec, pv=False)
    for device in rec["HVM_boot_params"].get("order") or "cd":
        if device == "c" and found:
            return ("os", found)
        if device == "d" and not found:
            for vbd in rec["VBDs"]:
                vrec = db.get("VBD", vbd)
                if vrec["type"] == "CD" and not vrec["empty"] and vrec["VDI"] in db.tables["VDI"]:
                    iso = iso_of(db, vrec["VDI"])
                    if iso.get("bootable"):
                        if not iso.get("unattended", True):
                            return ("interactive", "iso")
                        return ("install", "iso", dict(iso.get("os") or template_os(rec)))
        if device == "n" and not found and rec["VIFs"]:
            return ("install", "netboot", template_os(rec))
    return ("none",)


def set_running(ctx: Context, vm: str, host: str, paused: bool = False, boot: bool = True) -> None:
    """The domain exists: xapi's view after xenopsd built it (resident_on, domid, devices, VM_metrics)."""
    db = ctx.db
    rec = db.get("VM", vm)
    meta = db.meta.setdefault(vm, {})
    meta["boot"] = meta.get("boot", 0) + 1
    ctx.world.next_domid = domid = getattr(ctx.world, "next_domid", 0) + 1
    now = ctx.world.clock.now_dt()
    hrec = db.get("host", host)
    hcpu = hrec["cpu_info"]
    pcpus = max(1, len(hrec["host_CPUs"]))
    db.update("VM", vm, {"power_state": "Paused" if paused else "Running", "resident_on": host, "domid": domid,
                         "scheduled_to_be_resident_on": NULL_REF, "memory_overhead": memory_overhead(rec),
                         "ha_always_run": rec["ha_restart_priority"] == "restart",
                         "last_boot_CPU_flags": {"vendor": hcpu.get("vendor", ""),
                                                 "features": hcpu.get("features_hvm" if rec["domain_type"] == "hvm"
                                                                      else "features_pv", "")}})
    for vbd in rec["VBDs"]:
        vrec = db.get("VBD", vbd)
        if vrec["empty"] and vrec["type"] == "CD" and is_pv_boot(rec):
            continue  # an empty PV CD drive has no backend
        attach_vbd(ctx, vbd)
    for vif in rec["VIFs"]:
        db.set("VIF", vif, "currently_attached", True)
    vcpus = rec["VCPUs_at_startup"]
    db.update("VM_metrics", rec["metrics"], {
        "start_time": now, "last_updated": now, "memory_actual": rec["memory_dynamic_max"], "VCPUs_number": vcpus,
        "current_domain_type": rec["domain_type"], "VCPUs_utilisation": {str(c): 0.0 for c in range(vcpus)},
        "VCPUs_CPU": {str(c): (domid + c) % pcpus for c in range(vcpus)}, "VCPUs_params": dict(rec["VCPUs_params"]),
        "VCPUs_flags": {}, "state": [], "hvm": rec["domain_type"] == "hvm", "nomigrate": False, "nested_virt": False})
    refresh_devices(ctx, vm)
    refresh_memory(db, host)
    refresh_plan(db)
    if boot:
        resumed = meta.pop("suspended_plan", None)  # a resumed guest carries on, it does not boot again
        meta["plan"] = list(resumed or boot_plan(ctx, vm))
        if not paused:
            schedule_boot(ctx, vm, resumed=resumed is not None)


def refresh_devices(ctx: Context, vm: str) -> None:
    rec = ctx.db.get("VM", vm)
    for vbd in rec["VBDs"]:
        refresh_vbd_operations(ctx, vbd)
    for vif in rec["VIFs"]:
        refresh_vif_operations(ctx, vif)


def schedule_boot(ctx: Context, vm: str, resumed: bool = False) -> None:
    """The guest runs its boot plan: the agent after boot_to_agent (a resumed guest's agent reports again
    after RESUME_AGENT_S), or the installer's completion."""
    db = ctx.db
    meta = db.meta.get(vm, {})
    plan, boot = meta.get("plan") or ["none"], meta.get("boot", 0)
    base = ctx.cursor  # the end of the start/reboot on this call's simulated timeline
    if plan[0] == "os" and plan[1]:
        delay = RESUME_AGENT_S if resumed else duration(ctx.world, "boot_to_agent", plan[1].get("family", "linux"))
        ctx.world.scheduler.at(delay, guest_agent_appears, ctx, vm, boot, base=base)
    elif plan[0] == "install":
        ctx.world.scheduler.at(duration(ctx.world, "install", plan[1]), install_done, ctx, vm, boot, base=base)


def _current(ctx: Context, vm: str, boot: int) -> dict | None:
    db = ctx.db
    if vm not in db.tables["VM"] or db.meta.get(vm, {}).get("boot") != boot:
        return None
    rec = db.get("VM", vm)
    return rec if rec["power_state"] == "Running" else None


def install_done(ctx: Context, vm: str, boot: int) -> None:
    """The installer wrote the OS onto the boot disk and reboots the guest (actions_after_reboot decides)."""
    rec = _current(ctx, vm, boot)
    if rec is None:
        return
    db = ctx.db
    plan = db.meta[vm]["plan"]
    target = boot_disk(db, rec, pv=False) if not is_pv_boot(rec) else (boot_disk(db, rec, pv=True) or boot_disk(db, rec, False))
    if target is None:
        return  # nothing to install onto: the installer stops at its disk selection
    db.meta.setdefault(target, {})["os"] = dict(plan[2])
    guest_reboot(ctx, vm)


def guest_reboot(ctx: Context, vm: str) -> None:
    """The guest rebooted itself: xenopsd rebuilds the domain (actions_after_reboot restart) or halts it."""
    db = ctx.db
    rec = db.get("VM", vm)
    host = rec["resident_on"]
    _drop_guest_metrics(ctx, vm)
    if rec["actions_after_reboot"] == "destroy":
        set_halted(ctx, vm)
    else:
        set_running(ctx, vm, host)
    _rules(ctx).refresh(db, vm)


def _guest_ip(vm_uuid: str, device: str) -> str:
    h = zlib.crc32(("%s/%s" % (vm_uuid, device)).encode("utf-8"))
    return "10.%d.%d.%d" % (int(device) % 250 + 1 if device.isdigit() else 1, (h >> 8) % 254 + 1, h % 253 + 2)


def guest_agent_appears(ctx: Context, vm: str, boot: int) -> None:
    """Runs from the scheduler a simulated boot time after start (lock held)."""
    rec = _current(ctx, vm, boot)
    if rec is None or rec["other_config"].get("xapisim_guest_agent") == "false":
        return
    db = ctx.db
    plan = db.meta[vm].get("plan") or ["none"]
    info = plan[1] if plan[0] == "os" and plan[1] else template_os(rec)
    networks = {}
    for vif in rec["VIFs"]:
        dev = db.get("VIF", vif)["device"]
        ip = _guest_ip(rec["uuid"], dev)
        networks["%s/ip" % dev] = ip
        networks["%s/ipv4/0" % dev] = ip
        networks["%s/ipv6/0" % dev] = "fe80::%x:%x" % (zlib.crc32(rec["uuid"].encode()) & 0xFFFF, int(dev) if dev.isdigit() else 0)
    windows = info.get("family") == "windows"
    os_version = {"name": info.get("name", ""), "distro": info.get("distro", ""), "major": info.get("major", ""),
                  "minor": info.get("minor", "0")}
    if not windows:
        os_version["uname"] = "2.6.18-398.el5xen" if is_pv_boot(rec) else "5.10.0-28-amd64"
    gm_values = {"os_version": os_version,
                 "PV_drivers_version": {"major": "6" if windows else "7", "minor": "2" if windows else "20",
                                        "micro": "0", "build": "76888" if windows else "0"},
                 "PV_drivers_up_to_date": True, "PV_drivers_detected": True, "networks": networks,
                 "other": {"feature-shutdown": "1", "feature-poweroff": "1", "feature-reboot": "1", "feature-suspend": "1",
                           "feature-vcpu-hotplug": "1", "has-vendor-device": "0", "platform-feature-multiprocessor-suspend": "1"},
                 "live": True, "last_updated": ctx.world.clock.now_dt(),
                 "can_use_hotplug_vbd": "yes", "can_use_hotplug_vif": "yes",
                 "memory": {}, "disks": {}}
    old = rec["guest_metrics"]
    if old in db.tables["VM_guest_metrics"]:
        db.update("VM_guest_metrics", old, gm_values)
    else:
        gm = db.create("VM_guest_metrics", gm_values)
        db.set("VM", vm, "guest_metrics", gm)
    _rules(ctx).refresh(db, vm)
    refresh_devices(ctx, vm)


def _drop_guest_metrics(ctx: Context, vm: str) -> None:
    db = ctx.db
    gm = db.get("VM", vm)["guest_metrics"]
    db.set("VM", vm, "guest_metrics", NULL_REF)
    if gm in db.tables["VM_guest_metrics"]:
        db.destroy("VM_guest_metrics", gm)


def set_halted(ctx: Context, vm: str, state: str = "Halted") -> None:
    db = ctx.db
    rec = db.get("VM", vm)
    host = rec["resident_on"]
    db.meta.setdefault(vm, {})["boot"] = db.meta.get(vm, {}).get("boot", 0) + 1
    plan = db.meta[vm].pop("plan", None)
    if state == "Suspended" and plan:
        db.meta[vm]["suspended_plan"] = plan  # the guest's memory image: it carries on from here on resume
    else:
        db.meta[vm].pop("suspended_plan", None)
    db.update("VM", vm, {"power_state": state, "resident_on": NULL_REF, "scheduled_to_be_resident_on": NULL_REF,
                         "domid": -1, "ha_always_run": False})
    for vbd in rec["VBDs"]:
        db.update("VBD", vbd, {"currently_attached": False, "device": ""})
    for vif in rec["VIFs"]:
        db.set("VIF", vif, "currently_attached", False)
    db.update("VM_metrics", rec["metrics"], {
        "memory_actual": 0, "VCPUs_number": 0, "VCPUs_utilisation": {}, "VCPUs_CPU": {}, "last_updated": ctx.world.clock.now_dt()})
    _drop_guest_metrics(ctx, vm)
    refresh_devices(ctx, vm)
    refresh_memory(db, host)
    refresh_plan(db)


# --------------------------------------------------------------------------- power operations
def _start(ctx: Context, vm: str, host: str | None, paused: bool, op: str):
    """message_forwarding.ml VM.start / start_on: start_on reserves memory with every check of
    assert_can_boot_here; start picks a host (choose_host_for_vm: NO_HOSTS_AVAILABLE when none passes the
    checks even without the memory check) and then xenopsd's reservation fails with
    HOST_NOT_ENOUGH_FREE_MEMORY [needed, free] when only memory was missing. The bootloader runs last."""
    def prepare():
        db = ctx.db
        if host is not None:
            err = host_problem(db, vm, host)
            if err is not None:
                raise err
            target, memory_ok = host, True
        else:
            target, memory_ok = choose_host(db, vm)
        _ha_guard(ctx, vm, target)
        db.set("VM", vm, "scheduled_to_be_resident_on", target)
        if not memory_ok:
            rec = db.get("VM", vm)
            raise XapiError("HOST_NOT_ENOUGH_FREE_MEMORY", vm_start_memory(rec), host_compute_free_memory(db, target, vm))
        err = bootloader_problem(ctx, vm)
        if err is not None:
            raise err
        return target

    def apply(target):
        set_running(ctx, vm, target, paused)
    try:
        run_op(ctx, vm, op, duration(ctx.world, "start"), prepare, apply)
    finally:
        with ctx.world.lock:
            if vm in ctx.db.tables["VM"] and ctx.db.get("VM", vm)["power_state"] == "Halted":
                ctx.db.set("VM", vm, "scheduled_to_be_resident_on", NULL_REF)


@handler("VM", "start", locked=False)
def vm_start(ctx: Context, vm, start_paused=False, _force=False):
    _start(ctx, vm, None, start_paused, "start")


@handler("VM", "start_on", locked=False)
def vm_start_on(ctx: Context, vm, host, start_paused=False, _force=False):
    _start(ctx, vm, host, start_paused, "start_on")


@handler("VM", "clean_shutdown", locked=False)
def vm_clean_shutdown(ctx: Context, vm):
    run_op(ctx, vm, "clean_shutdown", duration(ctx.world, "clean_shutdown"), apply=lambda _s: set_halted(ctx, vm))


@handler("VM", "hard_shutdown", locked=False)
def vm_hard_shutdown(ctx: Context, vm):
    def apply(_state):
        rec = ctx.db.get("VM", vm)
        if rec["power_state"] == "Suspended":
            _drop_suspend_vdi(ctx, vm)
        set_halted(ctx, vm)
    run_op(ctx, vm, "hard_shutdown", duration(ctx.world, "hard_shutdown"), apply=apply)


@handler("VM", "shutdown", locked=False)
def vm_shutdown(ctx: Context, vm):
    run_op(ctx, vm, "clean_shutdown", duration(ctx.world, "clean_shutdown"), apply=lambda _s: set_halted(ctx, vm))


def _reboot(ctx: Context, vm: str, op: str):
    def apply(_state):
        host = ctx.db.get("VM", vm)["resident_on"]
        _drop_guest_metrics(ctx, vm)
        set_running(ctx, vm, host)
    run_op(ctx, vm, op, duration(ctx.world, op), apply=apply)


@handler("VM", "clean_reboot", locked=False)
def vm_clean_reboot(ctx: Context, vm):
    _reboot(ctx, vm, "clean_reboot")


@handler("VM", "hard_reboot", locked=False)
def vm_hard_reboot(ctx: Context, vm):
    _reboot(ctx, vm, "hard_reboot")


@handler("VM", "pause", locked=False)
def vm_pause(ctx: Context, vm):
    run_op(ctx, vm, "pause", duration(ctx.world, "pause"), apply=lambda _s: ctx.db.set("VM", vm, "power_state", "Paused"))


@handler("VM", "unpause", locked=False)
def vm_unpause(ctx: Context, vm):
    def apply(_state):
        ctx.db.set("VM", vm, "power_state", "Running")
        meta = ctx.db.meta.get(vm, {})
        if meta.get("plan") and ctx.db.get("VM", vm)["guest_metrics"] == NULL_REF:
            schedule_boot(ctx, vm)  # a VM started paused boots now
    run_op(ctx, vm, "unpause", duration(ctx.world, "unpause"), apply=apply)


def _drop_suspend_vdi(ctx: Context, vm: str) -> None:
    vdi = ctx.db.get("VM", vm)["suspend_VDI"]
    ctx.db.set("VM", vm, "suspend_VDI", NULL_REF)
    if vdi in ctx.db.tables["VDI"]:
        ctx.db.destroy("VDI", vdi)


@handler("VM", "suspend", locked=False)
def vm_suspend(ctx: Context, vm):
    def apply(_state):
        db = ctx.db
        rec = db.get("VM", vm)
        sr = db.get("pool", db.one("pool"))["suspend_image_SR"]
        set_halted(ctx, vm, "Suspended")
        if sr in db.tables["SR"]:
            vdi = db.create("VDI", {"name_label": "Suspend image", "SR": sr, "type": "suspend", "location": new_ref()[10:], "managed": True,
                                    "virtual_size": rec["memory_static_max"] + 4 * MIB})
            db.set("VM", vm, "suspend_VDI", vdi)
    run_op(ctx, vm, "suspend", duration(ctx.world, "suspend"), apply=apply)


def _resume(ctx: Context, vm: str, host: str | None, paused: bool, op: str):
    def prepare():
        if host is not None:
            err = host_problem(ctx.db, vm, host)
            if err is not None:
                raise err
            _ha_guard(ctx, vm, host)
            return host
        target, memory_ok = choose_host(ctx.db, vm)
        _ha_guard(ctx, vm, target)
        if not memory_ok:
            rec = ctx.db.get("VM", vm)
            raise XapiError("HOST_NOT_ENOUGH_FREE_MEMORY", vm_start_memory(rec), host_compute_free_memory(ctx.db, target, vm))
        return target

    def apply(target):
        _drop_suspend_vdi(ctx, vm)
        set_running(ctx, vm, target, paused)
    run_op(ctx, vm, op, duration(ctx.world, "resume"), prepare, apply)


@handler("VM", "resume", locked=False)
def vm_resume(ctx: Context, vm, start_paused=False, _force=False):
    _resume(ctx, vm, None, start_paused, "resume")


@handler("VM", "resume_on", locked=False)
def vm_resume_on(ctx: Context, vm, host, start_paused=False, _force=False):
    _resume(ctx, vm, host, start_paused, "resume_on")


# --------------------------------------------------------------------------- create / destroy / clone / copy / provision
@handler("VM", "create")
def vm_create(ctx: Context, record):
    values = constructor_values(ctx, "VM", ctx.spec.messages["VM"]["create"], record)
    vm = create_vm(ctx.db, values, ctx.world.clock.now_dt())
    _rules(ctx).refresh(ctx.db, vm)
    return vm


def destroy_vm_records(ctx: Context, vm: str) -> None:
    db = ctx.db
    rec = db.get("VM", vm)
    for vbd in list(rec["VBDs"]):
        db.destroy("VBD", vbd)
    for vif in list(rec["VIFs"]):
        db.destroy("VIF", vif)
    for console in list(rec["consoles"]):
        db.destroy("console", console)
    for ref, cls in ((rec["metrics"], "VM_metrics"), (rec["guest_metrics"], "VM_guest_metrics")):
        if ref in db.tables[cls]:
            db.destroy(cls, ref)
    db.meta.pop(vm, None)
    db.destroy("VM", vm)


@handler("VM", "destroy")
def vm_destroy(ctx: Context, vm):
    _rules(ctx).check(ctx.db, vm, "destroy")
    if ctx.db.get("VM", vm)["power_state"] == "Suspended":
        _drop_suspend_vdi(ctx, vm)
    destroy_vm_records(ctx, vm)


def clone_vm_records(ctx: Context, vm: str, new_name: str, sr: str | None = None, full: bool = False,
                     snapshot: bool = False, ignore_vdis: list | None = None) -> str:
    """The database side of VM.clone / VM.copy / VM.snapshot (xapi_vm_clone.ml copy_vm_record, safe_clone_disks,
    Xapi_vif_helpers.copy): a new mac_seed (not for snapshots), VIFs re-created with MAC ""
    so the new seed gives them new MACs (snapshots keep the MAC), CD VBDs keep their ISO, empty ones stay empty."""
    db = ctx.db
    src = db.get("VM", vm)
    fields = [cf["name"] for cf in ctx.spec.messages["VM"]["create"]["constructor_fields"]]
    values = {f: clone(src[f]) for f in fields if f in src}
    other = {k: v for k, v in src["other_config"].items() if k not in ("default_template", "xensource_internal")}
    if not snapshot:
        other["mac_seed"] = new_ref()[10:]  # a fresh uuid, as replace_seed does
    if src["is_a_template"] and not src["is_a_snapshot"] and not snapshot:
        other["base_template_name"] = src["name_label"]
    values.update({"name_label": new_name, "other_config": other, "is_default_template": False, "ha_always_run": False,
                   "order": 0, "start_delay": 0, "shutdown_delay": 0, "appliance": NULL_REF, "power_state": "Halted",
                   "is_a_snapshot": False, "snapshot_of": NULL_REF, "suspend_VDI": NULL_REF,
                   "is_a_template": src["is_a_template"] and not src["is_a_snapshot"]})
    values.pop("protection_policy", None)
    values.pop("snapshot_schedule", None)
    now = ctx.world.clock.now_dt()
    if snapshot:
        values.update({"is_a_snapshot": True, "is_a_template": True, "snapshot_of": vm, "snapshot_time": now,
                       "snapshot_info": {"power-state-at-snapshot": src["power_state"],
                                         "disk-snapshot-type": "crash_consistent"}})
    new = create_vm(db, values, now)
    seed = db.get("VM", new)["other_config"]["mac_seed"]
    touched = set()
    for vbd in src["VBDs"]:
        vrec = db.get("VBD", vbd)
        vdi = vrec["VDI"]
        if snapshot and vdi in (ignore_vdis or []):
            continue
        if not vrec["empty"] and vrec["type"] == "Disk" and vdi in db.tables["VDI"]:
            vdi = _new_vdi_like(ctx, vdi, sr if full else None)
            touched.add(db.get("VDI", vdi)["SR"])
            if snapshot:
                db.update("VDI", vdi, {"is_a_snapshot": True, "snapshot_of": vrec["VDI"], "snapshot_time": now})
        new_vbd = db.create("VBD", {k: copy.deepcopy(vrec[k]) for k in VBD_COPIED_FIELDS} | {"VM": new, "VDI": vdi})
        refresh_vbd_operations(ctx, new_vbd)
    for vif in src["VIFs"]:
        frec = db.get("VIF", vif)
        new_vif = db.create("VIF", {"VM": new, "device": frec["device"], "network": frec["network"], "MTU": frec["MTU"],
                                    "MAC": frec["MAC"] if snapshot else gen_mac(seed, int(frec["device"])),
                                    "MAC_autogenerated": not snapshot,
                                    "other_config": dict(frec["other_config"]), "qos_algorithm_type": frec["qos_algorithm_type"],
                                    "qos_algorithm_params": dict(frec["qos_algorithm_params"]),
                                    "locking_mode": frec["locking_mode"], "ipv4_allowed": list(frec["ipv4_allowed"]),
                                    "ipv6_allowed": list(frec["ipv6_allowed"])})
        refresh_vif_operations(ctx, new_vif)
    for sr_ref in touched:
        _account_sr(ctx, sr_ref)
    _rules(ctx).refresh(db, new)
    return new


copy_vm = clone_vm_records  # historical name


def _disk_vdis(ctx: Context, vm: str, ignore: list | None = None) -> list[str]:
    db = ctx.db
    out = []
    for vbd in db.get("VM", vm)["VBDs"]:
        vrec = db.get("VBD", vbd)
        if not vrec["empty"] and vrec["type"] == "Disk" and vrec["VDI"] in db.tables["VDI"] and vrec["VDI"] not in (ignore or []):
            out.append(vrec["VDI"])
    return out


def _clone_work(ctx: Context, vm: str, op: str, ignore: list | None = None):
    """safe_clone_disks: one VDI.clone/snapshot after the other, each under its SR's SM lock, then the metadata."""
    def work(_state):
        with ctx.world.lock:
            vdis = _disk_vdis(ctx, vm, ignore)
            seconds = [clone_seconds(ctx, v) for v in vdis]
        total = sum(seconds) + duration(ctx.world, "vm_metadata") or 1.0
        done = 0.0
        for vdi, sec in zip(vdis, seconds):
            timed_vdi_op(ctx, vdi, op, sec, span=(done / total, (done + sec) / total))
            done += sec
        ctx.work(duration(ctx.world, "vm_metadata"), span=(done / total, 1.0))
    return work


@handler("VM", "clone", locked=False)
def vm_clone(ctx: Context, vm, new_name):
    return run_op(ctx, vm, "clone", _clone_work(ctx, vm, "clone"), apply=lambda _s: clone_vm_records(ctx, vm, new_name))


@handler("VM", "copy", locked=False)
def vm_copy(ctx: Context, vm, new_name, sr):
    def prepare():
        if sr != NULL_REF and ctx.db.get("SR", sr)["content_type"] == "iso":
            raise XapiError("OPERATION_NOT_ALLOWED", "Cannot copy a VM's disks to an ISO SR")

    def work(_state):
        with ctx.world.lock:
            vdis = _disk_vdis(ctx, vm)
        for i, vdi in enumerate(vdis):
            copy_vdi_work(ctx, vdi, sr, span=(i / (len(vdis) + 1.0), (i + 1) / (len(vdis) + 1.0)))
        ctx.work(duration(ctx.world, "vm_metadata"))
    return run_op(ctx, vm, "copy", work, prepare, lambda _s: clone_vm_records(ctx, vm, new_name, sr, True))


@handler("VM", "snapshot", locked=False)
def vm_snapshot(ctx: Context, vm, new_name, ignore_vdis=None):
    def apply(_state):
        snap = clone_vm_records(ctx, vm, new_name, None, False, snapshot=True, ignore_vdis=ignore_vdis)
        ctx.db.set("VM", vm, "parent", snap)
        return snap
    return run_op(ctx, vm, "snapshot", _clone_work(ctx, vm, "snapshot", ignore_vdis), apply=apply)


RESTORED_ON_REVERT = ("memory_static_min", "memory_static_max", "memory_dynamic_min", "memory_dynamic_max", "VCPUs_max",
                      "VCPUs_at_startup", "VCPUs_params", "HVM_boot_policy", "HVM_boot_params", "platform", "PV_bootloader",
                      "PV_kernel", "PV_ramdisk", "PV_args", "PV_bootloader_args", "domain_type", "name_description",
                      "actions_after_shutdown", "actions_after_reboot", "actions_after_crash", "affinity", "tags")


@handler("VM", "revert", locked=False)
def vm_revert(ctx: Context, snapshot):
    def prepare():
        rec = ctx.db.get("VM", snapshot)
        if not rec["is_a_snapshot"]:
            raise XapiError("REVERT_ONLY_ALLOWED_ON_SNAPSHOT")
        target = rec["snapshot_of"]
        if target not in ctx.db.tables["VM"]:
            raise XapiError("VM_REVERT_FAILED", snapshot, target)
        return target

    def apply(target):
        db = ctx.db
        snap = db.get("VM", snapshot)
        if db.get("VM", target)["power_state"] != "Halted":
            set_halted(ctx, target)
        db.update("VM", target, {f: copy.deepcopy(snap[f]) for f in RESTORED_ON_REVERT})
        for vbd in list(db.get("VM", target)["VBDs"]):
            vrec = db.get("VBD", vbd)
            old = vrec["VDI"]
            db.destroy("VBD", vbd)
            if vrec["type"] == "Disk" and old in db.tables["VDI"] and not db.get("VDI", old)["VBDs"]:
                db.destroy("VDI", old)
        for vbd in db.get("VM", snapshot)["VBDs"]:
            vrec = db.get("VBD", vbd)
            vdi = vrec["VDI"]
            if not vrec["empty"] and vrec["type"] == "Disk" and vdi in db.tables["VDI"]:
                vdi = _new_vdi_like(ctx, vdi, None)
            db.create("VBD", {k: copy.deepcopy(vrec[k]) for k in VBD_COPIED_FIELDS} | {"VM": target, "VDI": vdi})
        db.update("VM", target, {"memory_overhead": memory_overhead(db.get("VM", target)), "parent": snapshot})
        _rules(ctx).refresh(db, target)
    run_op(ctx, snapshot, "revert", _clone_work(ctx, snapshot, "clone"), prepare, apply)


def parse_provision_xml(text: str) -> list[dict]:
    """xapi_templates.ml disks_of_xml: <provision> (no attributes) of <disk device size sr bootable [type]/>;
    anything else is Parse_failure. An unknown type falls back to system."""
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        raise XapiError("INTERNAL_ERROR", "Xml.Error(%s)" % exc) from exc
    if root.tag != "provision" or root.attrib:
        raise XapiError("INTERNAL_ERROR", "Xapi_templates.Parse_failure")
    disks = []
    for node in root:
        attrs = node.attrib
        if node.tag != "disk" or list(node) or not all(k in attrs for k in ("device", "size", "sr", "bootable")):
            raise XapiError("INTERNAL_ERROR", "Xapi_templates.Parse_failure")
        try:
            size = int(attrs["size"])
        except ValueError:
            raise XapiError("INTERNAL_ERROR", "Xapi_templates.Parse_failure") from None
        dtype = attrs.get("type", "system")
        disks.append({"device": attrs["device"], "size": size, "sr": attrs["sr"], "bootable": attrs["bootable"] == "true",
                      "type": dtype if dtype in ("system", "user", "ephemeral", "suspend", "crashdump") else "system"})
    return disks


def provision_disks(ctx: Context, vm: str, timed: bool = True) -> None:
    """xapi_templates.ml pre_install/create_disk then post_install: per disk VDI.create (name "", description
    "Created by template provisioner", sm_config vmhint), VBD.create, the VDI named after the userdevice; then the
    disks and postinstall keys leave other_config. pre_install maps over the disks OUTSIDE xapi_vm.ml provision's
    error handler, so the disks made before a failing one stay. With timed=True the caller must not hold the
    world lock (each VDI.create holds its SR's SM lock for the vdi_create time)."""
    db = ctx.db
    lock = ctx.world.lock
    with lock:
        rec = db.get("VM", vm)
        text = rec["other_config"].get("disks")
        disks = parse_provision_xml(text) if text else []
        vm_uuid = rec["uuid"]
    for disk in disks:
        with lock:
            sr = db.uuids["SR"].get(disk["sr"])
            if sr is None:
                raise XapiError("UUID_INVALID", "sr", disk["sr"])
        values = {"name_label": "", "name_description": "Created by template provisioner", "SR": sr,
                  "virtual_size": disk["size"], "type": disk["type"], "sharable": False, "read_only": False,
                  "other_config": {}, "xenstore_data": {}, "sm_config": {"vmhint": vm_uuid}, "tags": []}
        if timed:
            vdi = create_vdi(ctx, values)
        else:
            with lock:
                vdi = create_vdi_record(ctx, values)
        with lock:
            vbd = vbd_create(ctx, {"VM": vm, "VDI": vdi, "userdevice": disk["device"], "bootable": disk["bootable"],
                                   "mode": "RW", "type": "Disk", "unpluggable": disk["type"] != "system", "empty": False,
                                   "other_config": {"owner": ""}, "qos_algorithm_type": "", "qos_algorithm_params": {}})
            db.set("VDI", vdi, "name_label", db.get("VBD", vbd)["userdevice"])
            _account_sr(ctx, sr)
    with lock:
        other = {k: v for k, v in db.get("VM", vm)["other_config"].items() if k not in ("disks", "postinstall")}
        db.set("VM", vm, "other_config", other)


@handler("VM", "provision", locked=False)
def vm_provision(ctx: Context, vm):
    """message_forwarding.ml VM.provision parses the provision XML first (a parse failure leaves the VM a
    template); xapi_vm.ml provision then clears is_a_template BEFORE provisioning, so a failure afterwards
    (UUID_INVALID ["sr", ""] for the templates' sr="", SR_BACKEND_FAILURE_44 ...) leaves a non-template VM."""
    def prepare():
        text = ctx.db.get("VM", vm)["other_config"].get("disks")
        if text:
            parse_provision_xml(text)
        ctx.db.update("VM", vm, {"is_a_template": False})

    def work(_state):
        provision_disks(ctx, vm)
        ctx.work(duration(ctx.world, "vm_metadata"))
    run_op(ctx, vm, "provision", work, prepare)


@handler("VM", "set_is_a_template")
def vm_set_is_a_template(ctx: Context, vm, value):
    """message_forwarding.ml: turning a VM into a template is the make_into_template operation (Halted only)."""
    if value:
        _rules(ctx).check(ctx.db, vm, "make_into_template")
    ctx.db.update("VM", vm, {"is_a_template": bool(value)})
    _rules(ctx).refresh(ctx.db, vm)


# --------------------------------------------------------------------------- memory / vcpus / misc setters
def _assert_memory_valid(ctx: Context, vm: str, rec: dict) -> None:
    """Vm_memory_constraints.assert_valid_for_current_context: control domains (and nested-virt VMs) must be pinned
    at static_max (MEMORY_CONSTRAINT_VIOLATION_MAXPIN [reason]), the others ordered
    static_min <= dynamic_min <= dynamic_max <= static_max (MEMORY_CONSTRAINT_VIOLATION_ORDER)."""
    ordered = rec["memory_static_min"] <= rec["memory_dynamic_min"] <= rec["memory_dynamic_max"] <= rec["memory_static_max"]
    pinned = ordered and rec["memory_dynamic_min"] == rec["memory_dynamic_max"] == rec["memory_static_max"]
    reason = "control domain" if rec["is_control_domain"] else (
        "nested virt" if rec["platform"].get("nested-virt") in ("true", "1") else "")
    if reason and not pinned:
        raise XapiError("MEMORY_CONSTRAINT_VIOLATION_MAXPIN", reason)
    if not ordered:
        raise XapiError("MEMORY_CONSTRAINT_VIOLATION_ORDER")
    del vm


def _set_memory(ctx: Context, vm: str, op: str, **values) -> None:
    _rules(ctx).check(ctx.db, vm, op)
    rec = dict(ctx.db.get("VM", vm))
    rec.update(values)
    _assert_memory_valid(ctx, vm, rec)
    values["memory_target"] = rec["memory_dynamic_min"]
    values["memory_overhead"] = memory_overhead(rec)
    if rec["is_control_domain"] and rec["power_state"] == "Running":
        values["requires_reboot"] = True
    ctx.db.update("VM", vm, values)
    _rules(ctx).refresh(ctx.db, vm)
    refresh_plan(ctx.db)


@handler("VM", "set_memory_limits")
def vm_set_memory_limits(ctx: Context, vm, static_min, static_max, dynamic_min, dynamic_max):
    _set_memory(ctx, vm, "changing_memory_limits", memory_static_min=static_min, memory_static_max=static_max,
                memory_dynamic_min=dynamic_min, memory_dynamic_max=dynamic_max)


@handler("VM", "set_memory_static_range")
def vm_set_memory_static_range(ctx: Context, vm, low, high):
    _set_memory(ctx, vm, "changing_static_range", memory_static_min=low, memory_static_max=high)


@handler("VM", "set_memory_dynamic_range")
def vm_set_memory_dynamic_range(ctx: Context, vm, low, high):
    """message_forwarding.ml set_memory_dynamic_range: on a running VM, raising dynamic_min must fit the host
    (reserve_memory_for_dynamic_change: HOST_NOT_ENOUGH_FREE_MEMORY [needed KiB, available KiB]), then the
    constraints are checked and the balloon target moves."""
    db = ctx.db
    _rules(ctx).check(db, vm, "changing_dynamic_range")
    rec = db.get("VM", vm)
    if rec["power_state"] == "Running":
        host = rec["resident_on"]
        available = host_compute_free_memory(db, host)
        change = rec["memory_dynamic_min"] - low
        if available + change < 0:
            raise XapiError("HOST_NOT_ENOUGH_FREE_MEMORY", -change // 1024, available // 1024)
    new = dict(rec, memory_dynamic_min=low, memory_dynamic_max=high)
    _assert_memory_valid(ctx, vm, new)
    db.update("VM", vm, {"memory_dynamic_min": low, "memory_dynamic_max": high, "memory_target": low})
    if rec["power_state"] == "Running":
        db.set("VM_metrics", rec["metrics"], "memory_actual", high)  # squeezed balloons up to dynamic_max when there is room
        refresh_memory(db, rec["resident_on"])
    _rules(ctx).refresh(db, vm)


@handler("VM", "set_memory_static_max")
def vm_set_memory_static_max(ctx: Context, vm, value):
    vm_set_memory_static_range(ctx, vm, ctx.db.get("VM", vm)["memory_static_min"], value)


@handler("VM", "set_memory_static_min")
def vm_set_memory_static_min(ctx: Context, vm, value):
    vm_set_memory_static_range(ctx, vm, value, ctx.db.get("VM", vm)["memory_static_max"])


@handler("VM", "set_memory_dynamic_max")
def vm_set_memory_dynamic_max(ctx: Context, vm, value):
    vm_set_memory_dynamic_range(ctx, vm, ctx.db.get("VM", vm)["memory_dynamic_min"], value)


@handler("VM", "set_memory_dynamic_min")
def vm_set_memory_dynamic_min(ctx: Context, vm, value):
    vm_set_memory_dynamic_range(ctx, vm, value, ctx.db.get("VM", vm)["memory_dynamic_max"])


@handler("VM", "set_memory")
def vm_set_memory(ctx: Context, vm, value):
    _set_memory(ctx, vm, "changing_memory_limits", memory_static_max=value, memory_dynamic_min=value, memory_dynamic_max=value)


def _is_dom0(ctx: Context, vm: str) -> bool:
    rec = ctx.db.get("VM", vm)
    return rec["is_control_domain"] and rec["domid"] == 0


@handler("VM", "set_VCPUs_max")
def vm_set_vcpus_max(ctx: Context, vm, value):
    """xapi_vm.ml set_VCPUs_max (operation changing_VCPUs: Halted, or a running control domain other than dom0)."""
    _rules(ctx).check(ctx.db, vm, "changing_VCPUs")
    if _is_dom0(ctx, vm):
        raise XapiError("INTERNAL_ERROR", 'Failure("set_VCPUs_max is not allowed on dom0")')  # failwith, via ExnHelper
    rec = ctx.db.get("VM", vm)
    if value < 1 or value < rec["VCPUs_at_startup"]:
        raise XapiError("INVALID_VALUE", VCPU_RULE, value)
    upd = {"VCPUs_max": value}
    upd["memory_overhead"] = memory_overhead(dict(rec, VCPUs_max=value))
    if rec["is_control_domain"] and rec["power_state"] == "Running":
        upd["requires_reboot"] = True
    ctx.db.update("VM", vm, upd)
    refresh_plan(ctx.db)


@handler("VM", "set_VCPUs_at_startup")
def vm_set_vcpus_at_startup(ctx: Context, vm, value):
    """xapi_vm.ml set_VCPUs_at_startup: no operation check at all (any power state, templates too; it takes
    effect at the next boot), only dom0 is refused."""
    if _is_dom0(ctx, vm):
        raise XapiError("OPERATION_NOT_ALLOWED", "set_VCPUs_at_startup is not allowed on dom0")
    rec = ctx.db.get("VM", vm)
    if value < 1 or value > rec["VCPUs_max"]:
        raise XapiError("INVALID_VALUE", VCPU_RULE, value)
    ctx.db.update("VM", vm, {"VCPUs_at_startup": value, "memory_overhead": memory_overhead(rec)})


@handler("VM", "set_VCPUs_number_live", locked=False)
def vm_set_vcpus_number_live(ctx: Context, vm, nvcpu):
    """Operation changing_VCPUs_live (Running; an HVM guest needs PV drivers or feature-vcpu-hotplug:
    VM_LACKS_FEATURE), then xenopsd VM_set_vcpus: 0 < n <= VCPUs_max else
    INVALID_VALUE ["VCPU values must satisfy: 0 < VCPUs <= VCPUs_max", VCPUs_max] (Invalid_vcpus carries the
    maximum, not the request); VCPUs_at_startup and VM_metrics.VCPUs_number follow."""
    def prepare():
        rec = ctx.db.get("VM", vm)
        if nvcpu <= 0 or nvcpu > rec["VCPUs_max"]:
            raise XapiError("INVALID_VALUE", VCPU_LIVE_RULE, rec["VCPUs_max"])

    def apply(_state):
        db = ctx.db
        rec = db.get("VM", vm)
        metrics = db.get("VM_metrics", rec["metrics"])
        pcpus = max(1, len(db.get("host", rec["resident_on"])["host_CPUs"])) if rec["resident_on"] in db.tables["host"] else 1
        db.update("VM", vm, {"VCPUs_at_startup": nvcpu, "memory_overhead": memory_overhead(rec)})
        db.update("VM_metrics", rec["metrics"], {
            "VCPUs_number": nvcpu, "VCPUs_utilisation": {str(c): 0.0 for c in range(nvcpu)},
            "VCPUs_CPU": {str(c): metrics["VCPUs_CPU"].get(str(c), (rec["domid"] + c) % pcpus) for c in range(nvcpu)}})
    run_op(ctx, vm, "changing_VCPUs_live", 1.0, prepare, apply)


@handler("VM", "add_to_VCPUs_params_live")
def vm_add_to_vcpus_params_live(ctx: Context, vm, _key, _value):
    """xapi_vm.ml add_to_VCPUs_params_live: the operation check, then NOT_IMPLEMENTED."""
    _rules(ctx).check(ctx.db, vm, "changing_VCPUs_live")
    raise XapiError("NOT_IMPLEMENTED", "add_to_VCPUs_params_live")


@handler("VM", "set_memory_target_live")
def vm_set_memory_target_live(ctx: Context, vm, _target):
    """Deprecated: operation changing_memory_live (Running), then nothing (xapi_vm.ml: use set_memory_dynamic_range)."""
    _rules(ctx).check(ctx.db, vm, "changing_memory_live")


@handler("VM", "wait_memory_target_live")
def vm_wait_memory_target_live(ctx: Context, vm):
    _rules(ctx).check(ctx.db, vm, "awaiting_memory_live")


@handler("VM", "set_shadow_multiplier_live")
def vm_set_shadow_multiplier_live(ctx: Context, vm, multiplier):
    """xapi_vm.ml set_shadow_multiplier_live: Running, multiplier >= 1.0; PV domains ignore it (xenopsd Unimplemented)."""
    rec = ctx.db.get("VM", vm)
    if rec["power_state"] != "Running":
        raise XapiError("VM_BAD_POWER_STATE", vm, "running", rec["power_state"].lower())
    if multiplier < 1.0:
        raise XapiError("INVALID_VALUE", "multiplier", repr(float(multiplier)))
    if rec["domain_type"] != "pv":
        ctx.db.update("VM", vm, {"HVM_shadow_multiplier": float(multiplier),
                                 "memory_overhead": memory_overhead(dict(rec, HVM_shadow_multiplier=float(multiplier)))})


@handler("VM", "set_ha_restart_priority")
def vm_set_ha_restart_priority(ctx: Context, vm, value):
    """xapi_vm.ml set_ha_restart_priority: making a non-halted VM `restart` must keep the failover plan
    (assert_new_vm_preserves_ha_plan -> HA_OPERATION_WOULD_BREAK_FAILOVER_PLAN, unless ha_allow_overcommit or no
    plan exists now); a Running VM's ha_always_run follows the priority at once."""
    if value not in ("restart", "best-effort", ""):
        raise XapiError("INVALID_VALUE", "ha_restart_priority", value)
    rec = ctx.db.get("VM", vm)
    if rec["ha_restart_priority"] != "restart" and value == "restart" and rec["power_state"] != "Halted":
        assert_preserves_plan(ctx.db, [("VM", vm, "ha_restart_priority", "restart"), ("VM", vm, "ha_always_run", True)])
    upd = {"ha_restart_priority": value}
    if rec["power_state"] == "Running":
        upd["ha_always_run"] = value == "restart"
    ctx.db.update("VM", vm, upd)
    refresh_plan(ctx.db)


@handler("VM", "set_ha_always_run")
def vm_set_ha_always_run(ctx: Context, vm, value):
    vm_set_ha_restart_priority(ctx, vm, "restart" if value else "")


@handler("VM", "set_domain_type")
def vm_set_domain_type(ctx: Context, vm, value):
    if value == "unspecified":
        raise XapiError("VALUE_NOT_SUPPORTED", "domain_type", value, "Must not be unspecified")
    ctx.db.update("VM", vm, {"domain_type": value, "HVM_boot_policy": "BIOS order" if value == "hvm" else ""})
    _rules(ctx).refresh(ctx.db, vm)


@handler("VM", "set_HVM_boot_policy")
def vm_set_hvm_boot_policy(ctx: Context, vm, value):
    ctx.db.update("VM", vm, {"HVM_boot_policy": value, "domain_type": "hvm" if value else "pv"})
    _rules(ctx).refresh(ctx.db, vm)


@handler("VM", "set_HVM_shadow_multiplier")
def vm_set_hvm_shadow_multiplier(ctx: Context, vm, value):
    """xapi_vm.ml set_HVM_shadow_multiplier (operation changing_shadow_memory: Halted), value >= 1.0."""
    _rules(ctx).check(ctx.db, vm, "changing_shadow_memory")
    if value < 1.0:
        raise XapiError("INVALID_VALUE", "multiplier", repr(float(value)))
    rec = ctx.db.get("VM", vm)
    ctx.db.update("VM", vm, {"HVM_shadow_multiplier": float(value),
                             "memory_overhead": memory_overhead(dict(rec, HVM_shadow_multiplier=float(value)))})


@handler("VM", "get_allowed_VBD_devices", write=False)
def vm_allowed_vbd_devices(ctx: Context, vm):
    used = {ctx.db.get("VBD", v)["userdevice"] for v in ctx.db.get("VM", vm)["VBDs"]}
    return [str(i) for i in range(16) if str(i) not in used]


@handler("VM", "get_allowed_VIF_devices", write=False)
def vm_allowed_vif_devices(ctx: Context, vm):
    used = {ctx.db.get("VIF", v)["device"] for v in ctx.db.get("VM", vm)["VIFs"]}
    return [str(i) for i in range(16) if str(i) not in used]


@handler("VM", "assert_operation_valid", write=False)
def vm_assert_operation_valid(ctx: Context, vm, op):
    _rules(ctx).check(ctx.db, vm, op)


@handler("VM", "assert_can_boot_here", write=False)
def vm_assert_can_boot_here(ctx: Context, vm, host):
    err = host_problem(ctx.db, vm, host)
    if err is not None:
        raise err


@handler("VM", "get_possible_hosts", write=False)
def vm_possible_hosts(ctx: Context, vm):
    return [h for h in ctx.db.refs("host") if host_problem(ctx.db, vm, h) is None]


@handler("VM", "compute_memory_overhead", write=False)
def vm_compute_memory_overhead(ctx: Context, vm):
    return memory_overhead(ctx.db.get("VM", vm))


@handler("host", "compute_free_memory", write=False)
def host_compute_free_memory_handler(ctx: Context, host):
    """xapi_host.ml compute_free_memory: Memory_check.host_compute_free_memory_with_maximum_compression."""
    return host_compute_free_memory(ctx.db, host)


@handler("host", "compute_memory_overhead", write=False)
def host_compute_memory_overhead(ctx: Context, host):
    return ctx.db.get("host", host)["memory_overhead"]


def vm_sources(ctx: Context, vm: str) -> dict:
    """The VM's data sources now (sources.VMPlan); nothing while it is not running."""
    plan = vm_plan(ctx.db, vm)
    return {} if plan is None else plan.as_dict(ctx.world.clock.elapsed())


@handler("VM", "query_data_source", write=False)
def vm_query_data_source(ctx: Context, vm, name):
    values = vm_sources(ctx, vm)
    if name not in values:
        raise XapiError("INTERNAL_ERROR", "Rrd_interface.Internal_error(\"Not_found\")")
    return float(values[name])


@handler("VM", "get_data_sources", write=False)
def vm_get_data_sources(ctx: Context, vm):
    return sources_list(vm_sources(ctx, vm))


@handler("VM", "record_data_source")
def vm_record_data_source(ctx: Context, vm, _name):
    ctx.db.get("VM", vm)
