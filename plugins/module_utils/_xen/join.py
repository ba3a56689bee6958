# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Pool join: the pre-check and the join itself (private to vdc.xenpool).

xapi stops a join at the first failed check, after the joiner has already been contacted, and a
pool build of many hosts that fails on host 9 of 14 leaves half a pool behind. So before any join
the collection reads every joining host and the pool, runs the same checks as xapi in the same
order (xapi `xapi_pool.ml` `pre_join_checks`), and refuses the whole plan listing every incompatible host and
every reason. Only then are the joins started, side by side, one per joining host's own endpoint.
"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout, wait_until
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenConnectionError, XenError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task

# What a standalone host must tell us for the pre-check: one bulk read per class.
# tunnel and network_sriov are read separately: older xapi versions lack them.
JOINER_CLASSES = ("pool", "host", "VM", "SR", "PIF", "Bond", "VLAN")

# Codes of the checks that pool.join_force skips (homogeneity only, xapi `xapi_pool.ml` `pre_join_checks`).
FORCE_SKIPPABLE = ("HOSTS_NOT_HOMOGENEOUS",)


class JoinProblem(t.NamedTuple):
    """One reason why a host cannot join; code is the error xapi would raise."""

    code: str
    reason: str


class Candidate:
    """A host that should join: where to reach it and what it looked like when read."""

    def __init__(self, address: str, client: t.Any, state: PoolState | None, redirected: bool = False) -> None:
        self.address = address
        self.client = client
        self.state = state
        self.redirected = redirected
        self.problems: list[JoinProblem] = []
        self.forced: list[JoinProblem] = []

    @property
    def host(self) -> dict[str, t.Any]:
        hosts = list(self.state.all("host").values()) if self.state else []
        return hosts[0] if len(hosts) == 1 else {}

    @property
    def name(self) -> str:
        return self.host.get("name_label") or self.address

    @property
    def uuid(self) -> str | None:
        return self.host.get("uuid")


def _mgmt_pif(state: PoolState, host_ref: str | None) -> dict[str, t.Any] | None:
    for pif in state.all("PIF").values():
        if pif.get("management") and (host_ref is None or pif.get("host") == host_ref):
            return pif
    return None


def _vlan_tag(pif: dict[str, t.Any] | None) -> int:
    return t.cast(int, to_int((pif or {}).get("VLAN"), -1))


def _api_version(host: dict[str, t.Any]) -> str:
    return "%s.%s" % (host.get("API_version_major", ""), host.get("API_version_minor", ""))


def _features(cpu_info: dict[str, t.Any]) -> str:
    """The HVM feature set of a host's or a pool's cpu_info.

    Current xapi keeps the levelled pool set only as `features_hvm_host` in pool.cpu_info (create_misc.ml,
    create_pool_cpuinfo); a host carries it under the same key besides `features_hvm`. Older servers had only
    `features_hvm` (or `features`)."""
    return str(cpu_info.get("features_hvm_host") or cpu_info.get("features_hvm") or cpu_info.get("features") or "")


def check_candidate(pool: PoolState, cand: Candidate, pool_ha: bool = True) -> list[JoinProblem]:
    """Every check of xapi's pre_join_checks that the records allow, in xapi's order; all failures, not the first.

    pool_ha=False leaves out the pool's own HA: the caller turns it off before the joins, or refuses them itself."""
    state = cand.state
    if state is None:
        return [JoinProblem("JOINING_HOST_SERVICE_FAILED", "the host could not be read")]
    host_refs = list(state.all("host"))
    jpool = state.pool or {}
    mpool = pool.pool or {}
    if cand.redirected or len(host_refs) > 1:
        if jpool.get("uuid") and jpool.get("uuid") == mpool.get("uuid"):
            return []  # already ours: nothing to check
        return [JoinProblem("JOINING_HOST_CANNOT_BE_MASTER_OF_OTHER_HOSTS" if not cand.redirected else "HOST_IS_SLAVE",
                            "already in pool '%s' with %d hosts" % (jpool.get("name_label", ""), len(host_refs)))]
    host_ref = host_refs[0] if host_refs else None
    host = state.get("host", host_ref) or {}
    mhost = pool.get("host", pool.master_ref) or {}
    return (_state_problems(pool, state, host_ref, pool_ha) + _version_problems(host, mhost, mpool)
            + _topology_problems(pool, state, host_ref) + _setting_problems(host, mhost, jpool, mpool))


