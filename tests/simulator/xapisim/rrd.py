# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GET /rrd_updates: the per-host performance export xapi serves over HTTP.

Real hosts answer an rrdtool "xport" XML document (meta + legend + rows,
newest row first) for the host itself (with host=true) and the VMs running
on it. The figures here are the same ones the data-source calls return
(the plans of sources.py, which handlers_pool.host_sources and
handlers_vm.vm_sources evaluate now), evaluated at past instants (see
history_elapsed), so there is one model of the numbers.

Archives follow xcp-rrdd: 5 s steps for 10 minutes, 1 min for 2 hours,
1 h for a week, 1 day for a year. `interval` picks the finest archive whose
step is at least `interval` and that still reaches back to `start`.

A row only changes when its step ends (xcp-rrdd consolidates one row per
step), so an answer is kept until the step is over (XportCache): the 50th
identical read of a 64-host pool within a minute costs no more figures than
the first, and each object's rows are kept for every other window of the step
that shows them (SeriesCache). CPU figures come from cpuload (per-VM load moving over simulated
time; a host's load is its VMs' load), so workload balancing has something
to balance.
"""
from __future__ import annotations

import math
import threading
import time
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from . import sessions
from .model import host_free_memory
from .sources import host_plan, vm_plan

PATH = "/rrd_updates"
# (step seconds, rows kept) as in xcp-rrdd
ARCHIVES = ((5, 120), (60, 120), (3600, 168), (86400, 366))
CFS = ("AVERAGE", "MIN", "MAX")
# where, as fractions of a consolidated step, the sub-samples are taken (the 5 s archive holds raw
# samples); uneven so that a fast time scale does not alias them onto one phase of the figures
SUBSAMPLES = (0.13, 0.41, 0.67, 0.93)


def handles(path: str) -> bool:
    return urlsplit(path).path == PATH


def history_elapsed(clock, now_wall: float, now_elapsed: float, instant: float) -> float:
    """The simulated instant whose figures an archived row at wall time `instant` shows.

    History runs on the wall clock (one second per second, plus /sim/time jumps), so a row's values
    depend on its timestamp only and do not alias at fast time scales, where one step would span whole
    periods of the figures. At --time-scale 1 the newest raw row is what query_data_source says.
    """
    real_elapsed = (now_elapsed - clock.offset) * clock.scale
    return clock.offset + real_elapsed - (now_wall - instant)


def pick_archive(start: int, now: float, interval: int) -> tuple[int, int]:
    """(step, rows kept) of the archive that serves this request."""
    wanted = max(0.0, now - start)
    for step, rows in ARCHIVES:
        if step >= interval and step * rows >= wanted:
            return step, rows
    return ARCHIVES[-1]


def _consolidate(values: list[float], cf: str) -> float:
    if cf == "MAX":
        return max(values)
    if cf == "MIN":
        return min(values)
    return sum(values) / len(values)


def _objects(db, host: str, want_host: bool, vm_uuid: str | None) -> list[tuple[str, str, str]]:
    """(kind, uuid, ref) of what this host reports: itself and the VMs running on it."""
    out = []
    hrec = db.get("host", host)
    if want_host and vm_uuid is None:
        out.append(("host", hrec["uuid"], host))
    for vm in sorted(hrec["resident_VMs"], key=lambda r: db.get("VM", r)["uuid"]):
        rec = db.get("VM", vm)
        if rec["power_state"] != "Running":
            continue
        if vm_uuid is not None and rec["uuid"] != vm_uuid:
            continue
        out.append(("vm", rec["uuid"], vm))
    return out


class XportCache:
    """Answers of the current step, per host and query.

    The key holds everything a document depends on: the query, the step's end, the clock offset (/sim/time
    jumps) and what each object reports (its uuid, vCPUs, memory, disks and NICs), so a VM started, stopped,
    moved or changed within the step is seen at once. Only entries of the current and the previous step are
    kept, and never more than LIMIT: memory stays flat however many reads come.
    """

    LIMIT = 2048

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[tuple, str] = {}
        self.series = SeriesCache()

    def get(self, key: tuple) -> str | None:
        with self._lock:
            return self._entries.get(key)

    def put(self, key: tuple, end: int, step: int, body: str) -> None:
        with self._lock:
            if len(self._entries) >= self.LIMIT:
                self._entries.clear()
            for old in [k for k in self._entries if k[0] == step and k[1] < end - step]:
                del self._entries[old]
            self._entries[key] = body


class SeriesCache:
    """The consolidated rows of each object, shared by every document that shows them.

    A row's figures depend on its timestamp, the clock offset and what the object reports (SourcePlan.key) only,
    so a window that overlaps one computed before (pool_info's 10 minutes within a 15-minute read, every host's
    read of the same minute) takes those rows as they are: each object's series is computed once per step, not
    once per request. Never more than LIMIT rows: past it, the cache starts afresh. Used under world.lock.
    """

    LIMIT = 100000

    def __init__(self) -> None:
        self._series: dict[tuple, dict[int, str]] = {}
        self._rows = 0

    def rows(self, key: tuple) -> dict[int, str]:
        """{timestamp: cells} of one object's series (key: plan key, step, cf, clock offset), to read and add to."""
        if self._rows >= self.LIMIT:
            self._series.clear()
            self._rows = 0
        found = self._series.get(key)
        if found is None:
            found = self._series[key] = {}
        return found

    def added(self, count: int) -> None:
        self._rows += count


