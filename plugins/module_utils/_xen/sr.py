# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage repositories, the reading side: find an SR, describe it, probe the storage (private to vdc.xenpool).

The one rule the SR code exists to enforce: SR.create formats the LUN (xapi `xapi_sr.ml` `create`, sm `LVHDoISCSISR.py` `create`), so an
SR is only created when a probe proved the storage carries no SR, or when the caller explicitly asked
for a format. Everything here only reads (SR.probe included: it leaves nothing behind in xapi, except
with a CHAP password, which creates secret objects - so the caller says whether such a probe is allowed).
What to do is decided by sr_plan.py from what is read here, and done by sr_apply.py.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_config as cfg
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, read_pool_state

STORAGE_CLASSES = ("pool", "host", "SR", "PBD")
OWNER_KEY = "vdc.xenpool.owner"
OWNER_VALUE = "sr"
# The pool that created or introduced the SR (its uuid), so another pool's run can tell the SR is not its own.
POOL_KEY = "vdc.xenpool.pool"
# An LVM SR is a little smaller than its LUN (PV label and metadata area); a LUN that exceeds the SR by
# more than this has grown and needs SR.scan to show its size.
GROW_TOLERANCE_BYTES = 256 * 1024 * 1024


class SrUsageError(XenError):
    """The request cannot be carried out safely; nothing was changed."""

    def __init__(self, message: str, hint: str = "", code: str = "USAGE") -> None:
        self.message = message
        self._hint = hint
        self._code = code
        super().__init__(message)

    def __str__(self) -> str:
        return self.message if self._code == "USAGE" else "%s %s" % (self._code, self.message)

    @property
    def code(self) -> str:
        return self._code

    @property
    def hint(self) -> str:
        return self._hint


class Observation:
    """What one run read: the pool, the SR the declaration means (if the pool knows it) and what the storage says."""

    def __init__(self, state: PoolState, ref: str | None, probe_host: str) -> None:
        self.state = state
        self.ref = ref
        self.probe_host = probe_host
        self.probe_skipped: str | None = None  # "incomplete", "iso" or "secret": why the storage was not probed
        self.on_storage: list[str] = []  # uuids of the SRs written on the storage (stage-3 probe)
        self.lun_size: int | None = None  # the LUN's current size (stage-2 probe), for the scan decision
        self.warnings: list[str] = []


def reason(err: XapiError) -> str:
    """Code plus the driver's message text; the XML payload of SM errors is left out."""
    text = err.params[1] if err.code.startswith("SR_BACKEND_FAILURE") and len(err.params) > 1 else ", ".join(
        p for p in err.params if not p.lstrip().startswith("<"))
    return "%s %s" % (err.code, text.strip()) if text and text.strip() else err.code


def read(client: t.Any) -> PoolState:
    return read_pool_state(client, STORAGE_CLASSES)


def hosts(state: PoolState) -> list[str]:
    """Host refs, pool master first (the order xapi itself uses for a shared SR's PBDs)."""
    master = state.master_ref
    others = sorted((r for r in state.all("host") if r != master), key=lambda r: state.name_of("host", r) or "")
    return ([master] if master in state.all("host") else []) + others


def pbds_of(state: PoolState, sr_ref: str) -> dict[str, tuple[str, dict[str, t.Any]]]:
    """host ref -> (PBD ref, record) for one SR."""
    return {rec.get("host"): (ref, rec) for ref, rec in state.all("PBD").items() if rec.get("SR") == sr_ref}


def host_ref(state: PoolState, host: str | None) -> str:
    if not host:
        master = state.master_ref
        if not master:
            raise SrUsageError("the pool has no master record")
        return master
    found = state.by_uuid("host", host)
    if found:
        return found[0]
    named = state.by_name("host", host) or [(r, rec) for r, rec in state.all("host").items() if rec.get("hostname") == host]
    if len(named) == 1:
        return named[0][0]
    raise SrUsageError("host '%s' is %s in the pool" % (host, "ambiguous" if named else "not"), "Give the host's uuid.")


