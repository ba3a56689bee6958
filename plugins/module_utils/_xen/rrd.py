# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Disk, network and CPU figures from the hosts' round robin databases (private to vdc.xenpool).

XenAPI no longer carries I/O figures in its objects (VBD_metrics and VIF_metrics are gone), and
asking for one data source per VM would make the cost of pool_info grow with the number of VMs.
Every host serves `GET /rrd_updates` instead: one HTTP request returns an rrdtool "xport" document
with every data source of the host and of each VM running on it. Reading it per live host keeps the
number of requests equal to the number of hosts, whatever the number of VMs.

The request reuses the XenClient's session, URL scheme and port, TLS settings and timeout, so it
goes where the XenAPI calls go and trusts what they trust; it is sent with ansible's own URL helper (Request),
like the ONTAP REST client, one request per host in parallel over the XenAPI calls' TLS context. Error messages never
contain the session reference (it is as good as a password while the session lives).
"""

from __future__ import annotations

import concurrent.futures
import http.client
import math
import re
import socket
import ssl
import time
import typing as t
import xml.etree.ElementTree as ET
from urllib.error import HTTPError, URLError
from urllib.parse import urlencode, urlsplit

from ansible.module_utils.urls import Request, SSLValidationError

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import replace_host, tls_context
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenConnectionError

KIB = 1024.0
# the window the console shows, read from the one-minute archive (10 rows per object)
DEFAULT_WINDOW_S = 600
DEFAULT_INTERVAL_S = 60
MAX_WORKERS = 8
# Figures (key -> unit conversion) returned for every object; each is {"avg": x, "max": y}.
FIGURES = (
    "cpu_percent",
    "disk_read_kib_s",
    "disk_write_kib_s",
    "disk_kib_s",
    "net_rx_kib_s",
    "net_tx_kib_s",
    "net_kib_s",
)

_VBD = re.compile(r"^vbd_(.+)_(read|write)$")
_VIF = re.compile(r"^vif_(\d+)_(rx|tx)$")
_PIF = re.compile(r"^pif_(.+)_(rx|tx)$")
_PHYSICAL_PIF = re.compile(r"^eth\d+$")
_CPU = re.compile(r"^cpu\d+$")


class Tls(t.NamedTuple):
    """The XenClient's certificate settings, for an https request."""

    validate_certs: bool
    ca_path: str | None


# (status, body) getter: url, TLS settings (None for http), timeout seconds
Getter = t.Callable[[str, "Tls | None", float], "tuple[int, bytes]"]


class RrdError(XenConnectionError):
    """A host did not give its figures; pool_info turns this into a warning, not a failure."""


def http_get(url: str, tls: Tls | None, timeout: float) -> tuple[int, bytes]:
    """One GET through ansible's URL helper: its own connection per call, so hosts can be read in parallel."""
    # the XenAPI calls' own TLS context (Request ignores its other TLS arguments when given one)
    context = tls_context(tls.validate_certs, tls.ca_path) if tls else tls_context(False, None)
    try:
        response = Request().open("GET", url, headers={"Accept": "text/xml"}, timeout=timeout, use_proxy=False,
                                  follow_redirects="none", context=context)
    except HTTPError as exc:
        return exc.code, b""
    return response.getcode(), response.read()


def _unreachable(exc: BaseException) -> str:
    """The reason of a connection failure, without the URL (it carries the session reference)."""
    cause = exc.reason if isinstance(exc, URLError) and not isinstance(exc.reason, str) else exc
    if isinstance(cause, (TimeoutError, socket.timeout)):
        return ""
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return type(cause).__name__


def session_ref(client: t.Any) -> str:
    """The OpaqueRef of the client's logged-in session."""
    ref = getattr(client, "session_ref", None)
    if not ref:
        raise RrdError("no logged-in XenAPI session", getattr(client, "url", ""), "Log in before reading performance figures.")
    return str(ref)