def _state_problems(pool: PoolState, state: PoolState, host_ref: str | None, pool_ha: bool = True) -> list[JoinProblem]:
    """Management interface, HA on either side, running or busy VMs (xapi's first checks)."""
    problems = []
    if _mgmt_pif(state, host_ref) is None:
        problems.append(JoinProblem("HOST_STILL_BOOTING", "no management interface"))
    if (state.pool or {}).get("ha_enabled"):
        problems.append(JoinProblem("HA_IS_ENABLED", "HA is enabled on the joining host"))
    if pool_ha and (pool.pool or {}).get("ha_enabled"):
        problems.append(JoinProblem("HA_IS_ENABLED", "HA is enabled on the pool"))
    vms = [vm for vm in state.all("VM").values() if not vm.get("is_control_domain")]
    running = sorted(vm.get("name_label", "") for vm in vms if vm.get("power_state") == "Running")
    if running:
        problems.append(JoinProblem("JOINING_HOST_CANNOT_HAVE_RUNNING_VMS", "running VMs: %s" % ", ".join(running)))
    busy = sorted(vm.get("name_label", "") for vm in vms if vm.get("current_operations"))
    if busy:
        problems.append(JoinProblem("JOINING_HOST_CANNOT_HAVE_VMS_WITH_CURRENT_OPERATIONS", "VMs with operations in progress: %s" % ", ".join(busy)))
    return problems


def _version_problems(host: dict[str, t.Any], mhost: dict[str, t.Any], mpool: dict[str, t.Any]) -> list[JoinProblem]:
    """Platform version and brand, software version and CPU vendor (the homogeneity that join_force skips)."""
    problems = []
    jsw = host.get("software_version") or {}
    msw = mhost.get("software_version") or {}
    for key in ("platform_version", "product_brand"):
        if jsw.get(key) != msw.get(key):
            problems.append(JoinProblem("HOSTS_NOT_COMPATIBLE", "%s %s differs from the pool's %s" % (key, jsw.get(key), msw.get(key))))
    for key in ("xapi", "product_brand", "git_id"):
        if jsw.get(key) != msw.get(key):
            problems.append(JoinProblem("HOSTS_NOT_HOMOGENEOUS", "Software version differs: %s %s, pool %s" % (key, jsw.get(key), msw.get(key))))
    if ("xs:linux" in jsw) != ("xs:linux" in msw):
        problems.append(JoinProblem("HOSTS_NOT_HOMOGENEOUS", "Software version differs: linux pack presence"))
    jvendor = (host.get("cpu_info") or {}).get("vendor")
    pvendor = (mpool.get("cpu_info") or {}).get("vendor") or (mhost.get("cpu_info") or {}).get("vendor")
    if jvendor != pvendor:
        problems.append(JoinProblem("HOSTS_NOT_HOMOGENEOUS", "CPUs differ: CPU vendor %s, pool %s" % (jvendor, pvendor)))
    return problems


def _topology_problems(pool: PoolState, state: PoolState, host_ref: str | None) -> list[JoinProblem]:
    """Shared SRs, bonds, tunnels, SR-IOV, non-management VLANs and the management VLAN of the joining host."""
    problems = []
    shared = sorted(sr.get("name_label", "") for sr in state.all("SR").values() if sr.get("shared") and not sr.get("is_tools_sr"))
    if shared:
        problems.append(JoinProblem("JOINING_HOST_CANNOT_CONTAIN_SHARED_SRS", "shared SRs: %s" % ", ".join(shared)))
    if state.all("Bond"):
        problems.append(JoinProblem("POOL_JOINING_HOST_HAS_BONDS", "%d bonds" % len(state.all("Bond"))))
    if state.all("tunnel"):
        problems.append(JoinProblem("POOL_JOINING_HOST_HAS_TUNNELS", "%d tunnels" % len(state.all("tunnel"))))
    if state.all("network_sriov"):
        problems.append(JoinProblem("POOL_JOINING_HOST_HAS_NETWORK_SRIOVS", "%d SR-IOV networks" % len(state.all("network_sriov"))))
    non_mgmt_vlans = [v for v in state.all("VLAN").values() if not (state.get("PIF", v.get("untagged_PIF")) or {}).get("management")]
    if non_mgmt_vlans:
        problems.append(JoinProblem("POOL_JOINING_HOST_HAS_NON_MANAGEMENT_VLANS", "%d VLANs" % len(non_mgmt_vlans)))
    jtag, mtag = _vlan_tag(_mgmt_pif(state, host_ref)), _vlan_tag(_mgmt_pif(pool, pool.master_ref))
    if jtag != mtag:
        problems.append(JoinProblem("POOL_JOINING_HOST_MANAGEMENT_VLAN_DOES_NOT_MATCH", "management VLAN %s, pool %s" % (jtag, mtag)))
    return problems


