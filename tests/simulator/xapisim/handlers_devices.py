# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Virtual devices and storage objects: VBD, VIF, VDI, PBD, SR (xapi `xapi_vbd.ml`, `xapi_vif.ml`, `xapi_vdi.ml`, `xapi_pbd.ml`).

VBD and VIF operations are checked like xapi's operation tables
(xapi_vbd_helpers.ml / xapi_vif_helpers.ml valid_operations: the first error
set for an operation wins, so the order below is xapi's). VDI operations
check the SR type's SM capabilities (xapi_vdi.ml check_operation_error,
check_sm_feature_error) and the SM driver's own rules; the slow ones hold the
SR's SM lock (sm SRCommand._run_locked: the driver's OPS_EXCLUSIVE commands)
for a time taken from the time model (model.TIME_MODEL).
"""
from __future__ import annotations

import copy
import uuid as uuidlib

from . import san, sm_drivers, sm_errorcodes
from .dispatch import Context, constructor_values, handler
from .model import GIB, MIB, duration, gen_mac, has_pv_drivers, valid_mac
from .spec import NULL_REF, XapiError

LVM_TYPES = ("lvm", "lvmoiscsi", "lvhdoiscsi", "lvmohba", "lvhd", "lvmofcoe")
FILE_TYPES = ("nfs", "ext", "file", "smb")
VDI_COPIED_FIELDS = ("name_label", "name_description", "virtual_size", "type", "sharable", "read_only", "other_config",
                     "xenstore_data", "sm_config", "tags")
VBD_NAMES = {"xvd%s" % chr(ord("a") + i): i for i in range(26)}
VBD_NAMES.update({"hd%s" % chr(ord("a") + i): i for i in range(4)})
VBD_NAMES.update({"sd%s" % chr(ord("a") + i): i for i in range(26)})
# SM driver capabilities (sm libs/sm/drivers/*.py CAPABILITIES): none of the shipped drivers advertises
# VDI_RESIZE_ONLINE, so VDI.resize_online is refused with SR_OPERATION_NOT_SUPPORTED on every SR type.
_LVHD_CAPS = ("SR_PROBE", "SR_UPDATE", "VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH", "VDI_CLONE", "VDI_SNAPSHOT",
              "VDI_RESIZE", "VDI_UPDATE", "VDI_MIRROR", "VDI_ACTIVATE", "VDI_DEACTIVATE")
_FILE_CAPS = _LVHD_CAPS + ("THIN_PROVISIONING",)
SM_CAPABILITIES = {t: _LVHD_CAPS for t in LVM_TYPES}
SM_CAPABILITIES.update({t: _FILE_CAPS for t in FILE_TYPES})
SM_CAPABILITIES.update({"iso": ("VDI_CREATE", "VDI_DELETE", "VDI_ATTACH", "VDI_DETACH", "SR_SCAN", "SR_ATTACH", "SR_DETACH"),
                        "udev": ("VDI_ATTACH", "VDI_DETACH", "SR_SCAN")})
# the drivers the SM table lists: their own CAPABILITIES (sm_drivers.py, from sm's drivers), so VDI operations and
# the SM records cannot disagree
SM_CAPABILITIES.update({t: tuple(c.partition("/")[0] for c in d["capabilities"]) for t, d in sm_drivers.SM_DRIVERS.items()})
VDI_OP_CAPABILITY = {"resize": "VDI_RESIZE", "resize_online": "VDI_RESIZE_ONLINE", "clone": "VDI_CLONE",
                     "snapshot": "VDI_SNAPSHOT", "destroy": "VDI_DELETE"}
# vhdutil.py: VHD sizes are rounded up to 2 MiB blocks and limited to 2040 GiB
VHD_BLOCK = 2 * MIB
MAX_VHD_SIZE = 2040 * GIB


def sm_error(ctx: Context, name: str, opterr: str = "") -> XapiError:
    """SR_BACKEND_FAILURE_<n> ["", description [opterr=...], ""] as xs_errors.XenError renders it."""
    number = ctx.spec.raw["sm_backend_error_codes"]["codes"][name]
    return XapiError("SR_BACKEND_FAILURE_%d" % number, "", sm_errorcodes.text(name, opterr), "")


def round_size(sr_type: str, size: int) -> int:
    if sr_type in LVM_TYPES or sr_type in FILE_TYPES:
        return max(VHD_BLOCK, -(-size // VHD_BLOCK) * VHD_BLOCK)
    return size


def sr_uuid_of(ctx: Context, sr: str) -> str:
    return ctx.db.get("SR", sr)["uuid"]


def sr_type_of_vdi(ctx: Context, vdi: str) -> str:
    return ctx.db.get("SR", ctx.db.get("VDI", vdi)["SR"])["type"]


def _new_vdi_like(ctx: Context, vdi: str, sr: str | None) -> str:
    """The new VDI of VDI.clone / snapshot / copy; what the disk holds (the guest OS) goes with it."""
    db = ctx.db
    src = db.get("VDI", vdi)
    values = {k: copy.deepcopy(src[k]) for k in VDI_COPIED_FIELDS}
    values["SR"] = sr if sr not in (None, NULL_REF) else src["SR"]
    values["location"] = str(uuidlib.uuid4())
    values["physical_utilisation"] = src["physical_utilisation"]
    values["managed"] = True
    new = db.create("VDI", values)
    if "os" in db.meta.get(vdi, {}):
        db.meta.setdefault(new, {})["os"] = dict(db.meta[vdi]["os"])
    return new


def assert_vdi_operation(ctx: Context, vdi: str, op: str) -> None:
    """xapi_vdi.ml check_operation_error for the operations the simulator serves, in its order."""
    db = ctx.db
    rec = db.get("VDI", vdi)
    sr = rec["SR"]
    srrec = db.get("SR", sr)
    running = [(k, v) for k, v in rec["current_operations"].items() if v != "copy"]
    if running:
        raise XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", vdi, running[0][1], running[0][0])
    if op == "resize" and not any(db.get("PBD", p)["currently_attached"] for p in srrec["PBDs"]):
        raise XapiError("SR_NO_PBDS", sr)
    live_ok = op in ("snapshot", "resize_online", "clone")
    attached = [db.get("VBD", v) for v in rec["VBDs"] if v in db.tables["VBD"] and db.get("VBD", v)["currently_attached"]]
    if attached and not live_ok and not (op == "copy" and all(v["mode"] == "RO" for v in attached)):
        raise XapiError("VDI_IN_USE", vdi, op)
    cap = VDI_OP_CAPABILITY.get(op)
    if cap is not None and cap not in SM_CAPABILITIES.get(srrec["type"], _LVHD_CAPS):
        raise XapiError("SR_OPERATION_NOT_SUPPORTED", sr)
    if op in ("resize", "resize_online") and rec["type"] in ("ha_statefile", "redo_log") and \
            db.get("pool", db.one("pool"))["ha_enabled"]:
        raise XapiError("HA_IS_ENABLED")
    if op == "snapshot" and rec["sharable"]:
        raise XapiError("VDI_IS_SHARABLE", vdi)


def _mark_vdi(ctx: Context, vdi: str, op: str) -> str:
    key = ctx.task or "OpaqueRef:%s" % uuidlib.uuid4()
    ctx.db.set("VDI", vdi, "current_operations", dict(ctx.db.get("VDI", vdi)["current_operations"], **{key: op}))
    return key


def _unmark_vdi(ctx: Context, vdi: str, key: str) -> None:
    ctx.released(vdi)
    if vdi in ctx.db.tables["VDI"]:
        ops = {k: v for k, v in ctx.db.get("VDI", vdi)["current_operations"].items() if k != key}
        ctx.db.set("VDI", vdi, "current_operations", ops)


def clone_seconds(ctx: Context, vdi: str) -> float:
    rec = ctx.db.get("VDI", vdi)
    sr_type = sr_type_of_vdi(ctx, vdi)
    return duration(ctx.world, "vdi_clone", sr_type) + duration(ctx.world, "vdi_clone_per_gib", sr_type) * rec["virtual_size"] / GIB


def copy_seconds(ctx: Context, vdi: str, dest_sr_type: str) -> float:
    return duration(ctx.world, "vdi_copy_per_gib", dest_sr_type) * ctx.db.get("VDI", vdi)["virtual_size"] / GIB


def timed_vdi_op(ctx: Context, vdi: str, op: str, seconds: float, span=(0.0, 1.0)) -> None:
    """Mark the VDI, spend `seconds` holding its SR's SM lock (without the world lock), unmark it.
    Called WITHOUT the world lock; raises XapiError from the checks or TASK_CANCELLED."""
    def mark():
        assert_vdi_operation(ctx, vdi, op)
        return sr_uuid_of(ctx, ctx.db.get("VDI", vdi)["SR"]), _mark_vdi(ctx, vdi, op)
    sr_uuid, key = ctx.retry_busy(mark, vdi)  # with_sr_andor_vdi: another operation on the VDI is waited out
    try:
        ctx.sr_work(sr_uuid, seconds, span=span)
    finally:
        with ctx.world.lock:
            _unmark_vdi(ctx, vdi, key)


@handler("VDI", "snapshot", locked=False)
def vdi_snapshot(ctx: Context, vdi, _driver_params=None):
    timed_vdi_op(ctx, vdi, "snapshot", clone_seconds(ctx, vdi))
    with ctx.world.lock:
        new = _new_vdi_like(ctx, vdi, None)
        ctx.db.update("VDI", new, {"is_a_snapshot": True, "snapshot_of": vdi, "snapshot_time": ctx.world.clock.now_dt()})
        _account_sr(ctx, ctx.db.get("VDI", new)["SR"])
        return new


@handler("VDI", "clone", locked=False)
def vdi_clone(ctx: Context, vdi, _driver_params=None):
    timed_vdi_op(ctx, vdi, "clone", clone_seconds(ctx, vdi))
    with ctx.world.lock:
        new = _new_vdi_like(ctx, vdi, None)
        _account_sr(ctx, ctx.db.get("VDI", new)["SR"])
        return new


def copy_vdi_work(ctx: Context, vdi: str, sr: str | None, span=(0.0, 1.0)) -> str:
    """VDI.copy's time: the destination VDI is created under the destination SR's lock (vdi_create), then the
    data streams (sparse_dd, outside the SM lock) at the destination SR type's per-GiB rate; one stream per
    destination SR at a time, so N parallel copies onto one SR take N times as long (shared bandwidth).
    Called WITHOUT the world lock; returns the destination SR."""
    def mark():
        db = ctx.db
        dest = sr if sr not in (None, NULL_REF) else db.get("VDI", vdi)["SR"]
        dest_rec = db.get("SR", dest)
        if dest_rec["content_type"] == "iso" or dest_rec["type"] == "iso":
            raise XapiError("OPERATION_NOT_ALLOWED", "Cannot copy a VDI to an ISO SR")
        assert_vdi_operation(ctx, vdi, "copy")
        _check_space(ctx, dest, db.get("VDI", vdi)["virtual_size"])
        return dest, dest_rec, _mark_vdi(ctx, vdi, "copy")
    dest, dest_rec, key = ctx.retry_busy(mark, vdi)
    with ctx.world.lock:
        create_s = duration(ctx.world, "vdi_create", dest_rec["type"])
        data_s = copy_seconds(ctx, vdi, dest_rec["type"])
        dest_uuid = dest_rec["uuid"]
    middle = span[0] + (span[1] - span[0]) * (create_s / max(create_s + data_s, 1e-9))
    try:
        ctx.sr_work(dest_uuid, create_s, span=(span[0], middle))
        ctx.sr_work(dest_uuid + "/data", data_s, span=(middle, span[1]))
    finally:
        with ctx.world.lock:
            _unmark_vdi(ctx, vdi, key)
    return dest


@handler("VDI", "copy", locked=False)
def vdi_copy(ctx: Context, vdi, sr, _base=NULL_REF, _into=NULL_REF):
    dest = copy_vdi_work(ctx, vdi, sr)
    with ctx.world.lock:
        new = _new_vdi_like(ctx, vdi, dest)
        _account_sr(ctx, dest)
        return new


# --------------------------------------------------------------------------- VBD
def _device_number(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    return VBD_NAMES.get(value)


def linux_device(userdevice: str) -> str:
    """Device_number.to_linux_device: disks 0-25 are xvda..xvdz on either bus (IDE is shown as xvd too)."""
    number = _device_number(userdevice)
    if number is None:
        return userdevice
    out = ""
    number += 1
    while number:
        number, rest = divmod(number - 1, 26)
        out = chr(ord("a") + rest) + out
    return "xvd" + out


@handler("VBD", "create")
def vbd_create(ctx: Context, record):
    db = ctx.db
    values = constructor_values(ctx, "VBD", ctx.spec.messages["VBD"]["create"], record)
    vm = values["VM"]
    db.get("VM", vm)
    if values["type"] == "CD" and values["mode"] != "RO":
        raise XapiError("VBD_CDS_MUST_BE_READONLY")
    if values["empty"] and values["type"] != "CD":
        raise XapiError("VBD_NOT_REMOVABLE_MEDIA", NULL_REF)
    if not values["empty"]:
        vdi = db.get("VDI", values["VDI"])
        if values["mode"] == "RW" and vdi["read_only"]:
            raise XapiError("VDI_READONLY", values["VDI"])
    else:
        values["VDI"] = NULL_REF
    used = {_device_number(db.get("VBD", v)["userdevice"]) for v in db.get("VM", vm)["VBDs"]}
    dev = values["userdevice"]
    if dev == "autodetect":
        free = [i for i in range(255) if i not in used]
        if not free:
            raise XapiError("INVALID_DEVICE", dev)
        values["userdevice"] = str(free[0])
    else:
        number = _device_number(dev)
        if number is None:
            raise XapiError("INVALID_DEVICE", dev)
        if number in used:
            raise XapiError("DEVICE_ALREADY_EXISTS", dev)
    values["currently_attached"] = False
    values["device"] = ""
    vbd = db.create("VBD", values)
    refresh_vbd_operations(ctx, vbd)
    return vbd


@handler("VBD", "destroy")
def vbd_destroy(ctx: Context, vbd):
    rec = ctx.db.get("VBD", vbd)
    if rec["currently_attached"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "VBD '%s' still attached to '%s'" % (rec["uuid"], ctx.db.get("VM", rec["VM"])["uuid"]))
    ctx.db.destroy("VBD", vbd)


VBD_OPERATIONS = ("attach", "eject", "unplug", "unplug_force", "insert", "plug", "pause", "unpause")


def vbd_problems(ctx: Context, vbd: str, sharing_checks: bool = True) -> dict:
    """xapi_vbd_helpers.ml valid_operations: operation -> first error (or None), set in xapi's order."""
    db = ctx.db
    rec = db.get("VBD", vbd)
    vm = rec["VM"]
    vmrec = db.get("VM", vm)
    table: dict[str, XapiError | None] = {op: None for op in VBD_OPERATIONS}

    def set_errors(err: XapiError, ops) -> None:
        for op in ops:
            if table[op] is None:
                table[op] = err
    current = sorted(rec["current_operations"].items(), key=lambda kv: kv[1])
    if current:
        ref, op = current[0]
        set_errors(XapiError("OTHER_OPERATION_IN_PROGRESS", "VBD", vbd, op, ref),
                   [o for o in VBD_OPERATIONS if o not in ("pause", "unpause")])
    if not rec["unpluggable"]:
        set_errors(XapiError("VBD_NOT_UNPLUGGABLE", vbd), ("unplug", "unplug_force"))
    if rec["type"] != "CD":
        set_errors(XapiError("VBD_NOT_REMOVABLE_MEDIA", vbd), ("insert", "eject"))
    if rec["empty"]:
        set_errors(XapiError("VBD_IS_EMPTY", vbd), ("eject",))
    else:
        set_errors(XapiError("VBD_NOT_EMPTY", vbd), ("insert",))
    state = vmrec["power_state"]
    if state == "Running" and rec["currently_attached"]:
        set_errors(XapiError("DEVICE_ALREADY_ATTACHED", vbd), ("plug",))
    elif state == "Running":
        set_errors(XapiError("DEVICE_ALREADY_DETACHED", vbd), ("unplug", "unplug_force"))
    else:
        bad = ["plug", "unplug", "unplug_force"] + ([] if state == "Paused" else ["pause", "unpause"])
        set_errors(XapiError("VM_BAD_POWER_STATE", vm, "running", state.lower()), bad)
    for op in vmrec["current_operations"].values():
        if op in ("clean_shutdown", "hard_shutdown", "suspend", "pause"):
            set_errors(XapiError("OPERATION_NOT_ALLOWED", "Current operation on VM:%s is %s" % (vm, op)), ("plug", "unplug"))
    if state == "Running" and vmrec["domain_type"] == "hvm":
        plug_ops = ("plug", "unplug", "unplug_force")
        gm = db.tables["VM_guest_metrics"].get(vmrec["guest_metrics"])
        hotplug = gm["can_use_hotplug_vbd"] if gm else "unspecified"
        if hotplug == "no":
            set_errors(XapiError("OPERATION_NOT_ALLOWED", "VM states it does not support VBD hotplug."), plug_ops)
        elif hotplug == "unspecified" and not (gm and gm["PV_drivers_detected"]) and not has_pv_drivers(db, vmrec):
            set_errors(XapiError("VM_MISSING_PV_DRIVERS", vm), plug_ops)
        if rec["type"] == "CD":
            set_errors(XapiError("OPERATION_NOT_ALLOWED", "HVM CDROMs cannot be hotplugged/unplugged, only inserted or ejected"),
                       plug_ops)
    if rec["type"] == "CD" and state == "Suspended":
        set_errors(XapiError("VM_BAD_POWER_STATE", vm, "halted, running", "suspended"), ("insert", "eject"))
    if not rec["empty"] and rec["VDI"] in db.tables["VDI"]:
        vdi = rec["VDI"]
        vdirec = db.get("VDI", vdi)
        if not vdirec["managed"]:
            set_errors(XapiError("VDI_NOT_MANAGED", vbd), VBD_OPERATIONS)
        busy = [(k, v) for k, v in vdirec["current_operations"].items() if v not in ("copy", "mirror")]
        if busy:
            set_errors(XapiError("OTHER_OPERATION_IN_PROGRESS", "VDI", vdi, busy[0][1], busy[0][0]), ("attach", "plug", "insert"))
        if not rec["currently_attached"] and sharing_checks:
            _sharing_errors(ctx, vbd, rec, vdi, vdirec, set_errors)
    return table


