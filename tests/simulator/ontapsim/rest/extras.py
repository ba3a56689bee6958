# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fields of a REST record that the model keeps no setting for, derived from the model's state.

The record builders (volumes.py, luns.py, ...) serve what the simulator models; these functions add
what an ONTAP 9.14 cluster also returns for the same object under `fields=*` (values of a default
FlexVol volume, an unencrypted LUN, an igroup outside SnapMirror active sync), computed from the
same state so they cannot contradict it: percentages from the space the model accounts, nodes and
uuids from the cluster's objects, connection states from the igroup's initiators and maps. Types and
enums are those of NetApp's ONTAP REST API reference (spec/rest_fields.json; fidelity.py checks them).
Features the simulator does not model (QoS policies, SnapLock, FlexCache, tiering to object stores,
anti-ransomware analysis, nested igroups, portsets) stay absent, as on a cluster that does not use
them; ONTAP.md lists them.
"""
from __future__ import annotations

import time

from .common import _ref

FILES_PER_BYTE = 32768      # ONTAP's default inode density: one file per 32 KiB of volume size


def merge(record: dict, extra: dict) -> dict:
    """Deep-merge extra into record; lists of objects merge item by item; the record's own values win."""
    for key, value in extra.items():
        mine = record.get(key)
        if isinstance(mine, dict) and isinstance(value, dict):
            merge(mine, value)
        elif isinstance(mine, list) and isinstance(value, list) and len(mine) == len(value) and value \
                and all(isinstance(v, dict) for v in mine + value):
            for item, more in zip(mine, value):
                merge(item, more)
        elif key not in record:
            record[key] = value
    return record


def _ctime(ts: float) -> str:
    """The ctime-style stamp ONTAP uses for efficiency operations ("Thu Jan 01 00:00:00 2026")."""
    return time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(ts))


def _pct(part: int, whole: int) -> int:
    return int(round(100.0 * part / whole)) if whole else 0


