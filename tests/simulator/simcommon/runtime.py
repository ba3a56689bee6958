# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Command-line and process helpers common to both simulators."""
from __future__ import annotations

import argparse
import json
import os
import threading
import time


def add_common_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Options every simulator accepts, so harnesses can start either the same way."""
    parser.add_argument("--state-dir", required=True, help="directory for TLS material, password file, saved state")
    parser.add_argument("--ready-file", default=None, help="JSON file written once the listeners accept connections")
    parser.add_argument("--port", type=int, default=0, help="TCP port (0: pick a free one)")
    parser.add_argument("--time-scale", type=float, default=1.0,
                        help="simulated durations are multiplied by this factor (0.01 = 100x faster)")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="extra latency added to every API call")
    parser.add_argument("--lifetime", type=float, default=3600.0, help="the process exits by itself after this many seconds")
    parser.add_argument("--load-state", default=None, help="start from a state file written by /sim/save")
    parser.add_argument("--save-state-on-exit", default=None, help="write the state to this file when exiting")
    return parser


def write_ready_file(path: str, data: dict) -> None:
    """Atomic write: readers never see a half-written ready file."""
    tmp = "%s.%d.tmp" % (path, os.getpid())
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
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


def lifetime_watchdog(seconds: float, on_expire) -> threading.Timer:
    """Bound the life of a simulator process even if its harness dies."""
    timer = threading.Timer(seconds, on_expire)
    timer.daemon = True
    timer.start()
    return timer