def _sharing_errors(ctx: Context, vbd: str, rec: dict, vdi: str, vdirec: dict, set_errors) -> None:
    db = ctx.db
    others = []
    for other in vdirec["VBDs"]:
        if other == vbd or other not in db.tables["VBD"]:
            continue
        orec = db.get("VBD", other)
        ovm = db.tables["VM"].get(orec["VM"])
        if ovm is None or ovm["power_state"] == "Suspended" or ovm["is_control_domain"]:
            continue
        if orec["currently_attached"] or orec["current_operations"]:
            others.append(orec)
    someone_rw = any(o["mode"] == "RW" for o in others)
    need_write = rec["mode"] == "RW"
    if not vdirec["sharable"] and (someone_rw or (need_write and others)):
        set_errors(XapiError("VDI_IN_USE", vdi), ("attach", "insert", "plug"))
    if need_write and vdirec["read_only"]:
        set_errors(XapiError("VDI_READONLY", vdi), ("attach", "insert", "plug"))


def assert_vbd_operation(ctx: Context, vbd: str, op: str) -> None:
    err = vbd_problems(ctx, vbd)[op]
    if err is not None:
        raise err


def refresh_vbd_operations(ctx: Context, vbd: str) -> None:
    if vbd in ctx.db.tables["VBD"]:
        table = vbd_problems(ctx, vbd, sharing_checks=False)
        ctx.db.set("VBD", vbd, "allowed_operations", [op for op in VBD_OPERATIONS if table[op] is None])


