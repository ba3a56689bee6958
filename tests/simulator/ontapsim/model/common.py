# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Constants, the simulated clock and parsing helpers shared by the state's nouns."""
from __future__ import annotations

import datetime
import re
import time

from ..errors import OntapError

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


def naa_id(serial: str) -> str:
    """NetApp NAA identifier: '600a0980' + hex of the 12 serial characters."""
    return "600a0980" + serial.encode("ascii").hex()


def scsi_id(serial: str) -> str:
    """What XenServer's scsi_id prints for the LUN (designator type 3 + NAA id)."""
    return "3" + naa_id(serial)
