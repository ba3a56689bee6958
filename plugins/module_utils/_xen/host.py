# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The host service: names, other_config, iSCSI IQN, multipathing and maintenance (private to vdc.xenpool).

Maintenance is disable -> evacuate -> (work) -> enable in xapi; evacuation can be impossible (no other
enabled host, not enough memory, a VM pinned to local storage), and xapi then reports only the first
problem after the host is already disabled. The service asks xapi for every blocking VM first and
refuses before touching anything, naming each VM and its reason.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._common.reconcile import Changes, diff, map_changes
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenPlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.pool import find_host
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.validate import iqn_problem, name_problem, raise_if

HOST_CLASSES = ("host", "VM")
# xapi mirrors these other_config keys into fields; they are managed through their own options.
MIRRORED_KEYS = ("iscsi_iqn", "multipathing")
STATES = ("enabled", "disabled", "maintenance")


class HostError(XenPlanError):
    """A desired host state that cannot be reached; nothing was changed."""


def read(client: t.Any) -> PoolState:
    return read_pool_state(client, HOST_CLASSES)


def locate(state: PoolState, uuid: str | None = None, address: str | None = None, name: str | None = None) -> str:
    if uuid:
        found = state.by_uuid("host", uuid)
        if not found:
            raise HostError("UUID_INVALID", "no host with uuid %s in the pool" % uuid)
        return found[0]
    ref = find_host(state, address, None if address else name)
    if ref is None:
        raise HostError("HOST_NOT_FOUND", "no host '%s' in the pool" % (address or name))
    return ref


def _state_of(host: dict[str, t.Any], resident: int) -> str:
    if host.get("enabled"):
        return "enabled"
    return "maintenance" if resident == 0 else "disabled"


def resident_vms(state: PoolState, ref: str) -> list[str]:
    return sorted(vm.get("name_label", "") for vm in state.all("VM").values()
                  if vm.get("resident_on") == ref and not vm.get("is_control_domain"))


def view(state: PoolState, ref: str) -> dict[str, t.Any]:
    host = state.get("host", ref) or {}
    other = {k: v for k, v in (host.get("other_config") or {}).items() if k not in MIRRORED_KEYS}
    return {
        "name": host.get("name_label", ""),
        "description": host.get("name_description", ""),
        "uuid": host.get("uuid", ""),
        "address": host.get("address", ""),
        "state": _state_of(host, len(resident_vms(state, ref))),
        "iscsi_iqn": host.get("iscsi_iqn", ""),
        "multipathing": bool(host.get("multipathing")),
        "other_config": other,
    }


def plan(state: PoolState, ref: str, desired: dict[str, t.Any], purge_other_config: bool = False) -> Changes:
    current = view(state, ref)
    want = dict(desired)
    if want.get("state") == "disabled" and current["state"] == "maintenance":
        want["state"] = "maintenance"  # a disabled host that happens to be empty is fine as it is
    if want.get("other_config") is not None:
        want["other_config"] = {k: v for k, v in want["other_config"].items() if k not in MIRRORED_KEYS}
    return diff(current, want, maps=("other_config",), purge={"other_config": purge_other_config})


class HostPlan(Plan):
    """The changes of one or several hosts (label -> (host ref, Changes)) planned from one bulk read."""

    def __init__(self) -> None:
        super().__init__(before={}, after={})
        self.targets: list[tuple[str, str, Changes]] = []
        self.to_evacuate: list[str] = []
        self.evacuated: dict[str, str] = {}
        self.tasks: list[str] = []

    @property
    def changed(self) -> bool:
        return any(bool(changes) for _label, _ref, changes in self.targets)


def check_desired(label: str, desired: dict[str, t.Any]) -> list[str]:
    """Problems of one host's declaration: an empty name, an IQN that is not an iSCSI name (RFC 3720)."""
    problems = [name_problem(desired.get("name"), "name of host %s" % label)]
    if desired.get("iscsi_iqn") is not None:
        problems.append(iqn_problem(desired["iscsi_iqn"], "iscsi_iqn of host %s" % label))
    return [p for p in problems if p]