def _signature(db, objects: list[tuple[str, str, str]]) -> tuple:
    """What the objects' data sources depend on, besides the instant."""
    out = []
    for kind, uuid, ref in objects:
        if kind == "host":
            out.append((uuid, tuple(db.get("host", ref)["PIFs"])))
        else:
            rec = db.get("VM", ref)
            out.append((uuid, rec["VCPUs_at_startup"], rec["memory_dynamic_max"], tuple(rec["VBDs"]), tuple(rec["VIFs"])))
    return tuple(out)


def build_xport(world, db, host: str, start: int, interval: int, cf: str, want_host: bool, vm_uuid: str | None = None,
                cache: XportCache | None = None) -> str:
    """The xport document for one host (from `cache` when this step already answered it); call with world.lock held."""
    now_wall = world.clock.wall()
    step, kept = pick_archive(start, now_wall, interval)
    end = int(now_wall // step) * step
    first = max(int(start // step) * step + step, end - (kept - 1) * step)
    objects = _objects(db, host, want_host, vm_uuid)
    key = (step, end, first, cf, host, id(db), world.clock.offset, _signature(db, objects))
    body = cache.get(key) if cache is not None else None
    if body is None:
        body = _xport(world, db, host, (step, end, first), cf, objects, cache.series if cache is not None else None)
        if cache is not None:
            cache.put(key, end, step, body)
    return body


def _xport(world, db, host: str, window: tuple[int, int, int], cf: str, objects: list[tuple[str, str, str]],
           series: SeriesCache | None = None) -> str:
    """The document itself: every object's sources at every sub-sample instant of every row, consolidated (rows
    already in `series` are taken from there)."""
    step, end, first = window
    times = list(range(end, first - 1, -step)) if first <= end else []
    free = host_free_memory(db, host)  # the one source that walks the whole pool; it does not move with time
    plans = [(kind, uuid, host_plan(db, ref, free) if kind == "host" else vm_plan(db, ref)) for kind, uuid, ref in objects]
    # no rows: the legend still lists what the host reports now (each object's names sorted, as before any row)
    legend = [(kind, uuid, name) for kind, uuid, plan in plans for name in (plan.names if times else sorted(plan.names))]
    # the simulated instants of every row's sub-samples: one list for every object of the document
    now_wall, now_elapsed = world.clock.wall(), world.clock.elapsed()
    fractions = SUBSAMPLES if step > 5 else (1.0,)
    instants = [[history_elapsed(world.clock, now_wall, now_elapsed, t - step + step * fraction) for fraction in fractions]
                for t in times]
    rows = [["<row><t>%d</t>" % t] for t in times]
    for _kind, _uuid, plan in plans:
        known = series.rows((plan.key, step, cf, world.clock.offset)) if series is not None else {}
        before = len(known)
        for row, t, row_instants in zip(rows, times, instants):
            cells = known.get(t)
            if cells is None:
                cells = known[t] = _cells([plan.values(at) for at in row_instants], cf)
            row.append(cells)
        if series is not None:
            series.added(len(known) - before)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>', "<xport><meta>",
             "<start>%d</start><step>%d</step><end>%d</end><rows>%d</rows><columns>%d</columns><legend>"
             % (times[-1] if times else end, step, end, len(times), len(legend))]
    parts.extend("<entry>%s:%s:%s:%s</entry>" % (cf, kind, uuid, escape(name)) for kind, uuid, name in legend)
    parts.append("</legend></meta><data>")
    for row in rows:
        parts.extend(row)
        parts.append("</row>")
    parts.append("</data></xport>")
    return "".join(parts)


def _cells(samples: list[list[float]], cf: str) -> str:
    """The <v> cells of one object in one row: each source's sub-samples consolidated by `cf`."""
    if len(samples) == 1:
        values = samples[0]
    elif cf == "AVERAGE":
        count = len(samples)
        values = [sum(column) / count for column in zip(*samples)]
    else:
        values = [_consolidate(column, cf) for column in zip(*samples)]
    isnan = math.isnan
    # rrdtool writes an unknown value as NaN
    return "".join(["<v>%s</v>" % ("NaN" if isnan(value) else format(value, ".6g")) for value in values])


def _text(status: int, message: str) -> tuple[int, bytes, str]:
    return status, message.encode("utf-8"), "text/plain"


def answer(sim, address: str, path: str) -> tuple[int, bytes, str] | None:
    """(status, body, content type) for GET /rrd_updates on one listener; None = drop the connection."""
    query = parse_qs(urlsplit(path).query)

    def arg(name: str, default: str | None = None) -> str | None:
        values = query.get(name)
        return values[0] if values else default

    session = arg("session_id") or ""
    summary = "start=%s interval=%s cf=%s host=%s" % (arg("start"), arg("interval"), arg("cf"), arg("host"))
    sim.calllog.record(address, "rrd_updates", False, summary)
    fault = sim.faults.check("rrd_updates")
    world = sim.world
    if world.latency_ms:
        time.sleep(world.latency_ms / 1000.0)
    if fault is not None:
        if fault["action"] == "drop":
            return None
        if fault["action"] == "delay":
            time.sleep(fault["delay_s"])
        else:
            return _text(500, "Internal error: %s" % " ".join(str(e) for e in fault["error"]))
    with world.lock:
        if address not in world.hosts:
            return _text(404, "no simulated host listens on %s" % address)
        db, host = world.db_for_address(address)
        sessions.maybe_gc(world)  # an expired session is as gone here as for the API (sessions.py)
        sdb = world.sessions.get(session)
        # xapi's HTTP handlers answer 401 when the session is missing or unknown to this pool
        if not session or sdb is None or sdb is not db or session not in sdb.tables["session"]:
            return _text(401, "Unauthorised")
        try:
            start = int(float(arg("start", "0") or 0))
            interval = int(float(arg("interval", "0") or 0))
        except ValueError:
            return _text(400, "Bad request: start and interval must be numbers")
        cf = (arg("cf", "AVERAGE") or "AVERAGE").upper()
        if cf not in CFS:
            return _text(400, "Bad request: unknown consolidation function %s" % cf)
        want_host = (arg("host", "false") or "").lower() == "true"
        body = build_xport(world, db, host, start, interval, cf, want_host, arg("vm_uuid"), sim.rrd_cache)
    return 200, body.encode("utf-8"), "text/xml"
