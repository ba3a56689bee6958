# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""rrd_updates: xport parsing, figures (avg/max, units, sums), the HTTP request and per-host failures."""

from __future__ import annotations

import http.server
import socket
import threading
from urllib.parse import parse_qs, urlsplit

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import rrd
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenConnectionError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import live_host_addresses, read_io_figures
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState

HOST = "0b1c2d3e-0000-4000-8000-000000000001"
VM = "5a6b7c8d-0000-4000-8000-000000000002"
DOM0 = "5a6b7c8d-0000-4000-8000-000000000003"
SESSION = "OpaqueRef:7f3e9a2c-aaaa-bbbb-cccc-123456789abc"

LEGEND = [
    "AVERAGE:host:%s:cpu_avg" % HOST,
    "AVERAGE:host:%s:cpu0" % HOST,
    "AVERAGE:host:%s:pif_eth0_rx" % HOST,
    "AVERAGE:host:%s:pif_eth0_tx" % HOST,
    "AVERAGE:host:%s:pif_eth1_rx" % HOST,
    "AVERAGE:host:%s:pif_bond0_rx" % HOST,  # rides on eth0/eth1: must not count twice
    "AVERAGE:host:%s:memory_total_kib" % HOST,
    "AVERAGE:vm:%s:cpu0" % VM,
    "AVERAGE:vm:%s:cpu1" % VM,
    "AVERAGE:vm:%s:vbd_xvda_read" % VM,
    "AVERAGE:vm:%s:vbd_xvda_write" % VM,
    "AVERAGE:vm:%s:vbd_xvdb_read" % VM,
    "AVERAGE:vm:%s:vif_0_rx" % VM,
    "AVERAGE:vm:%s:vif_0_tx" % VM,
    "AVERAGE:vm:%s:vif_1_rx" % VM,
    "AVERAGE:vm:%s:memory" % VM,
    "AVERAGE:vm:%s:vbd_xvda_read" % DOM0,
]
# newest row first, as xapi sends them; bytes/s for I/O, fractions for CPU
ROWS = [
    (1700000060, [0.5, 0.6, 2048, 1024, 1024, 3072, 16777216, 0.2, 0.4, 10240, 2048, 1024, 4096, 1024, 2048, 2147483648, 1024]),
    (1700000000, [0.3, 0.2, 4096, 0, "NaN", 4096, 16777216, 0.1, 0.3, 2048, 0, 0, 1024, 1024, 0, 2147483648, 3072]),
]


def xport(legend=None, rows=None, step=60) -> bytes:
    legend = LEGEND if legend is None else legend
    rows = ROWS if rows is None else rows
    parts = ['<?xml version="1.0" encoding="UTF-8"?><xport><meta><start>%d</start><step>%d</step><end>%d</end>'
             % (rows[-1][0] if rows else 0, step, rows[0][0] if rows else 0),
             "<rows>%d</rows><columns>%d</columns><legend>" % (len(rows), len(legend))]
    parts += ["<entry>%s</entry>" % e for e in legend]
    parts.append("</legend></meta><data>")
    for stamp, values in rows:
        parts.append("<row><t>%d</t>%s</row>" % (stamp, "".join("<v>%s</v>" % v for v in values)))
    parts.append("</data></xport>")
    return "".join(parts).encode("utf-8")


class FakeClient:
    """What rrd needs from XenClient: URL, TLS settings, timeout and the logged-in session."""

    def __init__(self, url="https://127.0.0.10:4443/", session=SESSION, validate_certs=True, ca_path=None, timeout=7.0):
        self.url = url
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.session_ref = session or None


def test_parse_keeps_order_and_drops_nan():
    parsed = rrd.parse_xport(xport())
    assert parsed["step"] == 60 and parsed["end"] == 1700000060
    assert [stamp for stamp, _values in parsed["rows"]] == [1700000060, 1700000000]
    newest, oldest = parsed["rows"][0][1], parsed["rows"][1][1]
    assert newest[("vm", VM, "vbd_xvda_read")] == 10240.0
    assert ("host", HOST, "pif_eth1_rx") in newest and ("host", HOST, "pif_eth1_rx") not in oldest


@pytest.mark.parametrize("body", [b"", b"<html>login</html>", b"<xport><data/></xport>", b"not xml at all <"])
def test_parse_rejects_other_documents(body):
    with pytest.raises(ValueError):
        rrd.parse_xport(body)


