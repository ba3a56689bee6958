# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Moving the master role of a pool (private to vdc.xenpool).

pool.designate_new_master restarts the old master's toolstack, so its answer is often lost; the pool is
then watched through fresh logins until it names the new master. A call that never took effect is told
apart quickly (the old master still answers as master and no designate task runs) instead of being
waited for until wait_timeout.
"""

from __future__ import annotations

import time
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout, wait_until
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import replace_host
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenConnectionError, XenError, XenPlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.tasks import wait_task

LOST_CONNECTION_CODES = ("SESSION_INVALID", "HOST_IS_SLAVE", "HANDLE_INVALID")


class MasterError(XenPlanError):
    """The master did not change as asked."""


# How long the pool may keep naming the old master, with no designate task running, before the call is taken
# as never applied: xapi's designate_new_master task ends only after the new master has taken over.
UNCHANGED_GRACE = 10.0


def _observe(reconnect: t.Callable[[str], t.Any], address: str) -> dict[str, t.Any] | None:
    """Who the pool names as master, seen through a fresh login to address (HOST_IS_SLAVE is followed), and
    whether a designate task still runs; None while the pool does not answer (the toolstacks restart)."""
    probe = None
    try:
        probe = reconnect(address)
        probe.login()
        pools = probe.call("pool.get_all_records") or {}
        master = next(iter(pools.values())).get("master") if pools else None
        tasks = probe.call("task.get_all_records") or {}
        running = any(rec.get("status") == "pending" and "designate_new_master" in str(rec.get("name_label", ""))
                      for rec in tasks.values())
        return {"master": master, "running": running}
    except XenError:
        return None
    finally:
        if probe is not None:
            probe.close()


def designate(client: t.Any, target: str, timeout: float, reconnect: t.Callable[[str], t.Any] | None,
              sleep: t.Callable[[float], None] = time.sleep, clock: t.Callable[[], float] = time.monotonic,
              grace: float = UNCHANGED_GRACE) -> None:
    """designate_new_master, then wait (wait_until) until a fresh login lands on the new master and the pool names it.

    The answer may be lost (the old master's toolstack restarts, or the network drops it). If the pool keeps
    naming the old master with no designate task running for `grace` seconds, the call never took effect:
    fail at once with MASTER_NOT_CHANGED instead of polling until wait_timeout.
    """
    hosts = client.call("host.get_all_records")
    ref = target if target in hosts else next((r for r, h in hosts.items() if h.get("uuid") == target), None)
    if ref is None:
        raise MasterError("HOST_NOT_FOUND", "host %s is not in the pool" % target)
    name = hosts[ref].get("name_label") or target
    # same scheme and port as the session we have: only the host changes (like the HOST_IS_SLAVE redirect)
    address = replace_host(client.url, hosts[ref].get("address", "")) if getattr(client, "url", None) else hosts[ref].get("address", "")
    try:
        wait_task(client, client.call_async("pool.designate_new_master", ref), timeout=timeout, sleep=sleep, clock=clock)
    except XapiError as err:
        if err.code not in LOST_CONNECTION_CODES:
            raise
    except XenConnectionError:
        pass
    if reconnect is None:
        return
    unchanged_since: list[float] = []

    def never_applied(seen: dict[str, t.Any] | None) -> MasterError | None:
        if seen is None or seen["master"] == ref or seen["running"]:
            unchanged_since.clear()
            return None
        unchanged_since.append(clock())
        if unchanged_since[-1] - unchanged_since[0] < grace:
            return None
        return MasterError("MASTER_NOT_CHANGED", "pool.designate_new_master(%s) did not take effect: the pool still names %s as "
                           "master and no designate task runs" % (name, state_name(hosts, seen["master"])),
                           hint="The call or its answer was lost; run the module again to retry the master change")

    try:
        wait_until(lambda: _observe(reconnect, address), lambda seen: bool(seen) and seen["master"] == ref,
                   what="the new master %s" % name, timeout=timeout, interval=1.0, max_interval=5.0,
                   failed=never_applied, sleep=sleep, clock=clock)
    except WaitTimeout:
        raise MasterError("MASTER_TIMEOUT", "the pool did not answer from the new master %s within %ss" % (address, timeout),
                          hint="Check the new master's management interface; raise wait_timeout for slow pools") from None


def state_name(hosts: dict[str, dict[str, t.Any]], ref: t.Any) -> str:
    return str((hosts.get(ref) or {}).get("name_label") or ref)