def attach_vbd(ctx: Context, vbd: str) -> None:
    rec = ctx.db.get("VBD", vbd)
    ctx.db.update("VBD", vbd, {"currently_attached": True, "device": linux_device(rec["userdevice"])})


@handler("VBD", "plug")
def vbd_plug(ctx: Context, vbd):
    assert_vbd_operation(ctx, vbd, "plug")
    rec = ctx.db.get("VBD", vbd)
    vmrec = ctx.db.get("VM", rec["VM"])
    if vmrec["domain_type"] == "hvm" and rec["type"] != "CD" and rec["mode"] == "RO":
        raise XapiError("DISK_VBD_MUST_BE_READWRITE_FOR_HVM", vbd)
    attach_vbd(ctx, vbd)
    refresh_vbd_operations(ctx, vbd)


@handler("VBD", "unplug")
@handler("VBD", "unplug_force")
def vbd_unplug(ctx: Context, vbd):
    assert_vbd_operation(ctx, vbd, "unplug_force" if ctx.method.endswith("unplug_force") else "unplug")
    ctx.db.update("VBD", vbd, {"currently_attached": False, "device": ""})
    refresh_vbd_operations(ctx, vbd)


@handler("VBD", "insert")
def vbd_insert(ctx: Context, vbd, vdi):
    """message_forwarding.ml VBD.insert: the operation table, then (xapi_vbd.ml assert_ok_to_insert) not suspended,
    removable, empty, managed VDI. A halted VM's drive just gets the VDI; a running PV guest's drive is plugged
    with it; an HVM guest's emulated drive has the medium inserted (xapi_xenops.ml vbd_insert)."""
    db = ctx.db
    assert_vbd_operation(ctx, vbd, "insert")
    if not db.get("VDI", vdi)["managed"]:
        raise XapiError("VDI_NOT_MANAGED", vdi)
    rec = db.get("VBD", vbd)
    vmrec = db.get("VM", rec["VM"])
    db.update("VBD", vbd, {"VDI": vdi, "empty": False})
    if vmrec["power_state"] == "Running" and not rec["currently_attached"]:
        attach_vbd(ctx, vbd)
    refresh_vbd_operations(ctx, vbd)


