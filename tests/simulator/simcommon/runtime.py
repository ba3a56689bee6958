# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Command-line and process helpers common to both simulators.

How a simulator stops by itself (the harness normally stops it first, with SIGTERM or /sim/shutdown):

* ``--watch-pid PID`` (repeatable): as soon as that process is gone. Harnesses pass their own pid,
  so a harness killed with SIGKILL (no trap, no ``finally``) still takes its simulators with it.
* ``--idle-timeout S``: after S seconds in which no request arrived and none was in progress. A slow
  run keeps the simulator alive because it keeps calling it; a forgotten one goes away.
* ``--lifetime S``: an absolute cap, very generous by default, as a last resort only.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time

DEFAULT_IDLE_TIMEOUT_S = 1800.0
DEFAULT_LIFETIME_S = 6 * 3600.0


def add_common_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options every simulator accepts, so harnesses can start either the same way."""
    parser.add_argument("--state-dir", required=True, help="directory for TLS material, password file, saved state")
    parser.add_argument("--ready-file", default=None, help="JSON file written once the listeners accept connections")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: pick a free one)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="simulated durations are multiplied by this factor (0.01 = 100x faster)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="extra latency added to every API call")
    parser.add_argument("--watch-pid", type=int, action="append", default=[], metavar="PID",
                        help="exit as soon as process PID is gone (repeatable; harnesses pass their own pid)")
    parser.add_argument("--idle-timeout", type=float, default=DEFAULT_IDLE_TIMEOUT_S, metavar="SECONDS",
                        help="exit after this many seconds without any request (0: never; default %(default)s)")
    parser.add_argument("--lifetime", type=float, default=DEFAULT_LIFETIME_S, metavar="SECONDS",
                        help="absolute cap on the process's life, a last resort (0: none; default %(default)s)")
    parser.add_argument("--load-state", default=None, help="start from a state file written by /sim/save")
    parser.add_argument("--save-state-on-exit", default=None, help="write the state to this file when exiting")
    return parser


def write_ready_file(path: str, data: dict) -> None:
    """Atomic write: readers never see a half-written ready file."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.replace(tmp, path)


def write_private_json(path: str, data, **dump_kwargs) -> None:
    """Atomic write of a JSON file only its owner can read (mode 0600 from creation on)."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, **dump_kwargs)
    os.chmod(tmp, 0o600)  # an existing tmp file keeps its mode with O_CREAT
    os.replace(tmp, path)


def wait_ready_file(path: str, timeout: float) -> dict:
    """Poll for the ready file; raise TimeoutError when it does not appear in time."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path, encoding="utf-8") as handle:
                return json.load(handle)
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            raise TimeoutError("ready file %s did not appear within %.1f s" % (path, timeout))
        time.sleep(0.05)


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state letter, start time in clock ticks) from /proc, or None where /proc is not available."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return fields[0], fields[19]
    except (OSError, IndexError):
        return None


def pid_alive(pid: int, start_ticks: str | None = None) -> bool:
    """True while process pid exists, is not a zombie and (if given) is still the one that started at start_ticks."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = _proc_stat(pid)
    if stat is None:
        return True
    state, started = stat
    if state in ("Z", "X"):
        return False
    return start_ticks is None or started == start_ticks


class Watchdog:
    """Stops a simulator when its watched processes are gone, after an idle period, or at the absolute cap.

    Request handlers call begin()/end() around each request (simcommon.httpserver.WatchedRequestHandler
    does it); a request in progress, however long, never counts as idle time.
    """

    def __init__(self, on_expire, idle_timeout: float = 0.0, lifetime: float = 0.0, watch_pids=(),
                 poll_s: float = 1.0) -> None:
        self.on_expire = on_expire
        self.idle_timeout = float(idle_timeout or 0.0)
        self.lifetime = float(lifetime or 0.0)
        self.poll_s = poll_s
        self.reason: str | None = None
        self._lock = threading.Lock()
        self._busy = 0
        self._started = time.monotonic()
        self._last = self._started
        self._stop = threading.Event()
        self._watched = {int(pid): (_proc_stat(int(pid)) or (None, None))[1] for pid in watch_pids}
        self._thread: threading.Thread | None = None

    def begin(self) -> None:
        with self._lock:
            self._busy += 1
            self._last = time.monotonic()

    def end(self) -> None:
        with self._lock:
            self._busy = max(0, self._busy - 1)
            self._last = time.monotonic()

    def expired(self) -> str | None:
        """Why the simulator must stop now, or None."""
        now = time.monotonic()
        for pid, start_ticks in self._watched.items():
            if not pid_alive(pid, start_ticks):
                return "watched process %d is gone" % pid
        with self._lock:
            if self.idle_timeout and self._busy == 0 and now - self._last >= self.idle_timeout:
                return "no request for %.0f s (--idle-timeout)" % (now - self._last)
        if self.lifetime and now - self._started >= self.lifetime:
            return "absolute cap of %.0f s reached (--lifetime)" % self.lifetime
        return None

    def _run(self) -> None:
        while not self._stop.wait(self.poll_s):
            reason = self.expired()
            if reason is not None:
                self.reason = reason
                sys.stderr.write("simulator stopping by itself: %s\n" % reason)
                sys.stderr.flush()
                self.on_expire()
                return

    def start(self) -> "Watchdog":
        self._thread = threading.Thread(target=self._run, name="sim-watchdog", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()


def start_watchdog(args: argparse.Namespace, on_expire) -> Watchdog:
    """The Watchdog for the common options, already running."""
    return Watchdog(on_expire, idle_timeout=args.idle_timeout, lifetime=args.lifetime,
                    watch_pids=args.watch_pid).start()