def updates_url(base_url: str, address: str, params: dict[str, t.Any]) -> str:
    """The /rrd_updates URL on `address`, with the scheme and port of the XenAPI URL."""
    host_url = replace_host(base_url, address)
    parts = urlsplit(host_url)
    return "%s://%s/rrd_updates?%s" % (parts.scheme, parts.netloc, urlencode(params))


def fetch_updates(
    client: t.Any,
    address: str,
    start: int,
    interval: int = DEFAULT_INTERVAL_S,
    cf: str = "AVERAGE",
    getter: Getter | None = None,
) -> bytes:
    """GET /rrd_updates (host=true) from one host through the client's transport settings."""
    params = {"session_id": session_ref(client), "start": int(start), "cf": cf, "interval": int(interval), "host": "true"}
    url = updates_url(client.url, address, params)
    shown = url.split("?", 1)[0]  # never the session reference
    tls = Tls(bool(client.validate_certs), client.ca_path) if urlsplit(url).scheme == "https" else None
    try:
        status, body = (getter or http_get)(url, tls, float(client.timeout))
    except (SSLValidationError, ssl.SSLCertVerificationError):
        raise RrdError("TLS certificate verification failed", shown,
                       "Set ca_path to the CA that signed the host certificate, or validate_certs=false.") from None
    except (OSError, http.client.HTTPException) as exc:
        reason = _unreachable(exc)
        if not reason:
            raise RrdError("timed out after %gs" % float(client.timeout), shown,
                           "Check that the host is reachable, or raise the timeout option.") from None
        raise RrdError("unreachable: %s" % reason, shown, "Check the network path to the host's management address.") from None
    if status != 200:
        raise RrdError("HTTP %d" % status, shown, "The host refused the performance export (session or permissions).")
    return body


def _number(text: str | None) -> float | None:
    try:
        value = float(text or "")
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def parse_xport(body: bytes | str) -> dict[str, t.Any]:
    """Parse an xport document into {"step", "end", "rows": [(t, {(kind, uuid, source): value})]}.

    Rows keep their order (xapi sends the newest first); NaN and missing values are left out.
    """
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise ValueError("not an rrd xport document: %s" % exc) from None
    meta = root.find("meta")
    if root.tag != "xport" or meta is None:
        raise ValueError("not an rrd xport document: no meta")
    legend: list[tuple[str, str, str] | None] = []
    for entry in meta.iterfind("legend/entry"):
        fields = (entry.text or "").split(":", 3)
        legend.append((fields[1], fields[2], fields[3]) if len(fields) == 4 else None)
    rows = []
    data = root.find("data")
    for row in data.iterfind("row") if data is not None else ():
        stamp: float | None = None
        stamped = False
        cells = []
        for child in row:  # the first <t> and every <v>, as findtext("t") and iterfind("v") would take them
            if child.tag == "v":
                cells.append(child.text)
            elif child.tag == "t" and not stamped:
                stamp, stamped = _number(child.text), True
        values: dict[tuple[str, str, str], float] = {}
        for key, text in zip(legend, cells):  # _number, inlined: 200,000 cells at 64 hosts
            try:
                value = float(text)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if key is not None and math.isfinite(value):
                values[key] = value
        rows.append((int(stamp) if stamp is not None else 0, values))
    return {"step": int(_number(meta.findtext("step")) or 0), "end": int(_number(meta.findtext("end")) or 0), "rows": rows}


# Where a data source's value goes in an object's row accumulator: (sum slot, count slot). Sums: 0 cpu_avg,
# 1 cpuN, 2 disk read, 3 disk write, 4/5 VIF rx/tx, 6/7 pif_aggr rx/tx, 8/9 physical PIF rx/tx; counts from 10.
_CPU_AVG, _CPU_N, _READ, _WRITE = (0, 10), (1, 11), (2, 12), (3, 12)
_SLOTS = {"vif": {"rx": (4, 13), "tx": (5, 13)}, "aggr": {"rx": (6, 14), "tx": (7, 14)}, "physical": {"rx": (8, 15), "tx": (9, 15)}}
_ACC_SIZE = 16