def plan_all(client: t.Any, state: PoolState, targets: t.Sequence[tuple[str, str, dict[str, t.Any]]],
             purge_other_config: bool = False) -> HostPlan:
    """Plan every host; refuse (nothing written) on bad input or when an evacuation is impossible, naming every VM."""
    raise_if([p for label, _ref, desired in targets for p in check_desired(label, desired)], "INVALID_VALUE",
             "Correct these options; nothing was changed")
    result = HostPlan()
    for label, ref, desired in targets:
        changes = plan(state, ref, desired, purge_other_config)
        if changes.fields.get("state", (None, None))[1] == "maintenance":
            blocked = blockers(client, state, ref)
            if blocked:
                raise HostError("CANNOT_EVACUATE_HOST", "%s: %s" % (label, "; ".join("%s: %s" % item for item in sorted(blocked.items()))),
                                params=["%s: %s" % item for item in sorted(blocked.items())],
                                hint="Shut these VMs down or make room on the other hosts")
            result.to_evacuate += resident_vms(state, ref)
        result.before[label] = view(state, ref)
        result.after[label] = changes.predicted(result.before[label])
        for name in sorted(changes.fields):
            result.add("set %s" % name, label, changes.fields[name][1])
        result.targets.append((label, ref, changes))
    return result


def apply_all(client: t.Any, state: PoolState, result: HostPlan, purge_other_config: bool, timeout: float,
              wait: bool = True) -> dict[str, t.Any]:
    """Apply every host's changes in order; returns label -> view read afresh."""
    for _label, ref, changes in result.targets:
        if changes:
            moved, task = apply(client, state, ref, changes, purge_other_config, timeout, wait)
            result.evacuated.update(moved)
            result.tasks += [task] if task else []
    fresh = read(client)
    return {label: view(fresh, ref) for label, ref, _changes in result.targets}


def blockers(client: t.Any, state: PoolState, ref: str) -> dict[str, str]:
    """VM name -> xapi's reason, for every VM that host.evacuate would refuse to move."""
    problems = client.call("host.get_vms_which_prevent_evacuation", ref) or {}
    return {state.name_of("VM", vm) or vm: " ".join(str(p) for p in (reason or [])) for vm, reason in problems.items()}


def apply(client: t.Any, state: PoolState, ref: str, changes: Changes, purge_other_config: bool, timeout: float,
          wait: bool = True) -> tuple[dict[str, str], str | None]:
    """Apply the changes; returns where each evacuated VM went (VM name -> host name) and, with wait false,
    the evacuation task left running."""
    host = state.get("host", ref) or {}
    if "name" in changes:
        client.call("host.set_name_label", ref, changes.fields["name"][1])
    if "description" in changes:
        client.call("host.set_name_description", ref, changes.fields["description"][1])
    if "other_config" in changes:
        current = {k: v for k, v in (host.get("other_config") or {}).items() if k not in MIRRORED_KEYS}
        to_set, to_remove = map_changes(current, changes.after["other_config"], purge_other_config)
        for key in to_remove + sorted(k for k in to_set if k in current):
            client.call("host.remove_from_other_config", ref, key)
        for key in sorted(to_set):
            client.call("host.add_to_other_config", ref, key, to_set[key])
    if "iscsi_iqn" in changes:
        client.call("host.set_iscsi_iqn", ref, changes.fields["iscsi_iqn"][1])
    if "multipathing" in changes:
        client.call("host.set_multipathing", ref, bool(changes.fields["multipathing"][1]))
    moved: dict[str, str] = {}
    task = None
    if "state" in changes:
        target = changes.fields["state"][1]
        if target == "enabled":
            client.call("host.enable", ref)
        else:
            client.call("host.disable", ref)
            if target == "maintenance":
                try:
                    moved, task = evacuate(client, ref, timeout, wait)
                except XapiError as err:
                    # the pre-check passed but xapi refused a VM while moving (a VM without PV drivers cannot live-migrate):
                    # give the host back to the scheduler rather than leave it disabled by a failed run
                    client.call("host.enable", ref)
                    raise HostError(err.code, "evacuation of host %s failed, the host was enabled again: %s"
                                    % ((state.get("host", ref) or {}).get("name_label", ref), err), params=err.params,
                                    hint="Move or shut down the VM named in the error, then run again") from None
    return moved, task


def evacuate(client: t.Any, ref: str, timeout: float, wait: bool = True) -> tuple[dict[str, str], str | None]:
    """Evacuate and report VM -> destination; VMs are read afresh because an earlier evacuation may have moved some here.

    With wait false the task is returned as started: the caller polls it (task.get_record) or looks at the host later.
    """
    current = client.call("VM.get_all_records")
    before = {vm_ref for vm_ref, vm in current.items() if vm.get("resident_on") == ref and not vm.get("is_control_domain")}
    if not before:
        return {}, None
    task = client.call_async("host.evacuate", ref)
    if not wait:
        return {}, task
    wait_task(client, task, timeout=timeout)
    hosts = client.call("host.get_all_records")
    vms = client.call("VM.get_all_records")
    return {vms[v].get("name_label", v): (hosts.get(vms[v].get("resident_on")) or {}).get("name_label", "")
            for v in sorted(before) if v in vms}, None
