# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage repositories, the deciding side: from what was read to a Plan, without a call (private to vdc.xenpool).

Pure functions of the observation (sr.Observation) and the declaration, so that --check, --diff and the
real run cannot disagree: plan_attach() decides between create, format, introduce and reattach from the
probe result; plan_converge() lists the PBDs to create and plug, the fields to set and whether to scan.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._common.reconcile import map_target, set_changes
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr as srs
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_config as cfg
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import NULL_REF, PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.validate import name_problem

IDENTITY_HINT = "Set scsi_id or lun_serial (lvmoiscsi), server and server_path (nfs), location (iso) or device (lvm/ext)."


class SrPlan(Plan):
    """What apply() will do to one SR: mode, PBDs to create and plug, field writes, scan, unplug + forget/destroy."""

    def __init__(self, obs: srs.Observation, desired: dict[str, t.Any]) -> None:
        super().__init__()
        self.obs = obs
        self.desired = desired
        self.mode = "converge"  # create, format, introduce, create_or_reattach, converge, forget, destroy
        self.ref: str | None = obs.ref
        self.uuid: str | None = None  # the SR found on the storage, for introduce
        self.create_pbds: list[str] = []
        self.plug: list[str] = []
        self.writes: list[tuple[str, tuple]] = []
        self.scan = False
        self.actions: list[str] = []  # one line per step, as the module reports them
        self.warnings: list[str] = list(obs.warnings)

    def act(self, action: str, destructive: bool = False) -> None:
        self.actions.append(action)
        self.add(action, destructive=destructive)

    @property
    def changed(self) -> bool:
        return bool(self.actions)


def owner_marks(pool_uuid: str | None) -> dict[str, str]:
    """The other_config keys an SR created or introduced by the collection carries."""
    marks = {srs.OWNER_KEY: srs.OWNER_VALUE}
    if pool_uuid:
        marks[srs.POOL_KEY] = pool_uuid
    return marks


def check_desired(desired: dict[str, t.Any]) -> None:
    """A name that is given must not be empty: xapi would rename the SR to '' and nobody could find it by name."""
    if name_problem(desired.get("name"), "name"):
        raise srs.SrUsageError("name is empty: the SR would be renamed to ''", "Give the SR a name, or leave name unset to keep it",
                               code="INVALID_VALUE")


def plan_attach(state: PoolState, desired: dict[str, t.Any], obs: srs.Observation, pending_ok: bool = False) -> str:
    """create, format (explicit), introduce, reattach_known or create_or_reattach (unknowable in this run).

    pending_ok: the storage may be created by an earlier task of the same run (check mode), so an incomplete
    device_config or a skipped probe is a prediction, not an error.
    """
    sr_type = desired["type"]
    if obs.probe_skipped == "incomplete":
        if pending_ok:
            return "create_or_reattach"
        raise srs.SrUsageError("cannot find or create an SR of type %s without device_config %s"
                               % (sr_type, "/".join(cfg.identity_keys(sr_type))), IDENTITY_HINT)
    if obs.probe_skipped == "iso":
        return "create"
    if obs.probe_skipped == "secret":
        return "create_or_reattach"
    found = obs.on_storage
    if len(found) > 1:
        raise srs.SrUsageError("the storage carries %d SRs (%s)" % (len(found), ", ".join(found)), "Give the uuid of the one to attach.")
    if not found:
        return "create"
    if desired.get("uuid") and desired["uuid"] != found[0]:
        raise srs.SrUsageError("the storage carries SR %s, not %s" % (found[0], desired["uuid"]), "Check uuid and scsi_id.")
    if desired.get("force_format"):
        return "format"
    return "reattach_known" if state.by_uuid("SR", found[0]) else "introduce"


def check_owner(state: PoolState, sr: dict[str, t.Any], desired: dict[str, t.Any]) -> bool:
    """Refuse to plug an SR that the collection marked as another pool's, unless taken over explicitly (then True:
    the mark must be rewritten for this pool)."""
    owner = (sr.get("other_config") or {}).get(srs.POOL_KEY)
    ours = (state.pool or {}).get("uuid")
    if not owner or not ours or owner == ours:
        return False
    if not desired.get("take_over"):
        raise srs.SrUsageError("SR %s belongs to pool %s (other_config %s), not to this pool %s"
                               % (sr.get("uuid") or sr.get("name_label"), owner, srs.POOL_KEY, ours),
                               "Check scsi_id/lun_serial: this is another pool's storage. Set take_over_from_other_pool: true "
                               "only after forgetting the SR in that pool", code="SR_OWNED_BY_OTHER_POOL")
    return True


