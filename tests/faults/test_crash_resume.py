# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Crash and resume: a role's play dies at one of its write calls; the next run must converge.

A trial starts from the state before the role (snapshot of the previous role), then breaks the play at
the `occurrence`-th write call of `method` in the reference run (the session's build, one fork):
`error` answers that call with an error instead of applying it, `lost` applies it and drops the
answer (the client never learns), `kill` SIGKILLs ansible-playbook once the call log has reached that
write. Then it runs the play again, checks the simulators' own state against the declaration
(declared.py), and runs it once more: zero write calls in both simulators.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from declared import check_pools, check_storage
from world import PLAYBOOK_TIMEOUT_S, REPO, ROLE_PLAYBOOKS

PREVIOUS = {"pool_build": "fresh", "san_storage": "pool_build"}
POLL_S = 0.05

# (role, simulator, write method, occurrence among that method's writes, mode, fast[, xfail reason])
TRIALS = [
    ("pool_build", "xapi", "Async.pool.join", 2, "error", False),
    ("pool_build", "xapi", "Async.pool.join", 3, "lost", False),
    ("pool_build", "xapi", "Bond.create", 2, "kill", False),
    ("pool_build", "xapi", "VLAN.create", 3, "error", True),
    ("pool_build", "xapi", "network.create", 3, "lost", True),
    ("pool_build", "xapi", "PIF.reconfigure_ip", 2, "kill", False),
    ("pool_build", "xapi", "host.set_multipathing", 1, "error", False),
    ("san_storage", "ontap", "POST /api/storage/luns", 1, "error", False),
    ("san_storage", "ontap", "POST /api/protocols/san/igroups", 2, "lost", False),
    ("san_storage", "ontap", "POST /api/protocols/san/lun-maps", 1, "kill", True),
    ("san_storage", "xapi", "Async.SR.create", 1, "lost", False),
    ("san_storage", "xapi", "Async.SR.create", 2, "kill", False),
    ("san_storage", "xapi", "pool.set_default_SR", 1, "error", False),
]


def _params() -> list:
    out = []
    for role, sim, method, occurrence, mode, fast, *xfail in TRIALS:
        ident = "%s-%s-%s%d-%s" % (role, sim, method.replace(" ", "").replace("/", "_"), occurrence, mode)
        marks = [pytest.mark.fast] if fast else []
        if xfail:
            marks.append(pytest.mark.xfail(strict=True, reason=xfail[0]))
        out.append(pytest.param(role, sim, method, occurrence, mode, id=ident, marks=marks))
    return out


def _kill_at(world, role: str, simulator, writes: int):
    """Run the role's play in its own process group and SIGKILL it once `writes` writes are logged."""
    playbook = os.path.join(REPO, "playbooks", ROLE_PLAYBOOKS[role])
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        world.playbook_command([playbook], extra=["--forks", "1"]), env=world.env(), cwd=world.root,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.monotonic() + PLAYBOOK_TIMEOUT_S
    try:
        while proc.poll() is None and time.monotonic() < deadline:
            if simulator.write_count() >= writes:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(POLL_S)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    return proc.returncode


@pytest.mark.parametrize("role, sim, method, occurrence, mode", _params())
def test_crash_resume(world, role, sim, method, occurrence, mode):
    reference = world.reference_writes[role][sim]
    positions = [i for i, name in enumerate(reference) if name == method]
    assert len(positions) >= occurrence, "the reference run made only %d %s calls" % (len(positions), method)
    world.restore(PREVIOUS[role])
    simulator = getattr(world, sim)
    simulator.reset_calls()
    simulator.clear_faults()  # also restarts the per-method counters the fault's nth refers to
    if mode == "kill":
        rc = _kill_at(world, role, simulator, positions[occurrence - 1] + 1)
        assert rc == -signal.SIGKILL, "the play ended (rc %s) before the write it was to be killed at" % rc
    else:
        simulator.add_fault(method=method, nth=occurrence, action="error" if mode == "error" else "drop",
                            when="before" if mode == "error" else "after",
                            error=["INTERNAL_ERROR", "injected by the fault suite"])
        broken = world.converge(role, ["--forks", "1"])
        simulator.clear_faults()
        if mode == "error":
            assert broken.returncode != 0, "the injected error did not stop the play"

    resumed = world.converge(role)
    assert resumed.returncode == 0, "the resumed run failed:\n%s" % resumed.failure_text()
    xapi_state = world.saved_state("xapi")
    problems = check_pools(xapi_state)
    if role == "san_storage":
        problems += check_storage(xapi_state, world.saved_state("ontap"))
    assert not problems, "not the declared state after resuming: %s" % problems

    before = world.write_counts()
    again = world.converge(role)
    after = world.write_counts()
    assert again.returncode == 0 and not again.changed(), "a third run still changes: %s" % again.failure_text()
    assert after == before, "a third run wrote (before %s, after %s)" % (before, after)
