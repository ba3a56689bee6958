# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""pool_info's rrd_updates start while the event.from answer is still being read (overview.LiveHostWatch).

The client here hands each event to the watch before its call returns, as XenClient.watching does while the
transport reads the answer; its call then waits (bounded) for the requests the watch should have started, so
that "started before the answer was complete" is checked without timing assumptions.
"""

from __future__ import annotations

import contextlib
import threading

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import read_overview

MASTER, OTHER, DEAD = "OpaqueRef:h1", "OpaqueRef:h2", "OpaqueRef:h3"


def _events(pool_last: bool = False) -> list[dict]:
    hosts = [(MASTER, "m1", "10.0.0.1", True), (OTHER, "m2", "10.0.0.2", True), (DEAD, "m3", "10.0.0.3", False)]
    events = [{"class": "host", "operation": "add", "ref": ref,
               "snapshot": {"uuid": "uuid-%s" % ref[-2:], "name_label": "host %s" % ref[-1], "address": address,
                            "metrics": metrics, "enabled": True}} for ref, metrics, address, _live in hosts]
    events += [{"class": "host_metrics", "operation": "add", "ref": metrics, "snapshot": {"live": live, "memory_total": "0"}}
               for _ref, metrics, _address, live in hosts]
    events.append({"class": "VM", "operation": "add", "ref": "OpaqueRef:v1",
                   "snapshot": {"uuid": "vm-1", "name_label": "web", "power_state": "Running", "resident_on": OTHER,
                                "VBDs": [], "VIFs": []}})
    pool = {"class": "pool", "operation": "add", "ref": "OpaqueRef:p", "snapshot": {"name_label": "p", "master": MASTER}}
    return events + [pool] if pool_last else [pool] + events


def _xport(address: str) -> bytes:
    host = {"10.0.0.1": "uuid-h1", "pool-master.example": "uuid-h1", "10.0.0.2": "uuid-h2"}[address]
    legend = ["AVERAGE:host:%s:cpu_avg" % host] + (["AVERAGE:vm:vm-1:cpu0"] if host == "uuid-h2" else [])
    cells = "".join("<v>0.25</v>" for _entry in legend)
    return ("<xport><meta><step>60</step><end>1700000060</end><legend>%s</legend></meta><data><row><t>1700000060</t>%s</row>"
            "</data></xport>" % ("".join("<entry>%s</entry>" % e for e in legend), cells)).encode()


class WatchingClient:
    """The attributes read_overview uses, and a watching() that the call feeds event by event."""

    url = "https://pool-master.example/"
    validate_certs, ca_path, timeout = True, None, 30.0
    session_ref = "OpaqueRef:session"
    supports_event_from = None

    def __init__(self, events: list[dict], watch_supported: bool = True) -> None:
        self.events = events
        self.watch = None
        self.returned = False
        self.requests: list[tuple[str, bool]] = []
        self.all_started = threading.Event()
        if not watch_supported:
            self.watching = None

    @contextlib.contextmanager
    def watching(self, watch):  # pylint: disable=method-hidden
        self.watch = watch
        try:
            yield
        finally:
            self.watch = None

    def call(self, method, *_args):
        assert method == "event.from"
        for event in self.events:
            if self.watch is not None:
                self.watch(event)
        if self.watch is not None:
            assert self.all_started.wait(60), "the live hosts' requests were not started while the answer was read"
        self.returned = True
        return {"events": self.events, "valid_ref_counts": {}, "token": "1"}

    def get(self, url, _tls, _timeout):
        address = url.split("://", 1)[1].split("/", 1)[0]
        self.requests.append((address, self.returned))
        if len(self.requests) == 2:
            self.all_started.set()
        return 200, _xport(address)


def _read(client: WatchingClient, warnings: list[str] | None = None) -> dict:
    return read_overview(client, io_metrics=True, getter=client.get, warn=(warnings if warnings is not None else []).append)


def test_live_hosts_are_read_while_the_answer_is_read():
    client = WatchingClient(_events())
    overview = _read(client)
    # one request per live host, the master under the name the user connected with, none for the dead host
    assert sorted(client.requests) == [("10.0.0.2", False), ("pool-master.example", False)]
    hosts = {h["name"]: h for h in overview["hosts"]}
    assert hosts["host 1"]["cpu_usage_percent"] == 25.0 and hosts["host 3"]["cpu_usage_percent"] is None
    assert overview["vms"][0]["cpu_usage_percent"] == 25.0


def test_the_pool_record_may_come_last():
    client = WatchingClient(_events(pool_last=True))
    _read(client)
    assert sorted(client.requests) == [("10.0.0.2", False), ("pool-master.example", False)]


def test_same_overview_without_watching():
    watched = _read(WatchingClient(_events()))
    plain = WatchingClient(_events(), watch_supported=False)
    assert _read(plain) == watched
    assert sorted(plain.requests) == [("10.0.0.2", True), ("pool-master.example", True)]  # after the answer, as before
