# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout, wait_until


class Clock:
    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self):
        return self.now


def test_returns_first_ready_value():
    values = iter([None, None, "10.0.0.5"])
    clock = Clock()
    assert wait_until(lambda: next(values), bool, sleep=clock.sleep, clock=clock, interval=1, max_interval=10) == "10.0.0.5"
    assert clock.sleeps == [1, 1.5]


def test_times_out_with_last_value():
    clock = Clock()
    with pytest.raises(WaitTimeout) as info:
        wait_until(lambda: "pending", lambda v: v == "done", what="the job", timeout=20, interval=4, max_interval=5,
                   sleep=clock.sleep, clock=clock)
    assert info.value.last == "pending"
    assert str(info.value) == "timed out after 20s waiting for the job"
    assert clock.now == pytest.approx(20)
    assert max(clock.sleeps) <= 5


def test_failed_stops_early():
    clock = Clock()
    with pytest.raises(RuntimeError):
        wait_until(lambda: "error", lambda v: v == "ok", failed=lambda v: RuntimeError(v) if v == "error" else None,
                   sleep=clock.sleep, clock=clock)
    assert clock.sleeps == []