def find(state: PoolState, desired: dict[str, t.Any]) -> str | None:
    """The SR the declaration means: by uuid, else by the storage it sits on, else (only when the
    storage is not known yet, as in --check before the LUN exists) by name and type."""
    sr_type = desired["type"]
    if desired.get("uuid"):
        found = state.by_uuid("SR", desired["uuid"])
        if found and not cfg.same_family(found[1].get("type", ""), sr_type):
            raise SrUsageError("SR %s has type %s, not %s" % (desired["uuid"], found[1].get("type"), sr_type))
        return found[0] if found else None
    dc = desired["device_config"]
    if cfg.identity_complete(sr_type, dc):
        local = sr_type in cfg.LOCAL_TYPES
        wanted_host = host_ref(state, desired.get("host")) if local else None
        for pbd in state.all("PBD").values():
            sr = state.get("SR", pbd.get("SR"))
            if sr and cfg.same_family(sr.get("type", ""), sr_type) and cfg.matches(sr_type, dc, pbd.get("device_config")):
                if not local or pbd.get("host") == wanted_host:
                    return pbd.get("SR")
        return None
    named = [(r, rec) for r, rec in state.by_name("SR", desired.get("name") or "") if cfg.same_family(rec.get("type", ""), sr_type)]
    if len(named) > 1:
        raise SrUsageError("%d SRs of type %s are named '%s'" % (len(named), sr_type, desired.get("name")), "Give the SR's uuid.")
    return named[0][0] if named else None


def describe(state: PoolState, sr_ref: str) -> dict[str, t.Any]:
    rec = state.get("SR", sr_ref) or {}
    pool = state.pool or {}
    pbds = pbds_of(state, sr_ref)
    health = []
    for host in hosts(state):
        if host in pbds:
            health.append(pbd_health(state, host, *pbds[host]))
        elif rec.get("shared"):
            health.append(pbd_health(state, host, None, None))
    return {
        "uuid": rec.get("uuid"),
        "name": rec.get("name_label"),
        "description": rec.get("name_description"),
        "type": rec.get("type"),
        "content_type": rec.get("content_type"),
        "shared": bool(rec.get("shared")),
        "physical_size": to_int(rec.get("physical_size")),
        "physical_utilisation": to_int(rec.get("physical_utilisation")),
        "virtual_allocation": to_int(rec.get("virtual_allocation")),
        "vdi_count": len(rec.get("VDIs") or []),
        "other_config": dict(rec.get("other_config") or {}),
        "sm_config": dict(rec.get("sm_config") or {}),
        "tags": sorted(rec.get("tags") or []),
        "default": pool.get("default_SR") == sr_ref,
        "pbds": health,
    }


def pbd_health(state: PoolState, host: str, pbd_ref: str | None, pbd: dict[str, t.Any] | None) -> dict[str, t.Any]:
    host_rec = state.get("host", host) or {}
    dc = (pbd or {}).get("device_config") or {}
    active, total = cfg.parse_mpath((pbd or {}).get("other_config", {}).get("mpath-%s" % dc.get("SCSIid", ""))) if dc.get(
        "SCSIid") else (None, None)
    attached = bool((pbd or {}).get("currently_attached"))
    return {
        "host": host_rec.get("name_label"),
        "host_uuid": host_rec.get("uuid"),
        "uuid": (pbd or {}).get("uuid"),
        "plugged": attached,
        "iscsi_iqn": host_rec.get("iscsi_iqn") or (host_rec.get("other_config") or {}).get("iscsi_iqn") or None,
        "multipathing": bool(host_rec.get("multipathing")) if "multipathing" in host_rec else None,
        "paths_active": active,
        "paths_total": total,
        "device_config": cfg.mask(dc),
        "reason": None if attached else ("no PBD" if pbd_ref is None else "not plugged"),
    }


def probe(client: t.Any, host: str, sr_type: str, device_config: dict[str, str]) -> tuple[str | None, XapiError | None]:
    """SR.probe: (value, None) on success, (None, error) when the driver answered through an error."""
    try:
        return client.call("SR.probe", host, device_config, sr_type, {}), None
    except XapiError as err:
        return None, err


