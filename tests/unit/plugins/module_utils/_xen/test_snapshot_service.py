# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_xen/snapshot.py and _xen/template.py planning, on hand-made pool states (no server)."""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import snapshot as snap
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import template as tmpl
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState

NOW = datetime.datetime(2026, 12, 5, 12, 0, 0, tzinfo=datetime.timezone.utc)


def vm(name, power="Running", ops=("snapshot", "checkpoint"), **extra):
    rec = {"name_label": name, "uuid": "uuid-" + name, "power_state": power, "is_a_template": False, "is_a_snapshot": False,
           "is_control_domain": False, "allowed_operations": list(ops), "VBDs": [], "tags": [], "other_config": {}}
    rec.update(extra)
    return rec


def snapshot(name, of, day, power="Halted"):
    return vm(name, power, (), is_a_snapshot=True, is_a_template=True, snapshot_of=of,
              snapshot_time="202612%02dT01:00:00Z" % day, suspend_VDI="OpaqueRef:NULL")


def pool(**vms):
    return PoolState({"VM": vms, "VBD": {}, "VDI": {}, "SR": {}, "host": {}})


def request(**kw):
    base = {"vm": "web1", "vm_uuid": None, "vms": None, "tags": None, "snapshot": None, "state": "present", "memory": False,
            "start": False, "keep": None, "max_age_seconds": None, "name_prefix": ""}
    base.update(kw)
    return base


def test_create_once_then_nothing():
    state = pool(v=vm("web1"))
    plan = snap.plan_snapshots(state, request(snapshot="s1"), NOW)
    assert plan.summary() == ["create snapshot web1: s1"] and plan.after["web1"]["snapshots"] == ["s1"]
    state = pool(v=vm("web1"), s=snapshot("s1", "v", 1))
    assert snap.plan_snapshots(state, request(snapshot="s1"), NOW).steps == []


def test_retention_keeps_newest_n_counting_the_new_one_and_only_matching_names():
    snaps = {"s%d" % d: snapshot("daily-%d" % d, "v", d) for d in range(1, 6)}
    snaps["h"] = snapshot("by-hand", "v", 1)
    state = pool(v=vm("web1"), **snaps)
    plan = snap.plan_snapshots(state, request(snapshot="daily-6", keep=3, name_prefix="daily-"), NOW)
    deleted = [s["detail"].split(" ")[0] for s in plan.steps if s["action"] == "delete snapshot"]
    assert deleted == ["daily-1", "daily-2", "daily-3"]
    assert plan.after["web1"]["snapshots"] == ["by-hand", "daily-4", "daily-5", "daily-6"]
    assert all(s["destructive"] for s in plan.steps if s["action"] == "delete snapshot")


def test_retention_by_age():
    state = pool(v=vm("web1"), a=snapshot("old", "v", 1), b=snapshot("new", "v", 5))
    plan = snap.plan_snapshots(state, request(max_age_seconds=2 * 86400), NOW)
    assert [s["detail"].split(" ")[0] for s in plan.steps] == ["old"]


def test_revert_of_a_running_vm_says_it_ends_halted_and_a_checkpoint_suspended():
    state = pool(v=vm("web1"), s=snapshot("s1", "v", 1), c=snapshot("c1", "v", 2, power="Suspended"))
    plan = snap.plan_snapshots(state, request(snapshot="s1", state="reverted", start=True), NOW)
    assert plan.summary() == ["revert web1: to s1; the VM ends halted [needs power-off]", "start VM web1"]
    assert "leaves it halted" in plan.notes[0]
    plan = snap.plan_snapshots(state, request(snapshot="c1", state="reverted", start=True), NOW)
    assert plan.summary()[0].endswith("the VM ends suspended [needs power-off]") and plan.summary()[1] == "resume VM web1"


@pytest.mark.parametrize("req, code", [
    (dict(snapshot="theirs", state="reverted"), "SNAPSHOT_OF_ANOTHER_VM"),
    (dict(snapshot="nothing", state="reverted"), "SNAPSHOT_NOT_FOUND"),
    (dict(keep=-1), "INVALID_RETENTION"),
    (dict(state="absent"), "SNAPSHOT_REQUIRED"),
    (dict(), "NOTHING_TO_DO"),
    (dict(vm="nobody", snapshot="x"), "VM_NOT_FOUND"),
    (dict(vm="db", snapshot="x", memory=True), "CHECKPOINT_NOT_ALLOWED"),
])
def test_refusals(req, code):
    state = pool(v=vm("web1"), d=vm("db", "Halted", ("snapshot",)), t=snapshot("theirs", "d", 1))
    with pytest.raises(PlanError) as info:
        snap.plan_snapshots(state, request(**req), NOW)
    assert info.value.code == code


def test_parse_age_and_time():
    assert snap.parse_age("7d") == 604800 and snap.parse_age("90m") == 5400 and snap.parse_age("45") == 45
    assert snap.parse_age(None) is None
    with pytest.raises(PlanError):
        snap.parse_age("3 days")
    assert snap.iso(snap.parse_time("20261205T01:02:03Z")) == "2026-12-05T01:02:03Z"


def test_template_refuses_a_running_vm_unless_shutdown():
    state = pool(v=vm("proto"))
    with pytest.raises(PlanError) as info:
        tmpl.plan_template(state, {"name": "proto", "uuid": None, "state": "template", "shutdown": False, "copy_to_sr": None})
    assert info.value.code == "VM_NOT_HALTED"
    plan = tmpl.plan_template(state, {"name": "proto", "uuid": None, "state": "template", "shutdown": True, "copy_to_sr": None})
    assert plan.summary() == ["shut down VM proto [needs power-off]", "make into template proto"]
    halted = pool(v=vm("proto", "Halted", is_a_template=True))
    assert tmpl.plan_template(halted, {"name": "proto", "uuid": None, "state": "template", "shutdown": False,
                                       "copy_to_sr": None}).steps == []


def test_empty_names_are_refused_before_any_lookup():
    state = pool(v=vm("web1"))
    with pytest.raises(PlanError) as info:
        tmpl.plan_template(state, {"name": "", "uuid": None, "state": "template", "shutdown": False, "copy_to_sr": None})
    assert info.value.code == "INVALID_NAME" and "empty" in str(info.value)
    with pytest.raises(PlanError) as info:
        snap.plan_snapshots(state, request(vm=" ", snapshot="s1"), NOW)
    assert info.value.code == "INVALID_NAME"
