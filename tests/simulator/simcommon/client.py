# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Harness side: start a simulator process and drive its /sim/ control API.

Only the standard library is used so integration targets and benchmarks can
import this without extra dependencies.
"""
from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

from .launch import PACKAGE_ROOT, child_env, command
from .runtime import wait_ready_file

SIMULATOR_ROOT = PACKAGE_ROOT
DEFAULT_READY_TIMEOUT_S = 180.0


class SimControl:
    """Small urllib client for the /sim/ control API."""

    def __init__(self, base_url: str, ca_cert: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._context = ssl.create_default_context(cafile=ca_cert) if ca_cert else None

    def _request(self, method: str, route: str, body: dict | None = None) -> dict:
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(self.base_url + "/" + route, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._context) as resp:
                return json.loads(resp.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")
            raise RuntimeError("control API %s %s failed: HTTP %s %s" % (method, route, exc.code, detail)) from exc

    def request(self, method: str, route: str, body: dict | None = None) -> dict:
        """Any other control route (e.g. a simulator-specific one such as iscsi/targets)."""
        return self._request(method, route, body)

    def calls(self) -> dict:
        return self._request("GET", "calls")

    def reset_calls(self) -> dict:
        return self._request("POST", "calls/reset", {})

    def add_fault(self, method: str, nth: int = 1, action: str = "error", error: list | None = None,
                  delay_s: float = 0.0, repeat: int = 1, when: str = "before") -> dict:
        """Arm a fault; when="after" applies the call first, then answers with the fault (see simcommon.faults)."""
        return self._request("POST", "faults", {"method": method, "nth": nth, "action": action, "error": error,
                                                "delay_s": delay_s, "repeat": repeat, "when": when})

    def clear_faults(self) -> dict:
        return self._request("DELETE", "faults")

    def save(self, path: str) -> dict:
        return self._request("POST", "save", {"path": path})

    def state(self) -> dict:
        return self._request("GET", "state")

    def advance(self, seconds: float) -> dict:
        return self._request("POST", "time", {"advance_s": seconds})

    def shutdown(self) -> dict:
        return self._request("POST", "shutdown", {})


class SimProcess:
    """Context manager running python -m <module> with a ready file.

    Usage: with SimProcess("xapisim", ["--datacenter", path], state_dir) as sim: sim.ready, sim.control

    The simulator watches this process (--watch-pid): if the harness dies without stopping it, it
    exits by itself within a second or so. Pass watch_self=False to leave that out.
    """

    def __init__(self, module: str, args: list[str], state_dir: str, ready_timeout: float = DEFAULT_READY_TIMEOUT_S,
                 python: str | None = None, stop_timeout: float = 15.0, watch_self: bool = True) -> None:
        self.module = module
        self.args = list(args)
        self.state_dir = state_dir
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.python = python or sys.executable
        self.watch_self = watch_self
        self.ready_file = os.path.join(state_dir, "ready.json")
        self.proc: subprocess.Popen | None = None
        self.ready: dict = {}
        self.control: SimControl | None = None
        self._log = None

    def start(self) -> "SimProcess":
        os.makedirs(self.state_dir, exist_ok=True)
        if os.path.exists(self.ready_file):
            os.unlink(self.ready_file)
        cmd = command(self.module, self.python) + self.args + ["--state-dir", self.state_dir, "--ready-file", self.ready_file]
        if self.watch_self:
            cmd += ["--watch-pid", str(os.getpid())]
        self._log = open(os.path.join(self.state_dir, "%s.log" % self.module), "ab")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(cmd, env=child_env(), stdout=self._log, stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
                                     stdin=subprocess.DEVNULL)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        self.control = SimControl(self.ready["control"], ca_cert=self.ready.get("ca_cert"))
        return self

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.ready_timeout
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                raise RuntimeError("%s exited with %s before becoming ready (see %s.log in %s)"
                                   % (self.module, self.proc.returncode, self.module, self.state_dir))
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("%s not ready after %.0f s" % (self.module, self.ready_timeout))
            try:
                self.ready = wait_ready_file(self.ready_file, min(0.5, remaining))
                return
            except TimeoutError:
                continue

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL after stop_timeout; returns the exit code."""
        code = None
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
                try:
                    self.proc.wait(self.stop_timeout)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(self.stop_timeout)
            code = self.proc.returncode
        if self._log is not None:
            self._log.close()
            self._log = None
        return code

    def __enter__(self) -> "SimProcess":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()