def _setting_problems(host: dict[str, t.Any], mhost: dict[str, t.Any], jpool: dict[str, t.Any], mpool: dict[str, t.Any]) -> list[JoinProblem]:
    """External authentication, edition, network backend, API version, database schema, TLS verification."""
    problems = []
    jsw = host.get("software_version") or {}
    msw = mhost.get("software_version") or {}
    for key in ("external_auth_type", "external_auth_service_name"):
        if host.get(key, "") != mhost.get(key, ""):
            problems.append(JoinProblem("POOL_JOINING_EXTERNAL_AUTH_MISMATCH", "%s %r, pool %r" % (key, host.get(key), mhost.get(key))))
    if host.get("edition", "") != mhost.get("edition", ""):
        problems.append(JoinProblem("LICENSE_HOST_POOL_MISMATCH", "edition %s, pool %s" % (host.get("edition"), mhost.get("edition"))))
    if jsw.get("network_backend") != msw.get("network_backend"):
        problems.append(JoinProblem("OPERATION_NOT_ALLOWED", "network backend %s, pool %s" % (jsw.get("network_backend"), msw.get("network_backend"))))
    if _api_version(host) != _api_version(mhost):
        problems.append(JoinProblem("POOL_JOINING_HOST_MUST_HAVE_SAME_API_VERSION", "API %s, pool %s" % (_api_version(host), _api_version(mhost))))
    if jsw.get("db_schema") != msw.get("db_schema"):
        problems.append(JoinProblem("POOL_JOINING_HOST_MUST_HAVE_SAME_DB_SCHEMA", "schema %s, pool %s" % (jsw.get("db_schema"), msw.get("db_schema"))))
    if bool(jpool.get("tls_verification_enabled")) != bool(mpool.get("tls_verification_enabled")):
        problems.append(JoinProblem("POOL_JOINING_HOST_TLS_VERIFICATION_MISMATCH", "TLS verification setting differs from the pool's"))
    return problems


def feature_notes(pool: PoolState, cand: Candidate) -> list[str]:
    """CPU feature differences do not block a join: xapi levels the pool down. Say so instead of failing."""
    mpool = pool.pool or {}
    pool_features = _features(mpool.get("cpu_info") or {})
    host_features = _features(cand.host.get("cpu_info") or {})
    if pool_features and host_features and pool_features != host_features:
        return ["%s: CPU features differ from the pool's; the pool's feature set will be levelled down" % cand.name]
    return []


def precheck(pool: PoolState, candidates: list[Candidate], force: bool = False, pool_ha: bool = True) -> list[Candidate]:
    """Fill problems (blocking) and forced (skipped by join_force) of every candidate; return the blocked ones."""
    blocked = []
    for cand in candidates:
        problems = check_candidate(pool, cand, pool_ha)
        cand.forced = [p for p in problems if force and p.code in FORCE_SKIPPABLE]
        cand.problems = [p for p in problems if p not in cand.forced]
        if cand.problems:
            blocked.append(cand)
    return blocked


def describe_blocked(blocked: list[Candidate]) -> str:
    """`host: CODE reason; CODE reason` per host, every host named."""
    return " | ".join("%s: %s" % (c.name, "; ".join("%s %s" % (p.code, p.reason) for p in c.problems)) for c in blocked)


