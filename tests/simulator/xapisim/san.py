# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What lives ON the storage, as opposed to in xapi's database (sm's drivers keep it on the medium).

An lvmoiscsi SR is a volume group on the LUN: its uuid and the VDI metadata
are on the LUN, not in xapi. That is why SR.forget + SR.introduce + PBD.plug
finds the VDIs again, why SR.create (format) and SR.destroy lose them, and
why a reinstalled host (a restarted xapisim) can reattach. An NFS SR is a
directory <serverpath>/<sr uuid> on the export, holding one VHD file per VDI.

The "medium" is one JSON document per SR:
  {"format": "xapisim-sr/1", "sr_uuid", "name_label", "name_description",
   "vdis": {<vdi uuid>: {name_label, name_description, virtual_size,
            physical_utilisation, type, sharable, read_only, is_a_snapshot, snapshot_of}}}
stored
  * for LUNs of the ONTAP simulator: in that LUN's data area
    (GET/PUT <ontap control>/ontap/luns/<serial>/data), so it survives a
    restart of xapisim and disappears with the LUN;
  * for LUNs of the static fabric (datacenter iscsi_targets, /sim/iscsi/targets):
    in world.lun_data[SCSIid];
  * for NFS exports: world.nfs_exports[server][path]["srs"][sr uuid].
A document without "vdis" (legacy state, datacenter-built SRs) is adopted:
the next write fills it from the database instead of deleting VDIs on scan.
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request

from . import sm_errorcodes
from .model import MIB
from .spec import XapiError
from .state import Database, World

FORMAT = "xapisim-sr/1"
NETAPP_NAA_PREFIX = "3600a0980"
NFS_DEFAULT_SIZE = 1024 * 1024 * MIB  # 1 TiB export
LVM_TYPES = ("lvm", "lvmoiscsi", "lvhdoiscsi", "lvmohba", "lvhd", "lvmofcoe")
NFS_VERSIONS = ("3", "4", "4.0", "4.1", "4.2")
VDI_META_FIELDS = ("name_label", "name_description", "virtual_size", "physical_utilisation", "type", "sharable",
                   "read_only", "is_a_snapshot")
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def sm_failure(world: World, name: str, opterr: str = "", stderr: str = "") -> XapiError:
    """SR_BACKEND_FAILURE_<n> ["", text, stderr]; text carries ' [opterr=...]' like XenError(opterr=...)."""
    number = world.spec.raw["sm_backend_error_codes"]["codes"][name]
    return XapiError("SR_BACKEND_FAILURE_%d" % number, "", sm_errorcodes.text(name, opterr), stderr)


def new_document(sr_uuid: str, name_label: str = "", name_description: str = "") -> dict:
    return {"format": FORMAT, "sr_uuid": sr_uuid, "name_label": name_label, "name_description": name_description,
            "vdis": {}}


# --------------------------------------------------------------------------- LUN data area
def ontap_serial(scsi_id: str) -> str | None:
    """The 12-character ONTAP serial behind a NetApp SCSIid ('3' + '600a0980' + hex(serial)), else None."""
    if not scsi_id.startswith(NETAPP_NAA_PREFIX) or len(scsi_id) != len(NETAPP_NAA_PREFIX) + 24:
        return None
    try:
        serial = bytes.fromhex(scsi_id[len(NETAPP_NAA_PREFIX):]).decode("ascii")
    except (ValueError, UnicodeDecodeError):
        return None
    return serial if serial.isprintable() else None


def _static_lun(world: World, scsi_id: str) -> dict | None:
    for target in world.iscsi:
        for lun in target["luns"]:
            if lun["scsi_id"] == scsi_id:
                return lun
    return None


def _ontap_url(world: World, serial: str) -> str:
    return "%s/ontap/luns/%s/data" % (world.ontap_control.rstrip("/"), urllib.parse.quote(serial, safe=""))


