# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SR lifecycle and the lvmoiscsi / nfs / iso drivers' behaviour against simulated storage (xapi `xapi_sr.ml`, sm's drivers).

The iSCSI fabric is the union of static targets (world.iscsi, from the
datacenter file's `iscsi_targets` or POST /sim/iscsi/targets) and, with
--san/--ontap-control, what the ONTAP simulator reports as visible to the
host's initiator (GET <ontap control>/ontap/visible?initiator=IQN). What is
written ON a LUN or an NFS export (SR uuid, VDI metadata) lives in san.py.
"""
from __future__ import annotations

import json
import urllib.parse
import urllib.request
import uuid as uuidlib
from xml.dom import minidom

from . import handlers_devices, san
from .dispatch import Context, handler
from .model import MIB
from .spec import XapiError
from .state import Database, World

ISCSI_TYPES = ("lvmoiscsi", "lvhdoiscsi")
SUPPORTED_TYPES = ("lvm", "ext", "nfs", "iso", "lvmoiscsi", "lvhdoiscsi", "udev", "file")
SR_CREATE_SECONDS = 5.0
SR_OPERATIONS = ["vdi_create", "vdi_destroy", "scan", "pbd_create", "pbd_destroy", "plug", "unplug", "vdi_clone",
                 "vdi_snapshot", "vdi_resize", "update", "forget", "destroy"]
ISO_SUFFIXES = (".iso", ".img")


def sm_error(world: World, name: str, stderr: str = "") -> XapiError:
    """SR_BACKEND_FAILURE_<n> ["", <text>, <stderr>] like xapi's sm_exec translation."""
    return san.sm_failure(world, name, stderr=stderr)


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
            if lun["sr_uuid"] and san.lun_sr_uuid(world, lun["scsi_id"]) != lun["sr_uuid"]:
                # an SR said to be on the LUN already (legacy document: adopted on the next scan)
                world.lun_data[lun["scsi_id"]] = {"format": san.FORMAT, "sr_uuid": lun["sr_uuid"]}
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

    def entry_for(portal: str, iqn_: str) -> dict:
        address, _sep, port = str(portal).rpartition(":")
        if not address:
            address, port = str(portal), "3260"
        key = (address, int(port), iqn_)
        return grouped.setdefault(key, {"address": address, "port": int(port), "iqn": iqn_,
                                        "chap_user": "", "chap_password": "", "luns": []})
    # discovery answers every initiator; LUN masking (igroups) decides which LUNs it then sees
    for target in data.get("targets") or []:
        for portal in target.get("portals") or []:
            entry_for(portal, target["target_iqn"])["chap_remote"] = bool(target.get("chap"))
    for entry in data.get("luns") or []:
        world.lun_sizes[entry["scsi_id"]] = int(entry["size"])
        for portal in entry.get("portals") or []:
            entry_for(portal, entry["target_iqn"])["luns"].append(
                {"scsi_id": entry["scsi_id"], "size": int(entry["size"]), "serial": entry.get("serial", ""),
                 "vendor": "NETAPP", "lun_id": int(entry.get("lun_id", 0)), "initiators": [], "sr_uuid": ""})
    return list(grouped.values())


def fabric(world: World, iqn: str) -> list[dict]:
    """Every target entry (one per portal) this initiator can discover, with the LUNs it is allowed to see."""
    targets = json.loads(json.dumps(world.iscsi))
    if world.ontap_control:
        targets += ontap_targets(world, iqn)
    return targets


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
    return not lun["initiators"] or iqn.lower() in [i.lower() for i in lun["initiators"]]


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
        if target.get("chap_remote"):
            # the array judges the login; the password goes in a POST body, never in a URL or log
            if not san.ontap_login(world, iqn, target["iqn"], user, secret):
                raise sm_error(world, "ISCSILogin")
        elif target["chap_user"] and (user, secret) != (target["chap_user"], target["chap_password"]):
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
        seen = set()
        for _t, lun in luns:
            if lun["scsi_id"] in seen:  # one LUN reached through several portals is listed once
                continue
            seen.add(lun["scsi_id"])
            node = doc.createElement("LUN")
            root.appendChild(node)
            for name, value in (("vendor", lun["vendor"]), ("serial", lun["serial"]), ("LUNid", lun["lun_id"]),
                                ("size", lun["size"]), ("SCSIid", lun["scsi_id"])):
                _element(doc, node, name, value)
        raise sm_error(world, "ConfigSCSIid", _pretty(doc))
    return found[0] if found else (targets[0], None)


def iscsi_portals(ctx: Context, host: str, config: dict, scsi_id: str) -> list[str]:
    """"address:port" of every portal through which this host reaches the LUN (in discovery order)."""
    iqn = _host_iqn(ctx.db, host, config)
    wanted = config.get("targetIQN", "*")
    out: list[str] = []
    for t in fabric(ctx.world, iqn):
        if wanted in ("*", t["iqn"]) and any(lun["scsi_id"] == scsi_id and _visible(lun, iqn) for lun in t["luns"]):
            portal = "%s:%d" % (t["address"], t["port"])
            if portal not in out:
                out.append(portal)
    return out


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


def _nfs_exports_xml(world: World, server: str) -> str:
    doc = minidom.Document()
    root = doc.createElement("nfs-exports")
    doc.appendChild(root)
    for path in sorted(world.nfs_exports.get(server, {})):
        node = doc.createElement("Export")
        root.appendChild(node)
        _element(doc, node, "Target", server)
        _element(doc, node, "Path", path)
        _element(doc, node, "Accesslist", "*")
    return _pretty(doc)


def nfs_resolve(ctx: Context, config: dict) -> dict:
    """NFSSR checks in driver order: server, nfsversion, reachability, serverpath, mount; returns the export."""
    world = ctx.world
    san.nfs_server_check(world, config)
    if not config.get("serverpath"):
        raise sm_error(world, "ConfigServerPathMissing", _nfs_exports_xml(world, config["server"]))
    export = san.export_of(world, config["server"], config["serverpath"])
    if export is None:
        raise san.sm_failure(world, "NFSMount", "mount.nfs: access denied by server while mounting %s:%s"
                             % (config["server"], config["serverpath"]))
    return export


def iso_resolve(ctx: Context, config: dict) -> tuple[str, str, dict]:
    world = ctx.world
    location = config.get("location", "")
    if not location:
        raise sm_error(world, "ISODconfMissingLocation")
    server, sep, path = location.partition(":")
    export = san.export_of(world, server, path) if sep else None
    if export is None:
        raise san.sm_failure(world, "ISOMountFailure", "mount failed for %s" % location)
    return server, path, export


@handler("SR", "probe", write=False)  # probing leaves no state behind in xapi
def sr_probe(ctx: Context, host, device_config, sr_type, _sm_config=None):
    if sr_type not in SUPPORTED_TYPES:
        raise XapiError("SR_UNKNOWN_DRIVER", sr_type)
    if sr_type == "nfs":
        export = nfs_resolve(ctx, device_config)
        return _pretty(_srlist_uuids(sorted(export["srs"])))
    if sr_type not in ISCSI_TYPES:
        return _pretty(_srlist_uuids([]))
    _target, lun = iscsi_resolve(ctx, host, device_config, need_lun=True)
    return _pretty(_srlist(ctx.world, lun))


def _srlist_uuids(uuids: list[str]) -> minidom.Document:
    doc = minidom.Document()
    root = doc.createElement("SRlist")
    doc.appendChild(root)
    for value in uuids:
        node = doc.createElement("SR")
        root.appendChild(node)
        _element(doc, node, "UUID", value)
    return doc


def _srlist(world: World, lun: dict | None) -> minidom.Document:
    doc = minidom.Document()
    root = doc.createElement("SRlist")
    doc.appendChild(root)
    sr_uuid = san.lun_sr_uuid(world, lun["scsi_id"]) if lun is not None else ""
    if sr_uuid:
        node = doc.createElement("SR")
        root.appendChild(node)
        _element(doc, node, "UUID", sr_uuid)
        _element(doc, node, "Devlist", "/dev/disk/by-id/scsi-%s" % lun["scsi_id"])
        _element(doc, node, "size", lun["size"])
    return doc


@handler("SR", "probe_ext", write=False)
def sr_probe_ext(ctx: Context, host, device_config, sr_type, sm_config=None):
    """xapi_sr.ml probe_ext = call_probe: the driver's probe runs first, so an incomplete device_config fails
    as SR.probe does (SR_BACKEND_FAILURE_<n>); only a probe that succeeds reaches the result conversion, and
    every type served here is an SMAPIv1 driver whose probe answers Raw XML (storage_smapiv1.ml), which
    probe_ext refuses with SR_OPERATION_NOT_SUPPORTED []. probe_result records come only from SMAPIv3
    plugins, which the simulator does not have."""
    sr_probe(ctx, host, device_config, sr_type, sm_config)
    raise XapiError("SR_OPERATION_NOT_SUPPORTED")


@handler("SR", "get_supported_types", write=False)
def sr_supported_types(_ctx: Context):
    return list(SUPPORTED_TYPES)


def _hosts_master_first(db: Database) -> list[str]:
    master = db.get("pool", db.one("pool"))["master"]
    return [master] + sorted(h for h in db.refs("host") if h != master)


def _backend_create(ctx: Context, host: str, sr_type: str, device_config: dict, physical_size) -> tuple[int, tuple | None]:
    """The driver's checks before anything is written: (physical size, medium)."""
    world = ctx.world
    if sr_type in ISCSI_TYPES:
        _target, lun = iscsi_resolve(ctx, host, device_config, need_lun=True)
        if _lun_in_use(world, lun["scsi_id"]):
            raise XapiError("SR_DEVICE_IN_USE")
        return lun["size"], ("lun", lun["scsi_id"])
    if sr_type == "nfs":
        export = nfs_resolve(ctx, device_config)
        return export["size"], ("nfs", device_config["server"], device_config["serverpath"])
    if sr_type == "iso":
        server, path, export = iso_resolve(ctx, device_config)
        return export["size"], ("iso", server, path)
    return int(physical_size), None


@handler("SR", "create", locked=False)
def sr_create(ctx: Context, host, device_config, physical_size, name_label, name_description, sr_type, content_type,
              shared, sm_config=None):
    world = ctx.world
    with world.lock:
        db = ctx.db
        if sr_type not in SUPPORTED_TYPES:
            raise XapiError("SR_UNKNOWN_DRIVER", sr_type)
        # shared: the host argument is ignored, the driver runs on the coordinator
        runner = _hosts_master_first(db)[0] if shared else host
        _backend_create(ctx, runner, sr_type, device_config, physical_size)
    ctx.work(SR_CREATE_SECONDS)
    with world.lock:
        size, medium = _backend_create(ctx, runner, sr_type, device_config, physical_size)
        sr_uuid = str(uuidlib.uuid4())
        extra = {}
        if sr_type in ISCSI_TYPES:  # LVHDSR.create: allocation, use_vhd and the device serial record
            extra = {"allocation": device_config.get("allocation", "thick"), "use_vhd": "true", "devserial": "scsi-" + medium[1]}
        sr = db.create("SR", {"uuid": sr_uuid, "name_label": name_label, "name_description": name_description,
                              "type": sr_type, "content_type": content_type, "shared": bool(shared),
                              "physical_size": size, "physical_utilisation": 4 * MIB if sr_type in ISCSI_TYPES else 0,
                              "virtual_allocation": 0, "sm_config": dict(sm_config or {}, **extra),
                              "allowed_operations": list(SR_OPERATIONS)})
        pbds = [db.create("PBD", {"host": target_host, "SR": sr, "device_config": _move_passwords(db, device_config),
                                  "currently_attached": False})
                for target_host in (_hosts_master_first(db) if shared else [host])]
        if medium is not None and medium[0] != "iso":
            # lvm formats the LUN (any VG on it is gone); nfs creates <serverpath>/<sr uuid>
            san.write_document(world, medium, sr_uuid, san.new_document(sr_uuid, name_label, name_description))
        for pbd in pbds:
            try:
                pbd_plug(Context(world, db, db.get("PBD", pbd)["host"], None, "PBD.plug"), pbd)
            except XapiError:
                pass  # xapi only logs PBD.plug failures after SR.create
        return sr


@handler("SR", "introduce")
def sr_introduce(ctx: Context, sr_uuid, name_label, name_description, sr_type, content_type, shared, sm_config=None):
    db = ctx.db
    if sr_uuid in db.uuids["SR"]:
        raise XapiError("SR_UUID_EXISTS", sr_uuid)
    return db.create("SR", {"uuid": sr_uuid or str(uuidlib.uuid4()), "name_label": name_label,
                            "name_description": name_description, "type": sr_type, "content_type": content_type,
                            "shared": bool(shared), "sm_config": dict(sm_config or {}), "physical_size": -1,
                            "physical_utilisation": -1, "virtual_allocation": 0,
                            "allowed_operations": list(SR_OPERATIONS)})


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
    # pool.default_SR / suspend_image_SR / crash_dump_SR are NOT cleared: xapi leaves the dangling
    # reference (xe shows "<not in database>"), and using it fails with HANDLE_INVALID
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
    if rec["VDIs"] and rec["type"] != "iso":
        raise XapiError("SR_NOT_EMPTY")
    medium = san.sr_medium(ctx.world, db, sr)
    if medium is not None and medium[0] != "iso":
        doc, _size = san.read_document(ctx.world, medium, rec["uuid"])
        if doc is not None:  # the driver removes the VG / the SR directory
            san.write_document(ctx.world, medium, rec["uuid"], None)
    _forget_records(db, sr)


@handler("SR", "update")
def sr_update(ctx: Context, sr):
    ctx.db.get("SR", sr)


def _set_sr_field(ctx: Context, sr, field: str, value) -> None:
    ctx.db.set("SR", sr, field, value)
    san.persist_sr(ctx.world, ctx.db, sr)  # sr_update writes the names into the SR metadata on the storage


@handler("SR", "set_name_label")
def sr_set_name_label(ctx: Context, sr, value):
    _set_sr_field(ctx, sr, "name_label", value)


@handler("SR", "set_name_description")
def sr_set_name_description(ctx: Context, sr, value):
    _set_sr_field(ctx, sr, "name_description", value)


def _set_vdi_field(ctx: Context, vdi, field: str, value) -> None:
    ctx.db.set("VDI", vdi, field, value)
    san.persist_sr(ctx.world, ctx.db, ctx.db.get("VDI", vdi)["SR"])


@handler("VDI", "set_name_label")
def vdi_set_name_label(ctx: Context, vdi, value):
    _set_vdi_field(ctx, vdi, "name_label", value)


@handler("VDI", "set_name_description")
def vdi_set_name_description(ctx: Context, vdi, value):
    _set_vdi_field(ctx, vdi, "name_description", value)


def _iso_scan(ctx: Context, sr: str, export: dict) -> None:
    db = ctx.db
    rec = db.get("SR", sr)
    files = {name: size for name, size in export["files"].items() if name.lower().endswith(ISO_SUFFIXES)}
    by_location = {db.get("VDI", v)["location"]: v for v in rec["VDIs"]}
    for location, vdi in by_location.items():
        if location not in files and not san.vdi_in_use(db, vdi):
            db.destroy("VDI", vdi)
    for name, size in sorted(files.items()):
        values = {"name_label": name, "virtual_size": size, "physical_utilisation": size, "read_only": True,
                  "type": "user", "sharable": False, "location": name, "managed": True}
        if name in by_location:
            db.update("VDI", by_location[name], {"virtual_size": size, "physical_utilisation": size})
        else:
            db.create("VDI", dict(values, SR=sr, uuid=str(uuidlib.uuid5(uuidlib.NAMESPACE_URL, rec["uuid"] + "/" + name))))
    db.update("SR", sr, {"physical_utilisation": sum(files.values()), "virtual_allocation": sum(files.values())})


def storage_scan(ctx: Context, sr: str) -> None:
    """Driver scan: re-read the medium, refresh sizes and the VDI set (sm `SR.scan`)."""
    world, db = ctx.world, ctx.db
    rec = db.get("SR", sr)
    medium = san.sr_medium(world, db, sr)
    if medium is None:
        handlers_devices.sr_scan(ctx, sr)
        return
    if medium[0] == "iso":
        export = san.export_of(world, medium[1], medium[2])
        if export is None:
            raise san.sm_failure(world, "ISOMountFailure", "mount failed for %s:%s" % (medium[1], medium[2]))
        db.set("SR", sr, "physical_size", export["size"])
        _iso_scan(ctx, sr, export)
        return
    doc, size = san.read_document(world, medium, rec["uuid"])
    if doc is None:
        raise san.sm_failure(world, "SRUnavailable", "no SR %s on the storage" % rec["uuid"])
    san.sync_vdis(world, db, sr, doc)
    san.account(db, sr, physical_size=size)
    if medium[0] == "lun":
        _refresh_path_counts(ctx, sr, medium[1])
    san.persist_sr(world, db, sr)
    other = {k: v for k, v in db.get("SR", sr)["other_config"].items() if k != "dirty"}
    db.set("SR", sr, "other_config", other)


@handler("SR", "scan")
def sr_scan(ctx: Context, sr):
    db = ctx.db
    if not any(db.get("PBD", p)["currently_attached"] for p in db.get("SR", sr)["PBDs"]):
        raise XapiError("SR_NO_PBDS", sr)
    storage_scan(ctx, sr)


def _multipath_config(ctx: Context, pbd: str, scsi_id: str, paths: int | None) -> None:
    """mpathcount's keys on PBD.other_config: multipathed=true, mpath-<SCSIid>='[active, max seen]'."""
    db = ctx.db
    other = dict(db.get("PBD", pbd)["other_config"])
    key = "mpath-" + scsi_id
    if paths is None:
        other.pop(key, None)
        other.pop("multipathed", None)
    else:
        seen = paths
        try:
            seen = max(paths, int(other.get(key, "[0, 0]").strip("[]").split(",")[1]))
        except (IndexError, ValueError):
            pass
        other[key] = str([paths, seen])
        other["multipathed"] = "true"
    db.set("PBD", pbd, "other_config", other)


def _refresh_path_counts(ctx: Context, sr: str, scsi_id: str) -> None:
    """mpathcount after path events: active paths now, max kept, for every attached multipathed PBD."""
    db = ctx.db
    for pbd in db.get("SR", sr)["PBDs"]:
        rec = db.get("PBD", pbd)
        if not rec["currently_attached"] or not db.get("host", rec["host"])["multipathing"]:
            continue
        config = rec["device_config"]
        multihomed = config.get("multihomed", "true") == "true"
        paths = len(iscsi_portals(ctx, rec["host"], config, scsi_id))
        _multipath_config(ctx, pbd, scsi_id, paths if multihomed else min(paths, 1))


def _attach_iscsi(ctx: Context, pbd: str, rec: dict, srrec: dict) -> int:
    """LVHDoISCSISR.attach: any failure after load() comes back as SRUnavailable (47) with the cause as opterr."""
    world, db = ctx.world, ctx.db
    config = rec["device_config"]
    if not _host_iqn(db, rec["host"], config):
        raise sm_error(world, "ConfigISCSIIQNMissing")
    if not config.get("target"):
        raise sm_error(world, "ConfigTargetMissing")
    try:
        _target, lun = iscsi_resolve(ctx, rec["host"], config, need_lun=True)
    except XapiError as exc:
        cause = exc.params[1] if len(exc.params) > 1 else exc.code
        if exc.code == "SR_BACKEND_FAILURE_107":
            cause = "LUN %s not visible to initiator %s" % (config.get("SCSIid", ""), _host_iqn(db, rec["host"], config))
        raise san.sm_failure(world, "SRUnavailable", cause) from None
    if san.lun_sr_uuid(world, lun["scsi_id"]) != srrec["uuid"]:
        raise san.sm_failure(world, "SRUnavailable", "Volume group VG_XenStorage-%s not found" % srrec["uuid"])
    multipath = db.get("host", rec["host"])["multipathing"]
    # multihomed defaults to the host's multipathing: log into every portal and keep multihomelist in step
    # (BaseISCSI._synchroniseAddrList appends, never removes)
    multihomed = config.get("multihomed", "true" if multipath else "false") == "true"
    portals = iscsi_portals(ctx, rec["host"], config, lun["scsi_id"])
    if multihomed:
        known = [p for p in config.get("multihomelist", "").split(",") if p]
        merged = known + [p for p in portals if p not in known]
        if merged != known:
            db.set("PBD", pbd, "device_config", dict(config, multihomelist=",".join(merged)))
    _multipath_config(ctx, pbd, lun["scsi_id"], (len(portals) if multihomed else 1) if multipath else None)
    if multipath and srrec["sm_config"].get("multipathable") != "true":
        db.set("SR", rec["SR"], "sm_config", dict(srrec["sm_config"], multipathable="true"))
    return lun["size"]


@handler("PBD", "plug")
def pbd_plug(ctx: Context, pbd):
    world, db = ctx.world, ctx.db
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
        _attach_iscsi(ctx, pbd, rec, srrec)
    elif srrec["type"] == "nfs":
        export = nfs_resolve(ctx, rec["device_config"])
        if srrec["uuid"] not in export["srs"]:
            raise san.sm_failure(world, "NFSMount", "mount.nfs: %s:%s/%s: No such file or directory"
                                 % (rec["device_config"]["server"], rec["device_config"]["serverpath"], srrec["uuid"]))
    elif srrec["type"] == "iso" and not rec["device_config"].get("location", "").startswith("/"):
        iso_resolve(ctx, rec["device_config"])  # a dom0 directory (legacy_mode, the Tools SR) needs no mount
    db.set("PBD", pbd, "currently_attached", True)
    master = db.get("pool", db.one("pool"))["master"]
    if rec["host"] == master and srrec["type"] in ISCSI_TYPES + ("nfs", "iso"):
        storage_scan(ctx, rec["SR"])  # SR.after_master_attach runs a scan


@handler("PBD", "unplug")
def pbd_unplug(ctx: Context, pbd):
    rec = ctx.db.get("PBD", pbd)
    was_attached = rec["currently_attached"]
    handlers_devices.pbd_unplug(ctx, pbd)
    scsi_id = rec["device_config"].get("SCSIid", "")
    if was_attached and scsi_id:
        _multipath_config(ctx, pbd, scsi_id, None)  # the multipath map is gone


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
        db.create("PBD", {"host": host, "SR": sr, "device_config": _duplicate_secrets(db, config),
                          "currently_attached": False})


def _duplicate_secrets(db: Database, config: dict) -> dict:
    """xapi_secret.duplicate_passwds: every PBD owns its secrets, so a copied *_secret gets a new secret object."""
    out = dict(config)
    for key in [k for k in out if k.endswith("_secret") and out[k] in db.uuids["secret"]]:
        value = db.get("secret", db.uuids["secret"][out[key]])["value"]
        out[key] = db.get("secret", db.create("secret", {"value": value}))["uuid"]
    return out