def plan_present(obs: srs.Observation, desired: dict[str, t.Any], pending_ok: bool = False) -> SrPlan:
    """The plan of state=present; raises SrUsageError before any write when the declaration cannot be carried out."""
    check_desired(desired)
    state = obs.state
    result = SrPlan(obs, desired)
    if result.ref is not None:
        result.before = srs.describe(state, result.ref)
        return plan_converge(result)
    mode = plan_attach(state, desired, obs, pending_ok)
    if mode == "reattach_known":  # the pool knows the SR on this storage under other device_config: converge that one
        result.ref = state.by_uuid("SR", obs.on_storage[0])[0]
        result.before = srs.describe(state, result.ref)
        return plan_converge(result)
    if mode in ("create", "format") and not desired.get("name"):
        raise srs.SrUsageError("name is required to create an SR", "Give the SR a name")
    result.mode = mode
    if mode == "format":
        result.warnings.append("force_format: the SR %s found on the storage is formatted and its VDIs are lost" % obs.on_storage[0])
    if mode == "introduce":
        result.uuid = obs.on_storage[0]
    if mode == "create_or_reattach" and obs.probe_skipped == "incomplete":
        result.warnings.append("The storage is not known yet (%s missing, e.g. the LUN is only created in this run); "
                               "--check cannot tell whether the SR will be created or reattached" % "/".join(cfg.identity_keys(desired["type"])))
    elif mode == "create_or_reattach":
        result.warnings.append("--check did not probe the storage: SR.probe with a CHAP password creates secret objects")
    label = {"create": "create", "format": "format and create", "introduce": "introduce %s" % result.uuid,
             "create_or_reattach": "create or reattach"}[mode]
    result.act(label, destructive=mode == "format")
    result.after = predict_new(state, desired, result)
    return result


def predict_new(state: PoolState, desired: dict[str, t.Any], result: SrPlan) -> dict[str, t.Any]:
    """The SR a create/introduce will give: every PBD plugged; sizes unknown until the storage answers."""
    targets = srs.hosts(state) if desired["shared"] else [srs.host_ref(state, desired.get("host"))]
    pbds = []
    for host in targets:
        entry = srs.pbd_health(state, host, None, None)
        entry.update(plugged=True, reason=None, device_config=cfg.mask(desired["device_config"]))
        pbds.append(entry)
    other = dict(desired.get("other_config") or {}, **owner_marks((state.pool or {}).get("uuid")))
    return {
        "uuid": result.uuid, "name": desired.get("name"), "description": desired.get("description") or "",
        "type": desired["type"], "content_type": desired["content_type"], "shared": desired["shared"], "physical_size": None,
        "physical_utilisation": None, "virtual_allocation": None, "vdi_count": None, "other_config": other, "sm_config": {},
        "tags": sorted(desired.get("tags") or []), "default": bool(desired.get("default")), "pbds": pbds,
    }


def plan_converge(result: SrPlan) -> SrPlan:
    """PBDs to create and plug, fields to set and the scan of an SR the pool knows."""
    state, desired, ref = result.obs.state, result.desired, t.cast(str, result.ref)
    sr = state.get("SR", ref) or {}
    if check_owner(state, sr, desired):
        result.writes.append(("SR.remove_from_other_config", (ref, srs.POOL_KEY)))
        result.writes.append(("SR.add_to_other_config", (ref, srs.POOL_KEY, (state.pool or {}).get("uuid"))))
        result.act("take over from pool %s" % (sr.get("other_config") or {}).get(srs.POOL_KEY), destructive=True)
    dc = desired["device_config"]
    pbds = srs.pbds_of(state, ref)
    targets = srs.hosts(state) if sr.get("shared") else [next(iter(pbds), None) or srs.host_ref(state, desired.get("host"))]
    result.create_pbds = [h for h in targets if h not in pbds]
    for host, (_pbd_ref, rec) in pbds.items():
        keys = cfg.drift(dc, rec.get("device_config"))
        if keys and desired["type"] not in cfg.LOCAL_TYPES:
            result.warnings.append("PBD on %s differs in device_config %s; not changed (that needs the PBD unplugged and "
                                   "recreated)" % (state.name_of("host", host), ", ".join(keys)))

    def names(refs: list[str]) -> str:
        return ", ".join(state.name_of("host", h) or h for h in refs)

    if result.create_pbds:
        if not cfg.identity_complete(desired["type"], dc):
            raise srs.SrUsageError("hosts %s have no PBD and device_config is incomplete" % names(result.create_pbds), IDENTITY_HINT)
        result.act("create PBD on %s" % names(result.create_pbds))
    result.plug = [h for h in targets if h in result.create_pbds or not pbds[h][1].get("currently_attached")]
    if result.plug:
        result.act("plug PBD on %s" % names(result.plug))
    plan_fields(state, ref, sr, desired, result)
    if scan_wanted(sr, desired, result):
        result.scan = True
        result.act("scan")
    result.after = predicted(srs.describe(state, ref), desired, result)
    return result