def _ontap_request(world: World, serial: str, method: str = "GET", data=None) -> dict | None:
    body = None if method == "GET" else json.dumps({"data": data}).encode("utf-8")
    req = urllib.request.Request(_ontap_url(world, serial), data=body, method=method,
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # nosec - loopback control API of the ONTAP simulator
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise sm_failure(world, "SRUnavailable", "storage array answered HTTP %d" % exc.code) from None
    except (OSError, ValueError):
        raise sm_failure(world, "SRUnavailable", "storage array unreachable") from None


def _ontap_data_area(world: World, scsi_id: str) -> str:
    """The ONTAP serial when this LUN's data lives in the ONTAP simulator's data area, else ""."""
    serial = ontap_serial(scsi_id)
    if not serial or not world.ontap_control or _static_lun(world, scsi_id) is not None:
        return ""
    return serial


def lun_info(world: World, scsi_id: str) -> dict | None:
    """{"size", "data"} of the LUN with this SCSIid (None: no such LUN anywhere in the fabric).

    A control server that does not offer the data area (an older or fake ONTAP
    control endpoint: no "serial" in its answer) makes the LUN's data live in
    world.lun_data instead, with the size from the fabric view.
    """
    lun = _static_lun(world, scsi_id)
    if lun is not None:
        return {"size": lun["size"], "data": world.lun_data.get(scsi_id)}
    serial = _ontap_data_area(world, scsi_id)
    if serial:
        answer = _ontap_request(world, serial)
        if answer is not None and "serial" in answer:
            return {"size": int(answer["size"]), "data": answer.get("data")}
    if scsi_id in world.lun_sizes:
        return {"size": world.lun_sizes[scsi_id], "data": world.lun_data.get(scsi_id)}
    return None


def write_lun(world: World, scsi_id: str, document: dict | None) -> None:
    serial = _ontap_data_area(world, scsi_id)
    if serial:
        answer = _ontap_request(world, serial, "GET")
        if answer is not None and "serial" in answer:
            _ontap_request(world, serial, "PUT", document)
            return
    if document is None:
        world.lun_data.pop(scsi_id, None)
    else:
        world.lun_data[scsi_id] = document


def ontap_login(world: World, initiator: str, target_iqn: str, user: str, password: str) -> bool:
    """iSCSI login authentication against the ONTAP simulator (CHAP configured per initiator there)."""
    body = json.dumps({"initiator": initiator, "target_iqn": target_iqn, "user": user, "password": password})
    req = urllib.request.Request("%s/ontap/login" % world.ontap_control.rstrip("/"), data=body.encode("utf-8"),
                                 method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:  # nosec - loopback control API of the ONTAP simulator
            return bool(json.loads(resp.read().decode("utf-8")).get("ok"))
    except (OSError, ValueError):
        return False


def lun_sr_uuid(world: World, scsi_id: str) -> str:
    info = lun_info(world, scsi_id)
    return str(((info or {}).get("data") or {}).get("sr_uuid", ""))


# --------------------------------------------------------------------------- NFS exports
def parse_exports(spec: str) -> list[dict]:
    """--nfs-exports 'server:/path[,server:/path...]' -> export configs."""
    out = []
    for item in [x.strip() for x in (spec or "").split(",") if x.strip()]:
        server, sep, path = item.partition(":")
        if not sep or not path.startswith("/"):
            raise ValueError("--nfs-exports entries look like SERVER:/path, got %r" % item)
        out.append({"server": server, "path": path})
    return out


def upsert_export(world: World, conf: dict) -> dict:
    """Add or update one export: {server, path, size_gib|size, files: {name: bytes}}; SR directories are kept."""
    server, path = str(conf["server"]), "/" + str(conf["path"]).strip("/")
    size = int(conf["size"]) if "size" in conf else int(float(conf.get("size_gib", 1024)) * 1024 * MIB)
    with world.lock:
        exports = world.nfs_exports.setdefault(server, {})
        entry = exports.setdefault(path, {"size": size, "files": {}, "srs": {}})
        entry["size"] = size
        entry["files"].update({str(k): int(v) for k, v in (conf.get("files") or {}).items()})
        return {"server": server, "path": path, "size": entry["size"], "files": dict(entry["files"]),
                "srs": sorted(entry["srs"])}


def list_exports(world: World) -> list[dict]:
    return [{"server": server, "path": path, "size": e["size"], "files": dict(e["files"]), "srs": sorted(e["srs"])}
            for server, paths in sorted(world.nfs_exports.items()) for path, e in sorted(paths.items())]


def export_of(world: World, server: str, path: str) -> dict | None:
    paths = world.nfs_exports.get(server)
    if paths is None:
        return None
    return paths.get("/" + path.strip("/"))


def nfs_server_check(world: World, config: dict) -> dict:
    """NFSSR.load/probe front: server given, reachable on 2049, nfsversion valid; returns the server's exports."""
    server = config.get("server", "")
    if not server:
        raise sm_failure(world, "ConfigServerMissing")
    version = config.get("nfsversion", "")
    if version and version not in NFS_VERSIONS:
        raise sm_failure(world, "NFSVersion", "Invalid nfsversion %s" % version)
    if server not in world.nfs_exports:
        raise sm_failure(world, "NFSTarget", "Unable to connect to %s:2049" % server)
    return world.nfs_exports[server]


# --------------------------------------------------------------------------- SR <-> medium
def sr_medium(world: World, db: Database, sr: str) -> tuple | None:
    """("lun", SCSIid) or ("nfs", server, path) or ("iso", server, path) for an SR, from its PBDs' device_config."""
    rec = db.get("SR", sr)
    master = db.get("pool", db.one("pool"))["master"]
    pbds = sorted(rec["PBDs"], key=lambda p: db.get("PBD", p)["host"] != master)
    for pbd in pbds:
        config = db.get("PBD", pbd)["device_config"]
        if rec["type"] in ("lvmoiscsi", "lvhdoiscsi") and config.get("SCSIid"):
            return ("lun", config["SCSIid"])
        if rec["type"] == "nfs" and config.get("server"):
            return ("nfs", config["server"], config.get("serverpath", ""))
        if rec["type"] == "iso" and ":" in config.get("location", ""):
            server, _sep, path = config["location"].partition(":")
            return ("iso", server, path)
    return None


def read_document(world: World, medium: tuple, sr_uuid: str) -> tuple[dict | None, int]:
    """(document, medium size) for the SR with this uuid on the medium; document None if it is not there."""
    if medium[0] == "lun":
        info = lun_info(world, medium[1])
        if info is None:
            return None, 0
        doc = info["data"]
        return (doc if doc and doc.get("sr_uuid") == sr_uuid else None), info["size"]
    export = export_of(world, medium[1], medium[2])
    if export is None:
        return None, 0
    return export["srs"].get(sr_uuid), export["size"]


def write_document(world: World, medium: tuple, sr_uuid: str, document: dict | None) -> None:
    if medium[0] == "lun":
        write_lun(world, medium[1], document)
        return
    export = export_of(world, medium[1], medium[2])
    if export is None:
        return
    if document is None:
        export["srs"].pop(sr_uuid, None)
    else:
        export["srs"][sr_uuid] = document


def vdi_meta(db: Database, vdi: str) -> dict:
    rec = db.get("VDI", vdi)
    meta = {k: rec[k] for k in VDI_META_FIELDS}
    snap = rec["snapshot_of"]
    meta["snapshot_of"] = db.get("VDI", snap)["uuid"] if snap in db.tables["VDI"] else ""
    return meta


def persist_sr(world: World, db: Database, sr: str) -> None:
    """Write the SR's current VDI set to its medium (what the SM driver's metadata volume would hold).

    Only when the medium still carries THIS SR: an SR whose LUN was formatted by
    someone else must not overwrite the new owner's data.
    """
    if sr not in db.tables["SR"]:
        return
    rec = db.get("SR", sr)
    medium = sr_medium(world, db, sr)
    if medium is None or medium[0] == "iso":
        return
    doc, _size = read_document(world, medium, rec["uuid"])
    if doc is None:
        return
    doc = dict(doc, name_label=rec["name_label"], name_description=rec["name_description"],
               vdis={db.get("VDI", v)["uuid"]: vdi_meta(db, v) for v in rec["VDIs"]})
    write_document(world, medium, rec["uuid"], doc)


def vdi_in_use(db: Database, vdi: str) -> bool:
    return any(v in db.tables["VBD"] and db.get("VBD", v)["currently_attached"] for v in db.get("VDI", vdi)["VBDs"])


def sync_vdis(world: World, db: Database, sr: str, doc: dict) -> None:
    """SR.scan's VDI part: create records for VDIs on the medium, drop records of VDIs no longer there."""
    rec = db.get("SR", sr)
    if "vdis" not in doc:
        persist_sr(world, db, sr)  # adopt: legacy document, the database is the truth
        return
    on_medium = doc["vdis"]
    known = {db.get("VDI", v)["uuid"]: v for v in rec["VDIs"]}
    for vdi_uuid, ref in known.items():
        if vdi_uuid not in on_medium and not vdi_in_use(db, ref):
            for vbd in list(db.get("VDI", ref)["VBDs"]):
                db.destroy("VBD", vbd)
            db.destroy("VDI", ref)
    created = {}
    for vdi_uuid, meta in on_medium.items():
        if vdi_uuid in known or vdi_uuid in db.uuids["VDI"]:
            continue
        values = {k: meta[k] for k in VDI_META_FIELDS if k in meta}
        values.update({"uuid": vdi_uuid, "SR": sr, "location": vdi_uuid, "managed": True})
        created[vdi_uuid] = db.create("VDI", values)
    for vdi_uuid, ref in created.items():
        parent = on_medium[vdi_uuid].get("snapshot_of", "")
        if parent and parent in db.uuids["VDI"]:
            db.set("VDI", ref, "snapshot_of", db.uuids["VDI"][parent])


def account(db: Database, sr: str, physical_size: int | None = None) -> None:
    """physical_utilisation / virtual_allocation from the VDIs (+4 MiB of LVM metadata for LUN-backed SRs)."""
    rec = db.get("SR", sr)
    alloc = sum(db.get("VDI", v)["virtual_size"] for v in rec["VDIs"])
    values = {"virtual_allocation": alloc}
    if rec["type"] in LVM_TYPES:
        values["physical_utilisation"] = alloc + 4 * MIB
    else:
        values["physical_utilisation"] = sum(db.get("VDI", v)["physical_utilisation"] for v in rec["VDIs"])
    if physical_size is not None:
        values["physical_size"] = int(physical_size)
    db.update("SR", sr, values)


def is_uuid(value: str) -> bool:
    return bool(UUID_RE.match(value))


def flush_dirty(world: World) -> None:
    """After each API call: write the VDI set of every SR whose VDIs were created/destroyed by ANY code path
    (VM.provision, HA statefiles, suspend images ...) to its medium. Best effort, like SM metadata updates."""
    with world.lock:
        dirty, world.storage_dirty = world.storage_dirty, set()
        by_id = {id(db): db for db in world.dbs}
        for db_id, sr in dirty:
            db = by_id.get(db_id)
            if db is None or sr not in db.tables["SR"]:
                continue
            try:
                persist_sr(world, db, sr)
            except XapiError:
                pass
