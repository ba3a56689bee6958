# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kill ansible-playbook while vms creates a fleet, several times at different points, then run it to the end.

    crash.py READY_FILE CRASH_PLAYBOOK PYTHON [DELAY ...]

After every kill it waits for the simulator's in-flight tasks to finish (a real pool also finishes them)
and prints what the kill left. At the end exactly crash1..crash8 must exist, once each, with no
`xenpool-pending:` VM and no orphan VDI, VBD or VIF in the simulator's own state; a further run must
change nothing. Exits non-zero otherwise. The simulator is read through the shared test-only helper
setup_simulators/files/simstate.py (runme.sh puts its directory on PYTHONPATH).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time

from simstate import control, vms_view

DECLARED = ["crash%d" % i for i in range(1, 9)]


def _settle(ready: dict, limit: float = 120) -> None:
    """Wait until no task is pending: work the killed run started still lands, as on a real pool."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        tasks = [t for db in control(ready, "/state").get("dbs", []) for t in db.get("tables", {}).get("task", {}).values()]
        if not any(t.get("status") == "pending" for t in tasks):
            return
        time.sleep(0.5)
    raise SystemExit("tasks still pending after %ss" % limit)


def _descendants(pid: int) -> list[int]:
    """Every process below pid (from /proc): the module a killed play started must die with it."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open("/proc/%s/stat" % entry, encoding="utf-8") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _kill_tree(pid: int) -> None:
    """Freeze the whole tree first (so nothing forks or finishes in between), then kill it: a crash."""
    tree = [pid] + _descendants(pid)
    for each in tree:
        try:
            os.kill(each, signal.SIGSTOP)
        except ProcessLookupError:
            pass
    for each in [pid] + _descendants(pid):
        try:
            os.kill(each, signal.SIGKILL)
        except ProcessLookupError:
            pass


def _command(playbook: str, ready: str, python: str) -> list[str]:
    return [shutil.which("ansible-playbook") or "ansible-playbook", playbook, "-i", "localhost,", "-c", "local",
            "-e", "xapi_ready_file=%s" % ready, "-e", "ansible_python_interpreter=%s" % python]


def _left(ready: dict) -> dict:
    found = vms_view(control(ready, "/state"))
    crash = {n: v for n, v in found["vms"].items() if n.startswith("crash")}
    return {"vms": sorted(crash), "running": sorted(n for n, v in crash.items() if isinstance(v, dict) and v["power_state"] == "Running"),
            "pending": found["pending"], "duplicates": found["duplicates"], "orphans": found["orphans"]}


def main(ready: str, playbook: str, python: str, delays: list[float]) -> int:
    with open(ready, encoding="utf-8") as handle:
        sim = json.load(handle)
    env = dict(os.environ, ANSIBLE_PYTHON_INTERPRETER=python)
    for trial, delay in enumerate(delays, 1):
        proc = subprocess.Popen(_command(playbook, ready, python), env=env, stdout=subprocess.DEVNULL,  # pylint: disable=consider-using-with
                                stderr=subprocess.DEVNULL, start_new_session=True)
        time.sleep(delay)
        if proc.poll() is None:
            _kill_tree(proc.pid)
        proc.wait()
        _settle(sim)
        print("trial %d: killed after %.1fs, left: %s" % (trial, delay, json.dumps(_left(sim))))
    runs = []
    for _run in range(2):
        done = subprocess.run(_command(playbook, ready, python), env=env, capture_output=True, text=True, check=False)
        runs.append(done)
        if done.returncode != 0:
            print(done.stdout[-3000:], done.stderr[-3000:])
            return 1
    final = _left(sim)
    print("after a full run: %s" % json.dumps(final))
    problems = []
    if final["vms"] != sorted(DECLARED) or final["duplicates"] or final["pending"]:
        problems.append("not exactly the declared VMs")
    if any(final["orphans"].values()):
        problems.append("orphans left: %s" % final["orphans"])
    if final["running"] != sorted(DECLARED):
        problems.append("not all running")
    if "changed=0" not in runs[1].stdout:
        problems.append("the run after the full run changed something")
    for problem in problems:
        print("FAILED: %s" % problem)
    print("crash trials: %s" % ("failed" if problems else "passed"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2], sys.argv[3], [float(d) for d in sys.argv[4:]] or [3.0, 7.0, 12.0, 18.0]))