@handler("VBD", "eject")
def vbd_eject(ctx: Context, vbd):
    db = ctx.db
    assert_vbd_operation(ctx, vbd, "eject")
    rec = db.get("VBD", vbd)
    vmrec = db.get("VM", rec["VM"])
    values = {"VDI": NULL_REF, "empty": True}
    if vmrec["power_state"] == "Running" and vmrec["domain_type"] != "hvm":
        values.update({"currently_attached": False, "device": ""})  # a PV guest's drive is unplugged, then emptied
    db.update("VBD", vbd, values)
    refresh_vbd_operations(ctx, vbd)


@handler("VBD", "assert_attachable", write=False)
def vbd_assert_attachable(ctx: Context, vbd):
    assert_vbd_operation(ctx, vbd, "attach")


# --------------------------------------------------------------------------- VIF
VIF_OPERATIONS = ("attach", "plug", "unplug")


@handler("VIF", "create")
def vif_create(ctx: Context, record):
    """xapi_vif_helpers.ml create, in its order: INVALID_DEVICE, the MAC (generated from other_config:mac_seed
    when "" and the VM has a seed), MAC_INVALID, then DEVICE_ALREADY_EXISTS."""
    db = ctx.db
    values = constructor_values(ctx, "VIF", ctx.spec.messages["VIF"]["create"], record)
    vm = values["VM"]
    vmrec = db.get("VM", vm)
    db.get("network", values["network"])
    dev = values["device"]
    if not dev.isdigit():
        raise XapiError("INVALID_DEVICE", dev)
    mac = values.get("MAC", "")
    seed = vmrec["other_config"].get("mac_seed")
    if seed is not None and mac == "":
        values["MAC"], values["MAC_autogenerated"] = gen_mac(seed, int(dev)), True
    else:
        values["MAC_autogenerated"] = False
    if not valid_mac(values["MAC"]):
        raise XapiError("MAC_INVALID", values["MAC"])
    if any(int(db.get("VIF", v)["device"]) == int(dev) for v in vmrec["VIFs"]):
        raise XapiError("DEVICE_ALREADY_EXISTS", dev)
    values["currently_attached"] = False
    vif = db.create("VIF", values)
    refresh_vif_operations(ctx, vif)
    return vif


