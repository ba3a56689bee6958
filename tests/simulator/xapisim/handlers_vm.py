# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""VM lifecycle, provisioning, snapshots, memory/VCPU settings and data sources (semantics 5.x)."""
from __future__ import annotations

import copy
import uuid as uuidlib
import xml.etree.ElementTree as ET
import zlib

from .dispatch import Context, constructor_values, handler
from .handlers_devices import _account_sr, _new_vdi_like, round_size
from .handlers_ha import assert_preserves_plan
from .handlers_pool import figure, refresh_memory, _sources_list
from .model import DURATIONS, MIB, create_vm, host_free_memory, mac_for, memory_overhead
from .spec import NULL_REF, XapiError
from .state import new_ref

VBD_COPIED_FIELDS = ("userdevice", "bootable", "mode", "type", "unpluggable", "empty", "other_config", "qos_algorithm_type",
                     "qos_algorithm_params")


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
    if vm in ctx.db.tables["VM"]:
        ops = {k: v for k, v in ctx.db.get("VM", vm)["current_operations"].items() if k != key}
        ctx.db.set("VM", vm, "current_operations", ops)
        _rules(ctx).refresh(ctx.db, vm)


def run_op(ctx: Context, vm: str, op: str, duration: float, prepare=None, apply=None):
    """check+mark under the lock, spend simulated time unlocked, then apply under the lock."""
    world = ctx.world
    with world.lock:
        key = begin(ctx, vm, op)
        try:
            state = prepare() if prepare else None
        except XapiError:
            end(ctx, vm, key)
            raise
    try:
        ctx.work(duration)
    except XapiError:
        with world.lock:
            end(ctx, vm, key)
        raise
    with world.lock:
        try:
            return apply(state) if apply else None
        finally:
            end(ctx, vm, key)


def validate_for_start(vm: str, rec: dict) -> None:
    del vm
    if rec["VCPUs_max"] < 1:
        raise XapiError("INVALID_VALUE", "VCPUs_max", rec["VCPUs_max"])
    if rec["VCPUs_at_startup"] < 1 or rec["VCPUs_at_startup"] > rec["VCPUs_max"]:
        raise XapiError("INVALID_VALUE", "VCPUs-at-startup", rec["VCPUs_at_startup"])
    if rec["memory_static_max"] < rec["memory_static_min"] or rec["memory_dynamic_max"] < rec["memory_dynamic_min"]:
        raise XapiError("MEMORY_CONSTRAINT_VIOLATION")


def host_problem(ctx: Context, vm: str, host: str, memory: bool = True) -> XapiError | None:
    """assert_can_boot_here, in xapi's check order (runtime_facts.host.start_checks_order)."""
    db = ctx.db
    hrec = db.get("host", host)
    rec = db.get("VM", vm)
    metrics = db.tables["host_metrics"].get(hrec["metrics"])
    if metrics is None or not metrics["live"]:
        return XapiError("HOST_NOT_LIVE")
    if not hrec["enabled"]:
        return XapiError("HOST_DISABLED", host)
    for vbd in rec["VBDs"]:
        vrec = db.get("VBD", vbd)
        if vrec["empty"] or vrec["VDI"] not in db.tables["VDI"]:
            continue
        sr = db.get("VDI", vrec["VDI"])["SR"]
        if not any(db.get("PBD", p)["host"] == host and db.get("PBD", p)["currently_attached"] for p in db.get("SR", sr)["PBDs"]):
            return XapiError("VM_REQUIRES_SR", vm, sr)
    for vif in rec["VIFs"]:
        net = db.get("VIF", vif)["network"]
        pifs = db.get("network", net)["PIFs"] if net in db.tables["network"] else []
        if pifs and not any(db.get("PIF", p)["host"] == host for p in pifs):
            return XapiError("VM_REQUIRES_NETWORK", vm, net)
    if rec["domain_type"] == "hvm" and not any(c.startswith("hvm") for c in hrec["capabilities"]):
        return XapiError("VM_HVM_REQUIRED", vm)
    if memory:
        needed = rec["memory_dynamic_min"] + rec["memory_overhead"]
        available = host_free_memory(db, host, exclude_vm=vm)
        if needed > available:
            return XapiError("HOST_NOT_ENOUGH_FREE_MEMORY", needed, available)
    pcpus = len(hrec["host_CPUs"])
    if rec["VCPUs_at_startup"] > pcpus and rec["platform"].get("vcpu-unrestricted") != "true":
        return XapiError("HOST_NOT_ENOUGH_PCPUS", rec["VCPUs_at_startup"], pcpus)
    return None


