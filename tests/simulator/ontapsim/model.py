# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulated cluster: one state shared by the REST and ZAPI front ends.

Every business rule (duplicates, LUN ids, shrink, mapped deletes, iSCSI
service life cycle, efficiency savings) is enforced here, so an object
created over one transport is visible, with the same uuid and serial, over
the other. Objects are plain dicts so the whole state can be saved to JSON
and loaded again (/sim/save, --load-state).
"""
from __future__ import annotations

import copy
import datetime
import hashlib
import re
import threading
import time

from .errors import OntapError

SERIAL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+$-_"
LUN_OS_TYPES = ("aix", "hpux", "hyper_v", "linux", "netware", "openvms", "solaris", "solaris_efi", "vmware",
                "windows", "windows_2008", "windows_gpt", "xen")
IGROUP_OS_TYPES = ("aix", "hpux", "hyper_v", "linux", "netware", "openvms", "solaris", "vmware", "windows", "xen")
IGROUP_PROTOCOLS = ("fcp", "iscsi", "mixed")
EFFICIENCY_KEYS = ("dedupe", "compression", "compaction", "cross_volume_dedupe")
EFFICIENCY_VALUES = {
    "dedupe": ("inline", "background", "both", "none"),
    "compression": ("inline", "background", "both", "none"),
    "compaction": ("inline", "none"),
    "cross_volume_dedupe": ("inline", "background", "both", "none"),
}
MIN_VOLUME_SIZE = 20 * 1024 * 1024
MIN_LUN_SIZE = 4096
MAX_LUN_SIZE = 128 * 1024 ** 4
MAX_LUN_ID = 4095
# Fractions of written data saved by each efficiency feature: simple and
# deterministic, enough for "savings grow with data" assertions.
DEDUPE_RATIO = 0.25
COMPRESSION_RATIO = 0.10
# Simulated durations (seconds) of asynchronous REST jobs.
JOB_SECONDS = {"volume_create": 3.0, "volume_modify": 1.0, "volume_delete": 2.0, "lun_create": 1.0,
               "lun_modify": 1.0, "lun_delete": 1.0, "snapshot_create": 1.0, "snapshot_delete": 1.0}
VOLUME_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
LUN_BASE_RE = re.compile(r"^[A-Za-z0-9._{}-]+$")
IQN_RE = re.compile(r"^iqn\.\d{4}-\d{2}\.[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:.+)?$")
EUI_RE = re.compile(r"^eui\.[0-9a-f]{16}$")
WWPN_RE = re.compile(r"^([0-9a-f]{2}:){7}[0-9a-f]{2}$")
SNAP_NAME_RE = re.compile(r"^[A-Za-z0-9_.+:-]{1,255}$")


class SimClock:
    """Simulated wall clock: runs 1/time_scale times faster than real time, can be advanced."""

    def __init__(self, time_scale: float = 1.0) -> None:
        self.time_scale = max(float(time_scale), 1e-6)
        self._real0 = time.monotonic()
        self._sim0 = time.time()
        self._offset = 0.0

    def now(self) -> float:
        return self._sim0 + (time.monotonic() - self._real0) / self.time_scale + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("cannot move the simulated clock backwards")
        self._offset += seconds


def iso(ts: float) -> str:
    """ONTAP-style ISO 8601 timestamp (seconds resolution, numeric offset)."""
    return datetime.datetime.fromtimestamp(int(ts), datetime.timezone.utc).isoformat()


def parse_bool(value, default: bool | None = None) -> bool | None:
    """Booleans arrive as JSON booleans, 'true'/'false' or Python-style 'True'/'False'."""
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise OntapError("invalid_value", "Invalid boolean value \"%s\"." % value)


SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024 ** 2, "mb": 1024 ** 2, "g": 1024 ** 3, "gb": 1024 ** 3,
              "t": 1024 ** 4, "tb": 1024 ** 4, "p": 1024 ** 5, "pb": 1024 ** 5}


def parse_size(value, key: str = "invalid_value", target: str | None = None) -> int:
    """Bytes as int or text, or text with a 1024-based unit suffix (10GB, 10g)."""
    if isinstance(value, bool):
        raise OntapError(key, "Invalid size \"%s\"." % value, target)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    match = re.match(r"^\s*(-?\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$", str(value))
    if not match or match.group(2).lower() not in SIZE_UNITS:
        raise OntapError(key, "Invalid size \"%s\"." % value, target)
    return int(float(match.group(1)) * SIZE_UNITS[match.group(2).lower()])


def normalise_initiator(name: str) -> str:
    """ONTAP stores iSCSI names (and WWPNs) lower-case and compares them case-insensitively."""
    return str(name).strip().lower()


class OntapState:
    """All objects of the simulated cluster plus the job queue. Callers hold self.lock."""

    def __init__(self, clock: SimClock | None = None, seed: str = "ontapsim") -> None:
        self.lock = threading.RLock()
        self.clock = clock or SimClock()
        self.seed = seed
        self.counter = 0
        self.zapi_enabled = True
        self.cluster: dict = {}
        self.nodes: list[dict] = []
        self.svms: dict[str, dict] = {}
        self.aggregates: dict[str, dict] = {}
        self.volumes: dict[str, dict] = {}
        self.luns: dict[str, dict] = {}
        self.igroups: dict[str, dict] = {}
        self.lun_maps: list[dict] = []
        self.iscsi: dict[str, dict] = {}
        self.lifs: dict[str, dict] = {}
        self.snapshots: dict[str, dict] = {}
        self.jobs: dict[str, dict] = {}

    # ------------------------------------------------------------------ ids
    def _digest(self, purpose: str) -> bytes:
        self.counter += 1
        return hashlib.sha256(("%s:%s:%d" % (self.seed, purpose, self.counter)).encode("utf-8")).digest()

    def new_uuid(self) -> str:
        raw = bytearray(self._digest("uuid")[:16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        hexed = raw.hex()
        return "%s-%s-%s-%s-%s" % (hexed[:8], hexed[8:12], hexed[12:16], hexed[16:20], hexed[20:])

    def new_serial(self) -> str:
        """12 printable characters, unique in the cluster (the NAA id / SCSIid is derived from it)."""
        while True:
            digest = self._digest("serial")
            serial = "".join(SERIAL_ALPHABET[b % len(SERIAL_ALPHABET)] for b in digest[:12])
            if not any(lun["serial"] == serial for lun in self.luns.values()):
                return serial

    def now(self) -> float:
        return self.clock.now()

    # ------------------------------------------------------------- lookups
    def svm_by_name(self, name: str | None, required: bool = True) -> dict | None:
        for svm in self.svms.values():
            if svm["name"] == name:
                return svm
        if required:
            raise OntapError("svm_not_found", "SVM \"%s\" does not exist." % name, "svm.name")
        return None

    def resolve_svm(self, name: str | None = None, uuid: str | None = None) -> dict:
        """REST-style svm reference: name and/or uuid, which must agree."""
        if not name and not uuid:
            raise OntapError("svm_missing", "No SVM was specified. Either \"svm.name\" or \"svm.uuid\" must be supplied.",
                             "svm.name")
        svm = None
        if uuid:
            svm = self.svms.get(uuid)
            if svm is None:
                raise OntapError("svm_not_found", "SVM \"%s\" does not exist." % uuid, "svm.uuid")
            if name and svm["name"] != name:
                raise OntapError("svm_mismatch", "The UUID and name refer to different SVMs.", "svm.name")
            return svm
        return self.svm_by_name(name)

    def aggr_by_name(self, name: str) -> dict:
        for aggr in self.aggregates.values():
            if aggr["name"] == name:
                return aggr
        raise OntapError("aggr_not_found", "Aggregate \"%s\" does not exist." % name, "aggregates.name")

    def volume_by_name(self, svm: dict, name: str, key: str = "vol_not_found") -> dict:
        for vol in self.volumes.values():
            if vol["svm_uuid"] == svm["uuid"] and vol["name"] == name:
                return vol
        raise OntapError(key, "Volume \"%s\" in SVM \"%s\" does not exist." % (name, svm["name"]), "volume.name")

    def lun_by_path(self, svm: dict, path: str, key: str = "lun_not_found") -> dict:
        for lun in self.luns.values():
            if lun["svm_uuid"] == svm["uuid"] and lun["path"] == path:
                return lun
        raise OntapError(key, "LUN \"%s\" does not exist or is not accessible to the caller." % path, "lun.name")

    def igroup_by_name(self, svm: dict, name: str, key: str = "igroup_not_found") -> dict:
        for igroup in self.igroups.values():
            if igroup["svm_uuid"] == svm["uuid"] and igroup["name"] == name:
                return igroup
        raise OntapError(key, "The initiator group \"%s\" does not exist, is not accessible to the caller, "
                         "or is not in the specified SVM." % name, "igroup.name")

    def maps_of_lun(self, lun: dict) -> list[dict]:
        return [m for m in self.lun_maps if m["lun_uuid"] == lun["uuid"]]

    def maps_of_igroup(self, igroup: dict) -> list[dict]:
        return [m for m in self.lun_maps if m["igroup_uuid"] == igroup["uuid"]]

    def luns_of_volume(self, vol: dict) -> list[dict]:
        return [lun for lun in self.luns.values() if lun["vol_uuid"] == vol["uuid"]]

    def snapshots_of_volume(self, vol: dict) -> list[dict]:
        return [s for s in self.snapshots.values() if s["vol_uuid"] == vol["uuid"]]

    # ---------------------------------------------------------------- space
    def lun_physical(self, lun: dict) -> int:
        """Bytes a LUN's written data occupies after the volume's efficiency savings."""
        vol = self.volumes[lun["vol_uuid"]]
        saved = self.volume_savings(vol, written=lun["written"])
        return lun["written"] - saved["total"]

    def volume_savings(self, vol: dict, written: int | None = None) -> dict:
        eff = vol["efficiency"]
        data = sum(lun["written"] for lun in self.luns_of_volume(vol)) if written is None else written
        dedupe = int(data * DEDUPE_RATIO) if eff["dedupe"] != "none" or eff["cross_volume_dedupe"] != "none" else 0
        compression = int((data - dedupe) * COMPRESSION_RATIO) if eff["compression"] != "none" else 0
        total = dedupe + compression

        def pct(part: int) -> int:
            return int(round(100.0 * part / data)) if data else 0
        return {"dedupe": dedupe, "compression": compression, "total": total, "logical_used": data,
                "dedupe_percent": pct(dedupe), "compression_percent": pct(compression), "total_percent": pct(total)}

    def volume_space(self, vol: dict) -> dict:
        """size / available / used: reserved LUNs count in full, thin ones by their physical data."""
        used = 0
        for lun in self.luns_of_volume(vol):
            used += lun["size"] if lun["space_reserve"] else self.lun_physical(lun)
        used += sum(s["size"] for s in self.snapshots_of_volume(vol))
        reserve = vol["snapshot_reserve"]
        usable = vol["size"] * (100 - reserve) // 100
        available = max(0, usable - used)
        return {"size": vol["size"], "used": used, "available": available, "reserve_percent": reserve,
                "reserve_size": vol["size"] - usable, "usable": usable,
                "percent_used": int(100 * used / usable) if usable else 0}

    def aggregate_space(self, aggr: dict) -> dict:
        used = 0
        for vol in self.volumes.values():
            if vol["aggr_uuid"] != aggr["uuid"]:
                continue
            used += vol["size"] if vol["guarantee"] == "volume" else self.volume_space(vol)["used"]
        return {"size": aggr["size"], "used": used, "available": max(0, aggr["size"] - used)}

    # ---------------------------------------------------------------- jobs
    def new_job(self, description: str, svm: dict | None, op: str, args: dict) -> dict:
        start = self.now()
        job = {"uuid": self.new_uuid(), "description": description, "state": "running", "message": "",
               "code": 0, "svm_uuid": svm["uuid"] if svm else None, "start": start,
               "due": start + JOB_SECONDS.get(op, 1.0), "end": None, "op": op, "args": args, "error": None}
        self.jobs[job["uuid"]] = job
        return job

    def run_job_now(self, job: dict) -> None:
        """Execute the job's operation; the outcome lands in the job record."""
        try:
            getattr(self, job["op"])(**job["args"])
            job["state"] = "success"
            job["message"] = "success"
            job["code"] = 0
        except OntapError as exc:
            job["state"] = "failure"
            job["message"] = exc.message
            job["code"] = int(exc.rest_code)
            job["error"] = {"code": exc.rest_code, "message": exc.message}
            if exc.target:
                job["error"]["target"] = exc.target
        job["end"] = max(self.now(), job["start"])

    def tick(self) -> None:
        """Finish every job whose simulated duration has passed (lazy: called on each request)."""
        now = self.now()
        for job in sorted(self.jobs.values(), key=lambda j: j["due"]):
            if job["state"] in ("queued", "running") and job["due"] <= now:
                self.run_job_now(job)

    def finish_all_jobs(self) -> None:
        for job in sorted(self.jobs.values(), key=lambda j: j["due"]):
            if job["state"] in ("queued", "running"):
                self.run_job_now(job)

    # -------------------------------------------------------------- volumes
    def volume_create(self, svm_uuid: str, name: str, aggr_uuid: str, size: int, uuid: str,
                      guarantee: str = "volume", snapshot_policy: str = "default", snapshot_reserve: int = 5,
                      comment: str = "", state: str = "online", junction_path: str | None = None,
                      vol_type: str = "rw", efficiency: dict | None = None) -> dict:
        svm = self.svms[svm_uuid]
        if not VOLUME_NAME_RE.match(name or ""):
            raise OntapError("vol_name_invalid", "Invalid volume name \"%s\": volume names must start with a letter or an "
                             "underscore and contain only letters, digits and underscores." % name, "name")
        if len(name) > 203:
            raise OntapError("vol_name_long", "Volume name \"%s\" is longer than 203 characters." % name, "name")
        if any(v["svm_uuid"] == svm_uuid and v["name"] == name for v in self.volumes.values()):
            raise OntapError("vol_dup", "Duplicate volume name \"%s\"." % name, "name")
        if aggr_uuid not in self.aggregates:
            raise OntapError("aggr_not_found", "Aggregate does not exist.", "aggregates")
        if size < MIN_VOLUME_SIZE:
            raise OntapError("vol_size_small", "Volume size %d bytes is below the minimum of %d bytes (20MB)."
                             % (size, MIN_VOLUME_SIZE), "size")
        if snapshot_policy not in svm.get("snapshot_policies", ["default", "none", "default-1weekly"]):
            raise OntapError("snap_policy_not_found", "Snapshot policy \"%s\" does not exist." % snapshot_policy,
                             "snapshot_policy.name")
        if guarantee not in ("volume", "none"):
            raise OntapError("invalid_value", "Invalid value \"%s\" for guarantee.type." % guarantee, "guarantee.type")
        if state not in ("online", "offline", "restricted"):
            raise OntapError("vol_state_invalid", "Invalid volume state \"%s\"." % state, "state")
        aggr = self.aggregates[aggr_uuid]
        if guarantee == "volume" and size > self.aggregate_space(aggr)["available"]:
            raise OntapError("vol_space", "Unable to set volume attribute \"size\": not enough space in aggregate "
                             "\"%s\" for the volume guarantee." % aggr["name"], "size")
        eff = {"dedupe": "none", "compression": "none", "compaction": "none", "cross_volume_dedupe": "none",
               "policy": "-"}
        if efficiency:
            eff.update(efficiency)
        vol = {"uuid": uuid, "name": name, "svm_uuid": svm_uuid, "aggr_uuid": aggr_uuid, "size": int(size),
               "state": state, "type": vol_type, "style": "flexvol", "guarantee": guarantee,
               "snapshot_policy": snapshot_policy, "snapshot_reserve": int(snapshot_reserve), "comment": comment or "",
               "junction_path": junction_path if state == "online" else None, "efficiency": eff,
               "create_time": self.now(), "msid": 2147483000 + self.counter}
        self.volumes[uuid] = vol
        return vol

    def volume_modify(self, uuid: str, changes: dict) -> dict:
        vol = self.volumes.get(uuid)
        if vol is None:
            raise OntapError("vol_not_found", "Volume does not exist.", "uuid")
        if "name" in changes and changes["name"] != vol["name"]:
            new = changes["name"]
            if not VOLUME_NAME_RE.match(new or ""):
                raise OntapError("vol_name_invalid", "Invalid volume name \"%s\"." % new, "name")
            if any(v["svm_uuid"] == vol["svm_uuid"] and v["name"] == new for v in self.volumes.values()):
                raise OntapError("vol_dup", "Duplicate volume name \"%s\"." % new, "name")
        if "size" in changes:
            size = int(changes["size"])
            if size < MIN_VOLUME_SIZE:
                raise OntapError("vol_size_small", "Volume size %d bytes is below the minimum of %d bytes."
                                 % (size, MIN_VOLUME_SIZE), "size")
            if size < self.volume_space(vol)["used"]:
                raise OntapError("vol_size_small", "New size %d is smaller than the space used in the volume." % size,
                                 "size")
        if "state" in changes and changes["state"] not in ("online", "offline", "restricted"):
            raise OntapError("vol_state_invalid", "Invalid volume state \"%s\"." % changes["state"], "state")
        if "guarantee" in changes and changes["guarantee"] not in ("volume", "none"):
            raise OntapError("invalid_value", "Invalid value for guarantee.type.", "guarantee.type")
        eff_changes = changes.get("efficiency") or {}
        for key, value in eff_changes.items():
            if key in EFFICIENCY_VALUES and value not in EFFICIENCY_VALUES[key]:
                raise OntapError("invalid_value", "Invalid value \"%s\" for efficiency.%s." % (value, key),
                                 "efficiency." + key)
        if "policy" in eff_changes:
            merged = dict(vol["efficiency"])
            merged.update({k: v for k, v in eff_changes.items() if k in EFFICIENCY_KEYS})
            if all(merged[k] == "none" for k in EFFICIENCY_KEYS):
                raise OntapError("eff_not_enabled", "Operation is not enabled.", "efficiency.policy.name")
        for key in ("name", "size", "guarantee", "snapshot_policy", "snapshot_reserve", "comment"):
            if key in changes:
                vol[key] = changes[key]
        if "junction_path" in changes:
            vol["junction_path"] = changes["junction_path"] or None
        if "state" in changes:
            vol["state"] = changes["state"]
            if vol["state"] != "online":
                vol["junction_path"] = None
        vol["efficiency"].update(eff_changes)
        if all(vol["efficiency"][k] == "none" for k in EFFICIENCY_KEYS):
            vol["efficiency"]["policy"] = "-"
        elif vol["efficiency"].get("policy", "-") == "-":
            vol["efficiency"]["policy"] = "auto"
        return vol

    def volume_delete(self, uuid: str, require_offline: bool = False) -> None:
        vol = self.volumes.get(uuid)
        if vol is None:
            raise OntapError("vol_not_found", "Volume does not exist.", "uuid")
        if require_offline and vol["state"] == "online":
            raise OntapError("vol_online_destroy", "Volume \"%s\" must be offline before it can be destroyed." % vol["name"])
        for lun in self.luns_of_volume(vol):
            self.lun_maps = [m for m in self.lun_maps if m["lun_uuid"] != lun["uuid"]]
            del self.luns[lun["uuid"]]
        for snap in self.snapshots_of_volume(vol):
            del self.snapshots[snap["uuid"]]
        del self.volumes[uuid]

    # ----------------------------------------------------------------- LUNs
    def split_lun_path(self, path: str) -> tuple[str, str | None, str]:
        parts = (path or "").split("/")
        if len(parts) not in (4, 5) or parts[0] != "" or parts[1] != "vol" or not all(parts[2:]):
            raise OntapError("lun_name_invalid", "Invalid LUN name \"%s\": expected /vol/<volume>[/<qtree>]/<lun>." % path,
                             "name")
        qtree = parts[3] if len(parts) == 5 else None
        return parts[2], qtree, parts[-1]

    @staticmethod
    def round_lun_size(size: int) -> int:
        """ONTAP allocates LUNs in 512-byte sectors; odd sizes are rounded up."""
        return -(-size // 512) * 512

    def check_lun_size(self, size: int) -> None:
        if size < 0:
            raise OntapError("lun_size_negative", "The LUN size cannot be negative.", "space.size")
        if size < MIN_LUN_SIZE:
            raise OntapError("lun_size_small", "The specified LUN size is too small. The minimum size is 4KB.",
                             "space.size")
        if size > MAX_LUN_SIZE:
            raise OntapError("lun_size_large", "The specified LUN size is too large. The maximum size is 128TB.",
                             "space.size")

    def lun_create(self, svm_uuid: str, path: str, os_type: str, size: int, uuid: str, serial: str,
                   space_reserve: bool = False, space_allocation: bool = True, comment: str = "",
                   exact: bool = True) -> dict:
        svm = self.svms[svm_uuid]
        vol_name, qtree, base = self.split_lun_path(path)
        if not LUN_BASE_RE.match(base):
            raise OntapError("lun_name_chars", "The LUN name \"%s\" contains illegal characters; allowed are A-Z a-z "
                             "0-9 - . _ { }." % base, "name")
        if os_type not in LUN_OS_TYPES:
            raise OntapError("lun_os_type", "The value \"%s\" is invalid for field \"os_type\"." % os_type, "os_type")
        vol = self.volume_by_name(svm, vol_name, key="lun_vol_not_found")
        if vol["state"] != "online":
            raise OntapError("vol_offline", "The containing volume \"%s\" is offline." % vol_name, "location.volume")
        if vol.get("is_svm_root"):
            raise OntapError("lun_in_root", "LUNs cannot be created in the SVM root volume.", "location.volume")
        if any(lun["svm_uuid"] == svm_uuid and lun["path"] == path for lun in self.luns.values()):
            raise OntapError("lun_dup", "A LUN or NVMe namespace already exists at path \"%s\"." % path, "name")
        self.check_lun_size(size)
        if not exact:
            size = self.round_lun_size(size)
        lun = {"uuid": uuid, "path": path, "svm_uuid": svm_uuid, "vol_uuid": vol["uuid"], "qtree": qtree,
               "base": base, "os_type": os_type, "size": int(size), "serial": serial, "space_reserve": bool(space_reserve),
               "space_allocation": bool(space_allocation), "comment": comment or "", "enabled": True,
               "create_time": self.now(), "written": 0, "class": "regular"}
        self.luns[uuid] = lun
        return lun

    def lun_modify(self, uuid: str, changes: dict, allow_shrink: bool = False) -> dict:
        lun = self.luns.get(uuid)
        if lun is None:
            raise OntapError("lun_not_found", "LUN not found.", "uuid")
        vol = self.volumes[lun["vol_uuid"]]
        if vol["state"] != "online":
            raise OntapError("vol_offline", "The containing volume is offline.", "location.volume")
        if "os_type" in changes and changes["os_type"] != lun["os_type"]:
            raise OntapError("unexpected_arg", "Field \"os_type\" cannot be set in this operation.", "os_type")
        if "size" in changes:
            size = int(changes["size"])
            if size == lun["size"]:
                raise OntapError("lun_same_size", "New LUN size is the same as the old LUN size.", "space.size")
            if size < lun["size"] and not allow_shrink:
                raise OntapError("lun_shrink", "Reducing the size of a LUN might cause permanent data loss or corruption "
                                 "and is not supported by the REST API; LUN sizes can only be increased.", "space.size")
            self.check_lun_size(size)
        if "path" in changes and changes["path"] != lun["path"]:
            svm = self.svms[lun["svm_uuid"]]
            vol_name, qtree, base = self.split_lun_path(changes["path"])
            if vol_name != vol["name"]:
                raise OntapError("lun_name_vol_mismatch", "A LUN cannot be moved to another volume by renaming it.", "name")
            if any(o["svm_uuid"] == svm["uuid"] and o["path"] == changes["path"] for o in self.luns.values()):
                raise OntapError("lun_rename_dup", "A LUN already exists at path \"%s\"." % changes["path"], "name")
            lun["path"], lun["qtree"], lun["base"] = changes["path"], qtree, base
        if "size" in changes:
            lun["size"] = int(changes["size"])
            lun["written"] = min(lun["written"], lun["size"])
        for key in ("space_reserve", "space_allocation", "comment", "enabled"):
            if key in changes:
                lun[key] = changes[key]
        return lun

    def lun_delete(self, uuid: str, allow_mapped: bool = False) -> None:
        lun = self.luns.get(uuid)
        if lun is None:
            raise OntapError("lun_not_found", "LUN not found.", "uuid")
        if self.maps_of_lun(lun) and not allow_mapped:
            raise OntapError("lun_mapped_delete", "The LUN is mapped to an initiator group; unmap it or set "
                             "\"allow_delete_while_mapped\" to true.", "allow_delete_while_mapped")
        self.lun_maps = [m for m in self.lun_maps if m["lun_uuid"] != uuid]
        del self.luns[uuid]

    def write_data(self, lun: dict, nbytes: int) -> dict:
        """Simulate a host writing nbytes of new data into the LUN (capped at its size)."""
        lun["written"] = max(0, min(lun["size"], lun["written"] + int(nbytes)))
        return lun

    # -------------------------------------------------------------- igroups
    def check_initiator(self, igroup: dict, name: str) -> str:
        norm = normalise_initiator(name)
        ok = IQN_RE.match(norm) or EUI_RE.match(norm)
        if igroup["protocol"] in ("fcp", "mixed") and WWPN_RE.match(norm):
            ok = True
        if not ok:
            raise OntapError("initiator_invalid", "The initiator name \"%s\" is not a valid iSCSI initiator name." % name,
                             "initiators.name")
        return norm

    def igroup_create(self, svm: dict, name: str, os_type: str, protocol: str = "mixed",
                      initiators: list | None = None, comment: str = "", uuid: str | None = None) -> dict:
        if not name or len(name) > 96 or not re.match(r"^[A-Za-z0-9_.:{}-]+$", name):
            raise OntapError("igroup_name_invalid", "Invalid initiator group name \"%s\"." % name, "name")
        if os_type not in IGROUP_OS_TYPES:
            raise OntapError("igroup_os_type", "The value \"%s\" is invalid for field \"os_type\"." % os_type, "os_type")
        if protocol not in IGROUP_PROTOCOLS:
            raise OntapError("invalid_value", "The value \"%s\" is invalid for field \"protocol\"." % protocol, "protocol")
        if any(g["svm_uuid"] == svm["uuid"] and g["name"] == name for g in self.igroups.values()):
            raise OntapError("igroup_dup", "An initiator group with name \"%s\" already exists in SVM \"%s\"."
                             % (name, svm["name"]), "name")
        igroup = {"uuid": uuid or self.new_uuid(), "name": name, "svm_uuid": svm["uuid"], "os_type": os_type,
                  "protocol": protocol, "initiators": [], "comment": comment or ""}
        seen = set()
        for init in initiators or []:
            norm = self.check_initiator(igroup, init["name"])
            if norm in seen:
                raise OntapError("initiator_dup", "Initiator \"%s\" is listed twice." % norm, "initiators.name")
            seen.add(norm)
            igroup["initiators"].append({"name": norm, "comment": init.get("comment") or ""})
        self.igroups[igroup["uuid"]] = igroup
        return igroup

    def igroup_modify(self, igroup: dict, changes: dict) -> dict:
        if "name" in changes and changes["name"] != igroup["name"]:
            if any(g["svm_uuid"] == igroup["svm_uuid"] and g["name"] == changes["name"] for g in self.igroups.values()):
                raise OntapError("igroup_dup", "An initiator group with name \"%s\" already exists." % changes["name"],
                                 "name")
        if "os_type" in changes and changes["os_type"] not in IGROUP_OS_TYPES:
            raise OntapError("igroup_os_type", "The value \"%s\" is invalid for field \"os_type\"." % changes["os_type"],
                             "os_type")
        if "protocol" in changes and changes["protocol"] != igroup["protocol"]:
            raise OntapError("unexpected_arg", "Field \"protocol\" cannot be set in this operation.", "protocol")
        for key in ("name", "os_type", "comment"):
            if key in changes:
                igroup[key] = changes[key]
        return igroup

    def igroup_delete(self, igroup: dict, allow_mapped: bool = False) -> None:
        if self.maps_of_igroup(igroup) and not allow_mapped:
            raise OntapError("igroup_mapped_delete", "The initiator group is mapped to one or more LUNs; unmap them or "
                             "set \"allow_delete_while_mapped\" to true.", "allow_delete_while_mapped")
        self.lun_maps = [m for m in self.lun_maps if m["igroup_uuid"] != igroup["uuid"]]
        del self.igroups[igroup["uuid"]]

    def igroup_add_initiator(self, igroup: dict, name: str, comment: str = "") -> dict:
        norm = self.check_initiator(igroup, name)
        if any(i["name"] == norm for i in igroup["initiators"]):
            raise OntapError("initiator_dup", "Initiator group \"%s\" already contains initiator \"%s\"."
                             % (igroup["name"], norm), "name")
        # the new member must not see two LUNs under one id
        ids = {m["lun_id"] for m in self.maps_of_igroup(igroup)}
        for other in self.igroups_of_initiator(norm, igroup["svm_uuid"]):
            for mapping in self.maps_of_igroup(other):
                if mapping["lun_id"] in ids:
                    raise OntapError("initiator_lun_id_conflict", "Adding initiator \"%s\" would give it the same LUN "
                                     "ID %d for two LUN maps." % (norm, mapping["lun_id"]), "name")
        igroup["initiators"].append({"name": norm, "comment": comment or ""})
        return igroup

    def igroup_remove_initiator(self, igroup: dict, name: str, allow_mapped: bool = True) -> dict:
        norm = normalise_initiator(name)
        if not any(i["name"] == norm for i in igroup["initiators"]):
            raise OntapError("initiator_not_member", "Initiator \"%s\" is not a member of initiator group \"%s\"."
                             % (norm, igroup["name"]), "name")
        if self.maps_of_igroup(igroup) and not allow_mapped:
            raise OntapError("initiator_mapped_remove", "LUN maps for this initiator group exist.", "name")
        igroup["initiators"] = [i for i in igroup["initiators"] if i["name"] != norm]
        return igroup

    def igroups_of_initiator(self, norm: str, svm_uuid: str | None = None) -> list[dict]:
        return [g for g in self.igroups.values()
                if (svm_uuid is None or g["svm_uuid"] == svm_uuid) and any(i["name"] == norm for i in g["initiators"])]

    # ------------------------------------------------------------- LUN maps
    def used_lun_ids(self, igroup: dict) -> set[int]:
        """Ids already seen by any initiator of the igroup (and by the igroup itself)."""
        used = {m["lun_id"] for m in self.maps_of_igroup(igroup)}
        for init in igroup["initiators"]:
            for other in self.igroups_of_initiator(init["name"], igroup["svm_uuid"]):
                used |= {m["lun_id"] for m in self.maps_of_igroup(other)}
        return used

    def lun_map(self, lun: dict, igroup: dict, lun_id=None) -> dict:
        if lun["svm_uuid"] != igroup["svm_uuid"]:
            raise OntapError("lunmap_igroup_missing", "The initiator group does not exist, is not accessible to the "
                             "caller, or is not in the specified SVM.", "igroup.name")
        if any(m["lun_uuid"] == lun["uuid"] and m["igroup_uuid"] == igroup["uuid"] for m in self.lun_maps):
            raise OntapError("lunmap_dup", "The LUN is already mapped to this initiator group.", "lun.name")
        used = self.used_lun_ids(igroup)
        if lun_id is None or lun_id == "":
            lun_id = next(i for i in range(MAX_LUN_ID + 2) if i not in used)
            if lun_id > MAX_LUN_ID:
                raise OntapError("lunmap_id_range", "No free LUN ID is left for this initiator group.",
                                 "logical_unit_number")
        else:
            try:
                lun_id = int(lun_id)
            except (TypeError, ValueError) as exc:
                raise OntapError("lunmap_id_range", "Invalid LUN ID \"%s\"." % lun_id, "logical_unit_number") from exc
            if lun_id < 0 or lun_id > MAX_LUN_ID:
                raise OntapError("lunmap_id_range", "LUN ID %d is out of range 0-%d." % (lun_id, MAX_LUN_ID),
                                 "logical_unit_number")
            if lun_id in used:
                raise OntapError("lunmap_id_conflict", "LUN ID %d is already in use by an initiator of initiator group "
                                 "\"%s\"." % (lun_id, igroup["name"]), "logical_unit_number")
        mapping = {"lun_uuid": lun["uuid"], "igroup_uuid": igroup["uuid"], "lun_id": lun_id}
        self.lun_maps.append(mapping)
        return mapping

    def lun_unmap(self, lun: dict, igroup: dict) -> None:
        before = len(self.lun_maps)
        self.lun_maps = [m for m in self.lun_maps if not (m["lun_uuid"] == lun["uuid"] and m["igroup_uuid"] == igroup["uuid"])]
        if len(self.lun_maps) == before:
            raise OntapError("lunmap_not_found", "The LUN map does not exist.", "lun.uuid")

    # -------------------------------------------------------- iSCSI service
    def target_iqn(self, svm: dict) -> str:
        return "iqn.1992-08.com.netapp:sn.%s:vs.%d" % (svm["uuid"].replace("-", ""), svm["vs_id"])

    def iscsi_create(self, svm: dict, enabled: bool = True, alias: str | None = None) -> dict:
        if svm["uuid"] in self.iscsi:
            raise OntapError("iscsi_exists", "An iSCSI service already exists for SVM \"%s\"." % svm["name"], "svm.name")
        if "iscsi" not in svm["allowed_protocols"]:
            raise OntapError("iscsi_not_allowed", "iSCSI is not an allowed protocol for SVM \"%s\"." % svm["name"],
                             "svm.name")
        service = {"enabled": bool(enabled), "alias": alias or svm["name"]}
        self.iscsi[svm["uuid"]] = service
        return service

    def iscsi_get(self, svm: dict) -> dict:
        service = self.iscsi.get(svm["uuid"])
        if service is None:
            raise OntapError("iscsi_not_found", "An iSCSI service does not exist for SVM \"%s\"." % svm["name"], "svm.uuid")
        return service

    def iscsi_modify(self, svm: dict, changes: dict) -> dict:
        service = self.iscsi_get(svm)
        if "enabled" in changes:
            service["enabled"] = bool(changes["enabled"])
        if changes.get("alias"):
            service["alias"] = changes["alias"]
        return service

    def iscsi_delete(self, svm: dict) -> None:
        service = self.iscsi_get(svm)
        if service["enabled"]:
            raise OntapError("iscsi_enabled_delete", "The iSCSI service must be disabled before it can be deleted.",
                             "enabled")
        del self.iscsi[svm["uuid"]]

    # ------------------------------------------------------------ snapshots
    def snapshot_create(self, vol_uuid: str, name: str, uuid: str, comment: str = "", snapmirror_label: str = "") -> dict:
        vol = self.volumes.get(vol_uuid)
        if vol is None:
            raise OntapError("lun_vol_uuid_not_found", "Volume does not exist.", "volume.uuid")
        if not SNAP_NAME_RE.match(name or ""):
            raise OntapError("snap_name_invalid", "Invalid snapshot name \"%s\"." % name, "name")
        if vol["state"] != "online":
            raise OntapError("snap_vol_offline", "Volume \"%s\" is offline." % vol["name"], "volume")
        if any(s["name"] == name for s in self.snapshots_of_volume(vol)):
            raise OntapError("snap_dup", "Snapshot copy \"%s\" of volume \"%s\" already exists." % (name, vol["name"]),
                             "name")
        snap = {"uuid": uuid, "name": name, "vol_uuid": vol_uuid, "comment": comment or "",
                "snapmirror_label": snapmirror_label or "", "create_time": self.now(), "size": 0}
        self.snapshots[uuid] = snap
        return snap

    def snapshot_delete(self, uuid: str) -> None:
        if uuid not in self.snapshots:
            raise OntapError("snap_not_found", "Snapshot copy does not exist.", "uuid")
        del self.snapshots[uuid]

    # ---------------------------------------------------------- SAN fabric
    def visible_luns(self, initiator_iqn: str) -> list[dict]:
        """What a host with this initiator name sees: one entry per LUN map reaching it.

        A LUN is visible when the initiator is in a mapped igroup, the SVM's
        iSCSI service exists and is enabled, the LUN is online and its volume
        is online. Portals are the SVM's enabled iSCSI data LIFs.
        """
        norm = normalise_initiator(initiator_iqn)
        out = []
        for igroup in self.igroups_of_initiator(norm):
            if igroup["protocol"] not in ("iscsi", "mixed"):
                continue
            svm = self.svms[igroup["svm_uuid"]]
            service = self.iscsi.get(svm["uuid"])
            if not service or not service["enabled"]:
                continue
            portals = ["%s:3260" % lif["address"] for lif in self.lifs.values()
                       if lif["svm_uuid"] == svm["uuid"] and lif["enabled"] and "data_iscsi" in lif["services"]]
            for mapping in self.maps_of_igroup(igroup):
                lun = self.luns[mapping["lun_uuid"]]
                if not lun["enabled"] or self.volumes[lun["vol_uuid"]]["state"] != "online":
                    continue
                out.append({"lun_path": lun["path"], "serial": lun["serial"], "lun_id": mapping["lun_id"],
                            "target_iqn": self.target_iqn(svm), "portals": portals, "svm": svm["name"],
                            "igroup": igroup["name"], "size": lun["size"], "scsi_id": scsi_id(lun["serial"])})
        out.sort(key=lambda e: (e["target_iqn"], e["lun_id"]))
        return out

    # ------------------------------------------------------- save / load
    def to_dict(self) -> dict:
        return copy.deepcopy({
            "format": "ontapsim-state/1", "seed": self.seed, "counter": self.counter, "sim_time": self.now(),
            "zapi_enabled": self.zapi_enabled, "cluster": self.cluster, "nodes": self.nodes, "svms": self.svms,
            "aggregates": self.aggregates, "volumes": self.volumes, "luns": self.luns, "igroups": self.igroups,
            "lun_maps": self.lun_maps, "iscsi": self.iscsi, "lifs": self.lifs, "snapshots": self.snapshots,
            "jobs": self.jobs,
        })

    def load_dict(self, data: dict) -> None:
        if data.get("format") != "ontapsim-state/1":
            raise ValueError("not an ontapsim state file")
        data = copy.deepcopy(data)
        for key in ("seed", "counter", "zapi_enabled", "cluster", "nodes", "svms", "aggregates", "volumes", "luns",
                    "igroups", "lun_maps", "iscsi", "lifs", "snapshots", "jobs"):
            setattr(self, key, data[key])
        ahead = float(data.get("sim_time", 0)) - self.now()
        if ahead > 0:
            self.clock.advance(ahead)

    def summary(self) -> dict:
        """Counts for GET /sim/state (cheap, no secrets)."""
        return {"cluster": self.cluster.get("name"), "svms": len(self.svms), "aggregates": len(self.aggregates),
                "volumes": len(self.volumes), "luns": len(self.luns), "igroups": len(self.igroups),
                "lun_maps": len(self.lun_maps), "iscsi_services": len(self.iscsi), "snapshots": len(self.snapshots),
                "jobs": {s: sum(1 for j in self.jobs.values() if j["state"] == s)
                         for s in ("running", "success", "failure")},
                "zapi_enabled": self.zapi_enabled, "sim_time": iso(self.now())}


def naa_id(serial: str) -> str:
    """NetApp NAA identifier: '600a0980' + hex of the 12 serial characters."""
    return "600a0980" + serial.encode("ascii").hex()


def scsi_id(serial: str) -> str:
    """What XenServer's scsi_id prints for the LUN (designator type 3 + NAA id)."""
    return "3" + naa_id(serial)
