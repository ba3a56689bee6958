# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The pool service: settings, membership and master of a pool (private to vdc.xenpool).

describe -> plan -> apply: the plan is computed from one bulk read of the pool plus one read of
every host that is not yet a member, so check mode can show joins, ejects and setting changes
without a single write, and apply never starts a join that the pre-check would refuse.
"""

from __future__ import annotations

import ipaddress
import typing as t
from urllib.parse import urlsplit

from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._common.reconcile import Changes, diff, map_changes, set_changes
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import join as joinlib
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import build_url
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenError, XenPlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.master import designate
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task

POOL_CLASSES = ("pool", "host", "SR", "PIF", "VM")


class PoolPlanError(XenPlanError):
    """The desired pool cannot be reached; nothing was changed. code names the first kind of problem."""


class Member(t.NamedTuple):
    """A host that must be in the pool, with the credentials of its own endpoint."""

    address: str
    username: str
    password: str
    name: str | None = None


def read(client: t.Any) -> PoolState:
    return read_pool_state(client, POOL_CLASSES)


def _host_key(address: str) -> str:
    try:
        return (urlsplit(build_url(address)).hostname or address).lower()
    except ValueError:
        return address.lower()


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def find_host(state: PoolState, address: str | None = None, name: str | None = None) -> str | None:
    """The ref of the host known by that name_label, management address, dom0 host name or FQDN."""
    key = _host_key(address) if address else None
    for ref, rec in sorted(state.all("host").items()):
        if name and rec.get("name_label") == name:
            return ref
        if key is None:
            continue
        labels = {str(rec.get(f) or "").lower() for f in ("address", "hostname", "name_label")}
        if key in labels or (not _is_ip(key) and key.split(".")[0] in labels):
            return ref
    return None


def find_sr(state: PoolState, ident: str) -> str | None:
    found = state.by_uuid("SR", ident)
    if found:
        return found[0]
    named = state.by_name("SR", ident)
    if len(named) > 1:
        raise PoolPlanError("SR_NAME_AMBIGUOUS", "%d SRs are named '%s'; give the uuid" % (len(named), ident))
    return named[0][0] if named else None


def view(state: PoolState, extra_members: t.Iterable[str] = (), removed: t.Iterable[str] = (), master: str | None = None) -> dict[str, t.Any]:
    """The managed picture of the pool (what --diff shows); extra/removed/master predict a plan's outcome."""
    pool = state.pool or {}
    names = {rec.get("name_label", "") for rec in state.all("host").values()}
    names = (names | set(extra_members)) - set(removed)
    return {
        "name": pool.get("name_label", ""),
        "description": pool.get("name_description", ""),
        "master": master or state.name_of("host", state.master_ref),
        "members": sorted(names),
        "default_sr": state.name_of("SR", pool.get("default_SR")),
        "other_config": dict(pool.get("other_config") or {}),
        "tags": sorted(pool.get("tags") or []),
    }


class PoolPlan(Plan):
    """Everything apply() will do, computed without writing; before/after are the managed views (--diff)."""

    def __init__(self) -> None:
        super().__init__()
        self.changes = Changes()
        self.default_sr_ref: str | None = None
        self.joiners: list[joinlib.Candidate] = []
        self.unresolved: list[str] = []
        self.eject: list[str] = []
        self.ejected_names: list[str] = []
        self.master: Member | str | None = None
        self.master_name: str | None = None
        self.forced: list[dict[str, str]] = []
        self.notes: list[str] = []
        self.pause_ha = False  # turn the pool's HA off before the joins (pause_ha_for_joins)

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.joiners or self.eject or self.master is not None)

    def describe(self, state: PoolState) -> None:
        """Fill before/after and the human-readable steps once the plan is complete."""
        self.before = view(state)
        self.after = predicted(state, self)
        self.ejected_names = [state.name_of("host", r) or r for r in self.eject]
        for name in sorted(self.changes.fields):
            self.add("set %s" % name, "", self.changes.fields[name][1])
        if self.pause_ha:
            self.add("turn HA off", self.before["name"], "for the join of %s; it stays off until it is turned on again"
                     % ", ".join(c.name for c in self.joiners))
        for cand in self.joiners:
            self.add("join", cand.name)
        for name in self.ejected_names:
            self.add("eject", name, "the host's local state is wiped", destructive=True)
        if self.master is not None:
            self.add("designate master", self.master_name or "")


