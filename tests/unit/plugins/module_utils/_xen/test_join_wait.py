# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""join.wait_members: a joined host is a member once it is enabled and live, not when its record appears.

xapi `xapi_pool.ml` `update_non_vm_metadata` -> `Host.create` gives the coordinator a disabled host whose
host_metrics are not live; the joiner's toolstack restart makes it live and enabled.
"""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import join as joinlib


class Coordinator:
    """Answers host/host_metrics.get_all_records from a script of (enabled, live) per round; None = no record yet."""

    def __init__(self, rounds: list) -> None:
        self.rounds = rounds
        self.calls: list[str] = []

    def _now(self):
        done = sum(1 for c in self.calls if c == "host.get_all_records")
        return self.rounds[min(done, len(self.rounds)) - 1]

    def call(self, method: str):
        self.calls.append(method)
        step = self._now()
        if step is None:
            return {"OpaqueRef:m": {"uuid": "u-master", "name_label": "master", "enabled": True, "metrics": "OpaqueRef:mm"}}
        enabled, live = step
        hosts = {"OpaqueRef:m": {"uuid": "u-master", "name_label": "master", "enabled": True, "metrics": "OpaqueRef:mm"},
                 "OpaqueRef:j": {"uuid": "u-joiner", "name_label": "xen-intel-02", "enabled": enabled, "metrics": "OpaqueRef:jm"}}
        if method == "host.get_all_records":
            return hosts
        return {"OpaqueRef:mm": {"live": True}, "OpaqueRef:jm": {"live": live}}


def _clock():
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds
    return sleep, lambda: now[0]


def test_waits_through_the_restart_window():
    master = Coordinator([None, (False, False), (False, True), (True, True)])
    sleep, clock = _clock()
    assert joinlib.wait_members(master, ["u-joiner"], timeout=60, sleep=sleep, clock=clock) == []
    assert master.calls.count("host.get_all_records") == 4, "a record that is disabled or not live is not enough"
    assert master.calls.count("host_metrics.get_all_records") == 4, "two calls a round, whatever the pool's size"


def test_timeout_says_what_is_missing():
    sleep, clock = _clock()
    left = joinlib.wait_members(Coordinator([(False, True)]), ["u-joiner", "u-other"], timeout=5, sleep=sleep, clock=clock)
    assert left == ["xen-intel-02: not enabled", "u-other: not in the pool"]
    assert joinlib.member_problems(Coordinator([(True, False)]), ["u-joiner"]) == ["xen-intel-02: not live"]