def _role(kind: str, source: str) -> tuple[int, int] | None:
    """What one data source adds to its object's figures (see _SLOTS), None for nothing."""
    match = _VBD.match(source)
    if match:
        return _READ if match.group(2) == "read" else _WRITE
    match = _VIF.match(source) if kind == "vm" else _PIF.match(source)
    if match:
        device = match.group(1)
        # a host counts its physical NICs once: pif_aggr when xcp-rrdd offers it, else the ethN devices (bonds
        # and VLANs ride on them and would count the same bytes twice)
        nics = "vif" if kind == "vm" else "aggr" if device == "aggr" else "physical" if _PHYSICAL_PIF.match(device) else ""
        return _SLOTS[nics][match.group(2)] if nics else None
    if kind == "host" and source == "cpu_avg":
        return _CPU_AVG
    return _CPU_N if _CPU.match(source) else None


def _row_figures(kind: str, acc: list[float]) -> dict[str, float]:
    """The figures of one object in one row from its accumulator; a figure without any source stays out."""
    out: dict[str, float] = {}
    if kind == "host" and acc[_CPU_AVG[1]]:
        out["cpu_percent"] = 100.0 * acc[_CPU_AVG[0]]
    elif acc[_CPU_N[1]]:
        out["cpu_percent"] = 100.0 * acc[_CPU_N[0]] / acc[_CPU_N[1]]
    if acc[_READ[1]]:
        read, write = acc[_READ[0]], acc[_WRITE[0]]
        out.update(disk_read_kib_s=read / KIB, disk_write_kib_s=write / KIB, disk_kib_s=(read + write) / KIB)
    # a VM counts its VIFs; a host its aggregate when xcp-rrdd offers one, else its physical NICs
    nics = _SLOTS["vif" if kind == "vm" else "aggr" if acc[_SLOTS["aggr"]["rx"][1]] else "physical"]
    if acc[nics["rx"][1]]:
        rx, tx = acc[nics["rx"][0]], acc[nics["tx"][0]]
        out.update(net_rx_kib_s=rx / KIB, net_tx_kib_s=tx / KIB, net_kib_s=(rx + tx) / KIB)
    return out


def summarize(parsed: dict[str, t.Any], host_disk_from_vms: bool = True) -> dict[str, dict[str, t.Any]]:
    """{uuid: {figure: {"avg", "max"}}} over the window, for the host and every VM in the document.

    The max is the highest row (one consolidated step), not the sum of per-source maxima. Hosts have
    no disk data source of their own: with host_disk_from_vms their disk figures are the row sums of
    the VMs they report (the control domain included), which is what the host's storage carries.
    Each column is classified once per document (_role), then each row adds its values into one
    accumulator per object.
    """
    series: dict[str, dict[str, list[float]]] = {}
    kinds: dict[str, str] = {}
    rows: dict[str, int] = {}
    columns: dict[tuple[str, str, str], tuple[tuple[str, str], tuple[int, int] | None]] = {}
    disk_keys = ("disk_read_kib_s", "disk_write_kib_s", "disk_kib_s")
    for _stamp, values in parsed["rows"]:
        per_object: dict[tuple[str, str], list[float]] = {}
        for key, value in values.items():
            column = columns.get(key)
            if column is None:
                column = columns[key] = ((key[0], key[1]), _role(key[0], key[2]))
            acc = per_object.get(column[0])
            if acc is None:
                acc = per_object[column[0]] = [0.0] * _ACC_SIZE
            if column[1] is not None:
                acc[column[1][0]] += value
                acc[column[1][1]] += 1
        host_disk: dict[str, float] = {}
        for (kind, uuid), acc in per_object.items():
            kinds[uuid] = kind
            rows[uuid] = rows.get(uuid, 0) + 1
            figures = _row_figures(kind, acc)
            if kind == "vm":
                for key in disk_keys:
                    if key in figures:
                        host_disk[key] = host_disk.get(key, 0.0) + figures[key]
            target = series.setdefault(uuid, {})
            for key, value in figures.items():
                target.setdefault(key, []).append(value)
        if host_disk_from_vms:
            for (kind, uuid), acc in per_object.items():
                if kind == "host" and not acc[_READ[1]]:
                    for key in disk_keys:
                        series[uuid].setdefault(key, []).append(host_disk.get(key, 0.0))
    out: dict[str, dict[str, t.Any]] = {}
    for uuid, figures in series.items():
        entry: dict[str, t.Any] = {"kind": kinds.get(uuid, ""), "rows": rows.get(uuid, 0)}
        for key in FIGURES:
            values = figures.get(key)
            entry[key] = {"avg": round(sum(values) / len(values), 1), "max": round(max(values), 1)} if values else None
        out[uuid] = entry
    return out