def test_summary_of_a_vm():
    figures = rrd.summarize(rrd.parse_xport(xport()))
    vm = figures[VM]
    assert vm["kind"] == "vm" and vm["rows"] == 2
    # cpu: mean of the vCPUs per row (30 %, 20 %), then avg/max over rows
    assert vm["cpu_percent"] == {"avg": 25.0, "max": 30.0}
    # disk read per row: (10240 + 1024) and 2048 bytes/s over all VBDs -> 11 and 2 KiB/s
    assert vm["disk_read_kib_s"] == {"avg": 6.5, "max": 11.0}
    assert vm["disk_write_kib_s"] == {"avg": 1.0, "max": 2.0}
    # the max of the sum is the busiest row (13 KiB/s), not max(read) + max(write)
    assert vm["disk_kib_s"] == {"avg": 7.5, "max": 13.0}
    assert vm["net_rx_kib_s"] == {"avg": 3.5, "max": 6.0}
    assert vm["net_tx_kib_s"] == {"avg": 1.0, "max": 1.0}
    assert vm["net_kib_s"] == {"avg": 4.5, "max": 7.0}


def test_summary_of_the_host():
    host = rrd.summarize(rrd.parse_xport(xport()))[HOST]
    assert host["kind"] == "host"
    assert host["cpu_percent"] == {"avg": 40.0, "max": 50.0}  # cpu_avg, not cpu0
    # physical NICs only (bond0 ignored); eth1 missing (NaN) in the older row
    assert host["net_rx_kib_s"] == {"avg": 3.5, "max": 4.0}
    assert host["net_tx_kib_s"] == {"avg": 0.5, "max": 1.0}
    # no disk source of its own: the sum of what its VMs (dom0 included) read and write per row
    assert host["disk_read_kib_s"] == {"avg": (12.0 + 5.0) / 2, "max": 12.0}
    assert host["disk_kib_s"] == {"avg": (14.0 + 5.0) / 2, "max": 14.0}


def test_host_prefers_the_aggregate_interface_figure():
    legend = ["AVERAGE:host:%s:pif_aggr_rx" % HOST, "AVERAGE:host:%s:pif_eth0_rx" % HOST, "AVERAGE:host:%s:pif_aggr_tx" % HOST]
    host = rrd.summarize(rrd.parse_xport(xport(legend, [(1700000000, [3072, 9999, 1024])])))[HOST]
    assert host["net_rx_kib_s"] == {"avg": 3.0, "max": 3.0}
    assert host["net_kib_s"] == {"avg": 4.0, "max": 4.0}


def test_objects_without_sources_have_null_figures():
    legend = ["AVERAGE:vm:%s:memory" % VM, "AVERAGE:vm:%s:cpu0" % VM]
    vm = rrd.summarize(rrd.parse_xport(xport(legend, [(1700000000, [1024, "NaN"])])))[VM]
    assert vm["cpu_percent"] is None and vm["disk_kib_s"] is None and vm["net_kib_s"] is None
    assert rrd.summarize(rrd.parse_xport(xport(LEGEND, []))) == {}


def test_request_reuses_the_client_settings():
    seen = []

    def getter(url, context, timeout):
        seen.append((url, context, timeout))
        return 200, xport()

    client = FakeClient(validate_certs=False)
    figures = rrd.read_host_figures(client, "127.0.0.12", window_s=600, getter=getter, now=1700000100)
    assert set(figures) == {HOST, VM, DOM0}
    url, context, timeout = seen[0]
    parts = urlsplit(url)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == ("https", "127.0.0.12", 4443, "/rrd_updates")
    assert parse_qs(parts.query) == {"session_id": [SESSION], "start": ["1699999500"], "cf": ["AVERAGE"], "interval": ["60"], "host": ["true"]}
    assert context == rrd.Tls(validate_certs=False, ca_path=None)
    assert timeout == 7.0
    rrd.read_host_figures(FakeClient(url="http://xen.example.com/"), "10.0.0.5", getter=getter)
    assert seen[1][0].startswith("http://10.0.0.5/rrd_updates?") and seen[1][1] is None


