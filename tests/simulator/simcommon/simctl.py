# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""simctl: start and stop a simulator in the background, for shells, playbooks and make targets.

    simctl start xapisim --state-dir DIR [--watch-pid PID] [--timeout S] [-- simulator args...]
    simctl stop --state-dir DIR
    simctl status --state-dir DIR
    simctl data-dir xapisim|ontapsim

`start` returns once the simulator has written DIR/ready.json and prints that file; the simulator
keeps running in its own session, its output in DIR/simulator.log. `stop` sends SIGTERM to the pid
recorded in DIR/ready.json (only if that process is still the simulator started for DIR) and waits
for it to exit, then SIGKILL. Every wait is bounded.

The simulator also stops by itself: when the process given with --watch-pid is gone (pass the pid of
your long-lived harness, e.g. `$$` of a shell script), after --idle-timeout seconds without a request,
and at the --lifetime cap (simulator options, after `--`).
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

from .launch import SIMULATORS, child_env, command, data_dir

DEFAULT_START_TIMEOUT_S = 180.0
DEFAULT_STOP_TIMEOUT_S = 30.0


def _ready_path(state_dir: str) -> str:
    return os.path.join(state_dir, "ready.json")


def _read_pid(state_dir: str) -> int | None:
    try:
        with open(_ready_path(state_dir), encoding="utf-8") as handle:
            return int(json.load(handle)["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _is_our_simulator(pid: int, state_dir: str) -> bool:
    """Whether pid still runs a simulator for state_dir (guards against a recycled pid in a stale ready.json)."""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as handle:
            argv = [a.decode("utf-8", "replace") for a in handle.read().split(b"\0")]
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc here: trust the ready file
    want = os.path.realpath(state_dir)
    return any(argv[i] == "--state-dir" and os.path.realpath(argv[i + 1]) == want for i in range(len(argv) - 1))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii", errors="replace") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except (OSError, IndexError):
        return True


def start(module: str, state_dir: str, extra: list[str], timeout: float = DEFAULT_START_TIMEOUT_S,
          watch_pids: list[int] | None = None, python: str | None = None) -> int:
    state_dir = os.path.abspath(state_dir)
    os.makedirs(state_dir, exist_ok=True)
    ready = _ready_path(state_dir)
    if os.path.exists(ready):
        os.unlink(ready)
    argv = command(module, python) + ["--state-dir", state_dir, "--ready-file", ready]
    for pid in watch_pids or []:
        argv += ["--watch-pid", str(pid)]
    log_path = os.path.join(state_dir, "simulator.log")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            argv + list(extra), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=child_env(), start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.stderr.write("simulator %s exited with %s before it was ready; log: %s\n" % (module, proc.returncode, log_path))
            with open(log_path, encoding="utf-8", errors="replace") as handle:
                sys.stderr.write(handle.read()[-4000:])
            return 1
        if os.path.exists(ready):
            with open(ready, encoding="utf-8") as handle:
                sys.stdout.write(handle.read() + "\n")
            return 0
        time.sleep(0.1)
    proc.terminate()
    try:
        proc.wait(DEFAULT_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
    sys.stderr.write("simulator %s was not ready within %.0f s; log: %s\n" % (module, timeout, log_path))
    return 1


def stop(state_dir: str, timeout: float = DEFAULT_STOP_TIMEOUT_S) -> int:
    pid = _read_pid(state_dir)
    if pid is None:
        return 0
    if not _alive(pid) or not _is_our_simulator(pid, state_dir):
        return 0
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return 0
        time.sleep(0.1)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return 0


def status(state_dir: str) -> int:
    pid = _read_pid(state_dir)
    if pid is not None and _alive(pid) and _is_our_simulator(pid, state_dir):
        with open(_ready_path(state_dir), encoding="utf-8") as handle:
            sys.stdout.write(handle.read() + "\n")
        return 0
    sys.stdout.write("not running\n")
    return 3


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="simctl", description=__doc__.splitlines()[0].split(": ", 1)[1],
                                     epilog="Arguments after `--` go to the simulator (see `xapisim --help`, `ontapsim --help`).")
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="start a simulator and wait until it is ready")
    p_start.add_argument("module", choices=SIMULATORS)
    p_start.add_argument("--state-dir", required=True)
    p_start.add_argument("--timeout", type=float, default=DEFAULT_START_TIMEOUT_S, help="readiness wait (seconds)")
    p_start.add_argument("--watch-pid", type=int, action="append", default=[], metavar="PID",
                         help="the simulator exits when this process is gone (repeatable)")
    p_stop = sub.add_parser("stop", help="stop the simulator of a state directory")
    p_stop.add_argument("--state-dir", required=True)
    p_stop.add_argument("--timeout", type=float, default=DEFAULT_STOP_TIMEOUT_S)
    p_status = sub.add_parser("status", help="print ready.json if the simulator runs (exit 0), else exit 3")
    p_status.add_argument("--state-dir", required=True)
    p_data = sub.add_parser("data-dir", help="print the directory of the bundled data centres (xapisim) or fixtures (ontapsim)")
    p_data.add_argument("module", choices=SIMULATORS)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    args = build_parser().parse_args(argv)
    if args.command == "start":
        return start(args.module, args.state_dir, extra, args.timeout, args.watch_pid)
    if args.command == "status":
        return status(args.state_dir)
    if args.command == "data-dir":
        sys.stdout.write(data_dir(args.module) + "\n")
        return 0
    return stop(args.state_dir, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