def volume_extras(st, vol: dict, space: dict, savings: dict, svm: dict) -> dict:
    """Defaults of a FlexVol volume (9.14), with the space figures derived from the model's accounting."""
    snap_used = sum(s["size"] for s in st.snapshots_of_volume(vol))
    luns = st.luns_of_volume(vol)
    lun_sizes = sum(lun["size"] for lun in luns)
    footprint = space["used"] + (space["usable"] if vol["guarantee"] == "volume" else 0)
    logical = savings["logical_used"] + snap_used
    policy_uuid = st.derived_uuid("snapshot-policy", svm["uuid"] + vol["snapshot_policy"])
    return {
        "access_time_enabled": True, "snapshot_directory_access_enabled": True, "language": svm["language"],
        "activity_tracking": {"state": "off", "supported": vol["style"] == "flexvol"},
        "analytics": {"state": "off", "supported": True},
        "anti_ransomware": {"state": "disabled"},
        "autosize": {"mode": "off", "maximum": vol["size"] * 6 // 5, "minimum": vol["size"],
                     "grow_threshold": 85, "shrink_threshold": 50},
        "encryption": {"enabled": False, "state": "unencrypted", "type": "none", "key_id": "", "rekey": False},
        "files": {"maximum": max(vol["size"] // FILES_PER_BYTE, 1), "used": 96 + len(luns)},
        "nas": {"export_policy": {"name": "default", "uuid": st.derived_uuid("export-policy", svm["uuid"] + "default")},
                "security_style": "unix", "uid": 0, "gid": 1, "unix_permissions": 755},
        "snaplock": {"type": "non_snaplock"},
        "snapshot_policy": {"uuid": policy_uuid},
        "tiering": {"policy": "none", "object_tags": []},
        "space": {"available_percent": _pct(space["available"], space["usable"]),
                  "fractional_reserve": 100 if vol["guarantee"] == "volume" and any(lun["space_reserve"] for lun in luns)
                  else 0,
                  "full_threshold_percent": 98, "nearly_full_threshold_percent": 95, "max_size": "100T",
                  "large_size_enabled": False, "is_used_stale": False, "filesystem_size": space["size"],
                  "filesystem_size_fixed": False, "expected_available": space["available"],
                  "over_provisioned": max(0, lun_sizes - space["usable"]) if vol["guarantee"] == "none" else 0,
                  "overwrite_reserve": 0, "overwrite_reserve_used": 0,
                  "snapshot_spill": max(0, snap_used - space["reserve_size"]),
                  "size_available_for_snapshots": space["available"] + max(0, space["reserve_size"] - snap_used),
                  "physical_used_percent": _pct(space["used"], space["size"]),
                  "user_data": space["used"] - snap_used, "metadata": 0, "total_metadata": 0,
                  "footprint": footprint, "total_footprint": footprint, "local_tier_footprint": footprint,
                  "volume_guarantee_footprint": space["usable"] if vol["guarantee"] == "volume" else 0,
                  "performance_tier_footprint": footprint, "capacity_tier_footprint": 0,
                  "delayed_free_footprint": 0, "file_operation_metadata": 0,
                  "snapshot": {"autodelete_trigger": "volume", "autodelete": {"enabled": False},
                               "reserve_available": max(0, space["reserve_size"] - snap_used),
                               "space_used_percent": _pct(snap_used, space["reserve_size"])},
                  "logical_space": {"used_by_snapshots": snap_used, "used_percent": _pct(logical, space["usable"]),
                                    "used_by_afs": savings["logical_used"]}},
        "efficiency": {"compression_type": "none" if vol["efficiency"]["compression"] == "none" else "secondary",
                       "storage_efficiency_mode": "default", "type": "regular", "auto_state": "auto",
                       "schedule": "-" if vol["efficiency"]["dedupe"] == "none" else "sun-sat@0",
                       "ratio": round(1.0 + savings["total"] / float(max(savings["logical_used"] - savings["total"], 1)), 2),
                       "logging_enabled": True, "last_op_state": "Success", "last_op_err": "-", "last_op_size": 0,
                       "last_op_begin": _ctime(vol["create_time"]), "last_op_end": _ctime(vol["create_time"]),
                       "idcs_scanner": {"enabled": False, "mode": "default", "operation_state": "idle",
                                        "status": "success", "threshold_inactive_time": "P14D"},
                       "progress": "Idle for 00:00:00", "scanner": {"state": "idle", "compression": False,
                                                                    "dedupe": False, "scan_old_data": False},
                       "space_savings": {"dedupe_sharing": 0}},
    }


def volume_junction_parent(st, vol: dict) -> dict | None:
    """A mounted non-root volume's junction parent is its SVM's root volume."""
    if not vol.get("junction_path") or vol.get("is_svm_root"):
        return None
    for other in st.volumes.values():
        if other["svm_uuid"] == vol["svm_uuid"] and other.get("is_svm_root"):
            return _ref(other["name"], other["uuid"], "/api/storage/volumes/%s" % other["uuid"])
    return None


def lun_extras(st, lun: dict, vol: dict, node_uuid: str) -> dict:
    """Unencrypted, not a clone; snapshot figures from the containing volume; efficiency from its savings."""
    space = st.volume_space(vol)
    snap_used = sum(s["size"] for s in st.snapshots_of_volume(vol))
    physical = st.lun_physical(lun)
    ratio = round(lun["written"] / float(physical), 2) if physical else 1.0
    return {"clone": {"created_as_clone": False}, "encryption": {"state": "unencrypted"},
            "location": {"node": {"uuid": node_uuid}, "qtree": {"name": lun["qtree"] or ""}},
            "space": {"efficiency_ratio": ratio, "physical_used": physical, "physical_used_by_snapshots": 0,
                      "snapshot": {"reserve_percent": space["reserve_percent"], "reserve_size": space["reserve_size"],
                                   "used": snap_used, "reserve_available": max(0, space["reserve_size"] - snap_used),
                                   "space_used_percent": _pct(snap_used, space["reserve_size"]),
                                   "autodelete": {"enabled": False}}}}


def igroup_state(st, ig: dict) -> str:
    """connectivity_tracking.connection_state as ONTAP derives it (no initiators / no maps / logged in)."""
    if not ig["initiators"]:
        return "no_initiators"
    if not st.maps_of_igroup(ig):
        return "no_lun_maps"
    return "none"


def initiator_state(st, ig: dict) -> str:
    return "no_lun_maps" if not st.maps_of_igroup(ig) else "none"


def igroup_extras(st, ig: dict) -> dict:
    """Connectivity derived from initiators and maps (no logins are tracked, so 'none' when mapped)."""
    version = st.cluster["version"]
    return {"connectivity_tracking": {"connection_state": igroup_state(st, ig), "alerts": [],
                                      "required_nodes": [{"name": n["name"], "uuid": n["uuid"]} for n in st.nodes]
                                      if st.maps_of_igroup(ig) else []},
            "target": {"vendor_id": "NETAPP", "product_id": "LUN C-Mode",
                       "firmware_revision": "%d%d%d0" % (version["generation"], version["major"], version["minor"])}}


def initiator_extras(st, ig: dict, init: dict) -> dict:
    return {"igroup": {"name": ig["name"], "uuid": ig["uuid"]},
            "connectivity_tracking": {"connection_state": initiator_state(st, ig)},
            "proximity": {"local_svm": True, "peer_svms": []}}


def snapshot_extras(st, snap: dict, vol: dict) -> dict:
    """A snapshot of a FlexVol volume: its own version uuid, no owners, no savings of its own yet."""
    return {"version_uuid": snap["uuid"], "provenance_volume": {"uuid": vol["uuid"]}, "owners": [],
            "logical_size": st.volume_savings(vol)["logical_used"], "dedup_savings": 0, "compress_savings": 0,
            "vbn0_savings": 0}


def svm_extras(st, svm: dict, aggrs: list[dict]) -> dict:
    return {"ipspace": {"uuid": st.derived_uuid("ipspace", svm["ipspace"])},
            "snapshot_policy": {"uuid": st.derived_uuid("snapshot-policy", svm["uuid"] + "default")},
            "san_multipathing": "active_active",
            "aggregates": [{"available_size": st.aggregate_space(a)["available"], "state": a["state"],
                            "type": "ssd", "snaplock_type": "non_snaplock"} for a in aggrs]}


def lif_extras(st, lif: dict) -> dict:
    port_uuid = st.derived_uuid("port", lif["node"] + ":" + lif["port"])
    return {"ipspace": {"uuid": st.derived_uuid("ipspace", st.svms[lif["svm_uuid"]]["ipspace"])}, "vip": False,
            "service_policy": {"uuid": st.derived_uuid("service-policy", lif["svm_uuid"] + lif["service_policy"])},
            "location": {"auto_revert": False, "failover": st.lif_failover(lif), "home_port": {"uuid": port_uuid}, "port": {"uuid": port_uuid}}}


def job_extras(st, job: dict) -> dict:
    """Jobs run on the node of the SVM's first aggregate (the cluster's first node for cluster jobs)."""
    del job
    return {"node": {"name": st.nodes[0]["name"]}} if st.nodes else {}


__all__ = ["merge", "volume_extras", "volume_junction_parent", "lun_extras", "igroup_extras", "initiator_extras",
           "snapshot_extras", "svm_extras", "lif_extras", "job_extras"]
