# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SR lifecycle and the lvmoiscsi driver's behaviour against a simulated iSCSI fabric (semantics 3.x).

The fabric is the union of static targets (world.iscsi, from the datacenter
file's `iscsi_targets` or POST /sim/iscsi/targets) and, with --ontap-control,
what the ONTAP simulator reports as visible to the host's initiator
(GET <ontap control>/ontap/visible?initiator=IQN). A LUN remembers the SR uuid
written on it (world.lun_sr, by SCSI id), which is what probe reports and what
SR.create overwrites.
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid as uuidlib
from xml.dom import minidom

from .dispatch import Context, handler
from .model import MIB
from .spec import NULL_REF, XapiError
from .state import Database, World

ISCSI_TYPES = ("lvmoiscsi", "lvhdoiscsi")
SUPPORTED_TYPES = ("lvm", "ext", "nfs", "iso", "lvmoiscsi", "lvhdoiscsi", "udev", "file")
SR_CREATE_SECONDS = 5.0


def sm_error(world: World, name: str, stderr: str = "") -> XapiError:
    """SR_BACKEND_FAILURE_<n> ["", <text>, <stderr>] like xapi's sm_exec translation."""
    number = world.spec.raw["sm_backend_error_codes"]["codes"][name]
    return XapiError("SR_BACKEND_FAILURE_%d" % number, "", name, stderr)


def normalise_target(conf: dict) -> dict:
    """Fabric entry with defaults; sizes may be given as size_gib or size (bytes)."""
    luns = []
    for i, lun in enumerate(conf.get("luns") or []):
        size = int(lun["size"]) if "size" in lun else int(float(lun.get("size_gib", 10)) * 1024 * MIB)
        luns.append({"scsi_id": str(lun["scsi_id"]), "size": size, "serial": str(lun.get("serial", lun["scsi_id"][-12:])),
                     "vendor": str(lun.get("vendor", "NETAPP")), "lun_id": int(lun.get("lun_id", i)),
                     "initiators": [str(x) for x in lun.get("initiators") or []], "sr_uuid": str(lun.get("sr_uuid", ""))})
    return {"address": str(conf["address"]), "port": int(conf.get("port", 3260)), "iqn": str(conf["iqn"]),
            "chap_user": str(conf.get("chap_user", "")), "chap_password": str(conf.get("chap_password", "")), "luns": luns}


def upsert_target(world: World, conf: dict) -> dict:
    target = normalise_target(conf)
    with world.lock:
        for lun in target["luns"]:
            if lun["sr_uuid"]:
                world.lun_sr[lun["scsi_id"]] = lun["sr_uuid"]
        world.iscsi = [t for t in world.iscsi if (t["address"], t["iqn"]) != (target["address"], target["iqn"])] + [target]
    return target


def ontap_targets(world: World, iqn: str) -> list[dict]:
    """Targets/LUNs the ONTAP simulator says this initiator can see (empty when unreachable)."""
    url = "%s/ontap/visible?initiator=%s" % (world.ontap_control.rstrip("/"), urllib.parse.quote(iqn, safe=""))
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:  # nosec - loopback control API
            data = json.loads(resp.read().decode("utf-8"))
    except (OSError, ValueError):
        return []
    grouped: dict[tuple, dict] = {}
    for entry in data.get("luns") or []:
        for portal in entry.get("portals") or []:
            address, _sep, port = str(portal).rpartition(":")
            if not address:
                address, port = str(portal), "3260"
            key = (address, int(port), entry["target_iqn"])
            target = grouped.setdefault(key, {"address": address, "port": int(port), "iqn": entry["target_iqn"],
                                              "chap_user": "", "chap_password": "", "luns": []})
            target["luns"].append({"scsi_id": entry["scsi_id"], "size": int(entry["size"]), "serial": entry.get("serial", ""),
                                   "vendor": "NETAPP", "lun_id": int(entry.get("lun_id", 0)), "initiators": [],
                                   "sr_uuid": ""})
    return list(grouped.values())


def fabric(world: World, iqn: str) -> list[dict]:
    targets = list(world.iscsi)
    if world.ontap_control:
        targets += ontap_targets(world, iqn)
    for target in targets:
        for lun in target["luns"]:
            lun["sr_uuid"] = world.lun_sr.get(lun["scsi_id"], "")
    return targets


def set_lun_sr(world: World, scsi_id: str, sr_uuid: str) -> None:
    if sr_uuid:
        world.lun_sr[scsi_id] = sr_uuid
    else:
        world.lun_sr.pop(scsi_id, None)


def _pretty(doc: minidom.Document) -> str:
    return doc.toprettyxml()


def _element(doc, parent, name: str, text) -> None:
    node = doc.createElement(name)
    node.appendChild(doc.createTextNode(str(text)))
    parent.appendChild(node)


def _secret_value(db: Database, config: dict, key: str) -> str:
    if key in config:
        return config[key]
    ref = db.uuids["secret"].get(config.get(key + "_secret", ""))
    return db.get("secret", ref)["value"] if ref else ""


def _host_iqn(db: Database, host: str, config: dict) -> str:
    rec = db.get("host", host)
    return config.get("localIQN") or rec["other_config"].get("iscsi_iqn", "") or rec["iscsi_iqn"]


def _visible(lun: dict, iqn: str) -> bool:
    return not lun["initiators"] or iqn in lun["initiators"]


def iscsi_resolve(ctx: Context, host: str, config: dict, need_lun: bool):
    """Walk the probe stages; returns (target, lun) or raises the stage's SM error."""
    world, db = ctx.world, ctx.db
    if not config.get("target"):
        raise sm_error(world, "ConfigTargetMissing")
    iqn = _host_iqn(db, host, config)
    if not iqn:
        raise sm_error(world, "ConfigISCSIIQNMissing")
    try:
        port = int(config.get("port", 3260))
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise sm_error(world, "ISCSIPort")
    portals = [p.strip() for p in config["target"].split(",") if p.strip()]
    everything = fabric(world, iqn)
    reachable = [t for t in everything if t["address"] in portals and t["port"] == port]
    if not reachable:
        raise sm_error(world, "ISCSITarget")
    user, secret = config.get("chapuser", ""), _secret_value(db, config, "chappassword")
    for target in reachable:
        if target["chap_user"] and (user, secret) != (target["chap_user"], target["chap_password"]):
            raise sm_error(world, "ISCSILogin")
    wanted = config.get("targetIQN", "")
    if not wanted:
        doc = minidom.Document()
        root = doc.createElement("iscsi-target-iqns")
        doc.appendChild(root)
        # sendtargets discovery reports every portal of the targets behind the queried portal
        iqns = {t["iqn"] for t in reachable}
        entries = [(t["address"], t["port"], t["iqn"]) for t in everything if t["iqn"] in iqns]
        entries.append((reachable[0]["address"], port, "*"))
        for index, (address, tport, tiqn) in enumerate(entries):
            tgt = doc.createElement("TGT")
            root.appendChild(tgt)
            _element(doc, tgt, "Index", index)
            _element(doc, tgt, "IPAddress", address)
            if tport != 3260:
                _element(doc, tgt, "Port", tport)
            _element(doc, tgt, "TargetIQN", tiqn)
        raise sm_error(world, "ConfigTargetIQNMissing", _pretty(doc))
    targets = [t for t in reachable if wanted in ("*", t["iqn"])]
    if not targets:
        raise sm_error(world, "ISCSILogin")
    luns = [(t, lun) for t in targets for lun in t["luns"] if _visible(lun, iqn)]
    scsi_id = config.get("SCSIid", "")
    found = [(t, lun) for t, lun in luns if lun["scsi_id"] == scsi_id]
    if not scsi_id or (need_lun and not found):
        doc = minidom.Document()
        root = doc.createElement("iscsi-target")
        doc.appendChild(root)
        for _t, lun in luns:
            node = doc.createElement("LUN")
            root.appendChild(node)
            for name, value in (("vendor", lun["vendor"]), ("serial", lun["serial"]), ("LUNid", lun["lun_id"]),
                                ("size", lun["size"]), ("SCSIid", lun["scsi_id"])):
                _element(doc, node, name, value)
        raise sm_error(world, "ConfigSCSIid", _pretty(doc))
    return found[0] if found else (targets[0], None)


def _move_passwords(db: Database, config: dict) -> dict:
    out = dict(config)
    for key in [k for k in out if k.endswith("password")]:
        secret = db.create("secret", {"value": out.pop(key)})
        out[key + "_secret"] = db.get("secret", secret)["uuid"]
    return out


def _lun_in_use(world: World, scsi_id: str) -> bool:
    for db in world.dbs:
        for pbd in db.tables["PBD"].values():
            if pbd["currently_attached"] and pbd["device_config"].get("SCSIid") == scsi_id:
                return True
    return False


@handler("SR", "probe")
def sr_probe(ctx: Context, host, device_config, sr_type, _sm_config=None):
    if sr_type not in SUPPORTED_TYPES:
        raise XapiError("SR_UNKNOWN_DRIVER", sr_type)
    if sr_type not in ISCSI_TYPES:
        return _pretty(_srlist(None))
    _target, lun = iscsi_resolve(ctx, host, device_config, need_lun=True)
    return _pretty(_srlist(lun))


def _srlist(lun: dict | None) -> minidom.Document:
    doc = minidom.Document()
    root = doc.createElement("SRlist")
    doc.appendChild(root)
    if lun is not None and lun["sr_uuid"]:
        node = doc.createElement("SR")
        root.appendChild(node)
        _element(doc, node, "UUID", lun["sr_uuid"])
        _element(doc, node, "Devlist", "/dev/disk/by-id/scsi-%s" % lun["scsi_id"])
        _element(doc, node, "size", lun["size"])
    return doc


@handler("SR", "probe_ext")
def sr_probe_ext(_ctx: Context, _host, _device_config, _sr_type, _sm_config=None):
    raise XapiError("SR_OPERATION_NOT_SUPPORTED")


@handler("SR", "get_supported_types", write=False)
def sr_supported_types(_ctx: Context):
    return list(SUPPORTED_TYPES)


def _hosts_master_first(db: Database) -> list[str]:
    master = db.get("pool", db.one("pool"))["master"]
    return [master] + sorted(h for h in db.refs("host") if h != master)


@handler("SR", "create", locked=False)
def sr_create(ctx: Context, host, device_config, physical_size, name_label, name_description, sr_type, content_type,
              shared, sm_config=None):
    world = ctx.world
    with world.lock:
        db = ctx.db
        lun = None
        if sr_type not in SUPPORTED_TYPES:
            raise XapiError("SR_UNKNOWN_DRIVER", sr_type)
        if sr_type in ISCSI_TYPES:
            _target, lun = iscsi_resolve(ctx, host, device_config, need_lun=True)
            if _lun_in_use(world, lun["scsi_id"]):
                raise XapiError("SR_DEVICE_IN_USE")
    ctx.work(SR_CREATE_SECONDS)
    with world.lock:
        sr_uuid = str(uuidlib.uuid4())
        size = lun["size"] if lun is not None else int(physical_size)
        extra = {"allocation": device_config.get("allocation", "thick"), "use_vhd": "true"} if sr_type in ISCSI_TYPES else {}
        if sr_type in ISCSI_TYPES and db.get("host", host)["multipathing"]:
            extra["multipathable"] = "true"
        sr = db.create("SR", {"uuid": sr_uuid, "name_label": name_label, "name_description": name_description,
                              "type": sr_type, "content_type": content_type, "shared": bool(shared),
                              "physical_size": size, "physical_utilisation": 4 * MIB, "virtual_allocation": 0,
                              "sm_config": dict(sm_config or {}, **extra),
                              "allowed_operations": ["vdi_create", "vdi_destroy", "scan", "pbd_create", "pbd_destroy",
                                                     "plug", "unplug", "vdi_clone", "vdi_snapshot", "vdi_resize",
                                                     "update", "forget", "destroy"]})
        for target_host in (_hosts_master_first(db) if shared else [host]):
            db.create("PBD", {"host": target_host, "SR": sr, "device_config": _move_passwords(db, device_config),
                              "currently_attached": True})
        if lun is not None:
            set_lun_sr(world, lun["scsi_id"], sr_uuid)
        return sr


@handler("SR", "introduce")
def sr_introduce(ctx: Context, sr_uuid, name_label, name_description, sr_type, content_type, shared, sm_config=None):
    db = ctx.db
    if sr_uuid in db.uuids["SR"]:
        raise XapiError("SR_UUID_EXISTS", sr_uuid)
    return db.create("SR", {"uuid": sr_uuid or str(uuidlib.uuid4()), "name_label": name_label,
                            "name_description": name_description, "type": sr_type, "content_type": content_type,
                            "shared": bool(shared), "sm_config": dict(sm_config or {}), "physical_size": -1,
                            "physical_utilisation": -1, "virtual_allocation": 0})


def _forget_records(db: Database, sr: str) -> None:
    for vdi in list(db.get("SR", sr)["VDIs"]):
        for vbd in list(db.get("VDI", vdi)["VBDs"]):
            db.destroy("VBD", vbd)
        db.destroy("VDI", vdi)
    for pbd in list(db.get("SR", sr)["PBDs"]):
        for key, value in db.get("PBD", pbd)["device_config"].items():
            if key.endswith("_secret") and value in db.uuids["secret"]:
                db.destroy("secret", db.uuids["secret"][value])
        db.destroy("PBD", pbd)
    pool = db.one("pool")
    for field in ("default_SR", "suspend_image_SR", "crash_dump_SR"):
        if db.get("pool", pool)[field] == sr:
            db.set("pool", pool, field, NULL_REF)
    db.destroy("SR", sr)


def _assert_unplugged(db: Database, sr: str) -> None:
    if any(db.get("PBD", p)["currently_attached"] for p in db.get("SR", sr)["PBDs"]):
        raise XapiError("SR_HAS_PBD", sr)


@handler("SR", "forget")
def sr_forget(ctx: Context, sr):
    _assert_unplugged(ctx.db, sr)
    _forget_records(ctx.db, sr)


@handler("SR", "destroy")
def sr_destroy(ctx: Context, sr):
    db = ctx.db
    rec = db.get("SR", sr)
    _assert_unplugged(db, sr)
    if rec["other_config"].get("indestructible") == "true":
        raise XapiError("SR_INDESTRUCTIBLE", sr)
    if rec["VDIs"]:
        raise XapiError("SR_NOT_EMPTY")
    for scsi_id, sr_uuid in list(ctx.world.lun_sr.items()):
        if sr_uuid == rec["uuid"]:
            set_lun_sr(ctx.world, scsi_id, "")
    _forget_records(db, sr)


@handler("SR", "update")
def sr_update(ctx: Context, sr):
    ctx.db.get("SR", sr)


@handler("PBD", "plug")
def pbd_plug(ctx: Context, pbd):
    db = ctx.db
    rec = db.get("PBD", pbd)
    if rec["currently_attached"]:
        return
    srrec = db.get("SR", rec["SR"])
    if not srrec["shared"]:
        for other in srrec["PBDs"]:
            orec = db.get("PBD", other)
            if other != pbd and orec["currently_attached"]:
                raise XapiError("SR_NOT_SHARABLE", rec["SR"], orec["host"])
    if srrec["type"] in ISCSI_TYPES:
        _target, lun = iscsi_resolve(ctx, rec["host"], rec["device_config"], need_lun=True)
        if lun["sr_uuid"] != srrec["uuid"]:
            raise sm_error(ctx.world, "SRUnavailable")
        if srrec["physical_size"] < 0:
            db.update("SR", rec["SR"], {"physical_size": lun["size"], "physical_utilisation": 4 * MIB})
    db.set("PBD", pbd, "currently_attached", True)


def create_member_pbds(db: Database, host: str) -> None:
    """What xapi does when a member starts after pool.join: PBDs for shared SRs it lacks (plug attempted later)."""
    pool = db.get("pool", db.one("pool"))
    if pool["other_config"].get("sync_create_pbds") == "nosync":
        return
    for sr, rec in db.tables["SR"].items():
        if not rec["shared"] or any(db.get("PBD", p)["host"] == host for p in rec["PBDs"]):
            continue
        master_pbd = next((p for p in rec["PBDs"] if db.get("PBD", p)["host"] == pool["master"]), None)
        config = dict(db.get("PBD", master_pbd)["device_config"]) if master_pbd else {}
        config.pop("SRmaster", None)
        db.create("PBD", {"host": host, "SR": sr, "device_config": config, "currently_attached": False})
