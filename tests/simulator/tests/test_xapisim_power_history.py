# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The VMs' power-state history (db.meta["xapisim:power_history"], shown by GET /sim/state): every transition, in
order, and nothing for a change that leaves the power state as it was - so a test can prove that no VM left Running."""
from __future__ import annotations

import time

from conftest import connect
from xapisim.spec import Spec
from xapisim.state import POWER_HISTORY, World

SPEC = Spec()


def test_power_state_transitions_are_recorded_in_order():
    world = World(SPEC, time_scale=0.01)
    try:
        world.lock.acquire()  # every mutation runs under the world's lock (events notify its condition)
        db = world.new_db()
        vm = db.create("VM", {"name_label": "web1", "power_state": "Halted"})
        assert POWER_HISTORY not in db.meta, "creating a VM is not a transition"
        db.set("VM", vm, "power_state", "Running")
        db.update("VM", vm, {"name_description": "moved", "power_state": "Running"})  # no transition
        db.set("VM", vm, "power_state", "Halted")
        host = db.create("host", {"name_label": "h1"})
        db.set("host", host, "name_label", "h2")  # other classes are not recorded
        history = db.meta[POWER_HISTORY]
        assert [(h["name"], h["from"], h["to"]) for h in history] == [("web1", "Halted", "Running"), ("web1", "Running", "Halted")]
        assert history[0]["vm"] == db.get("VM", vm)["uuid"] and history[0]["t"] <= history[1]["t"]
        assert "xapisim:power_history" in db.dump()["meta"]
    finally:
        world.lock.release()
        world.scheduler.stop()


def test_power_history_through_the_control_state(small_sim):
    session = connect(small_sim)
    try:
        xs = session.xenapi
        vm = xs.VM.get_by_name_label("small-vm-0001")[0]
        uuid = xs.VM.get_uuid(vm)

        def seen():
            state = small_sim.control.state()
            return [(h["from"], h["to"]) for db in state["dbs"] for h in db["meta"].get(POWER_HISTORY, []) if h["vm"] == uuid]

        before = seen()
        xs.VM.start(vm, False, False)
        xs.VM.hard_shutdown(vm)
        deadline = time.monotonic() + 60
        while seen()[len(before):] != [("Halted", "Running"), ("Running", "Halted")] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert seen()[len(before):] == [("Halted", "Running"), ("Running", "Halted")]
    finally:
        session.xenapi.session.logout()