def plan(
    state: PoolState,
    desired: dict[str, t.Any],
    members: list[Member] | None,
    open_host: t.Callable[[Member], t.Any],
    purge_members: bool = False,
    purge_other_config: bool = False,
    purge_tags: bool = False,
    master: str | None = None,
    force_join: bool = False,
    pause_ha_for_joins: bool = False,
) -> PoolPlan:
    """Compare desired settings and membership with the pool; read and pre-check every joining host."""
    result = PoolPlan()
    pool = state.pool or {}
    current = {
        "name": pool.get("name_label", ""),
        "description": pool.get("name_description", ""),
        "other_config": dict(pool.get("other_config") or {}),
        "tags": list(pool.get("tags") or []),
        "default_sr": state.name_of("SR", pool.get("default_SR")),
    }
    want = {k: desired.get(k) for k in ("name", "description", "other_config", "tags")}
    if desired.get("default_sr") is not None:
        ref = find_sr(state, desired["default_sr"])
        if ref is None:
            raise PoolPlanError("SR_NOT_FOUND", "no SR named or with uuid '%s' in the pool" % desired["default_sr"])
        result.default_sr_ref = ref
        want["default_sr"] = state.name_of("SR", ref)
    result.changes = diff(current, want, maps=("other_config",), sets=("tags",), purge={"other_config": purge_other_config, "tags": purge_tags})

    if members is not None:
        try:
            _plan_members(state, result, members, open_host, purge_members, force_join, pause_ha_for_joins)
        except PoolPlanError:
            close_all(result)  # the joining hosts' sessions: nothing will join
            raise
    if master is not None:
        _plan_master(state, result, master)
    if result.eject:
        _check_eject(state, result)
    _check_ha_off(state, result)
    result.describe(state)
    return result


def _check_unresolved(result: PoolPlan) -> None:
    """A declared member that answers from this pool but matches no host record could be any host: purging
    with it unresolved would eject a host the user declared under another address. Refuse before any write."""
    if result.unresolved:
        raise PoolPlanError(
            "MEMBER_UNRESOLVED",
            "members %s answer as members of this pool but match no host's address, host name or name label; "
            "no host was ejected" % ", ".join(result.unresolved),
            hint="Give each such member its host's name label (members[].name) or its management address, then run again")


def _plan_members(state: PoolState, result: PoolPlan, members: list[Member], open_host: t.Callable[[Member], t.Any],
                  purge_members: bool, force_join: bool, pause_ha: bool) -> None:
    """Resolve every declared member; read and pre-check the hosts that must join; with purge, the hosts to eject."""
    pool = state.pool or {}
    declared_refs = {state.master_ref}
    for member in members:
        ref = find_host(state, member.address, member.name)
        if ref is not None:
            declared_refs.add(ref)
            continue
        try:
            cand = joinlib.open_candidate(member.address, lambda _a, m=member: open_host(m))
        except XenError as err:
            raise PoolPlanError(getattr(err, "code", "CONNECTION_FAILED"),
                                "cannot read joining host '%s': %s; no host has joined" % (member.address, err)) from None
        if (cand.state.pool or {}).get("uuid") == pool.get("uuid"):
            # answers from this pool (a member redirects to the master, the master answers itself) under an address
            # that matches no host record: which host it is cannot be told, so it is never a joiner
            result.unresolved.append(member.address)
            _close(cand)
            continue
        if cand.uuid and joinlib.is_member(state, cand.uuid):
            declared_refs.add(state.by_uuid("host", cand.uuid)[0])
            _close(cand)
            continue
        result.joiners.append(cand)
    # the pool's own HA is not a problem of the joining hosts: it is turned off for the joins, or refused below
    blocked = joinlib.precheck(state, result.joiners, force_join, pool_ha=False)
    result.pause_ha = bool(pool.get("ha_enabled") and result.joiners)
    if result.pause_ha and not pause_ha:
        raise _ha_refusal(state, result.joiners, blocked)
    if blocked:
        raise PoolPlanError(blocked[0].problems[0].code, "pre-join check failed, no host has joined: " + joinlib.describe_blocked(blocked))
    for cand in result.joiners:
        result.forced += [{"host": cand.name, "code": p.code, "reason": p.reason} for p in cand.forced]
        result.notes += joinlib.feature_notes(state, cand)
    names = [c.name for c in result.joiners]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise PoolPlanError("DUPLICATE_MEMBER", "hosts declared twice: %s" % ", ".join(dupes))
    if purge_members:
        _check_unresolved(result)
        result.eject = sorted((ref for ref in state.all("host") if ref not in declared_refs), key=lambda r: state.name_of("host", r) or "")