def open_candidate(address: str, factory: t.Callable[[str], t.Any]) -> Candidate:
    """Log in to a joining host on its own endpoint and read it; a pool member redirects to its master."""
    client = factory(address)
    requested = client.url
    client.login()
    state = read_pool_state(client, JOINER_CLASSES)
    read_optional(client, state)
    return Candidate(address, client, state, redirected=client.url != requested)


def read_optional(client: t.Any, state: PoolState, classes: t.Iterable[str] = ("tunnel", "network_sriov")) -> None:
    """Add classes an older xapi may not have; a missing class is simply empty."""
    for cls in classes:
        try:
            state.records[cls] = client.call("%s.get_all_records" % cls) or {}
        except XapiError as err:
            if err.code not in ("MESSAGE_METHOD_UNKNOWN", "NOT_IMPLEMENTED"):
                raise
            state.records[cls] = {}


def join_all(
    candidates: list[Candidate],
    master_address: str,
    username: str,
    password: str,
    force: bool,
    timeout: float,
) -> list[str]:
    """Start every join at once (one Async.pool.join per joiner endpoint) and wait for them all.

    A joiner restarts its toolstack when the join is done, so the task may vanish with it: a lost
    session or connection while polling is not a failure; membership is then confirmed from the master.
    Returns the errors of joins that reported a failure, as text.
    """
    method = "pool.join_force" if force else "pool.join"
    started = []
    errors = []
    for cand in candidates:
        try:
            started.append((cand, cand.client.call_async(method, master_address, username, password)))
        except XenError as err:
            errors.append("%s: %s" % (cand.name, err))
    for cand, task in started:
        try:
            wait_task(cand.client, task, timeout=timeout)
        except XapiError as err:
            if err.code in ("SESSION_INVALID", "HOST_IS_SLAVE", "HANDLE_INVALID"):
                continue
            errors.append("%s: %s" % (cand.name, err))
        except XenConnectionError:
            continue
        except XenError as err:
            errors.append("%s: %s" % (cand.name, err))
    return errors


def member_problems(master: t.Any, uuids: t.Iterable[str]) -> list[str]:
    """`name: what is missing` for every joined host that is not yet an enabled, live member (two calls).

    The coordinator creates a joiner's record disabled and not live (xapi `xapi_pool.ml` `update_non_vm_metadata`
    -> `Host.create`); the joiner enables itself once its toolstack has restarted as a member and created its
    dom0 and CPU records (`dbsync_slave.ml`). A host record alone is not a usable member yet.
    """
    hosts = master.call("host.get_all_records") or {}
    metrics = master.call("host_metrics.get_all_records") or {}
    by_uuid = {rec.get("uuid"): rec for rec in hosts.values()}
    problems = []
    for uuid in sorted(set(uuids)):
        rec = by_uuid.get(uuid)
        if rec is None:
            problems.append("%s: not in the pool" % uuid)
        elif not (metrics.get(rec.get("metrics")) or {}).get("live"):
            problems.append("%s: not live" % (rec.get("name_label") or uuid))
        elif not rec.get("enabled"):
            problems.append("%s: not enabled" % (rec.get("name_label") or uuid))
    return problems


def wait_members(
    master: t.Any,
    uuids: t.Iterable[str],
    timeout: float,
    sleep: t.Callable[[float], None] = time.sleep,
    clock: t.Callable[[], float] = time.monotonic,
) -> list[str]:
    """Poll the coordinator until every joined host is an enabled, live member; return what is still missing.

    Waiting for the host records only would race the joiner's toolstack restart: the next task (networks,
    storage, HA) would find a member that is disabled, not live and without dom0.
    """
    wanted = list(uuids)
    try:
        return wait_until(lambda: member_problems(master, wanted), lambda left: not left,
                          what="the joined hosts to be enabled and live", timeout=timeout, interval=0.2,
                          max_interval=2.0, sleep=sleep, clock=clock)
    except WaitTimeout as err:
        return list(err.last or [])


def is_member(state: PoolState, host_uuid: str | None) -> bool:
    return bool(host_uuid) and state.by_uuid("host", host_uuid or "") is not None


def master_address(state: PoolState) -> str:
    """The coordinator's management address, as the joiners must reach it (host.address)."""
    host = state.get("host", state.master_ref) or {}
    return str(host.get("address") or "")
