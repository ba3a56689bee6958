# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""simcommon under benchmark load: injected latency (--latency-ms) applies to connection set-up too (one round trip
for the TCP handshake and one more for the TLS handshake, before a request's own; checked by recording the server's
sleeps, not by timing), and simulator processes cap glibc's malloc arenas so their memory stays flat."""
from __future__ import annotations

import ssl
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest

from simcommon import DualProtocolHTTPServer, tls_material
from simcommon import httpserver, launch


class _Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        return

    def do_GET(self):  # pylint: disable=invalid-name
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")


@pytest.fixture(name="server")
def server_fixture(tmp_path, monkeypatch):
    """A dual-protocol server with 250 ms of latency whose sleeps are recorded instead of slept."""
    slept: list[float] = []
    monkeypatch.setattr(httpserver.time, "sleep", slept.append)
    ca, cert, key = tls_material(str(tmp_path), [])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = DualProtocolHTTPServer(("127.0.0.1", 0), _Hello, context)
    server.latency_s = 0.25
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server, ca, slept
    finally:
        server.shutdown()
        server.server_close()


def _get(url: str, ca: str | None = None) -> bytes:
    context = ssl.create_default_context(cafile=ca) if ca else None
    with urllib.request.urlopen(url, timeout=30, context=context) as resp:
        return resp.read()


def test_plain_connection_pays_the_tcp_round_trip(server):
    srv, _ca, slept = server
    assert _get("http://127.0.0.1:%d/" % srv.server_address[1]) == b"hello"
    assert slept == [0.25]


def test_tls_connection_pays_tcp_and_tls_round_trips(server):
    srv, ca, slept = server
    assert _get("https://127.0.0.1:%d/" % srv.server_address[1], ca) == b"hello"
    assert slept == [0.25, 0.25]


def test_no_latency_no_sleep(server):
    srv, ca, slept = server
    srv.latency_s = 0.0
    assert _get("https://127.0.0.1:%d/" % srv.server_address[1], ca) == b"hello"
    assert not slept


def test_simulators_cap_malloc_arenas_unless_told_otherwise():
    assert launch.child_env({})["MALLOC_ARENA_MAX"] == "2"
    assert launch.child_env({"MALLOC_ARENA_MAX": "8"})["MALLOC_ARENA_MAX"] == "8"
