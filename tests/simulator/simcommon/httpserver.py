# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HTTP server that serves http:// and https:// on the same port.

Real xapi listens on 80 and 443; clients given a bare host name use http,
others https. Serving both on one port keeps the simulator's address plan
simple (one port shared by every simulated host).
"""
from __future__ import annotations

import select
import socket
import socketserver
import ssl
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TLS_HANDSHAKE_BYTE = 0x16
PEEK_TIMEOUT_S = 10.0


class DualProtocolHTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that sniffs the first byte to choose TLS or plain."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    watchdog = None  # a simcommon.runtime.Watchdog told about every request (WatchedRequestHandler)
    # the injected round-trip time (--latency-ms): a new connection pays it once for the TCP handshake and once
    # more for the TLS handshake, as a client that far away does; each request pays it again (the simulators'
    # request handlers sleep it)
    latency_s = 0.0

    def __init__(self, address, handler_cls, ssl_context: ssl.SSLContext | None, bind_and_activate: bool = True) -> None:
        self.ssl_context = ssl_context
        super().__init__(address, handler_cls, bind_and_activate)

    def server_bind(self) -> None:
        """HTTPServer.server_bind without its socket.getfqdn(): a reverse DNS lookup per listener cost 80 ms each,
        5 s of start-up for 64 simulated hosts, for a server_name nothing here reads."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = host
        self.server_port = port

    def finish_request(self, request, client_address) -> None:
        """Peek at the first byte in the worker thread (never in the accept loop)."""
        conn = request
        wrapped = None
        try:
            if self.latency_s:
                time.sleep(self.latency_s)  # the TCP handshake's round trip
            ready, _unused_w, _unused_x = select.select([request], [], [], PEEK_TIMEOUT_S)
            if not ready:
                return
            first = request.recv(1, socket.MSG_PEEK)
            if not first:
                return
            if first[0] == TLS_HANDSHAKE_BYTE and self.ssl_context is not None:
                if self.latency_s:
                    time.sleep(self.latency_s)  # the TLS handshake's round trip
                request.settimeout(PEEK_TIMEOUT_S)
                wrapped = self.ssl_context.wrap_socket(request, server_side=True)
                wrapped.settimeout(None)
                conn = wrapped
            self.RequestHandlerClass(conn, client_address, self)
        except (OSError, ssl.SSLError):
            return
        finally:
            if wrapped is not None:
                try:
                    wrapped.close()
                except OSError:
                    pass


class WatchedRequestHandler(BaseHTTPRequestHandler):
    """Tells the server's watchdog (if any) when a request starts and ends.

    A request counts from the moment its request line was read (an idle keep-alive connection
    waiting for the next request does not) until its answer was written or dropped.
    """

    _watch_open = False

    def parse_request(self) -> bool:
        watchdog = getattr(self.server, "watchdog", None)
        if watchdog is not None and not self._watch_open:
            watchdog.begin()
            self._watch_open = True
        return super().parse_request()

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        finally:
            if self._watch_open:
                self._watch_open = False
                self.server.watchdog.end()
