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

OntapState is assembled from one mixin per noun (cluster/SVMs, jobs, volumes, LUNs, igroups,
LUN maps, iSCSI service, snapshots); this module keeps ids, save/load and the summary.
"""
from __future__ import annotations

import copy
import hashlib
import threading

from .common import (
    COMPRESSION_RATIO, DEDUPE_RATIO, EFFICIENCY_KEYS, EFFICIENCY_VALUES, EUI_RE, IGROUP_OS_TYPES, IGROUP_PROTOCOLS,
    IQN_RE, JOB_SECONDS, LUN_BASE_RE, LUN_OS_TYPES, MAX_LUN_ID, MAX_LUN_SIZE, MIN_LUN_SIZE, MIN_VOLUME_SIZE,
    SERIAL_ALPHABET, SIZE_UNITS, SNAP_NAME_RE, SimClock, VOLUME_NAME_RE, WWPN_RE, iso, naa_id, normalise_initiator,
    parse_bool, parse_size, scsi_id,
)
from .cluster import ClusterMixin
from .jobs import JobsMixin
from .volumes import VolumesMixin
from .luns import LunsMixin
from .igroups import IgroupsMixin
from .lunmaps import LunMapsMixin
from .iscsi import IscsiMixin
from .snapshots import SnapshotsMixin

__all__ = [
    "COMPRESSION_RATIO", "DEDUPE_RATIO", "EFFICIENCY_KEYS", "EFFICIENCY_VALUES", "EUI_RE", "IGROUP_OS_TYPES",
    "IGROUP_PROTOCOLS", "IQN_RE", "JOB_SECONDS", "LUN_BASE_RE", "LUN_OS_TYPES", "MAX_LUN_ID", "MAX_LUN_SIZE",
    "MIN_LUN_SIZE", "MIN_VOLUME_SIZE", "OntapState", "SERIAL_ALPHABET", "SIZE_UNITS", "SNAP_NAME_RE", "SimClock",
    "VOLUME_NAME_RE", "WWPN_RE", "iso", "naa_id", "normalise_initiator", "parse_bool", "parse_size", "scsi_id",
]


class OntapState(ClusterMixin, JobsMixin, VolumesMixin, LunsMixin, IgroupsMixin, LunMapsMixin, IscsiMixin, SnapshotsMixin):
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

    def _digest(self, purpose: str) -> bytes:
        self.counter += 1
        return hashlib.sha256(("%s:%s:%d" % (self.seed, purpose, self.counter)).encode("utf-8")).digest()

    def new_uuid(self) -> str:
        raw = bytearray(self._digest("uuid")[:16])
        raw[6] = (raw[6] & 0x0F) | 0x40
        raw[8] = (raw[8] & 0x3F) | 0x80
        hexed = raw.hex()
        return "%s-%s-%s-%s-%s" % (hexed[:8], hexed[8:12], hexed[12:16], hexed[16:20], hexed[20:])

    def derived_uuid(self, purpose: str, key: str) -> str:
        """A stable uuid for an object the model does not keep (a policy, a port, an IPspace): same key, same uuid,
        and no effect on the sequence new_uuid() draws from."""
        raw = bytearray(hashlib.sha256(("%s:derived:%s:%s" % (self.seed, purpose, key)).encode("utf-8")).digest()[:16])
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
