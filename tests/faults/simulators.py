# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The two simulators as the fault suite sees them: start, stop, restore, call log, faults.

How a simulator process is started is the business of tests/simulator (its `simctl`); this file
touches that in exactly one function, `_simctl`, so a change of launcher is a one-place edit.
Everything else speaks the simulators' /sim/ control API over plain HTTP on 127.0.0.0/8.
"""
from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# FAULTS_SIMULATOR_DIR runs another tree's simulators, e.g. today's suite and simulators against an old
# commit of the collection (git worktree add), to show that a case fails without its guard.
SIM_ROOT = os.environ.get("FAULTS_SIMULATOR_DIR") or os.path.join(REPO, "tests", "simulator")
# Generous: a loaded 2-core machine can take a while to import the XenAPI datamodel.
START_TIMEOUT_S = 300
CONTROL_TIMEOUT_S = 120


def _simctl_argv() -> list[str]:
    """How to run the repository's launcher: this checkout's own `simcommon.simctl` (so a copy of the
    tree tests its own simulators), else an installed `simctl`. The only launcher-specific code here."""
    if os.path.isfile(os.path.join(SIM_ROOT, "simcommon", "simctl.py")):
        return [sys.executable, "-m", "simcommon.simctl"]
    for candidate in (os.path.join(os.path.dirname(sys.executable), "simctl"), shutil.which("simctl")):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    raise RuntimeError("no simulator launcher: neither %s/simcommon/simctl.py nor a `simctl` command" % SIM_ROOT)


def _simctl(action: str, module: str | None, state_dir: str, extra: list[str]) -> None:
    """Start (and wait until ready) or stop one simulator."""
    argv = _simctl_argv() + [action] + ([module] if module else []) + ["--state-dir", state_dir]
    if action == "start":
        argv += ["--timeout", str(START_TIMEOUT_S), "--"] + extra
    env = dict(os.environ)
    env["PYTHONPATH"] = SIM_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    subprocess.run(argv, check=action == "start", stdout=subprocess.DEVNULL, env=env, timeout=START_TIMEOUT_S + 60)


def _simulator_options(module: str) -> str:
    """The simulator's own --help, to pass lifetime options only to a simulator that knows them."""
    env = dict(os.environ)
    env["PYTHONPATH"] = SIM_ROOT + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run([sys.executable, "-m", module, "--help"], capture_output=True, text=True,
                          check=False, env=env, timeout=120)
    return proc.stdout


class Simulator:
    """One simulator process, restartable from a saved state on the same port (so URLs stay valid)."""

    def __init__(self, module: str, state_dir: str, args: list[str]) -> None:
        self.module = module
        self.state_dir = state_dir
        self.args = list(args)
        self.ready: dict = {}
        self.password = ""
        self._lifetime_args: list[str] | None = None

    def _lifetime(self) -> list[str]:
        """Stop by itself: when this harness process is gone, after an idle hour, and at a 3-hour cap."""
        if self._lifetime_args is None:
            options = _simulator_options(self.module)
            self._lifetime_args = ["--lifetime", "10800"]
            if "--watch-pid" in options:
                self._lifetime_args += ["--watch-pid", str(os.getpid())]
            if "--idle-timeout" in options:
                self._lifetime_args += ["--idle-timeout", "3600"]
        return self._lifetime_args

    def start(self, load_state: str | None = None) -> None:
        extra = ["--time-scale", "0.01"] + self._lifetime() + self.args
        if self.ready.get("port"):
            extra += ["--port", str(self.ready["port"])]
        if load_state:
            extra += ["--load-state", load_state]
        _simctl("start", self.module, self.state_dir, extra)
        with open(os.path.join(self.state_dir, "ready.json"), encoding="utf-8") as handle:
            self.ready = json.load(handle)
        with open(self.ready["password_file"], encoding="utf-8") as handle:
            self.password = handle.read().strip()

    def stop(self) -> None:
        _simctl("stop", None, self.state_dir, [])

    def restart(self, load_state: str) -> None:
        self.stop()
        self.start(load_state)

    # --- control API -----------------------------------------------------------------------------
    def control(self, method: str, route: str, body: dict | None = None) -> dict:
        base = self.ready["control"].rstrip("/")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(base + "/" + route, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        context = ssl.create_default_context(cafile=self.ready["ca_cert"]) if base.startswith("https") else None
        try:
            with urllib.request.urlopen(req, timeout=CONTROL_TIMEOUT_S, context=context) as resp:
                return json.loads(resp.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as exc:
            raise RuntimeError("%s control %s %s: HTTP %s" % (self.module, method, route, exc.code)) from exc

    def calls(self) -> list[dict]:
        return self.control("GET", "calls")["calls"]

    def writes(self) -> list[dict]:
        """Every write call in the log, oldest first."""
        return [call for call in self.calls() if call.get("write")]

    def write_count(self) -> int:
        return int(self.control("GET", "calls")["writes"])

    def reset_calls(self) -> None:
        self.control("POST", "calls/reset", {})

    def add_fault(self, **fault: object) -> None:
        self.control("POST", "faults", dict(fault))

    def clear_faults(self) -> None:
        self.control("DELETE", "faults")

    def state(self) -> dict:
        return self.control("GET", "state")

    def save(self, path: str) -> None:
        self.control("POST", "save", {"path": path})
