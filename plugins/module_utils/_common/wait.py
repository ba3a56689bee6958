# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Generic wait loop (private to vdc.xenpool).

Some conditions are not tasks (a guest agent reporting an IP, an SR scan settling, an ONTAP job):
services poll them with this loop so that every wait has the same bounded, monotonic-clock shape.
"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import CollectionError

T = t.TypeVar("T")


class WaitTimeout(CollectionError):
    """The condition did not hold in time; `last` is the last value fetched."""

    code = "WAIT_TIMEOUT"
    default_hint = "Raise wait_timeout, or check why the condition is not reached."

    def __init__(self, what: str, timeout: float, last: t.Any = None) -> None:
        self.what = what
        self.timeout = timeout
        self.last = last
        super().__init__("timed out after %gs waiting for %s" % (timeout, what))


def wait_until(
    fetch: t.Callable[[], T],
    ready: t.Callable[[T], bool],
    what: str = "the condition",
    timeout: float = 600,
    interval: float = 1.0,
    max_interval: float = 10.0,
    failed: t.Callable[[T], BaseException | None] | None = None,
    sleep: t.Callable[[float], None] = time.sleep,
    clock: t.Callable[[], float] = time.monotonic,
) -> T:
    """Fetch until ready(value); `failed(value)` may return an exception to stop early. Returns the ready value."""
    deadline = clock() + timeout
    pause = interval
    while True:
        value = fetch()
        if ready(value):
            return value
        if failed is not None:
            err = failed(value)
            if err is not None:
                raise err
        remaining = deadline - clock()
        if remaining <= 0:
            raise WaitTimeout(what, timeout, value)
        sleep(min(pause, remaining))
        pause = min(pause * 1.5, max_interval)
