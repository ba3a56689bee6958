# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Waiting for XenAPI tasks (private to vdc.xenpool).

Long operations (VM start, SR create, pool join...) run as `Async.*` calls so that a module can
bound the wait and can run several of them side by side. Tasks are destroyed once read, because
xapi keeps finished tasks for an hour and collects the oldest ones after 200.
"""

from __future__ import annotations

import re
import time
import typing as t
import xmlrpc.client

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenError, XenTaskTimeout

PENDING = "pending"
FINISHED = ("success", "failure", "cancelled")
_VALUE_RE = re.compile(r"^\s*<value>(.*)</value>\s*$", re.S)


def parse_task_result(text: str | None) -> t.Any:
    """Decode task.result, which is the XML-RPC text of the return value (`<value>OpaqueRef:..</value>`)."""
    if not text:
        return None
    stripped = text.strip()
    if stripped in ("<value></value>", "<value/>"):
        return None
    try:
        (value,), _method = xmlrpc.client.loads(
            "<methodResponse><params><param>%s</param></params></methodResponse>" % stripped
        )
    except Exception:  # pylint: disable=broad-except
        match = _VALUE_RE.match(stripped)
        return match.group(1) if match else stripped
    return value if value != "" else None


def _outcome(task_ref: str, record: dict[str, t.Any]) -> t.Any:
    """Turn a finished task record into a value or a typed error."""
    status = record.get("status")
    name = record.get("name_label") or task_ref
    if status == "success":
        return parse_task_result(record.get("result"))
    info = list(record.get("error_info") or [])
    if status == "cancelled" and not info:
        info = ["TASK_CANCELLED", task_ref]
    if not info:
        info = ["TASK_FAILED", task_ref]
    raise XapiError(info[0], info[1:], method=name)


def _destroy(client: t.Any, task_ref: str) -> None:
    try:
        client.call("task.destroy", task_ref)
    except XenError:
        pass  # already collected by the server: nothing left to clean up


class _Backoff:
    """Poll interval that starts short (most tasks are quick) and grows to a cap, on a monotonic clock."""

    def __init__(self, timeout: float, first: float, cap: float, sleep: t.Callable[[float], None], clock: t.Callable[[], float]) -> None:
        self.deadline = clock() + timeout
        self.interval = first
        self.cap = cap
        self._sleep = sleep
        self._clock = clock

    def expired(self) -> bool:
        return self._clock() >= self.deadline

    def pause(self) -> None:
        remaining = self.deadline - self._clock()
        self._sleep(max(0.0, min(self.interval, remaining)))
        self.interval = min(self.interval * 1.5, self.cap)


def wait_task(
    client: t.Any,
    task_ref: str,
    timeout: float = 600,
    poll_interval: float = 0.1,
    max_interval: float = 2.0,
    sleep: t.Callable[[float], None] = time.sleep,
    clock: t.Callable[[], float] = time.monotonic,
) -> t.Any:
    """Wait for one task and return its decoded result; raise XapiError on failure, XenTaskTimeout on timeout."""
    return wait_all(client, [task_ref], timeout, poll_interval, max_interval, sleep, clock)[0]


def wait_all(
    client: t.Any,
    task_refs: t.Sequence[str],
    timeout: float = 600,
    poll_interval: float = 0.1,
    max_interval: float = 2.0,
    sleep: t.Callable[[float], None] = time.sleep,
    clock: t.Callable[[], float] = time.monotonic,
) -> list[t.Any]:
    """Wait for several tasks started side by side; results come back in the order of task_refs.

    One task is polled with task.get_record; several with one task.get_all_records per round, so the
    number of calls per round does not grow with the number of tasks. Every finished task is
    destroyed; the first failure is raised once all tasks have finished, so none is left behind.
    """
    refs = list(task_refs)
    records: dict[str, dict[str, t.Any]] = {}
    backoff = _Backoff(timeout, poll_interval, max_interval, sleep, clock)
    while True:
        pending = [ref for ref in refs if ref not in records]
        if len(pending) == 1:
            record = client.call("task.get_record", pending[0])
            if record.get("status") in FINISHED:
                records[pending[0]] = record
        elif pending:
            everything = client.call("task.get_all_records")
            for ref in pending:
                record = everything.get(ref)
                if record is None:
                    raise XapiError("HANDLE_INVALID", ["task", ref], method="task.get_all_records")
                if record.get("status") in FINISHED:
                    records[ref] = record
        for ref in pending:
            if ref in records:
                _destroy(client, ref)
        if len(records) == len(refs):
            break
        if backoff.expired():
            first = next(ref for ref in refs if ref not in records)
            raise XenTaskTimeout(first, timeout)
        backoff.pause()
    return [_outcome(ref, records[ref]) for ref in refs]
