#!/usr/bin/env python
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop a simulator in the background, for shells, playbooks and make targets.

    python tests/simulator/simctl.py start xapisim --state-dir DIR [-- simulator args...]
    python tests/simulator/simctl.py stop --state-dir DIR

`start` returns once the simulator has written DIR/ready.json (bounded wait) and prints that
file; `stop` sends SIGTERM to the pid recorded there and waits (bounded) for it to exit. The
simulators stop themselves after their --lifetime too, so a forgotten one never lingers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _ready_path(state_dir: str) -> str:
    return os.path.join(state_dir, "ready.json")


def start(module: str, state_dir: str, extra: list[str], timeout: float) -> int:
    os.makedirs(state_dir, exist_ok=True)
    ready = _ready_path(state_dir)
    if os.path.exists(ready):
        os.unlink(ready)
    env = dict(os.environ)
    env["PYTHONPATH"] = HERE + os.pathsep + env.get("PYTHONPATH", "")
    log_path = os.path.join(state_dir, "simulator.log")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, "-m", module, "--state-dir", state_dir, "--ready-file", ready] + extra,
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env, start_new_session=True)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.stderr.write("simulator %s exited with %s before it was ready; log: %s\n" % (module, proc.returncode, log_path))
            with open(log_path, encoding="utf-8", errors="replace") as log:
                sys.stderr.write(log.read()[-4000:])
            return 1
        if os.path.exists(ready):
            with open(ready, encoding="utf-8") as handle:
                sys.stdout.write(handle.read() + "\n")
            return 0
        time.sleep(0.1)
    proc.terminate()
    sys.stderr.write("simulator %s was not ready within %ss; log: %s\n" % (module, timeout, log_path))
    return 1


def stop(state_dir: str, timeout: float) -> int:
    ready = _ready_path(state_dir)
    if not os.path.exists(ready):
        return 0
    with open(ready, encoding="utf-8") as handle:
        pid = int(json.load(handle)["pid"])
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        extra = argv[argv.index("--") + 1:]
        argv = argv[:argv.index("--")]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start")
    p_start.add_argument("module", choices=["xapisim", "ontapsim"])
    p_start.add_argument("--state-dir", required=True)
    p_start.add_argument("--timeout", type=float, default=60.0)
    p_stop = sub.add_parser("stop")
    p_stop.add_argument("--state-dir", required=True)
    p_stop.add_argument("--timeout", type=float, default=15.0)
    args = parser.parse_args(argv)
    if args.command == "start":
        return start(args.module, args.state_dir, extra, args.timeout)
    return stop(args.state_dir, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
