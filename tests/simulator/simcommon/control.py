# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The /sim/ JSON control API both simulators expose on every listener."""
from __future__ import annotations

import json
from typing import Callable

from .calllog import CallLog
from .faults import FaultPlan

PREFIX = "/sim"


class ControlAPI:
    """Route /sim/ requests to the call log, the fault plan and simulator hooks.

    Hooks: state() -> dict, save(path) -> None, advance(seconds) -> None,
    shutdown() -> None. A hook left as None answers 501.
    """

    def __init__(self, calllog: CallLog, faults: FaultPlan, state: Callable[[], dict] | None = None,
                 save: Callable[[str], None] | None = None, advance: Callable[[float], None] | None = None,
                 shutdown: Callable[[], None] | None = None) -> None:
        self.calllog = calllog
        self.faults = faults
        self.hooks = {"state": state, "save": save, "advance": advance, "shutdown": shutdown}

    @staticmethod
    def handles(path: str) -> bool:
        path = path.split("?", 1)[0]
        return path == PREFIX or path.startswith(PREFIX + "/")

    def _hook(self, name: str):
        hook = self.hooks.get(name)
        if hook is None:
            raise LookupError(name)
        return hook

    def dispatch(self, method: str, path: str, body: bytes) -> tuple[int, dict]:
        """Return (http status, JSON body)."""
        route = path.split("?", 1)[0][len(PREFIX):].strip("/")
        try:
            payload = json.loads(body.decode("utf-8")) if body else {}
        except ValueError as exc:
            return 400, {"error": "invalid JSON body: %s" % exc}
        if not isinstance(payload, dict):
            return 400, {"error": "JSON body must be an object"}
        try:
            return self._route(method.upper(), route, payload)
        except LookupError as exc:
            return 501, {"error": "not supported by this simulator: %s" % exc}
        except (ValueError, TypeError, OSError) as exc:
            return 400, {"error": str(exc)}

    def _route(self, method: str, route: str, payload: dict) -> tuple[int, dict]:
        if route == "calls" and method == "GET":
            return 200, self.calllog.snapshot()
        if route == "calls/reset" and method == "POST":
            self.calllog.reset()
            return 200, {"ok": True}
        if route == "faults" and method == "POST":
            spec = self.faults.add(payload["method"], nth=payload.get("nth", 1), action=payload.get("action", "error"),
                                   error=payload.get("error"), delay_s=payload.get("delay_s", 0.0),
                                   repeat=payload.get("repeat", 1), when=payload.get("when", "before"))
            return 200, {"ok": True, "fault": spec}
        if route == "faults" and method == "GET":
            return 200, {"faults": self.faults.faults()}
        if route == "faults" and method == "DELETE":
            self.faults.clear()
            return 200, {"ok": True}
        if route == "save" and method == "POST":
            self._hook("save")(str(payload["path"]))
            return 200, {"ok": True, "path": payload["path"]}
        if route == "state" and method == "GET":
            return 200, self._hook("state")()
        if route == "time" and method == "POST":
            self._hook("advance")(float(payload.get("advance_s", 0)))
            return 200, {"ok": True}
        if route == "shutdown" and method == "POST":
            self._hook("shutdown")()
            return 200, {"ok": True}
        return 404, {"error": "unknown control route %s %s/%s" % (method, PREFIX, route)}
