# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage repositories: find, probe, create or reattach, plug, scan, forget, destroy (private to vdc.xenpool).

The one rule this service exists to enforce: SR.create formats the LUN (xenapi-semantics.md §3.4), so an
SR is only created when a probe proved the storage carries no SR, or when the caller explicitly asked
for a format. Everything else is reattachment (SR.introduce + a PBD per host) or convergence of an SR
the pool already knows. The pool is read in bulk (one get_all_records per class); per-host work
(PBD.plug, PBD.unplug) runs as Async tasks side by side so a 64-host pool does not plug one by one.
"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.reconcile import map_changes, set_changes
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_config as cfg
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import NULL_REF, PoolState, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task

STORAGE_CLASSES = ("pool", "host", "SR", "PBD")
OWNER_KEY = "vdc.xenpool.owner"
OWNER_VALUE = "sr"
# An LVM SR is a little smaller than its LUN (PV label and metadata area); a LUN that exceeds the SR by
# more than this has grown and needs SR.scan to show its size.
GROW_TOLERANCE_BYTES = 256 * 1024 * 1024


class SrUsageError(XenError):
    """The request cannot be carried out safely; nothing was changed."""

    def __init__(self, message: str, hint: str = "") -> None:
        self.message = message
        self._hint = hint
        super().__init__(message)

    @property
    def code(self) -> str:
        return "USAGE"

    @property
    def hint(self) -> str:
        return self._hint