@pytest.mark.parametrize("outcome, reason", [
    ((401, b"Unauthorised"), "HTTP 401"),
    (socket.timeout("timed out"), "timed out after 7s"),
    (ConnectionRefusedError(111, "Connection refused"), "unreachable: Connection refused"),
    ((200, b"<html>not rrd</html>"), "not an rrd xport document"),
])
def test_failures_are_typed_and_never_show_the_session(outcome, reason):
    def getter(url, context, timeout):  # pylint: disable=unused-argument
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome

    with pytest.raises(rrd.RrdError) as info:
        rrd.read_host_figures(FakeClient(), "127.0.0.12", getter=getter)
    assert isinstance(info.value, XenConnectionError)
    assert reason in str(info.value)
    assert "https://127.0.0.12:4443/rrd_updates" in str(info.value)
    assert SESSION not in str(info.value) and "session_id" not in str(info.value)


def test_no_session_no_request():
    with pytest.raises(rrd.RrdError, match="no logged-in XenAPI session"):
        rrd.read_host_figures(FakeClient(session=None), "127.0.0.12", getter=lambda *a: (200, xport()))


def test_pool_read_is_one_request_per_host_and_survives_a_dead_host():
    lock = threading.Lock()
    asked = []

    def getter(url, context, timeout):  # pylint: disable=unused-argument
        address = urlsplit(url).hostname
        with lock:
            asked.append(address)
        if address == "127.0.0.13":
            raise ConnectionRefusedError(111, "Connection refused")
        uuid = "host-%s" % address
        return 200, xport(["AVERAGE:host:%s:cpu_avg" % uuid], [(1700000000, [0.25])])

    addresses = ["127.0.0.%d" % (10 + i) for i in range(20)] + ["127.0.0.11", ""]
    figures, errors, requests = rrd.read_pool_figures(FakeClient(), addresses, getter=getter, max_workers=4)
    assert requests == 20 and sorted(asked) == sorted(set(addresses) - {""})
    assert list(errors) == ["127.0.0.13"] and "Connection refused" in errors["127.0.0.13"]
    assert len(figures) == 19 and figures["host-127.0.0.10"]["cpu_percent"] == {"avg": 25.0, "max": 25.0}
    assert rrd.read_pool_figures(FakeClient(), [], getter=getter) == ({}, {}, 0)


@pytest.fixture(name="http_host")
def http_host_fixture():
    """A local HTTP listener (127.0.0.1, stopped by the fixture) answering /rrd_updates."""
    requests = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # pylint: disable=invalid-name
            requests.append(self.path)
            query = parse_qs(urlsplit(self.path).query)
            body, status = (xport(), 200) if query.get("session_id") == [SESSION] else (b"Unauthorised", 401)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], requests
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_real_http_round_trip(http_host):
    port, requests = http_host
    figures = rrd.read_host_figures(FakeClient(url="http://127.0.0.1:%d/" % port), "127.0.0.1")
    assert figures[VM]["disk_kib_s"] == {"avg": 7.5, "max": 13.0}
    assert len(requests) == 1 and requests[0].startswith("/rrd_updates?")
    with pytest.raises(rrd.RrdError, match="HTTP 401"):
        rrd.read_host_figures(FakeClient(url="http://127.0.0.1:%d/" % port, session="OpaqueRef:other"), "127.0.0.1")


def test_live_hosts_and_the_master_by_the_name_used_to_connect():
    state = PoolState({
        "pool": {"OpaqueRef:p": {"master": "OpaqueRef:h1"}},
        "host": {
            "OpaqueRef:h1": {"name_label": "xen-01", "address": "10.0.0.1", "metrics": "OpaqueRef:m1"},
            "OpaqueRef:h2": {"name_label": "xen-02", "address": "10.0.0.2", "metrics": "OpaqueRef:m2"},
            "OpaqueRef:h3": {"name_label": "xen-03", "address": "10.0.0.3", "metrics": "OpaqueRef:m3"},
        },
        "host_metrics": {"OpaqueRef:m1": {"live": True}, "OpaqueRef:m2": {"live": True}, "OpaqueRef:m3": {"live": False}},
    })
    assert live_host_addresses(state) == {"10.0.0.1": "xen-01", "10.0.0.2": "xen-02"}
    assert live_host_addresses(state, "xen-01.example.com") == {"xen-01.example.com": "xen-01", "10.0.0.2": "xen-02"}
    asked = []

    def getter(url, context, timeout):  # pylint: disable=unused-argument
        asked.append(urlsplit(url).hostname)
        return 200, xport([], [])

    figures, warnings, requests = read_io_figures(FakeClient(url="https://xen-01.example.com/"), state, getter=getter)
    assert (figures, warnings, requests) == ({}, [], 2) and sorted(asked) == ["10.0.0.2", "xen-01.example.com"]