@handler("VIF", "destroy")
def vif_destroy(ctx: Context, vif):
    rec = ctx.db.get("VIF", vif)
    if rec["currently_attached"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "VIF currently attached")
    ctx.db.destroy("VIF", vif)


def vif_problems(ctx: Context, vif: str) -> dict:
    """xapi_vif_helpers.ml valid_operations in its order."""
    db = ctx.db
    rec = db.get("VIF", vif)
    vm = rec["VM"]
    vmrec = db.get("VM", vm)
    table: dict[str, XapiError | None] = {op: None for op in VIF_OPERATIONS}

    def set_errors(err: XapiError, ops) -> None:
        for op in ops:
            if table[op] is None:
                table[op] = err
    if rec["current_operations"]:
        refs = "{%s}" % "; ".join(rec["current_operations"])
        ops = "{%s}" % "; ".join(rec["current_operations"].values())
        set_errors(XapiError("OTHER_OPERATION_IN_PROGRESS", "VIF", vif, ops, refs), VIF_OPERATIONS)
    if vmrec["is_control_domain"]:
        set_errors(XapiError("OPERATION_NOT_ALLOWED", "Control domain does not support hotplug"), ("plug",))
    state = vmrec["power_state"]
    if state == "Running" and rec["currently_attached"]:
        set_errors(XapiError("DEVICE_ALREADY_ATTACHED", vif), ("plug",))
    elif state == "Running":
        set_errors(XapiError("DEVICE_ALREADY_DETACHED", vif), ("unplug",))
    else:
        set_errors(XapiError("VM_BAD_POWER_STATE", vm, "running", state.lower()), ("plug", "unplug"))
    for op in vmrec["current_operations"].values():
        if op in ("clean_shutdown", "hard_shutdown", "suspend", "pause"):
            set_errors(XapiError("OPERATION_NOT_ALLOWED", "Current operation on VM:%s is %s" % (vm, op)), ("plug", "unplug"))
    if state == "Running" and vmrec["domain_type"] == "hvm":
        gm = db.tables["VM_guest_metrics"].get(vmrec["guest_metrics"])
        hotplug = gm["can_use_hotplug_vif"] if gm else "unspecified"
        if hotplug == "no":
            set_errors(XapiError("OPERATION_NOT_ALLOWED", "VM states it does not support VIF hotplug."), ("plug", "unplug"))
        elif hotplug == "unspecified" and not (gm and gm["PV_drivers_detected"]) and not has_pv_drivers(db, vmrec):
            set_errors(XapiError("VM_MISSING_PV_DRIVERS", vm), ("plug", "unplug"))
    return table