def srs_on_storage(client: t.Any, host: str, sr_type: str, device_config: dict[str, str]) -> list[str]:
    """Stage-3 probe: uuids of the SRs already written on the storage (empty: it is blank)."""
    value, err = probe(client, host, sr_type, device_config)
    if err is not None:
        if err.code == "SR_DEVICE_IN_USE":
            raise SrUsageError("the storage is in use (%s): it is attached by another pool or another SR" % err.code,
                               "Forget the SR where it is attached, or check scsi_id.")
        raise err
    return [item["uuid"] for item in cfg.parse_sr_list(value)]


def lun_size(client: t.Any, host: str, sr_type: str, device_config: dict[str, str], warnings: list[str]) -> int | None:
    """Stage-2 probe (target + targetIQN, no SCSIid) lists the LUNs with their current size."""
    stage2 = {k: v for k, v in device_config.items() if k != "SCSIid"}
    _value, err = probe(client, host, sr_type, stage2)
    if err is None or not err.code.startswith("SR_BACKEND_FAILURE_107"):
        warnings.append("Could not read the LUN size by SR.probe (%s); SR.scan skipped" % (reason(err) if err else "no LUN list"))
        return None
    for lun in cfg.parse_luns(cfg.probe_payload(err.params)):
        if lun["scsi_id"] == device_config.get("SCSIid"):
            return lun["size_bytes"]
    warnings.append("The LUN %s is not visible from the pool master; SR.scan skipped" % device_config.get("SCSIid"))
    return None


def _probe_skipped(desired: dict[str, t.Any], secret_probe_ok: bool) -> str | None:
    """Why the storage cannot or must not be probed in this run, or None."""
    sr_type = desired["type"]
    if not cfg.identity_complete(sr_type, desired["device_config"]):
        return "incomplete"
    if sr_type == "iso":
        return "iso"  # ISO libraries hold no SR metadata; creating one formats nothing
    if not secret_probe_ok and any(cfg.is_secret_key(k) for k in desired["device_config"]):
        return "secret"
    return None


def _scan_probe_wanted(obs: Observation, sr_ref: str, desired: dict[str, t.Any], secret_probe_ok: bool) -> bool:
    """Whether the LUN size must be read to decide on SR.scan (scan: auto on an iSCSI SR with a full device_config).

    Not when the storage layer declares the size (lun_size): the san_storage role has just converged the LUN to it
    (ontap_lun only grows a LUN), so a probe would only repeat it - and SR.probe is the slowest read of a run."""
    dc = desired["device_config"]
    if (desired.get("scan") or "auto") != "auto" or desired["type"] not in cfg.ISCSI_TYPES or desired.get("lun_size") is not None:
        return False
    if not cfg.identity_complete(desired["type"], dc) or not dc.get("target") or not dc.get("targetIQN"):
        return False
    if not secret_probe_ok and any(cfg.is_secret_key(k) for k in dc):
        return False
    return to_int((obs.state.get("SR", sr_ref) or {}).get("physical_size")) is not None


def observe(client: t.Any, desired: dict[str, t.Any], secret_probe_ok: bool = True) -> Observation:
    """Read everything the plan needs, in a constant number of calls: the pool in bulk, then at most two probes."""
    state = read(client)
    obs = Observation(state, find(state, desired), host_ref(state, desired.get("host")))
    if obs.ref is None:
        obs.probe_skipped = _probe_skipped(desired, secret_probe_ok)
        if obs.probe_skipped is None:
            obs.on_storage = srs_on_storage(client, obs.probe_host, desired["type"], desired["device_config"])
    known = obs.ref or next((state.by_uuid("SR", u)[0] for u in obs.on_storage if state.by_uuid("SR", u)), None)
    if known and _scan_probe_wanted(obs, known, desired, secret_probe_ok):
        obs.lun_size = lun_size(client, state.master_ref or obs.probe_host, desired["type"], desired["device_config"], obs.warnings)
    return obs