def _ha_guard(ctx: Context, vm: str, host: str) -> None:
    """Starting/resuming/migrating onto a host uses its spare capacity (semantics 4.1)."""
    rec = ctx.db.get("VM", vm)
    changes = [("VM", vm, "scheduled_to_be_resident_on", host)]
    if rec["resident_on"] not in (NULL_REF, host):
        changes.append(("VM", vm, "resident_on", NULL_REF))
    if rec["ha_restart_priority"] == "restart":
        changes.append(("VM", vm, "ha_always_run", True))
    assert_preserves_plan(ctx.db, changes)


def choose_host(ctx: Context, vm: str) -> str:
    db = ctx.db
    rec = db.get("VM", vm)
    candidates = sorted(db.refs("host"), key=lambda h: (-host_free_memory(db, h), db.get("host", h)["uuid"]))
    if rec["affinity"] in candidates:
        candidates.remove(rec["affinity"])
        candidates.insert(0, rec["affinity"])
    for host in candidates:
        if host_problem(ctx, vm, host) is None:
            return host
    raise XapiError("NO_HOSTS_AVAILABLE")


def _guest_ip(vm_uuid: str, device: str) -> str:
    h = zlib.crc32(("%s/%s" % (vm_uuid, device)).encode("utf-8"))
    return "10.%d.%d.%d" % (int(device) % 250 + 1 if device.isdigit() else 1, (h >> 8) % 254 + 1, h % 253 + 2)