def _ha_refusal(state: PoolState, joiners: list[joinlib.Candidate], blocked: list[joinlib.Candidate]) -> PoolPlanError:
    """xapi refuses pool.join while the pool has HA on (`xapi_pool.ml` `pre_join_checks`, HA_IS_ENABLED). Say how to get
    past it, and name every other pre-join problem too, so that one run shows them all."""
    others = "; other pre-join problems: " + joinlib.describe_blocked(blocked) if blocked else ""
    return PoolPlanError(
        "HA_IS_ENABLED",
        "HA is enabled on pool '%s' and xapi refuses pool.join while it is on, so %s cannot join; no host has joined%s"
        % ((state.pool or {}).get("name_label", ""), ", ".join(c.name for c in joiners), others),
        hint="Set pause_ha_for_joins: true to have HA turned off for the joins (then turn it on again, for example with "
             "vdc.xenpool.ha), or turn HA off first" + (", and fix the other pre-join problems" if blocked else ""))


def _check_ha_off(state: PoolState, result: PoolPlan) -> None:
    """xapi also refuses pool.eject and pool.designate_new_master while HA is on (HA_IS_ENABLED): refuse them before
    the first write, unless HA is turned off for joins earlier in the same plan."""
    ha_calls = (["pool.eject"] if result.eject else []) + (["pool.designate_new_master"] if result.master is not None else [])
    if (state.pool or {}).get("ha_enabled") and ha_calls and not result.pause_ha:
        raise PoolPlanError(
            "HA_IS_ENABLED", "HA is enabled on pool '%s' and xapi refuses %s while it is on; nothing was changed"
            % ((state.pool or {}).get("name_label", ""), " and ".join(ha_calls)),
            hint="Turn HA off first (vdc.xenpool.ha with state: disabled), then turn it on again afterwards")


def _plan_master(state: PoolState, result: PoolPlan, master: str) -> None:
    ref = find_host(state, master, master)
    if ref is not None:
        if ref in result.eject:
            raise PoolPlanError("MASTER_EJECTED", "host '%s' cannot be both the master and ejected" % master)
        if ref != state.master_ref:
            result.master = ref
            result.master_name = state.name_of("host", ref)
        return
    key = _host_key(master)
    for cand in result.joiners:
        host = cand.host
        if master in (cand.name, cand.address) or key in {str(host.get("address", "")).lower(), str(host.get("hostname", "")).lower()} \
                or key.split(".")[0] == cand.name:
            result.master = cand.uuid
            result.master_name = cand.name
            return
    raise PoolPlanError("HOST_NOT_FOUND", "master '%s' is neither a member nor a declared member" % master)


