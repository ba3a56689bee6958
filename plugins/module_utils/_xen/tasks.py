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

import time
import typing as t
import xmlrpc.client
from xml.parsers.expat import ExpatError

from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout, wait_until
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenError, XenTaskTimeout

PENDING = "pending"
FINISHED = ("success", "failure", "cancelled")


def parse_task_result(text: str | None) -> t.Any:
    """Decode task.result, the XML-RPC text of the return value (`<value>OpaqueRef:..</value>`).

    xapi writes it with its XML-RPC marshaller (Xapi_task / Server_helpers), so the standard XML-RPC
    decoder reads it back, typed; text that is not an XML-RPC value is returned as it is.
    """
    if not text or not text.strip():
        return None
    try:
        (value,), _method = xmlrpc.client.loads(
            "<methodResponse><params><param>%s</param></params></methodResponse>" % text.strip()
        )
    except (ExpatError, xmlrpc.client.ResponseError, ValueError, TypeError):
        return text.strip()
    return value if value != "" else None


def _outcome(task_ref: str, record: dict[str, t.Any]) -> t.Any:
    """A finished task record as its value, or as the typed error it ended with (returned, not raised)."""
    status = record.get("status")
    name = record.get("name_label") or task_ref
    if status == "success":
        return parse_task_result(record.get("result"))
    info = list(record.get("error_info") or [])
    if status == "cancelled" and not info:
        info = ["TASK_CANCELLED", task_ref]
    if not info:
        info = ["TASK_FAILED", task_ref]
    return XapiError(info[0], info[1:], method=name)


def _destroy(client: t.Any, task_ref: str) -> None:
    try:
        client.call("task.destroy", task_ref)
    except XenError:
        pass  # already collected by the server: nothing left to clean up


def wait_each(
    client: t.Any,
    task_refs: t.Sequence[str],
    timeout: float = 600,
    poll_interval: float = 0.1,
    max_interval: float = 2.0,
    sleep: t.Callable[[float], None] = time.sleep,
    clock: t.Callable[[], float] = time.monotonic,
) -> list[t.Any]:
    """Wait for tasks started side by side; one outcome per task, in order: its value or its XapiError.

    Polling goes through the one wait primitive (_common.wait.wait_until). One task is read with
    task.get_record, several with one task.get_all_records per round, so a round costs the same whatever
    the number of tasks. Every finished task is destroyed. XenTaskTimeout names the first unfinished task.
    """
    refs = list(task_refs)
    records: dict[str, dict[str, t.Any]] = {}
    if not refs:
        return []

    def poll() -> dict[str, dict[str, t.Any]]:
        pending = [ref for ref in refs if ref not in records]
        if len(pending) == 1:
            seen = {pending[0]: client.call("task.get_record", pending[0])}
        else:
            everything = client.call("task.get_all_records")
            missing = [ref for ref in pending if ref not in everything]
            if missing:
                raise XapiError("HANDLE_INVALID", ["task", missing[0]], method="task.get_all_records")
            seen = {ref: everything[ref] for ref in pending}
        for ref, record in seen.items():
            if record.get("status") in FINISHED:
                records[ref] = record
                _destroy(client, ref)
        return records

    try:
        wait_until(poll, lambda done: len(done) == len(refs), what="tasks", timeout=timeout, interval=poll_interval,
                   max_interval=max_interval, sleep=sleep, clock=clock)
    except WaitTimeout:
        raise XenTaskTimeout(next(ref for ref in refs if ref not in records), timeout) from None
    return [_outcome(ref, records[ref]) for ref in refs]


def wait_all(client: t.Any, task_refs: t.Sequence[str], timeout: float = 600, poll_interval: float = 0.1,
             max_interval: float = 2.0, sleep: t.Callable[[float], None] = time.sleep,
             clock: t.Callable[[], float] = time.monotonic) -> list[t.Any]:
    """Results of several tasks in order; the first failure is raised once all have finished, so none is left behind."""
    outcomes = wait_each(client, task_refs, timeout, poll_interval, max_interval, sleep, clock)
    for outcome in outcomes:
        if isinstance(outcome, XapiError):
            raise outcome
    return outcomes


def wait_task(client: t.Any, task_ref: str, timeout: float = 600, poll_interval: float = 0.1, max_interval: float = 2.0,
              sleep: t.Callable[[float], None] = time.sleep, clock: t.Callable[[], float] = time.monotonic) -> t.Any:
    """Wait for one task and return its decoded result; raise XapiError on failure, XenTaskTimeout on timeout."""
    return wait_all(client, [task_ref], timeout, poll_interval, max_interval, sleep, clock)[0]