def refresh_vif_operations(ctx: Context, vif: str) -> None:
    if vif in ctx.db.tables["VIF"]:
        table = vif_problems(ctx, vif)
        ctx.db.set("VIF", vif, "allowed_operations", [op for op in VIF_OPERATIONS if table[op] is None])


@handler("VIF", "plug")
def vif_plug(ctx: Context, vif):
    err = vif_problems(ctx, vif)["plug"]
    if err is not None:
        raise err
    ctx.db.set("VIF", vif, "currently_attached", True)
    refresh_vif_operations(ctx, vif)


@handler("VIF", "unplug")
@handler("VIF", "unplug_force")
def vif_unplug(ctx: Context, vif):
    err = vif_problems(ctx, vif)["unplug"]
    if err is not None:
        raise err
    ctx.db.set("VIF", vif, "currently_attached", False)
    refresh_vif_operations(ctx, vif)


# --------------------------------------------------------------------------- VDI / SR / PBD
def _account_sr(ctx: Context, sr: str) -> None:
    """Refresh the SR's usage from its VDIs and write the VDI set to the storage medium (see san.py)."""
    if ctx.world.bulk is not None:
        ctx.world.bulk["srs"].add((id(ctx.db), sr))
        return
    san.account(ctx.db, sr)
    san.persist_sr(ctx.world, ctx.db, sr)