def _int(value: t.Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _reason(err: XapiError) -> str:
    """Code plus the driver's message text; the XML payload of SM errors is left out."""
    text = err.params[1] if err.code.startswith("SR_BACKEND_FAILURE") and len(err.params) > 1 else ", ".join(
        p for p in err.params if not p.lstrip().startswith("<"))
    return "%s %s" % (err.code, text.strip()) if text and text.strip() else err.code


class SrService:
    """Operations on one SR of a pool; takes a XenClient and plain values, never an AnsibleModule."""

    def __init__(self, client: t.Any, check_mode: bool = False, wait_timeout: float = 600,
                 sleep: t.Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.check_mode = check_mode
        self.wait_timeout = wait_timeout
        self._sleep = sleep
        self.actions: list[str] = []
        self.warnings: list[str] = []
        self._known_ref: str | None = None  # an SR the pool knows under the uuid found on the storage
        self._found_uuid: str | None = None  # the uuid of an SR on the storage that the pool does not know
        self._needs_scan = False  # set after a reattach, so the VDIs reappear

    # -- reading -----------------------------------------------------------------------------
    def read(self) -> PoolState:
        return read_pool_state(self.client, STORAGE_CLASSES)

    @staticmethod
    def hosts(state: PoolState) -> list[str]:
        """Host refs, pool master first (the order xapi itself uses for a shared SR's PBDs)."""
        master = state.master_ref
        others = sorted((r for r in state.all("host") if r != master), key=lambda r: state.name_of("host", r) or "")
        return ([master] if master in state.all("host") else []) + others

    @staticmethod
    def pbds_of(state: PoolState, sr_ref: str) -> dict[str, tuple[str, dict[str, t.Any]]]:
        """host ref -> (PBD ref, record) for one SR."""
        return {rec.get("host"): (ref, rec) for ref, rec in state.all("PBD").items() if rec.get("SR") == sr_ref}

    def host_ref(self, state: PoolState, host: str | None) -> str:
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

    def find(self, state: PoolState, desired: dict[str, t.Any]) -> str | None:
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
            wanted_host = self.host_ref(state, desired.get("host")) if local else None
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

    def describe(self, state: PoolState, sr_ref: str) -> dict[str, t.Any]:
        rec = state.get("SR", sr_ref) or {}
        pool = state.pool or {}
        pbds = self.pbds_of(state, sr_ref)
        health = []
        for host in self.hosts(state):
            if host not in pbds:
                if rec.get("shared"):
                    health.append(self._health(state, host, None, None))
                continue
            health.append(self._health(state, host, *pbds[host]))
        return {
            "uuid": rec.get("uuid"),
            "name": rec.get("name_label"),
            "description": rec.get("name_description"),
            "type": rec.get("type"),
            "content_type": rec.get("content_type"),
            "shared": bool(rec.get("shared")),
            "physical_size": _int(rec.get("physical_size")),
            "physical_utilisation": _int(rec.get("physical_utilisation")),
            "virtual_allocation": _int(rec.get("virtual_allocation")),
            "vdi_count": len(rec.get("VDIs") or []),
            "other_config": dict(rec.get("other_config") or {}),
            "sm_config": dict(rec.get("sm_config") or {}),
            "tags": sorted(rec.get("tags") or []),
            "default": pool.get("default_SR") == sr_ref,
            "pbds": health,
        }

    @staticmethod
    def _health(state: PoolState, host: str, pbd_ref: str | None, pbd: dict[str, t.Any] | None) -> dict[str, t.Any]:
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

    # -- calls ---------------------------------------------------------------------------------
    def _run(self, method: str, *args: t.Any) -> t.Any:
        """An Async call waited for; SR and PBD operations can take minutes on real storage."""
        return wait_task(self.client, self.client.call_async(method, *args), timeout=self.wait_timeout, sleep=self._sleep)

    def probe(self, host: str, sr_type: str, device_config: dict[str, str]) -> tuple[str | None, XapiError | None]:
        """SR.probe: (value, None) on success, (None, error) when the driver answered through an error."""
        try:
            return self.client.call("SR.probe", host, device_config, sr_type, {}), None
        except XapiError as err:
            return None, err

    def srs_on_storage(self, host: str, sr_type: str, device_config: dict[str, str]) -> list[str]:
        """Stage-3 probe: uuids of the SRs already written on the storage (empty: it is blank)."""
        value, err = self.probe(host, sr_type, device_config)
        if err is not None:
            if err.code == "SR_DEVICE_IN_USE":
                raise SrUsageError("the storage is in use (%s): it is attached by another pool or another SR" % err.code,
                                   "Forget the SR where it is attached, or check scsi_id.")
            raise err
        return [item["uuid"] for item in cfg.parse_sr_list(value)]

    def lun_size(self, host: str, sr_type: str, device_config: dict[str, str]) -> int | None:
        """Stage-2 probe (target + targetIQN, no SCSIid) lists the LUNs with their current size."""
        stage2 = {k: v for k, v in device_config.items() if k != "SCSIid"}
        _value, err = self.probe(host, sr_type, stage2)
        if err is None or not err.code.startswith("SR_BACKEND_FAILURE_107"):
            self.warnings.append("Could not read the LUN size by SR.probe (%s); SR.scan skipped" % (_reason(err) if err else "no LUN list"))
            return None
        for lun in cfg.parse_luns(cfg.probe_payload(err.params)):
            if lun["scsi_id"] == device_config.get("SCSIid"):
                return lun["size_bytes"]
        self.warnings.append("The LUN %s is not visible from the pool master; SR.scan skipped" % device_config.get("SCSIid"))
        return None

    def plug_all(self, state: PoolState, sr_ref: str, hosts: t.Iterable[str]) -> dict[str, str]:
        """Plug the given hosts' PBDs side by side; returns host ref -> failure reason for those that failed."""
        pbds = self.pbds_of(state, sr_ref)
        started = []
        for host in hosts:
            pbd_ref = pbds[host][0]
            started.append((host, self.client.call_async("PBD.plug", pbd_ref)))
        failures = {}
        for host, task in started:
            try:
                wait_task(self.client, task, timeout=self.wait_timeout, sleep=self._sleep)
            except XapiError as err:
                failures[host] = _reason(err)
        return failures

    def unplug_all(self, state: PoolState, sr_ref: str) -> int:
        attached = [ref for ref, rec in self.pbds_of(state, sr_ref).values() if rec.get("currently_attached")]
        tasks = [self.client.call_async("PBD.unplug", ref) for ref in attached]
        errors = []
        for task in tasks:
            try:
                wait_task(self.client, task, timeout=self.wait_timeout, sleep=self._sleep)
            except XapiError as err:
                errors.append(err)
        if errors:
            raise errors[0]
        return len(attached)

    # -- present ---------------------------------------------------------------------------------
    def ensure_present(self, desired: dict[str, t.Any]) -> dict[str, t.Any]:
        state = self.read()
        sr_type = desired["type"]
        dc = desired["device_config"]
        local = sr_type in cfg.LOCAL_TYPES
        shared = desired["shared"]
        probe_host = self.host_ref(state, desired.get("host"))
        ref = self.find(state, desired)
        before = self.describe(state, ref) if ref else None
        if ref is None:
            mode = self._attach_mode(state, desired, probe_host)
            if mode in ("create", "format"):
                self._need_name(desired)
            if mode == "reattach_known":
                # The pool knows the SR on this storage under other device_config: converge that one.
                ref = self._known_ref
                before = self.describe(state, ref)
                return self._converge(state, ref, desired, before, local)
            if self.check_mode or mode == "create_or_reattach":
                return self._predict_new(state, desired, mode)
            if mode == "introduce":
                ref = self._introduce(state, desired, probe_host)
            else:
                self.actions.append("create" if mode == "create" else "format and create")
                ref = self._run("SR.create", probe_host, dc, "0", desired["name"], desired.get("description") or "", sr_type,
                                desired["content_type"], shared, {})
                self._set_owner(ref)
            state = self.read()
        return self._converge(state, ref, desired, before, local)

    def _attach_mode(self, state: PoolState, desired: dict[str, t.Any], probe_host: str) -> str:
        """create, format (explicit), introduce, reattach_known or create_or_reattach (unknowable now)."""
        sr_type = desired["type"]
        dc = desired["device_config"]
        if not cfg.identity_complete(sr_type, dc):
            if self.check_mode:
                self.warnings.append("The storage is not known yet (%s missing, e.g. the LUN is only created in this run); "
                                     "--check cannot tell whether the SR will be created or reattached"
                                     % "/".join(cfg.identity_keys(sr_type)))
                return "create_or_reattach"
            raise SrUsageError("cannot find or create an SR of type %s without device_config %s"
                               % (sr_type, "/".join(cfg.identity_keys(sr_type))), "Set scsi_id or lun_serial (lvmoiscsi), "
                               "server and server_path (nfs), location (iso) or device (lvm/ext).")
        if sr_type == "iso":
            return "create"  # ISO libraries hold no SR metadata; creating one formats nothing.
        if self.check_mode and any(cfg.is_secret_key(k) for k in dc):
            self.warnings.append("--check did not probe the storage: SR.probe with a CHAP password creates secret objects")
            return "create_or_reattach"
        found = self.srs_on_storage(probe_host, sr_type, dc)
        if len(found) > 1:
            raise SrUsageError("the storage carries %d SRs (%s)" % (len(found), ", ".join(found)), "Give the uuid of the one to attach.")
        if not found:
            return "create"
        if desired.get("uuid") and desired["uuid"] != found[0]:
            raise SrUsageError("the storage carries SR %s, not %s" % (found[0], desired["uuid"]), "Check uuid and scsi_id.")
        if desired.get("force_format"):
            self.warnings.append("force_format: the SR %s found on the storage is formatted and its VDIs are lost" % found[0])
            return "format"
        known = state.by_uuid("SR", found[0])
        if known:
            self._known_ref = known[0]
            return "reattach_known"
        self._found_uuid = found[0]
        return "introduce"

    @staticmethod
    def _need_name(desired: dict[str, t.Any]) -> None:
        if not desired.get("name"):
            raise SrUsageError("name is required to create an SR")

    def _introduce(self, state: PoolState, desired: dict[str, t.Any], probe_host: str) -> str:
        uuid = self._found_uuid
        self.actions.append("introduce %s" % uuid)
        ref = self._run("SR.introduce", uuid, desired.get("name") or "", desired.get("description") or "", desired["type"],
                        desired["content_type"], desired["shared"], {})
        self._set_owner(ref)
        hosts = self.hosts(state) if desired["shared"] else [probe_host]
        for host in hosts:
            self.client.call("PBD.create", {"host": host, "SR": ref, "device_config": desired["device_config"], "other_config": {}})
        self.actions.append("create PBD on %d host(s)" % len(hosts))
        self._needs_scan = True
        return ref

    def _set_owner(self, ref: str) -> None:
        self.client.call("SR.remove_from_other_config", ref, OWNER_KEY)
        self.client.call("SR.add_to_other_config", ref, OWNER_KEY, OWNER_VALUE)

    def _predict_new(self, state: PoolState, desired: dict[str, t.Any], mode: str) -> dict[str, t.Any]:
        label = {"create": "create", "format": "format and create", "introduce": "introduce %s" % self._found_uuid,
                 "create_or_reattach": "create or reattach"}[mode]
        self.actions.append(label)
        hosts = self.hosts(state) if desired["shared"] else [self.host_ref(state, desired.get("host"))]
        pbds = []
        for host in hosts:
            entry = self._health(state, host, None, None)
            entry.update(plugged=True, reason=None, device_config=cfg.mask(desired["device_config"]))
            pbds.append(entry)
        other = dict(desired.get("other_config") or {})
        other[OWNER_KEY] = OWNER_VALUE
        after = {
            "uuid": self._found_uuid if mode == "introduce" else None, "name": desired.get("name"), "description": desired.get("description") or "",
            "type": desired["type"], "content_type": desired["content_type"], "shared": desired["shared"], "physical_size": None,
            "physical_utilisation": None, "virtual_allocation": None, "vdi_count": None, "other_config": other, "sm_config": {},
            "tags": sorted(desired.get("tags") or []), "default": bool(desired.get("default")), "pbds": pbds,
        }
        return {"changed": True, "before": None, "after": after, "sr": after, "unplugged": []}

    def _converge(self, state: PoolState, ref: str, desired: dict[str, t.Any], before: dict[str, t.Any] | None,
                  local: bool) -> dict[str, t.Any]:
        sr = state.get("SR", ref) or {}
        pool_ref = state.pool_ref
        dc = desired["device_config"]
        pbds = self.pbds_of(state, ref)
        targets = self.hosts(state) if sr.get("shared") else [next(iter(pbds), None) or self.host_ref(state, desired.get("host"))]
        missing = [h for h in targets if h not in pbds]
        for host, (_pbd_ref, rec) in pbds.items():
            keys = cfg.drift(dc, rec.get("device_config"))
            if keys and not local:
                self.warnings.append("PBD on %s differs in device_config %s; not changed (that needs the PBD unplugged and "
                                     "recreated)" % (state.name_of("host", host), ", ".join(keys)))
        if missing:
            if not cfg.identity_complete(desired["type"], dc):
                raise SrUsageError("hosts %s have no PBD and device_config is incomplete"
                                   % ", ".join(state.name_of("host", h) or h for h in missing))
            self.actions.append("create PBD on %s" % ", ".join(state.name_of("host", h) or h for h in missing))
            if not self.check_mode:
                for host in missing:
                    self.client.call("PBD.create", {"host": host, "SR": ref, "device_config": dc, "other_config": {}})
        unplugged = [h for h in targets if h in missing or not pbds[h][1].get("currently_attached")]
        failures: dict[str, str] = {}
        if unplugged:
            self.actions.append("plug PBD on %s" % ", ".join(state.name_of("host", h) or h for h in unplugged))
            if not self.check_mode:
                state = self.read()
                failures = self.plug_all(state, ref, unplugged)
        self._fields(state, ref, sr, pool_ref, desired)
        if self._needs_scan or self._scan_wanted(state.master_ref, sr, desired):
            self.actions.append("scan")
            if not self.check_mode:
                self._run("SR.scan", ref)
        final = self.read() if not self.check_mode else state
        after = self.describe(final, ref)
        if self.check_mode:
            after = self._predicted(after, desired, unplugged, pool_ref is not None)
        for entry in after["pbds"]:
            host = (final.by_uuid("host", entry["host_uuid"]) or (None,))[0]
            if host in failures:
                entry["reason"] = failures[host]
                entry["plugged"] = False
        still = [p for p in after["pbds"] if not p["plugged"]]
        return {"changed": bool(self.actions), "before": before, "after": after, "sr": after,
                "unplugged": [{"host": p["host"], "reason": p["reason"], "iscsi_iqn": p["iscsi_iqn"]} for p in still]}

    def _fields(self, state: PoolState, ref: str, sr: dict[str, t.Any], pool_ref: str | None, desired: dict[str, t.Any]) -> None:
        write = not self.check_mode
        if desired.get("name") is not None and desired["name"] != sr.get("name_label"):
            self.actions.append("set name")
            if write:
                self.client.call("SR.set_name_label", ref, desired["name"])
        if desired.get("description") is not None and desired["description"] != sr.get("name_description"):
            self.actions.append("set description")
            if write:
                self.client.call("SR.set_name_description", ref, desired["description"])
        if desired.get("other_config") is not None:
            current = dict(sr.get("other_config") or {})
            wanted = dict(desired["other_config"])
            if OWNER_KEY in current:
                wanted.setdefault(OWNER_KEY, current[OWNER_KEY])
            to_set, to_remove = map_changes(current, wanted, desired.get("purge_other_config", False))
            if to_set or to_remove:
                self.actions.append("set other_config")
                if write:
                    merged = {k: v for k, v in current.items() if k not in to_remove}
                    merged.update(to_set)
                    self.client.call("SR.set_other_config", ref, merged)
        if desired.get("tags") is not None:
            add, remove = set_changes(sr.get("tags") or [], desired["tags"], desired.get("purge_tags", False))
            if add or remove:
                self.actions.append("set tags")
                if write:
                    for tag in add:
                        self.client.call("SR.add_tags", ref, tag)
                    for tag in remove:
                        self.client.call("SR.remove_tags", ref, tag)
        if desired.get("default") is not None and pool_ref:
            is_default = (state.pool or {}).get("default_SR") == ref
            if desired["default"] != is_default:
                self.actions.append("set default SR" if desired["default"] else "unset default SR")
                if write:
                    self.client.call("pool.set_default_SR", pool_ref, ref if desired["default"] else NULL_REF)

    def _scan_wanted(self, probe_host: str | None, sr: dict[str, t.Any], desired: dict[str, t.Any]) -> bool:
        mode = desired.get("scan") or "auto"
        if mode == "never":
            return False
        if mode == "always":
            return True
        if desired["type"] not in cfg.ISCSI_TYPES or not cfg.identity_complete(desired["type"], desired["device_config"]):
            return False
        dc = desired["device_config"]
        if not dc.get("target") or not dc.get("targetIQN"):
            return False
        if not probe_host or (self.check_mode and any(cfg.is_secret_key(k) for k in dc)):
            return False
        size = _int(sr.get("physical_size"))
        lun = self.lun_size(probe_host, desired["type"], dc)
        if lun is None or size is None:
            return False
        if lun > size + GROW_TOLERANCE_BYTES:
            self.warnings.append("The LUN (%d bytes) is larger than the SR (%d bytes): scanning" % (lun, size))
            return True
        return False

    def _predicted(self, after: dict[str, t.Any], desired: dict[str, t.Any], unplugged: list[str], has_pool: bool) -> dict[str, t.Any]:
        after = dict(after)
        for key in ("name", "description"):
            if desired.get(key) is not None:
                after[key] = desired[key]
        if desired.get("other_config") is not None:
            current = dict(after["other_config"])
            wanted = dict(desired["other_config"])
            if OWNER_KEY in current:
                wanted.setdefault(OWNER_KEY, current[OWNER_KEY])
            if desired.get("purge_other_config"):
                after["other_config"] = wanted
            else:
                current.update(wanted)
                after["other_config"] = current
        if desired.get("tags") is not None:
            add, remove = set_changes(after["tags"], desired["tags"], desired.get("purge_tags", False))
            after["tags"] = sorted([x for x in after["tags"] if x not in remove] + add)
        if desired.get("default") is not None and has_pool:
            after["default"] = bool(desired["default"])
        if unplugged:
            after["pbds"] = [dict(p, plugged=True, reason=None) for p in after["pbds"]]
        return after

    # -- absent / destroyed ------------------------------------------------------------------------
    def ensure_absent(self, desired: dict[str, t.Any], destroy: bool) -> dict[str, t.Any]:
        """Forget (records only, data kept) or destroy (the SM driver deletes the SR on the storage)."""
        state = self.read()
        ref = self.find(state, desired)
        if ref is None:
            return {"changed": False, "before": None, "after": None, "sr": {}, "unplugged": []}
        before = self.describe(state, ref)
        if destroy and before["vdi_count"]:
            # The LVM driver refuses with SR_NOT_EMPTY only after every PBD was unplugged; refuse first instead.
            raise SrUsageError("the SR still holds %d VDI(s) (SR_NOT_EMPTY); nothing was unplugged" % before["vdi_count"],
                               "Destroy its VDIs first, or use state=absent to detach it and keep the data.")
        attached = [p for p in before["pbds"] if p["plugged"]]
        if attached:
            self.actions.append("unplug PBD on %s" % ", ".join(p["host"] or p["host_uuid"] for p in attached))
        self.actions.append("destroy" if destroy else "forget")
        if not self.check_mode:
            self.unplug_all(state, ref)
            self._run("SR.destroy" if destroy else "SR.forget", ref)
        return {"changed": True, "before": before, "after": None, "sr": {}, "unplugged": []}