def read_host_figures(
    client: t.Any,
    address: str,
    window_s: int = DEFAULT_WINDOW_S,
    interval: int = DEFAULT_INTERVAL_S,
    getter: Getter | None = None,
    now: float | None = None,
) -> dict[str, dict[str, t.Any]]:
    """Fetch and summarize one host's rrd_updates: {uuid: {figure: {"avg", "max"}}} for it and its VMs."""
    start = int((time.time() if now is None else now) - window_s)
    body = fetch_updates(client, address, start, interval, "AVERAGE", getter)
    try:
        return summarize(parse_xport(body))
    except ValueError as exc:
        raise RrdError(str(exc), updates_url(client.url, address, {}).split("?", 1)[0], "The host answered something else than an rrd export.") from None


class PoolFigures:
    """Hosts' rrd_updates read in parallel (a bounded pool of threads), each started once, as soon as its address
    is known: read_overview starts them while the event.from answer is still being read."""

    def __init__(self, client: t.Any, window_s: int = DEFAULT_WINDOW_S, interval: int = DEFAULT_INTERVAL_S,
                 getter: Getter | None = None, max_workers: int = MAX_WORKERS) -> None:
        self._read = (client, window_s, interval, getter, time.time())
        self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, max_workers))
        self._futures: dict[str, concurrent.futures.Future[dict[str, dict[str, t.Any]]]] = {}

    def start(self, address: str) -> None:
        if address and address not in self._futures:
            client, window_s, interval, getter, now = self._read
            self._futures[address] = self._pool.submit(read_host_figures, client, address, window_s, interval, getter, now)

    def collect(self, addresses: t.Iterable[str]) -> tuple[dict[str, dict[str, t.Any]], dict[str, str], int]:
        """(figures by uuid, error text by address, requests sent) for these addresses, started now if not yet."""
        wanted = list(dict.fromkeys(a for a in addresses if a))
        for address in wanted:
            self.start(address)
        figures: dict[str, dict[str, t.Any]] = {}
        errors: dict[str, str] = {}
        try:
            for address in wanted:
                try:
                    figures.update(self._futures[address].result())
                except XenConnectionError as exc:
                    errors[address] = str(exc)
        finally:
            self.close()
        return figures, errors, len(self._futures)

    def close(self) -> None:
        """Stop what has not started (a failed read): requests under way end within the client's timeout."""
        self._pool.shutdown(wait=False, cancel_futures=True)


def read_pool_figures(
    client: t.Any,
    addresses: t.Iterable[str],
    window_s: int = DEFAULT_WINDOW_S,
    interval: int = DEFAULT_INTERVAL_S,
    getter: Getter | None = None,
    max_workers: int = MAX_WORKERS,
    started: PoolFigures | None = None,
) -> tuple[dict[str, dict[str, t.Any]], dict[str, str], int]:
    """Read every host in parallel (bounded pool): (figures by uuid, error text by address, requests sent).

    A host that fails leaves an entry in the errors instead of failing the whole read. `started` holds the
    requests already under way (PoolFigures.start); the others are sent now.
    """
    wanted = list(dict.fromkeys(a for a in addresses if a))
    if started is None:
        if not wanted:
            return {}, {}, 0
        started = PoolFigures(client, window_s, interval, getter, min(max_workers, len(wanted)))
    return started.collect(wanted)