def _check_space(ctx: Context, sr: str, size: int) -> None:
    """LVHD (thick) allocates the whole virtual size: SRNoSpace (44) when the VG has not got it."""
    srrec = ctx.db.get("SR", sr)
    if srrec["type"] in LVM_TYPES and srrec["physical_size"] >= 0 and \
            size > srrec["physical_size"] - srrec["physical_utilisation"]:
        raise sm_error(ctx, "SRNoSpace")


def vdi_create_checks(ctx: Context, values: dict) -> int:
    """The checks of VDI.create (SR attached somewhere, VHD size limits, space); returns the rounded size."""
    db = ctx.db
    sr = values["SR"]
    srrec = db.get("SR", sr)
    if not any(db.get("PBD", p)["currently_attached"] for p in srrec["PBDs"]):
        raise XapiError("SR_NO_PBDS", sr)
    if "VDI_CREATE" not in SM_CAPABILITIES.get(srrec["type"], _LVHD_CAPS):
        raise XapiError("SR_OPERATION_NOT_SUPPORTED", sr)
    size = int(values["virtual_size"])
    if srrec["type"] in LVM_TYPES or srrec["type"] in FILE_TYPES:
        if size < 0 or size > MAX_VHD_SIZE:
            raise sm_error(ctx, "VDISize", "VDI size must be between 1 MB and %d MB" % (MAX_VHD_SIZE // MIB))
    size = round_size(srrec["type"], size)
    _check_space(ctx, sr, size)
    return size


def create_vdi(ctx: Context, values: dict, span=(0.0, 1.0)) -> str:
    """VDI.create's work: checks, the SR's SM lock held for the vdi_create time, then the record.
    Called WITHOUT the world lock."""
    with ctx.world.lock:
        vdi_create_checks(ctx, values)
        srrec = ctx.db.get("SR", values["SR"])
        seconds, sr_uuid = duration(ctx.world, "vdi_create", srrec["type"]), srrec["uuid"]
    ctx.sr_work(sr_uuid, seconds, span=span)
    with ctx.world.lock:
        return create_vdi_record(ctx, values)


def create_vdi_record(ctx: Context, values: dict) -> str:
    """The database side of VDI.create (world lock held)."""
    db = ctx.db
    values = dict(values)
    sr = values["SR"]
    srrec = db.get("SR", sr)
    values["virtual_size"] = vdi_create_checks(ctx, values)
    values.setdefault("location", str(uuidlib.uuid4()))
    values["managed"] = True
    values["physical_utilisation"] = values["virtual_size"] if srrec["type"] in LVM_TYPES else 0
    vdi = db.create("VDI", values)
    _account_sr(ctx, sr)
    return vdi


@handler("VDI", "create", locked=False)
def vdi_create(ctx: Context, record):
    values = constructor_values(ctx, "VDI", ctx.spec.messages["VDI"]["create"], record)
    return create_vdi(ctx, values)


def _vdi_in_running_use(ctx: Context, vdi: str) -> bool:
    db = ctx.db
    return any(db.get("VBD", v)["currently_attached"] for v in db.get("VDI", vdi)["VBDs"] if v in db.tables["VBD"])


@handler("VDI", "destroy", locked=False)
def vdi_destroy(ctx: Context, vdi):
    with ctx.world.lock:
        db = ctx.db
        if _vdi_in_running_use(ctx, vdi):
            raise XapiError("VDI_IN_USE", vdi, "destroy")
        srrec = db.get("SR", db.get("VDI", vdi)["SR"])
        seconds = duration(ctx.world, "vdi_destroy", srrec["type"]) if srrec["type"] != "iso" else 0.0
    timed_vdi_op(ctx, vdi, "destroy", seconds)
    with ctx.world.lock:
        db = ctx.db
        if vdi not in db.tables["VDI"]:
            return
        sr = db.get("VDI", vdi)["SR"]
        for vbd in list(db.get("VDI", vdi)["VBDs"]):
            db.destroy("VBD", vbd)
        db.destroy("VDI", vdi)
        if sr in db.tables["SR"]:
            _account_sr(ctx, sr)


@handler("VDI", "resize", locked=False)
@handler("VDI", "resize_online", locked=False)
def vdi_resize(ctx: Context, vdi, size):
    """xapi_vdi.ml check_operation_error (SR_NO_PBDS for resize, VDI_IN_USE [vdi, resize] when attached,
    SR_OPERATION_NOT_SUPPORTED when the driver lacks VDI_RESIZE / VDI_RESIZE_ONLINE), then the SM driver
    (LVHDVDI.resize / FileVDI.resize): shrinking refused (VDISize), size rounded to 2 MiB, space checked."""
    op = "resize_online" if ctx.method.endswith("resize_online") else "resize"
    with ctx.world.lock:
        db = ctx.db
        assert_vdi_operation(ctx, vdi, op)
        rec = db.get("VDI", vdi)
        srrec = db.get("SR", rec["SR"])
        if size < rec["virtual_size"]:
            raise sm_error(ctx, "VDISize", "shrinking not allowed")
        if size < 0 or size > MAX_VHD_SIZE:
            raise sm_error(ctx, "VDISize", "VDI size must be between 1 MB and %d MB" % (MAX_VHD_SIZE // MIB))
        new = round_size(srrec["type"], size)
        if srrec["type"] in LVM_TYPES:
            _check_space(ctx, rec["SR"], new - rec["virtual_size"])
        seconds = duration(ctx.world, "vdi_resize", srrec["type"]) if new != rec["virtual_size"] else 0.0
    timed_vdi_op(ctx, vdi, op, seconds)
    with ctx.world.lock:
        db = ctx.db
        sr = db.get("VDI", vdi)["SR"]
        values = {"virtual_size": new}
        if db.get("SR", sr)["type"] in LVM_TYPES:
            values["physical_utilisation"] = new
        db.update("VDI", vdi, values)
        _account_sr(ctx, sr)


@handler("SR", "scan")
def sr_scan(ctx: Context, sr):
    _account_sr(ctx, sr)
    other = {k: v for k, v in ctx.db.get("SR", sr)["other_config"].items() if k != "dirty"}
    ctx.db.set("SR", sr, "other_config", other)


@handler("PBD", "create")
def pbd_create(ctx: Context, record):
    db = ctx.db
    values = constructor_values(ctx, "PBD", ctx.spec.messages["PBD"]["create"], record)
    if "SRmaster" in values.get("device_config", {}):
        raise XapiError("VALUE_NOT_SUPPORTED", "device_config", "SRmaster", "This key is for internal use only")
    for pbd in db.get("SR", values["SR"])["PBDs"]:
        if db.get("PBD", pbd)["host"] == values["host"]:
            raise XapiError("PBD_EXISTS", values["SR"], values["host"], pbd)
    config = dict(values.get("device_config", {}))
    for key in [k for k in config if k.endswith("password")]:
        secret = db.create("secret", {"value": config.pop(key)})
        config[key + "_secret"] = db.get("secret", secret)["uuid"]
    values["device_config"] = config
    return db.create("PBD", values)


@handler("PBD", "destroy")
def pbd_destroy(ctx: Context, pbd):
    rec = ctx.db.get("PBD", pbd)
    if rec["currently_attached"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "PBD is currently attached")
    for key, value in rec["device_config"].items():
        if key.endswith("_secret") and value in ctx.db.uuids["secret"]:
            ctx.db.destroy("secret", ctx.db.uuids["secret"][value])
    ctx.db.destroy("PBD", pbd)


def pbd_unplug(ctx: Context, pbd):
    db = ctx.db
    rec = db.get("PBD", pbd)
    if not rec["currently_attached"]:
        return
    in_use = [v for v in db.get("SR", rec["SR"])["VDIs"]
              if any(db.get("VBD", b)["currently_attached"] and db.get("VM", db.get("VBD", b)["VM"])["resident_on"] == rec["host"]
                     for b in db.get("VDI", v)["VBDs"])]
    if in_use:
        raise XapiError("VDI_IN_USE", *in_use)
    db.set("PBD", pbd, "currently_attached", False)