def _check_eject(state: PoolState, result: PoolPlan) -> None:
    """xapi refuses to eject a host with non-halted VMs resident on it; refuse before ejecting anything."""
    busy = []
    for ref in result.eject:
        vms = [vm.get("name_label", "") for vm in state.all("VM").values()
               if vm.get("resident_on") == ref and not vm.get("is_control_domain") and vm.get("power_state") != "Halted"]
        if vms:
            busy.append("%s: VMs not halted: %s" % (state.name_of("host", ref), ", ".join(sorted(vms))))
    if busy:
        raise PoolPlanError("OPERATION_NOT_ALLOWED", "cannot eject, no host was ejected: " + " | ".join(busy))


def predicted(state: PoolState, result: PoolPlan) -> dict[str, t.Any]:
    after = view(state, [c.name for c in result.joiners], [state.name_of("host", r) or "" for r in result.eject], result.master_name)
    after.update(result.changes.after)
    after["tags"] = sorted(after["tags"])
    return after


def _close(cand: joinlib.Candidate) -> None:
    close = getattr(cand.client, "close", None)
    if close:
        close()


def close_all(result: PoolPlan) -> None:
    for cand in result.joiners:
        _close(cand)


def apply_settings(client: t.Any, pool_ref: str, result: PoolPlan, current: dict[str, t.Any], purge_other_config: bool) -> None:
    changes = result.changes
    if "name" in changes:
        client.call("pool.set_name_label", pool_ref, changes.fields["name"][1])
    if "description" in changes:
        client.call("pool.set_name_description", pool_ref, changes.fields["description"][1])
    if "other_config" in changes:
        to_set, to_remove = map_changes(current.get("other_config"), changes.after["other_config"], purge_other_config)
        for key in to_remove + sorted(k for k in to_set if k in (current.get("other_config") or {})):
            client.call("pool.remove_from_other_config", pool_ref, key)
        for key in sorted(to_set):
            client.call("pool.add_to_other_config", pool_ref, key, to_set[key])
    if "tags" in changes:
        add, remove = set_changes(current.get("tags"), changes.after["tags"])
        for tag in remove:
            client.call("pool.remove_tags", pool_ref, tag)
        for tag in add:
            client.call("pool.add_tags", pool_ref, tag)
    if "default_sr" in changes:
        client.call("pool.set_default_SR", pool_ref, result.default_sr_ref)


def pause_ha(client: t.Any, timeout: float) -> None:
    """pool.disable_ha, as xapi's own `xapi_ha.ml` `disable`; HA already off (HA_NOT_ENABLED) is what was wanted."""
    try:
        wait_task(client, client.call_async("pool.disable_ha"), timeout=timeout)
    except XapiError as err:
        if err.code != "HA_NOT_ENABLED":
            raise


def apply(
    client: t.Any,
    state: PoolState,
    result: PoolPlan,
    username: str,
    password: str,
    force_join: bool,
    purge_other_config: bool,
    timeout: float,
    reconnect: t.Callable[[str], t.Any] | None = None,
) -> None:
    """Settings first, then joins (all at once), ejects, and last the master (which moves the API endpoint)."""
    pool = state.pool or {}
    current = {"other_config": pool.get("other_config") or {}, "tags": pool.get("tags") or []}
    apply_settings(client, state.pool_ref, result, current, purge_other_config)
    if result.pause_ha:
        pause_ha(client, timeout)
    if result.joiners:
        errors = joinlib.join_all(result.joiners, joinlib.master_address(state), username, password, force_join, timeout)
        close_all(result)
        if errors:
            raise PoolPlanError("JOIN_FAILED", "; ".join(errors))
        missing = joinlib.wait_members(client, [c.uuid for c in result.joiners if c.uuid], timeout)
        if missing:
            raise PoolPlanError("JOIN_TIMEOUT", "joined hosts not enabled and live members within %ss: %s" % (timeout, "; ".join(missing)))
    for ref in result.eject:
        wait_task(client, client.call_async("pool.eject", ref), timeout=timeout)
    if result.master is not None:
        designate(client, result.master, timeout, reconnect)
