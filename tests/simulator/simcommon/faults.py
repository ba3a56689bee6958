# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fault injection shared by the simulators.

A fault is keyed by method name and fires on the nth call of that method
(counted since the fault plan was last cleared), for `repeat` consecutive
calls. This lets tests exercise retry paths deterministically.

`when` says on which side of the call the fault acts: "before" (the default: the
call is not applied; an error, a dropped connection or a delay instead of/before
the answer) or "after" (the call is applied first, then its answer is replaced by
the error, dropped, or delayed): "the server did it but the answer was lost".
"""
from __future__ import annotations

import threading

ACTIONS = ("error", "drop", "delay")
WHEN = ("before", "after")


class FaultPlan:
    """Per-method call counters plus the faults armed on them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[dict] = []
        self._counts: dict[str, int] = {}

    def add(self, method: str, nth: int = 1, action: str = "error", error: list | None = None,
            delay_s: float = 0.0, repeat: int = 1, when: str = "before") -> dict:
        """Arm a fault on calls nth .. nth+repeat-1 of method (1-based)."""
        if action not in ACTIONS:
            raise ValueError("unknown fault action %r (expected one of %s)" % (action, ", ".join(ACTIONS)))
        if when not in WHEN:
            raise ValueError("unknown fault 'when' %r (expected one of %s)" % (when, ", ".join(WHEN)))
        if int(nth) < 1 or int(repeat) < 1:
            raise ValueError("nth and repeat must be >= 1")
        spec = {
            "method": str(method), "nth": int(nth), "action": action,
            "error": [str(x) for x in (error or ["INTERNAL_ERROR", "injected fault"])],
            "delay_s": float(delay_s), "repeat": int(repeat), "when": when,
        }
        with self._lock:
            self._faults.append(spec)
        return dict(spec)

    def check(self, method: str) -> dict | None:
        """Count one call of method; return the fault spec if this call must fail."""
        with self._lock:
            count = self._counts.get(method, 0) + 1
            self._counts[method] = count
            for spec in self._faults:
                if spec["method"] in (method, "*") and spec["nth"] <= count < spec["nth"] + spec["repeat"]:
                    return dict(spec)
        return None

    def faults(self) -> list[dict]:
        with self._lock:
            return [dict(f) for f in self._faults]

    def clear(self) -> None:
        with self._lock:
            self._faults = []
            self._counts = {}