def plan_fields(state: PoolState, ref: str, sr: dict[str, t.Any], desired: dict[str, t.Any], result: SrPlan) -> None:
    """name, description, other_config (the ownership marks are kept), tags and the pool's default SR."""
    if desired.get("name") is not None and desired["name"] != sr.get("name_label"):
        result.writes.append(("SR.set_name_label", (ref, desired["name"])))
        result.act("set name")
    if desired.get("description") is not None and desired["description"] != sr.get("name_description"):
        result.writes.append(("SR.set_name_description", (ref, desired["description"])))
        result.act("set description")
    current = dict(sr.get("other_config") or {})
    wanted = other_config_target(current, desired)
    if wanted is not None and wanted != current:
        result.writes.append(("SR.set_other_config", (ref, wanted)))
        result.act("set other_config")
    if desired.get("tags") is not None:
        add, remove = set_changes(sr.get("tags") or [], desired["tags"], desired.get("purge_tags", False))
        result.writes += [("SR.add_tags", (ref, tag)) for tag in add] + [("SR.remove_tags", (ref, tag)) for tag in remove]
        if add or remove:
            result.act("set tags")
    pool_ref = state.pool_ref
    if desired.get("default") is not None and pool_ref:
        if desired["default"] != ((state.pool or {}).get("default_SR") == ref):
            result.writes.append(("pool.set_default_SR", (pool_ref, ref if desired["default"] else NULL_REF)))
            result.act("set default SR" if desired["default"] else "unset default SR")


def other_config_target(current: dict[str, str], desired: dict[str, t.Any]) -> dict[str, str] | None:
    """The SR's other_config after the run (None: unmanaged); the collection's marks survive a purge."""
    if desired.get("other_config") is None:
        return None
    wanted = dict(desired["other_config"])
    for key in (srs.OWNER_KEY, srs.POOL_KEY):
        if key in current:
            wanted.setdefault(key, current[key])
    return map_target(current, wanted, desired.get("purge_other_config", False))


def scan_wanted(sr: dict[str, t.Any], desired: dict[str, t.Any], result: SrPlan) -> bool:
    """scan: always/never as told; auto when the LUN outgrew the SR. The LUN's size is what the storage layer declares
    (lun_size; in check mode the resize of the same run is not done yet, so only the declaration knows it), else what
    the stage-2 probe saw (sr.observe probes only without lun_size)."""
    mode = desired.get("scan") or "auto"
    if mode != "auto":
        return mode == "always"
    size = srs.to_int(sr.get("physical_size"))
    sizes = [s for s in (desired.get("lun_size"), result.obs.lun_size) if s is not None]
    lun = max(sizes) if sizes else None
    if lun is None or size is None or desired["type"] not in cfg.ISCSI_TYPES:
        return False
    if lun > size + srs.GROW_TOLERANCE_BYTES:
        result.warnings.append("The LUN (%d bytes) is larger than the SR (%d bytes): scanning" % (lun, size))
        return True
    return False


def predicted(after: dict[str, t.Any], desired: dict[str, t.Any], result: SrPlan) -> dict[str, t.Any]:
    """The SR as it will be once the plan ran; check mode reports it."""
    after = dict(after)
    for key in ("name", "description"):
        if desired.get(key) is not None:
            after[key] = desired[key]
    wanted = other_config_target(after["other_config"], desired)
    if wanted is not None:
        after["other_config"] = wanted
    if desired.get("tags") is not None:
        add, remove = set_changes(after["tags"], desired["tags"], desired.get("purge_tags", False))
        after["tags"] = sorted([x for x in after["tags"] if x not in remove] + add)
    if desired.get("default") is not None and result.obs.state.pool_ref is not None:
        after["default"] = bool(desired["default"])
    if result.scan and desired.get("lun_size") is not None:
        after["physical_size"] = max(after["physical_size"] or 0, desired["lun_size"])
    if result.plug or result.create_pbds:
        after["pbds"] = [dict(p, plugged=True, reason=None) for p in after["pbds"]]
    return after


def plan_absent(obs: srs.Observation, desired: dict[str, t.Any], destroy: bool) -> SrPlan:
    """Forget (records only, data kept) or destroy (the SM driver deletes the SR on the storage)."""
    result = SrPlan(obs, desired)
    result.before = srs.describe(obs.state, obs.ref) if obs.ref else None
    if obs.ref is None:
        return result
    if destroy and result.before["vdi_count"]:
        # The LVM driver refuses with SR_NOT_EMPTY only after every PBD was unplugged; refuse first instead.
        raise srs.SrUsageError("the SR still holds %d VDI(s) (SR_NOT_EMPTY); nothing was unplugged" % result.before["vdi_count"],
                               "Destroy its VDIs first, or use state=absent to detach it and keep the data.")
    attached = [p for p in result.before["pbds"] if p["plugged"]]
    if attached:
        result.act("unplug PBD on %s" % ", ".join(p["host"] or p["host_uuid"] for p in attached))
    result.mode = "destroy" if destroy else "forget"
    result.act(result.mode, destructive=destroy)
    return result
