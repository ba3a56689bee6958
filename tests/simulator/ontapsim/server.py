# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Process wiring: HTTP(S) listener, Basic auth, call log, faults, control API, ready file.

One port serves https and http (simcommon.DualProtocolHTTPServer): REST
clients (netapp.ontap) always use https, ZAPI clients use either.
"""
from __future__ import annotations

import argparse
import base64
import binascii
import hmac
import ipaddress
import json
import os
import secrets
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from simcommon import CallLog, ControlAPI, DualProtocolHTTPServer, FaultPlan, WatchedRequestHandler
from simcommon import add_common_arguments, start_watchdog, tls_material, write_private_json, write_ready_file
from simcommon.launch import bundled_names, resolve_data_file

from .errors import OntapError
from .fixture import build_state, load_fixture, parse_generate
from .model import OntapState, SimClock
from .rest import RestApi
from .san import iscsi_targets, san_control
from .zapi import WRITE_APIS, ZAPI_PATH, ZapiApi

PASSWORD_FILE = "ontap-password"
REALM = "ONTAP simulator"
SECRET_KEYS = ("password", "passphrase", "secret", "key")


def redact(value):
    """Drop anything that looks like a secret before it reaches the call log."""
    if isinstance(value, dict):
        return {k: ("<redacted>" if any(s in k.lower() for s in SECRET_KEYS) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


class OntapSim:
    """The simulator process: state, front ends and control hooks."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.state = OntapState(SimClock(args.time_scale))
        fixture: dict = {}
        if args.fixture:
            fixture = load_fixture(resolve_data_file("ontapsim", args.fixture))
        if args.load_state:
            with open(args.load_state, encoding="utf-8") as handle:
                self.state.load_dict(json.load(handle))
        else:
            if not args.fixture:
                raise SystemExit("ontapsim: --fixture or --load-state is required")
            build_state(self.state, fixture, parse_generate(args.generate))
        if args.no_zapi:
            self.state.zapi_enabled = False
        self.username = args.username or fixture.get("username", "admin")
        self.password = secrets.token_urlsafe(18)
        self.rest = RestApi(self.state)
        self.zapi = ZapiApi(self.state)
        self.calllog = CallLog()
        self.faults = FaultPlan()
        self.control = ControlAPI(self.calllog, self.faults, state=self.state_summary, save=self.save,
                                  advance=self.advance, shutdown=self.request_shutdown)
        self.server: DualProtocolHTTPServer | None = None
        self._stopping = threading.Event()

    # ------------------------------------------------------- control hooks
    def state_summary(self) -> dict:
        with self.state.lock:
            self.state.tick()
            return self.state.summary()

    def save(self, path: str) -> None:
        """The full state for --load-state, mode 0600 (CHAP entries are salted hashes, never the secret)."""
        with self.state.lock:
            self.state.tick()
            data = self.state.to_dict()
        write_private_json(path, data, indent=1, sort_keys=True)

    def advance(self, seconds: float) -> None:
        with self.state.lock:
            self.state.clock.advance(seconds)
            self.state.tick()

    def request_shutdown(self) -> None:
        if self._stopping.is_set():
            return
        self._stopping.set()
        threading.Thread(target=self._shutdown_now, daemon=True).start()

    def _shutdown_now(self) -> None:
        time.sleep(0.05)
        if self.server is not None:
            self.server.shutdown()

    def extra_control(self, method: str, path: str, query: str, body: bytes) -> tuple[int, dict] | None:
        """ONTAP-only control routes under /sim/ontap/ (SAN fabric view, host writes, ZAPI switch)."""
        route = path[len("/sim/ontap"):].strip("/")
        params = dict(urllib.parse.parse_qsl(query))
        payload = json.loads(body.decode("utf-8")) if body else {}
        with self.state.lock:
            self.state.tick()
            if route == "visible" and method == "GET":
                return 200, {"initiator": params.get("initiator", ""), "targets": iscsi_targets(self.state, params.get("initiator", "")),
                             "luns": self.state.visible_luns(params.get("initiator", ""))}
            if route == "write" and method == "POST":
                svm = self.state.svm_by_name(payload["svm"])
                lun = self.state.lun_by_path(svm, payload["lun"])
                self.state.write_data(lun, int(payload["bytes"]))
                return 200, {"ok": True, "written": lun["written"]}
            if route == "zapi" and method == "POST":
                self.state.zapi_enabled = bool(payload["enabled"])
                return 200, {"ok": True, "zapi_enabled": self.state.zapi_enabled}
            if route == "jobs/finish" and method == "POST":
                self.state.finish_all_jobs()
                return 200, {"ok": True}
            return san_control(self.state, method, route, payload)


