# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Typed errors of the XenAPI layer (private to vdc.xenpool).

Services and modules catch these instead of XenAPI.Failure or socket errors, so that the module
wrapper can build one message shape for every failure and no layer has to know the wire details.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError, PlanError

# Codes after which the same call may succeed a little later: xapi refuses the call without doing
# anything, so retrying is safe even for writes.
RETRYABLE_CODES = frozenset(("OTHER_OPERATION_IN_PROGRESS", "HOST_IS_BUSY", "TOO_BUSY"))

# What a user can do about the most common codes; appended to module failure messages.
HINTS = {
    "SESSION_AUTHENTICATION_FAILED": "Check the username and password options.",
    "HOST_IS_SLAVE": "Point hostname at the pool master.",
    "HANDLE_INVALID": "The object disappeared while the module ran; run it again.",
    "UUID_INVALID": "Check the uuid; no object of that class has it.",
    "OTHER_OPERATION_IN_PROGRESS": "Another operation kept the object busy; run the module again when it is done.",
    "TOO_BUSY": "The server stayed busy; run the module again later.",
    "HOST_IS_BUSY": "The host stayed busy; run the module again later.",
    "PERMISSION_DENIED": "The user lacks the role needed for this call.",
    "RBAC_PERMISSION_DENIED": "The user lacks the role needed for this call.",
}


class XenError(CollectionError):
    """Base of every error raised by the _xen layer: shown as `CODE [param, ...]`, the shape xapi's own errors have."""

    def __str__(self) -> str:
        return "%s [%s]" % (self.code, ", ".join(str(p) for p in self.params or []))


class XapiError(XenError):
    """A XenAPI failure: the server answered with ErrorDescription [code, params...]."""

    hints = HINTS

    def __init__(self, code: str, params: t.Sequence[t.Any] | None = None, method: str | None = None) -> None:
        self.code = str(code)
        self.params = [str(p) for p in (params or [])]
        self.method = method
        super().__init__(str(self))

    @classmethod
    def from_details(cls, details: t.Any, method: str | None = None) -> "XapiError":
        """Build from XenAPI.Failure.details (a list whose head is the code)."""
        if isinstance(details, (list, tuple)) and details:
            return cls(str(details[0]), list(details[1:]), method=method)
        return cls("UNKNOWN_ERROR", [str(details)], method=method)


class XenPlanError(PlanError, XenError):
    """A desired state that cannot be reached, found while planning: nothing was changed.

    A PlanError like any other refusal; it is also a XenError so that XenAPI services can catch
    everything of their own layer at once, and it may carry the xapi params that explain it.
    """

    def __init__(self, code: str, message: str, params: list[str] | None = None, hint: str = "") -> None:
        PlanError.__init__(self, code, message, hint, params or [])


class XenConnectionError(XenError):
    """The server could not be reached or spoken to (DNS, refused, TLS, timeout, HTTP error)."""

    code = "CONNECTION_FAILED"

    def __init__(self, reason: str, url: str, hint: str = "") -> None:
        self.reason = reason
        self.url = url
        self.params = [url, reason]
        self._hint = hint
        super().__init__(str(self))


class XenTaskTimeout(XenError):
    """An asynchronous task did not finish in time; it may still be running on the server."""

    code = "TASK_TIMEOUT"
    default_hint = "The task may still finish on the server; raise wait_timeout or check the pool's task list."

    def __init__(self, task_ref: str, timeout: float, name: str = "") -> None:
        self.task_ref = task_ref
        self.timeout = timeout
        self.name = name
        self.params = [name or "task", task_ref, "%ss" % int(timeout)]
        super().__init__(str(self))
