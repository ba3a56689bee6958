# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Storage repositories, the writing side: carry out an SrPlan (private to vdc.xenpool).

Only called outside check mode. Per-host work (PBD.plug, PBD.unplug) runs as Async tasks side by side
and is waited for through tasks.wait_each (the one wait primitive), so a 64-host pool does not plug one
host after the other; a host that fails to plug is reported with the driver's reason, not raised.
"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr as srs
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr_plan
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_each, wait_task


class Writer:
    """A client plus the wait settings of one run."""

    def __init__(self, client: t.Any, wait_timeout: float = 600, sleep: t.Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.wait_timeout = wait_timeout
        self.sleep = sleep

    def run(self, method: str, *args: t.Any) -> t.Any:
        """An Async call waited for; SR and PBD operations can take minutes on real storage."""
        return wait_task(self.client, self.client.call_async(method, *args), timeout=self.wait_timeout, sleep=self.sleep)

    def run_each(self, method: str, refs: t.Sequence[str]) -> list[t.Any]:
        """The same Async call on several objects at once; outcome per object (value or XapiError)."""
        tasks = [self.client.call_async(method, ref) for ref in refs]
        return wait_each(self.client, tasks, timeout=self.wait_timeout, sleep=self.sleep)


def apply(writer: Writer, plan: sr_plan.SrPlan) -> dict[str, t.Any]:
    """Carry out the plan; returns {'sr': the SR read afresh, 'unplugged': hosts whose PBD is not plugged, with why}."""
    if plan.mode in ("forget", "destroy"):
        unplug(writer, plan.obs.state, t.cast(str, plan.ref))
        writer.run("SR.destroy" if plan.mode == "destroy" else "SR.forget", plan.ref)
        return {"sr": {}, "unplugged": []}
    if plan.mode in ("create", "format", "introduce"):
        plan = attach(writer, plan)
    failures = converge(writer, plan)
    final = srs.read(writer.client)
    after = srs.describe(final, t.cast(str, plan.ref))
    for entry in after["pbds"]:
        host = (final.by_uuid("host", entry["host_uuid"]) or (None,))[0]
        if host in failures:
            entry.update(reason=failures[host], plugged=False)
    still = [p for p in after["pbds"] if not p["plugged"]]
    return {"sr": after, "unplugged": [{"host": p["host"], "reason": p["reason"], "iscsi_iqn": p["iscsi_iqn"]} for p in still]}


def attach(writer: Writer, plan: sr_plan.SrPlan) -> sr_plan.SrPlan:
    """SR.create or SR.introduce (+ a PBD per host), the ownership marks, then the convergence plan of the new SR."""
    state, desired = plan.obs.state, plan.desired
    probe_host = plan.obs.probe_host
    if plan.mode == "introduce":
        ref = writer.run("SR.introduce", plan.uuid, desired.get("name") or "", desired.get("description") or "", desired["type"],
                         desired["content_type"], desired["shared"], {})
        targets = srs.hosts(state) if desired["shared"] else [probe_host]
        for host in targets:
            writer.client.call("PBD.create", {"host": host, "SR": ref, "device_config": desired["device_config"], "other_config": {}})
        plan.actions.append("create PBD on %d host(s)" % len(targets))
    else:
        ref = writer.run("SR.create", probe_host, desired["device_config"], "0", desired["name"], desired.get("description") or "",
                         desired["type"], desired["content_type"], desired["shared"], {})
    for key, value in sr_plan.owner_marks((state.pool or {}).get("uuid")).items():
        writer.client.call("SR.remove_from_other_config", ref, key)
        writer.client.call("SR.add_to_other_config", ref, key, value)
    obs = srs.Observation(srs.read(writer.client), ref, probe_host)
    fresh = sr_plan.SrPlan(obs, desired)
    fresh.actions = plan.actions
    fresh.warnings = plan.warnings
    sr_plan.plan_converge(fresh)
    if plan.mode == "introduce" and not fresh.scan:  # the VDIs on the storage reappear only after a scan
        fresh.scan = True
        fresh.act("scan")
    return fresh


def converge(writer: Writer, plan: sr_plan.SrPlan) -> dict[str, str]:
    """PBDs, plugs, field writes and scan of a known SR; returns host ref -> why its PBD did not plug."""
    ref = t.cast(str, plan.ref)
    for host in plan.create_pbds:
        writer.client.call("PBD.create", {"host": host, "SR": ref, "device_config": plan.desired["device_config"], "other_config": {}})
    failures: dict[str, str] = {}
    if plan.plug:
        pbds = srs.pbds_of(srs.read(writer.client), ref)
        outcomes = writer.run_each("PBD.plug", [pbds[h][0] for h in plan.plug])
        failures = {h: srs.reason(o) for h, o in zip(plan.plug, outcomes) if isinstance(o, XapiError)}
    for method, args in plan.writes:
        writer.client.call(method, *args)
    if plan.scan:
        writer.run("SR.scan", ref)
    return failures


def unplug(writer: Writer, state: PoolState, ref: str) -> int:
    attached = [pbd for pbd, rec in srs.pbds_of(state, ref).values() if rec.get("currently_attached")]
    errors = [o for o in writer.run_each("PBD.unplug", attached) if isinstance(o, XapiError)]
    if errors:
        raise errors[0]
    return len(attached)
