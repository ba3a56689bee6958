# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Virtual devices and storage objects: VBD, VIF, VDI, PBD, SR (semantics 3.5-3.7, 5.5)."""
from __future__ import annotations

import copy
import re
import uuid as uuidlib

from . import san
from .dispatch import Context, constructor_values, handler
from .model import DURATIONS, MIB, mac_for
from .spec import NULL_REF, XapiError

LVM_TYPES = ("lvm", "lvmoiscsi", "lvhdoiscsi", "lvmohba", "lvhd", "lvmofcoe")
VDI_COPIED_FIELDS = ("name_label", "name_description", "virtual_size", "type", "sharable", "read_only", "other_config",
                     "xenstore_data", "sm_config", "tags")
MAC_RE = re.compile(r"^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$")
VBD_NAMES = {"xvd%s" % chr(ord("a") + i): i for i in range(26)}
VBD_NAMES.update({"hd%s" % chr(ord("a") + i): i for i in range(4)})
VBD_NAMES.update({"sd%s" % chr(ord("a") + i): i for i in range(26)})


def round_size(sr_type: str, size: int) -> int:
    if sr_type in LVM_TYPES:
        step = 2 * MIB
        return max(step, -(-size // step) * step)
    return size


def _new_vdi_like(ctx: Context, vdi: str, sr: str | None) -> str:
    db = ctx.db
    src = db.get("VDI", vdi)
    values = {k: copy.deepcopy(src[k]) for k in VDI_COPIED_FIELDS}
    values["SR"] = sr if sr not in (None, NULL_REF) else src["SR"]
    values["location"] = str(uuidlib.uuid4())
    values["physical_utilisation"] = src["physical_utilisation"]
    return db.create("VDI", values)


@handler("VDI", "snapshot")
def vdi_snapshot(ctx: Context, vdi, _driver_params=None):
    new = _new_vdi_like(ctx, vdi, None)
    ctx.db.update("VDI", new, {"is_a_snapshot": True, "snapshot_of": vdi, "snapshot_time": ctx.world.clock.now_dt()})
    _account_sr(ctx, ctx.db.get("VDI", new)["SR"])
    return new


# --------------------------------------------------------------------------- VBD
def _device_number(value: str) -> int | None:
    if value.isdigit():
        return int(value)
    return VBD_NAMES.get(value)


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
    return db.create("VBD", values)


@handler("VBD", "destroy")
def vbd_destroy(ctx: Context, vbd):
    rec = ctx.db.get("VBD", vbd)
    if rec["currently_attached"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "VBD '%s' still attached to '%s'" % (rec["uuid"], ctx.db.get("VM", rec["VM"])["uuid"]))
    ctx.db.destroy("VBD", vbd)


def _require_running(ctx: Context, vm: str) -> None:
    state = ctx.db.get("VM", vm)["power_state"]
    if state != "Running":
        raise XapiError("VM_BAD_POWER_STATE", vm, "running", state.lower())


@handler("VBD", "plug")
def vbd_plug(ctx: Context, vbd):
    rec = ctx.db.get("VBD", vbd)
    _require_running(ctx, rec["VM"])
    dev = rec["userdevice"]
    ctx.db.update("VBD", vbd, {"currently_attached": True,
                               "device": "xvd%s" % chr(ord("a") + int(dev)) if dev.isdigit() and int(dev) < 26 else dev})


@handler("VBD", "unplug")
@handler("VBD", "unplug_force")
def vbd_unplug(ctx: Context, vbd):
    rec = ctx.db.get("VBD", vbd)
    _require_running(ctx, rec["VM"])
    if not rec["currently_attached"]:
        raise XapiError("DEVICE_ALREADY_DETACHED", vbd)
    ctx.db.update("VBD", vbd, {"currently_attached": False})


@handler("VBD", "insert")
def vbd_insert(ctx: Context, vbd, vdi):
    rec = ctx.db.get("VBD", vbd)
    if rec["type"] != "CD":
        raise XapiError("VBD_NOT_REMOVABLE_MEDIA", vbd)
    if not rec["empty"]:
        raise XapiError("VBD_NOT_EMPTY", vbd)
    ctx.db.update("VBD", vbd, {"VDI": vdi, "empty": False})


@handler("VBD", "eject")
def vbd_eject(ctx: Context, vbd):
    rec = ctx.db.get("VBD", vbd)
    if rec["type"] != "CD":
        raise XapiError("VBD_NOT_REMOVABLE_MEDIA", vbd)
    if rec["empty"]:
        raise XapiError("VBD_IS_EMPTY", vbd)
    ctx.db.update("VBD", vbd, {"VDI": NULL_REF, "empty": True})


# --------------------------------------------------------------------------- VIF
@handler("VIF", "create")
def vif_create(ctx: Context, record):
    db = ctx.db
    values = constructor_values(ctx, "VIF", ctx.spec.messages["VIF"]["create"], record)
    vm = values["VM"]
    vmrec = db.get("VM", vm)
    db.get("network", values["network"])
    dev = values["device"]
    if not dev.isdigit():
        raise XapiError("INVALID_DEVICE", dev)
    if any(db.get("VIF", v)["device"] == dev for v in vmrec["VIFs"]):
        raise XapiError("DEVICE_ALREADY_EXISTS", dev)
    if values.get("MAC", "") == "":
        values["MAC"] = mac_for(vmrec["other_config"].get("mac_seed", vm), dev)
        values["MAC_autogenerated"] = True
    elif not MAC_RE.match(values["MAC"]):
        raise XapiError("MAC_INVALID", values["MAC"])
    values["currently_attached"] = False
    return db.create("VIF", values)


@handler("VIF", "destroy")
def vif_destroy(ctx: Context, vif):
    rec = ctx.db.get("VIF", vif)
    if rec["currently_attached"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "VIF currently attached")
    ctx.db.destroy("VIF", vif)


@handler("VIF", "plug")
def vif_plug(ctx: Context, vif):
    _require_running(ctx, ctx.db.get("VIF", vif)["VM"])
    ctx.db.set("VIF", vif, "currently_attached", True)


@handler("VIF", "unplug")
@handler("VIF", "unplug_force")
def vif_unplug(ctx: Context, vif):
    _require_running(ctx, ctx.db.get("VIF", vif)["VM"])
    ctx.db.set("VIF", vif, "currently_attached", False)


# --------------------------------------------------------------------------- VDI / SR / PBD
def _account_sr(ctx: Context, sr: str) -> None:
    """Refresh the SR's usage from its VDIs and write the VDI set to the storage medium (see san.py)."""
    san.account(ctx.db, sr)
    san.persist_sr(ctx.world, ctx.db, sr)


@handler("VDI", "create")
def vdi_create(ctx: Context, record):
    db = ctx.db
    values = constructor_values(ctx, "VDI", ctx.spec.messages["VDI"]["create"], record)
    sr = values["SR"]
    srrec = db.get("SR", sr)
    if not any(db.get("PBD", p)["currently_attached"] for p in srrec["PBDs"]):
        raise XapiError("SR_NO_PBDS", sr)
    size = round_size(srrec["type"], values["virtual_size"])
    if srrec["type"] in LVM_TYPES and size > 2040 * 1024 * MIB:
        raise XapiError("SR_BACKEND_FAILURE_79", "", "VDI Invalid size", "")
    if srrec["type"] in LVM_TYPES and size > srrec["physical_size"] - srrec["physical_utilisation"]:
        raise XapiError("SR_BACKEND_FAILURE_44", "", "There is insufficient space", "")
    values["virtual_size"] = size
    values["location"] = str(uuidlib.uuid4())
    values["physical_utilisation"] = size if srrec["type"] in LVM_TYPES else 0
    vdi = db.create("VDI", values)
    _account_sr(ctx, sr)
    return vdi


def _vdi_in_running_use(ctx: Context, vdi: str) -> bool:
    db = ctx.db
    return any(db.get("VBD", v)["currently_attached"] for v in db.get("VDI", vdi)["VBDs"] if v in db.tables["VBD"])


@handler("VDI", "destroy")
def vdi_destroy(ctx: Context, vdi):
    db = ctx.db
    if _vdi_in_running_use(ctx, vdi):
        raise XapiError("VDI_IN_USE", vdi, "destroy")
    sr = db.get("VDI", vdi)["SR"]
    for vbd in list(db.get("VDI", vdi)["VBDs"]):
        db.destroy("VBD", vbd)
    db.destroy("VDI", vdi)
    if sr in db.tables["SR"]:
        _account_sr(ctx, sr)


@handler("VDI", "resize")
@handler("VDI", "resize_online")
def vdi_resize(ctx: Context, vdi, size):
    db = ctx.db
    rec = db.get("VDI", vdi)
    if ctx.method.endswith("resize") and _vdi_in_running_use(ctx, vdi):
        raise XapiError("VDI_IN_USE", vdi, "resize")
    srtype = db.get("SR", rec["SR"])["type"]
    new = round_size(srtype, size)
    if new < rec["virtual_size"]:
        raise XapiError("SR_BACKEND_FAILURE_79", "", "VDI Invalid size", "shrinking is not supported")
    db.set("VDI", vdi, "virtual_size", new)
    _account_sr(ctx, rec["SR"])


@handler("VDI", "clone")
def vdi_clone(ctx: Context, vdi, _driver_params=None):
    new = _new_vdi_like(ctx, vdi, None)
    _account_sr(ctx, ctx.db.get("VDI", new)["SR"])
    return new


@handler("VDI", "copy", locked=False)
def vdi_copy(ctx: Context, vdi, sr, _base=NULL_REF, _into=NULL_REF):
    ctx.work(DURATIONS["copy"] / 2)
    with ctx.world.lock:
        new = _new_vdi_like(ctx, vdi, sr)
        _account_sr(ctx, ctx.db.get("VDI", new)["SR"])
        return new


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


@handler("PBD", "unplug")
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