def guest_agent_appears(ctx: Context, vm: str, boot: int) -> None:
    """Runs from the scheduler a simulated boot time after start (lock held)."""
    db = ctx.db
    if vm not in db.tables["VM"] or db.meta.get(vm, {}).get("boot") != boot:
        return
    rec = db.get("VM", vm)
    if rec["power_state"] != "Running" or rec["other_config"].get("xapisim_guest_agent") == "false":
        return
    networks = {}
    for vif in rec["VIFs"]:
        dev = db.get("VIF", vif)["device"]
        ip = _guest_ip(rec["uuid"], dev)
        networks["%s/ip" % dev] = ip
        networks["%s/ipv4/0" % dev] = ip
        networks["%s/ipv6/0" % dev] = "fe80::%x:%x" % (zlib.crc32(rec["uuid"].encode()) & 0xFFFF, int(dev) if dev.isdigit() else 0)
    base = rec["other_config"].get("base_template_name", rec["name_label"])
    windows = "windows" in base.lower()
    gm_values = {"os_version": {"name": base, "distro": "windows" if windows else base.split()[0].lower(),
                                "major": "10" if windows else "12", "minor": "0"},
                 "PV_drivers_version": {"major": "9", "minor": "4", "micro": "0", "build": "1"},
                 "PV_drivers_up_to_date": True, "PV_drivers_detected": True, "networks": networks,
                 "other": {"feature-shutdown": "1", "feature-poweroff": "1", "feature-reboot": "1", "feature-suspend": "1",
                           "feature-vcpu-hotplug": "1", "has-vendor-device": "0"},
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


def _drop_guest_metrics(ctx: Context, vm: str) -> None:
    db = ctx.db
    gm = db.get("VM", vm)["guest_metrics"]
    db.set("VM", vm, "guest_metrics", NULL_REF)
    if gm in db.tables["VM_guest_metrics"]:
        db.destroy("VM_guest_metrics", gm)


def set_running(ctx: Context, vm: str, host: str, paused: bool = False) -> None:
    db = ctx.db
    rec = db.get("VM", vm)
    meta = db.meta.setdefault(vm, {})
    meta["boot"] = meta.get("boot", 0) + 1
    domid = ctx.world.next_domid = getattr(ctx.world, "next_domid", 0) + 1
    now = ctx.world.clock.now_dt()
    hcpu = db.get("host", host)["cpu_info"]
    db.update("VM", vm, {"power_state": "Paused" if paused else "Running", "resident_on": host, "domid": domid,
                         "scheduled_to_be_resident_on": NULL_REF, "memory_overhead": memory_overhead(rec),
                         "ha_always_run": rec["ha_restart_priority"] == "restart",
                         "last_boot_CPU_flags": {"vendor": hcpu.get("vendor", ""), "features": hcpu.get("features_hvm", "")}})
    for i, vbd in enumerate(sorted(rec["VBDs"], key=lambda v: db.get("VBD", v)["userdevice"])):
        vrec = db.get("VBD", vbd)
        dev = vrec["userdevice"]
        name = "xvd%s" % chr(ord("a") + int(dev)) if dev.isdigit() and int(dev) < 26 else "xvd%s" % chr(ord("a") + i % 26)
        db.update("VBD", vbd, {"currently_attached": True, "device": name})
    for vif in rec["VIFs"]:
        db.set("VIF", vif, "currently_attached", True)
    vcpus = rec["VCPUs_at_startup"]
    db.update("VM_metrics", rec["metrics"], {
        "start_time": now, "last_updated": now, "memory_actual": rec["memory_dynamic_max"], "VCPUs_number": vcpus,
        "current_domain_type": rec["domain_type"], "VCPUs_utilisation": {str(c): 0.0 for c in range(vcpus)},
        "VCPUs_CPU": {str(c): c for c in range(vcpus)}, "state": [], "hvm": rec["domain_type"] == "hvm"})
    refresh_memory(ctx, host)
    if not paused:
        ctx.world.scheduler.at(DURATIONS["guest_boot"], _guest_cb, ctx, vm, meta["boot"])


def _guest_cb(ctx: Context, vm: str, boot: int) -> None:
    guest_agent_appears(ctx, vm, boot)


def set_halted(ctx: Context, vm: str, state: str = "Halted") -> None:
    db = ctx.db
    rec = db.get("VM", vm)
    host = rec["resident_on"]
    db.meta.setdefault(vm, {})["boot"] = db.meta.get(vm, {}).get("boot", 0) + 1
    db.update("VM", vm, {"power_state": state, "resident_on": NULL_REF, "scheduled_to_be_resident_on": NULL_REF,
                         "domid": -1, "ha_always_run": False})
    for vbd in rec["VBDs"]:
        db.update("VBD", vbd, {"currently_attached": False, "device": ""})
    for vif in rec["VIFs"]:
        db.set("VIF", vif, "currently_attached", False)
    db.update("VM_metrics", rec["metrics"], {
        "memory_actual": 0, "VCPUs_number": 0, "VCPUs_utilisation": {}, "VCPUs_CPU": {}, "last_updated": ctx.world.clock.now_dt()})
    _drop_guest_metrics(ctx, vm)
    refresh_memory(ctx, host)


# --------------------------------------------------------------------------- power operations
def _start(ctx: Context, vm: str, host: str | None, paused: bool, op: str):
    def prepare():
        rec = ctx.db.get("VM", vm)
        validate_for_start(vm, rec)
        if host is not None:
            err = host_problem(ctx, vm, host)
            if err is not None:
                raise err
            target = host
        else:
            target = choose_host(ctx, vm)
        _ha_guard(ctx, vm, target)
        ctx.db.set("VM", vm, "scheduled_to_be_resident_on", target)
        return target

    def apply(target):
        set_running(ctx, vm, target, paused)
    try:
        run_op(ctx, vm, op, DURATIONS["start"], prepare, apply)
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
    run_op(ctx, vm, "clean_shutdown", DURATIONS["clean_shutdown"], apply=lambda _s: set_halted(ctx, vm))


@handler("VM", "hard_shutdown", locked=False)
def vm_hard_shutdown(ctx: Context, vm):
    def apply(_state):
        rec = ctx.db.get("VM", vm)
        if rec["power_state"] == "Suspended":
            _drop_suspend_vdi(ctx, vm)
        set_halted(ctx, vm)
    run_op(ctx, vm, "hard_shutdown", DURATIONS["hard_shutdown"], apply=apply)


@handler("VM", "shutdown", locked=False)
def vm_shutdown(ctx: Context, vm):
    run_op(ctx, vm, "clean_shutdown", DURATIONS["clean_shutdown"], apply=lambda _s: set_halted(ctx, vm))


def _reboot(ctx: Context, vm: str, op: str):
    def apply(_state):
        host = ctx.db.get("VM", vm)["resident_on"]
        _drop_guest_metrics(ctx, vm)
        set_running(ctx, vm, host)
    run_op(ctx, vm, op, DURATIONS[op], apply=apply)


@handler("VM", "clean_reboot", locked=False)
def vm_clean_reboot(ctx: Context, vm):
    _reboot(ctx, vm, "clean_reboot")


@handler("VM", "hard_reboot", locked=False)
def vm_hard_reboot(ctx: Context, vm):
    _reboot(ctx, vm, "hard_reboot")


@handler("VM", "pause", locked=False)
def vm_pause(ctx: Context, vm):
    run_op(ctx, vm, "pause", DURATIONS["pause"], apply=lambda _s: ctx.db.set("VM", vm, "power_state", "Paused"))


@handler("VM", "unpause", locked=False)
def vm_unpause(ctx: Context, vm):
    run_op(ctx, vm, "unpause", DURATIONS["unpause"], apply=lambda _s: ctx.db.set("VM", vm, "power_state", "Running"))


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
            vdi = db.create("VDI", {"name_label": "Suspend image", "SR": sr, "type": "suspend", "location": str(uuidlib.uuid4()),
                                    "virtual_size": rec["memory_static_max"] + 4 * MIB})
            db.set("VM", vm, "suspend_VDI", vdi)
    run_op(ctx, vm, "suspend", DURATIONS["suspend"], apply=apply)


def _resume(ctx: Context, vm: str, host: str | None, paused: bool, op: str):
    def prepare():
        if host is not None:
            err = host_problem(ctx, vm, host)
            if err is not None:
                raise err
            _ha_guard(ctx, vm, host)
            return host
        target = choose_host(ctx, vm)
        _ha_guard(ctx, vm, target)
        return target

    def apply(target):
        _drop_suspend_vdi(ctx, vm)
        set_running(ctx, vm, target, paused)
    run_op(ctx, vm, op, DURATIONS["resume"], prepare, apply)


@handler("VM", "resume", locked=False)
def vm_resume(ctx: Context, vm, start_paused=False, _force=False):
    _resume(ctx, vm, None, start_paused, "resume")


@handler("VM", "resume_on", locked=False)
def vm_resume_on(ctx: Context, vm, host, start_paused=False, _force=False):
    _resume(ctx, vm, host, start_paused, "resume_on")


def migrate(ctx: Context, vm: str, host: str, options: dict):
    def prepare():
        db = ctx.db
        rec = db.get("VM", vm)
        err = host_problem(ctx, vm, host)
        if err is not None:
            raise err
        if options.get("force") != "true":
            vendor = rec["last_boot_CPU_flags"].get("vendor")
            hvendor = db.get("host", host)["cpu_info"].get("vendor")
            if vendor and hvendor and vendor != hvendor:
                raise XapiError("VM_INCOMPATIBLE_WITH_THIS_HOST", vm, host, "VM last booted on a CPU from a different vendor")
        _ha_guard(ctx, vm, host)
        db.set("VM", vm, "scheduled_to_be_resident_on", host)
        return rec["resident_on"]

    def apply(source):
        db = ctx.db
        db.update("VM", vm, {"resident_on": host, "scheduled_to_be_resident_on": NULL_REF})
        refresh_memory(ctx, source, host)
        rec = db.get("VM", vm)
        db.create("message", {"name": "VM_MIGRATED", "priority": 5, "cls": "VM", "obj_uuid": rec["uuid"],
                              "timestamp": ctx.world.clock.now_dt(),
                              "body": "VM '%s' migrated to host '%s'" % (rec["name_label"], db.get("host", host)["name_label"])})
    try:
        run_op(ctx, vm, "pool_migrate", DURATIONS["pool_migrate"], prepare, apply)
    finally:
        with ctx.world.lock:
            if vm in ctx.db.tables["VM"]:
                ctx.db.set("VM", vm, "scheduled_to_be_resident_on", NULL_REF)


@handler("VM", "pool_migrate", locked=False)
def vm_pool_migrate(ctx: Context, vm, host, options):
    migrate(ctx, vm, host, options)


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
    db.destroy("VM", vm)


@handler("VM", "destroy")
def vm_destroy(ctx: Context, vm):
    _rules(ctx).check(ctx.db, vm, "destroy")
    if ctx.db.get("VM", vm)["power_state"] == "Suspended":
        _drop_suspend_vdi(ctx, vm)
    destroy_vm_records(ctx, vm)


def copy_vm(ctx: Context, vm: str, new_name: str, sr: str | None, full: bool, snapshot: bool = False,
            ignore_vdis: list | None = None) -> str:
    """The database side of VM.clone / VM.copy / VM.snapshot (semantics 5.1, 5.2)."""
    db = ctx.db
    src = db.get("VM", vm)
    fields = [cf["name"] for cf in ctx.spec.messages["VM"]["create"]["constructor_fields"]]
    values = {f: copy.deepcopy(src[f]) for f in fields if f in src}
    dropped = ("default_template", "xensource_internal") if snapshot else ("default_template", "xensource_internal", "mac_seed")
    other = {k: v for k, v in src["other_config"].items() if k not in dropped}
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
    for vbd in src["VBDs"]:
        vrec = db.get("VBD", vbd)
        vdi = vrec["VDI"]
        if snapshot and vdi in (ignore_vdis or []):
            continue
        if not vrec["empty"] and vrec["type"] == "Disk" and vdi in db.tables["VDI"]:
            vdi = _new_vdi_like(ctx, vdi, sr if full else None)
            if snapshot:
                db.update("VDI", vdi, {"is_a_snapshot": True, "snapshot_of": vrec["VDI"], "snapshot_time": now})
        db.create("VBD", {k: copy.deepcopy(vrec[k]) for k in VBD_COPIED_FIELDS} | {"VM": new, "VDI": vdi})
    for vif in src["VIFs"]:
        frec = db.get("VIF", vif)
        db.create("VIF", {"VM": new, "device": frec["device"], "network": frec["network"], "MTU": frec["MTU"],
                          "MAC": frec["MAC"] if snapshot else mac_for(seed, frec["device"]),
                          "MAC_autogenerated": frec["MAC_autogenerated"] if snapshot else True,
                          "other_config": dict(frec["other_config"]), "qos_algorithm_type": frec["qos_algorithm_type"],
                          "qos_algorithm_params": dict(frec["qos_algorithm_params"]), "locking_mode": frec["locking_mode"]})
    _rules(ctx).refresh(db, new)
    return new


@handler("VM", "clone", locked=False)
def vm_clone(ctx: Context, vm, new_name):
    return run_op(ctx, vm, "clone", DURATIONS["clone"], apply=lambda _s: copy_vm(ctx, vm, new_name, None, False))


@handler("VM", "copy", locked=False)
def vm_copy(ctx: Context, vm, new_name, sr):
    def prepare():
        if sr != NULL_REF and ctx.db.get("SR", sr)["content_type"] == "iso":
            raise XapiError("OPERATION_NOT_ALLOWED", "Cannot copy a VM's disks to an ISO SR")
    return run_op(ctx, vm, "copy", DURATIONS["copy"], prepare, lambda _s: copy_vm(ctx, vm, new_name, sr, True))


@handler("VM", "snapshot", locked=False)
def vm_snapshot(ctx: Context, vm, new_name, ignore_vdis=None):
    def apply(_state):
        snap = copy_vm(ctx, vm, new_name, None, False, snapshot=True, ignore_vdis=ignore_vdis)
        ctx.db.set("VM", vm, "parent", snap)
        return snap
    return run_op(ctx, vm, "snapshot", DURATIONS["clone"], apply=apply)


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
    run_op(ctx, snapshot, "revert", DURATIONS["clone"], prepare, apply)


def provision_disks(ctx: Context, vm: str) -> None:
    db = ctx.db
    rec = db.get("VM", vm)
    xml = rec["other_config"].get("disks", "")
    disks = []
    if xml:
        try:
            root = ET.fromstring(xml)
        except ET.ParseError as exc:
            raise XapiError("INTERNAL_ERROR", "Failed to parse provision XML: %s" % exc) from exc
        disks = [d.attrib for d in root.iter("disk")]
    created = []
    try:
        for disk in disks:
            sr_uuid = disk.get("sr", "")
            sr = db.uuids["SR"].get(sr_uuid)
            if sr is None:
                raise XapiError("UUID_INVALID", "sr", sr_uuid)
            dtype = disk.get("type", "system")
            size = round_size(db.get("SR", sr)["type"], int(disk.get("size", "0")))
            vdi = db.create("VDI", {"name_label": disk.get("device", "0"), "SR": sr, "virtual_size": size, "type": dtype,
                                    "location": str(uuidlib.uuid4()), "sm_config": {"vmhint": rec["uuid"]}})
            created.append(("VDI", vdi))
            vbd = db.create("VBD", {"VM": vm, "VDI": vdi, "userdevice": disk.get("device", "0"),
                                    "bootable": disk.get("bootable", "false") == "true", "mode": "RW", "type": "Disk",
                                    "empty": False, "unpluggable": dtype != "system", "other_config": {"owner": ""}})
            created.append(("VBD", vbd))
            _account_sr(ctx, sr)
    except XapiError:
        for cls, ref in reversed(created):
            if ref in db.tables[cls]:
                db.destroy(cls, ref)
        raise
    other = {k: v for k, v in db.get("VM", vm)["other_config"].items() if k not in ("disks", "postinstall")}
    db.set("VM", vm, "other_config", other)


@handler("VM", "provision", locked=False)
def vm_provision(ctx: Context, vm):
    def apply(_state):
        ctx.db.update("VM", vm, {"is_a_template": False})
        try:
            provision_disks(ctx, vm)
        except XapiError:
            ctx.db.update("VM", vm, {"is_a_template": True})
            raise
    run_op(ctx, vm, "provision", DURATIONS["provision"], apply=apply)


# --------------------------------------------------------------------------- memory / vcpus / misc setters
def _set_memory(ctx: Context, vm: str, op: str, **values) -> None:
    _rules(ctx).check(ctx.db, vm, op)
    rec = dict(ctx.db.get("VM", vm))
    rec.update(values)
    if not rec["memory_static_min"] <= rec["memory_dynamic_min"] <= rec["memory_dynamic_max"] <= rec["memory_static_max"]:
        raise XapiError("MEMORY_CONSTRAINT_VIOLATION_ORDER")
    values["memory_target"] = rec["memory_dynamic_min"]
    values["memory_overhead"] = memory_overhead(rec)
    ctx.db.update("VM", vm, values)
    _rules(ctx).refresh(ctx.db, vm)


@handler("VM", "set_memory_limits")
def vm_set_memory_limits(ctx: Context, vm, static_min, static_max, dynamic_min, dynamic_max):
    _set_memory(ctx, vm, "changing_memory_limits", memory_static_min=static_min, memory_static_max=static_max,
                memory_dynamic_min=dynamic_min, memory_dynamic_max=dynamic_max)


@handler("VM", "set_memory_static_range")
def vm_set_memory_static_range(ctx: Context, vm, low, high):
    _set_memory(ctx, vm, "changing_static_range", memory_static_min=low, memory_static_max=high)


@handler("VM", "set_memory_dynamic_range")
def vm_set_memory_dynamic_range(ctx: Context, vm, low, high):
    _set_memory(ctx, vm, "changing_dynamic_range", memory_dynamic_min=low, memory_dynamic_max=high)


@handler("VM", "set_memory_static_max")
def vm_set_memory_static_max(ctx: Context, vm, value):
    _set_memory(ctx, vm, "changing_static_range", memory_static_max=value)


@handler("VM", "set_memory_static_min")
def vm_set_memory_static_min(ctx: Context, vm, value):
    _set_memory(ctx, vm, "changing_static_range", memory_static_min=value)


@handler("VM", "set_memory_dynamic_max")
def vm_set_memory_dynamic_max(ctx: Context, vm, value):
    _set_memory(ctx, vm, "changing_dynamic_range", memory_dynamic_max=value)


@handler("VM", "set_memory_dynamic_min")
def vm_set_memory_dynamic_min(ctx: Context, vm, value):
    _set_memory(ctx, vm, "changing_dynamic_range", memory_dynamic_min=value)


@handler("VM", "set_memory")
def vm_set_memory(ctx: Context, vm, value):
    _set_memory(ctx, vm, "changing_memory_limits", memory_static_max=value, memory_dynamic_min=value, memory_dynamic_max=value)


@handler("VM", "set_VCPUs_max")
def vm_set_vcpus_max(ctx: Context, vm, value):
    _rules(ctx).check(ctx.db, vm, "changing_VCPUs")
    rec = ctx.db.get("VM", vm)
    if value < 1 or value < rec["VCPUs_at_startup"]:
        raise XapiError("INVALID_VALUE", "VCPUs_max", value)
    ctx.db.set("VM", vm, "VCPUs_max", value)
    ctx.db.set("VM", vm, "memory_overhead", memory_overhead(ctx.db.get("VM", vm)))


@handler("VM", "set_VCPUs_at_startup")
def vm_set_vcpus_at_startup(ctx: Context, vm, value):
    rec = ctx.db.get("VM", vm)
    if value < 1 or value > rec["VCPUs_max"]:
        raise XapiError("INVALID_VALUE", "VCPUs_at_startup", value)
    ctx.db.set("VM", vm, "VCPUs_at_startup", value)


@handler("VM", "set_ha_restart_priority")
def vm_set_ha_restart_priority(ctx: Context, vm, value):
    if value not in ("restart", "best-effort", ""):
        raise XapiError("INVALID_VALUE", "ha_restart_priority", value)
    rec = ctx.db.get("VM", vm)
    upd = {"ha_restart_priority": value}
    if rec["power_state"] != "Halted":
        upd["ha_always_run"] = value == "restart"
    ctx.db.update("VM", vm, upd)


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
    err = host_problem(ctx, vm, host)
    if err is not None:
        raise err


@handler("VM", "get_possible_hosts", write=False)
def vm_possible_hosts(ctx: Context, vm):
    return [h for h in ctx.db.refs("host") if host_problem(ctx, vm, h) is None]


@handler("VM", "compute_memory_overhead", write=False)
def vm_compute_memory_overhead(ctx: Context, vm):
    return memory_overhead(ctx.db.get("VM", vm))


def vm_sources(ctx: Context, vm: str) -> dict:
    db = ctx.db
    rec = db.get("VM", vm)
    if rec["power_state"] != "Running":
        return {}
    out = {"memory": float(rec["memory_dynamic_max"]),
           "memory_internal_free": figure(ctx.world, rec["uuid"] + "mem", rec["memory_dynamic_max"] / 2048.0, rec["memory_dynamic_max"] / 8192.0)}
    for c in range(rec["VCPUs_at_startup"]):
        out["cpu%d" % c] = figure(ctx.world, "%s-cpu%d" % (rec["uuid"], c), 0.15, 0.1)
    out["cpu_usage"] = sum(out["cpu%d" % c] for c in range(rec["VCPUs_at_startup"])) / max(1, rec["VCPUs_at_startup"])
    for vbd in rec["VBDs"]:
        dev = db.get("VBD", vbd)["device"] or "xvd?"
        out["vbd_%s_read" % dev] = figure(ctx.world, vbd + "r", 2e5, 1.5e5)
        out["vbd_%s_write" % dev] = figure(ctx.world, vbd + "w", 1e5, 8e4)
    for vif in rec["VIFs"]:
        dev = db.get("VIF", vif)["device"]
        out["vif_%s_rx" % dev] = figure(ctx.world, vif + "rx", 5e4, 4e4)
        out["vif_%s_tx" % dev] = figure(ctx.world, vif + "tx", 3e4, 2e4)
    return out


@handler("VM", "query_data_source", write=False)
def vm_query_data_source(ctx: Context, vm, name):
    values = vm_sources(ctx, vm)
    if name not in values:
        raise XapiError("INTERNAL_ERROR", "Rrd_interface.Internal_error(\"Not_found\")")
    return float(values[name])


@handler("VM", "get_data_sources", write=False)
def vm_get_data_sources(ctx: Context, vm):
    return _sources_list(vm_sources(ctx, vm))


@handler("VM", "record_data_source")
def vm_record_data_source(ctx: Context, vm, _name):
    ctx.db.get("VM", vm)
