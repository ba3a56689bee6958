# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Thread-safe record of the API calls a simulator received.

Tests and benchmarks assert on it (e.g. "a second run made zero writes"), so
every entry says whether the call changed state. Summaries are produced by
the simulators and must never contain a secret.
"""
from __future__ import annotations

import threading
import time


class CallLog:
    """Append-only call record with per-method counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict] = []
        self._counters: dict[str, int] = {}

    def record(self, endpoint: str, method: str, write: bool, summary: str = "") -> None:
        """Store one call; endpoint is the listener address the call reached."""
        entry = {"endpoint": endpoint, "method": method, "write": bool(write), "summary": summary, "time": time.time()}
        with self._lock:
            self._entries.append(entry)
            self._counters[method] = self._counters.get(method, 0) + 1

    def entries(self) -> list[dict]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def write_count(self) -> int:
        with self._lock:
            return sum(1 for e in self._entries if e["write"])

    def reset(self) -> None:
        with self._lock:
            self._entries = []
            self._counters = {}

    def snapshot(self) -> dict:
        """The body of GET /sim/calls."""
        with self._lock:
            return {
                "calls": [dict(e) for e in self._entries],
                "counters": dict(self._counters),
                "writes": sum(1 for e in self._entries if e["write"]),
            }