def make_handler(sim: OntapSim):
    class Handler(WatchedRequestHandler):
        """HTTP/1.1 handler for /api, the ZAPI servlet and /sim."""

        protocol_version = "HTTP/1.1"
        server_version = "ontapsim"
        sys_version = ""

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            return

        def _send(self, status: int, body: bytes, ctype: str, headers: dict | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, obj: dict, headers: dict | None = None) -> None:
            self._send(status, json.dumps(obj).encode("utf-8"), "application/hal+json", headers)

        def _authorised(self) -> bool:
            header = self.headers.get("Authorization", "")
            if not header.lower().startswith("basic "):
                return False
            try:
                user, _sep, password = base64.b64decode(header[6:].strip()).decode("utf-8").partition(":")
            except (binascii.Error, UnicodeDecodeError):
                return False
            return hmac.compare_digest(user, sim.username) and hmac.compare_digest(password, sim.password)

        def _endpoint(self) -> str:
            host, port = self.server.server_address[:2]
            return "%s:%s" % (host, port)

        def _handle(self, method: str) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            path, _sep, query = self.path.partition("?")
            if path == "/sim/ontap" or path.startswith("/sim/ontap/"):
                try:
                    result = sim.extra_control(method, path, query, body)
                except (KeyError, ValueError, TypeError) as exc:
                    result = (400, {"error": "bad control request: %s" % exc})
                except OntapError as exc:
                    result = (exc.http_status, exc.rest_body())
                if result is None:
                    result = (404, {"error": "unknown control route %s %s" % (method, path)})
                self._json(*result)
                return
            if ControlAPI.handles(path):
                status, obj = sim.control.dispatch(method, path, body)
                self._json(status, obj)
                return
            is_zapi = path == ZAPI_PATH
            if not is_zapi and not (path == "/api" or path.startswith("/api/")):
                self._json(404, {"error": {"message": "Not found: %s" % path, "code": "4"}})
                return
            if is_zapi and method != "POST":
                self._send(405, b"ZAPI requests must use POST\n", "text/plain")
                return
            if not self._authorised():
                headers = {"WWW-Authenticate": "Basic realm=\"%s\"" % REALM}
                if is_zapi:
                    self._send(401, b"<html><body>401 Unauthorized</body></html>", "text/html", headers)
                else:
                    self._json(401, {"error": {"message": "Authentication failed: missing or invalid credentials.",
                                               "code": "6"}}, headers)
                return
            if sim.args.latency_ms:
                time.sleep(sim.args.latency_ms / 1000.0)
            if is_zapi:
                self._zapi(body)
            else:
                self._rest(method, path, query, body)

        def _drop(self) -> None:
            """Fault action 'drop': close the connection without an answer."""
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

        def _fault(self, names: list[str]) -> dict | None:
            for name in dict.fromkeys(names):  # each distinct name counted once per call
                fault = sim.faults.check(name)
                if fault is not None:
                    return fault
            return None

        @staticmethod
        def _fault_code(fault: dict) -> tuple[str, str, int]:
            err = fault.get("error") or []
            code = err[0] if err and str(err[0]).isdigit() else "13001"
            message = err[1] if len(err) > 1 else "injected fault"
            status = int(err[2]) if len(err) > 2 and str(err[2]).isdigit() else 500
            return code, message, status

        def _rest(self, method: str, path: str, query: str, body: bytes) -> None:
            name = "%s %s" % (method, path)
            summary = "?" + query if query else ""
            if body:
                try:
                    summary += " " + json.dumps(redact(json.loads(body.decode("utf-8"))), sort_keys=True)[:300]
                except ValueError:
                    summary += " <non-JSON body>"
            sim.calllog.record(self._endpoint(), name, method != "GET", summary)
            fault = self._fault([name, "%s %s" % (method, sim.rest.route_template(path))])
            resp = None
            if fault is not None and fault.get("when") == "after":
                with sim.state.lock:
                    sim.state.tick()
                    resp = sim.rest.handle(method, path, query, body)
            if fault is not None:
                if fault["action"] == "drop":
                    self._drop()
                    return
                if fault["action"] == "delay":
                    time.sleep(fault["delay_s"])
                else:
                    code, message, status = self._fault_code(fault)
                    self._json(status, {"error": {"message": message, "code": code}})
                    return
                if resp is not None:
                    self._json(resp.status, resp.body, resp.headers)
                    return
            with sim.state.lock:
                sim.state.tick()
                resp = sim.rest.handle(method, path, query, body)
            self._json(resp.status, resp.body, resp.headers)

        def _zapi(self, body: bytes) -> None:
            name = sim.zapi.api_name(body)
            vfiler = ""
            try:
                vfiler = sim.zapi.parse(body)[2] or ""
            except Exception:  # pylint: disable=broad-except
                vfiler = ""
            sim.calllog.record(self._endpoint(), name, name in WRITE_APIS, "vfiler=%s" % vfiler if vfiler else "")
            fault = self._fault([name])
            reply = None
            if fault is not None and fault.get("when") == "after":
                with sim.state.lock:
                    sim.state.tick()
                    _name, reply = sim.zapi.handle(body)
            if fault is not None:
                if fault["action"] == "drop":
                    self._drop()
                    return
                if fault["action"] == "delay":
                    time.sleep(fault["delay_s"])
                else:
                    code, message, _status = self._fault_code(fault)
                    self._send(200, sim.zapi.failed(code, message), "text/xml; charset=utf-8")
                    return
                if reply is not None:
                    self._send(200, reply, "text/xml; charset=utf-8")
                    return
            with sim.state.lock:
                sim.state.tick()
                _name, reply = sim.zapi.handle(body)
            self._send(200, reply, "text/xml; charset=utf-8")

        def do_GET(self):  # pylint: disable=invalid-name
            self._handle("GET")

        def do_POST(self):  # pylint: disable=invalid-name
            self._handle("POST")

        def do_PATCH(self):  # pylint: disable=invalid-name
            self._handle("PATCH")

        def do_DELETE(self):  # pylint: disable=invalid-name
            self._handle("DELETE")

        def do_PUT(self):  # pylint: disable=invalid-name
            self._handle("PUT")

    return Handler


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ontapsim", description="NetApp ONTAP 9.x REST + ZAPI simulator (loopback only)")
    add_common_arguments(parser)
    parser.add_argument("--fixture", default=None,
                        help="YAML cluster description (a file, or the name of a bundled one: %s)"
                        % ", ".join(bundled_names("ontapsim")))
    parser.add_argument("--address", default="127.0.0.1", help="listen address, must be in 127.0.0.0/8")
    parser.add_argument("--generate", default=None, help="bulk objects for benchmarks, e.g. volumes=500,luns=1000")
    parser.add_argument("--username", default=None, help="API user (default: fixture 'username' or admin)")
    parser.add_argument("--no-zapi", action="store_true", help="start with ONTAPI (ZAPI) disabled")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not ipaddress.ip_address(args.address) in ipaddress.ip_network("127.0.0.0/8"):
        raise SystemExit("ontapsim: refusing to listen on %s (loopback 127.0.0.0/8 only)" % args.address)
    os.makedirs(args.state_dir, exist_ok=True)
    sim = OntapSim(args)
    password_file = os.path.join(args.state_dir, PASSWORD_FILE)
    fd = os.open(password_file + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(sim.password + "\n")
    os.replace(password_file + ".tmp", password_file)
    ca_cert, cert, key = tls_material(args.state_dir, [args.address])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = DualProtocolHTTPServer((args.address, args.port), make_handler(sim), context)
    sim.server = server
    server.latency_s = args.latency_ms / 1000.0
    port = server.server_address[1]
    signal.signal(signal.SIGTERM, lambda _signo, _frame: sim.request_shutdown())
    signal.signal(signal.SIGINT, lambda _signo, _frame: sim.request_shutdown())
    server.watchdog = start_watchdog(args, sim.request_shutdown)
    base = "%s:%d" % (args.address, port)
    if args.ready_file:
        write_ready_file(args.ready_file, {
            "pid": os.getpid(), "port": port, "address": args.address, "url_https": "https://%s" % base,
            "url_http": "http://%s" % base, "ca_cert": ca_cert, "username": sim.username,
            "password_file": password_file, "control": "http://%s/sim" % base, "zapi_path": ZAPI_PATH,
            "cluster": sim.state.cluster.get("name"), "simulator": "ontapsim"})
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        if args.save_state_on_exit:
            sim.save(args.save_state_on_exit)
    return 0


if __name__ == "__main__":
    sys.exit(main())
