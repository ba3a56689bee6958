# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator process: listeners per host, wire handling, control API, state files."""
from __future__ import annotations

import json
import socket
import ssl
import threading
import time

from simcommon import CallLog, ControlAPI, DualProtocolHTTPServer, FaultPlan, WatchedRequestHandler, tls_material
from simcommon import write_private_json

from . import handlers_core, handlers_devices, handlers_ha, handlers_pool, handlers_storage, handlers_vm  # noqa: F401  pylint: disable=unused-import
# after handlers_vm/pool: replaces VM.revert and host.reboot
from . import handlers_lifecycle  # noqa: F401  pylint: disable=unused-import
from . import failure
from . import rrd
from . import san
from .dispatch import SECRET_WORDS, Dispatcher, is_write, summarize
from .model import VMRules
from .spec import DT, Spec, XapiError
from .state import World
from .wire import envelope_failure, envelope_success, json_response, xml_request, xml_response

JSON_PATHS = ("/jsonrpc", "/json")
REDACTED = "***"
HANDLER_MODULES = (handlers_core, handlers_devices, handlers_ha, handlers_pool, handlers_storage, handlers_vm)


class XapiControl(ControlAPI):
    """The common /sim/ API plus /sim/iscsi/targets (the fabric the lvmoiscsi driver sees)."""

    def __init__(self, world: World, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.world = world

    def _route(self, method: str, route: str, payload: dict) -> tuple[int, dict]:
        if route == "iscsi/targets":
            if method == "GET":
                with self.world.lock:
                    return 200, {"targets": json.loads(json.dumps(self.world.iscsi))}
            if method == "POST":
                return 200, {"ok": True, "target": handlers_storage.upsert_target(self.world, payload)}
            if method == "DELETE":
                with self.world.lock:
                    self.world.iscsi = []
                return 200, {"ok": True}
        if route == "nfs/exports":
            if method == "GET":
                with self.world.lock:
                    return 200, {"exports": san.list_exports(self.world)}
            if method == "POST":
                return 200, {"ok": True, "export": san.upsert_export(self.world, payload)}
            if method == "DELETE":
                with self.world.lock:
                    self.world.nfs_exports = {}
                return 200, {"ok": True}
        if route.startswith("hosts/"):
            return failure.control(self.world, method, route)
        return super()._route(method, route, payload)


class DropConnection(Exception):
    """Fault action 'drop': close the connection without answering."""


class Simulator:
    """Glue between HTTP listeners, the dispatcher, the call log and fault plan."""

    def __init__(self, spec: Spec, time_scale: float = 1.0, latency_ms: float = 0.0) -> None:
        self.world = World(spec, time_scale)
        self.world.rules = VMRules(spec)
        self.world.latency_ms = latency_ms
        self.dispatcher = Dispatcher(self.world)
        self.calllog = CallLog()
        self.faults = FaultPlan()
        self.rrd_cache = rrd.XportCache()
        self.control = XapiControl(self.world, self.calllog, self.faults, state=self.state, save=self.save,
                                   advance=self.world.clock.advance, shutdown=self.request_shutdown)
        self.servers: list[DualProtocolHTTPServer] = []
        self.stopped = threading.Event()
        self.port = 0

    # ------------------------------------------------------------------ calls
    def invoke(self, address: str, method: str, params: list):
        """Run one API call; returns the value or raises XapiError / DropConnection.

        A fault with when="after" lets the call take effect first and then loses, delays or
        replaces its answer (what a client sees when the server did the work but the reply
        never arrived)."""
        fault = self.faults.check(method)
        _is_async, cls, msg, spec_msg = self.dispatcher.resolve(method)
        args = list(params)
        if spec_msg is not None and spec_msg.get("session") and args:
            args = args[1:]
        self.calllog.record(address, method, is_write(cls, msg, spec_msg) if spec_msg or cls == "system" else False,
                            summarize(spec_msg, args, cls))
        if self.world.latency_ms:
            time.sleep(self.world.latency_ms / 1000.0)
        if fault is None:
            return self.dispatcher.call(address, method, params)
        if fault.get("when") == "after":
            try:
                result = self.dispatcher.call(address, method, params)
            except XapiError:
                if fault["action"] == "delay":
                    time.sleep(fault["delay_s"])
                    raise
                result = None
            _apply_fault(fault)
            return result
        _apply_fault(fault)
        return self.dispatcher.call(address, method, params)

    # ------------------------------------------------------------------ state
    def state(self) -> dict:
        """GET /sim/state: the saved-state document with every secret redacted (as in the call log)."""
        return redact_state(self.full_state())

    def full_state(self) -> dict:
        """Everything --load-state needs, secrets included (only ever written to 0600 files)."""
        with self.world.lock:
            dbs = self.world.dbs
            return _encode({
                "version": 1, "username": self.world.username,
                "dbs": [db.dump() for db in dbs],
                "hosts": {addr: [dbs.index(db), host] for addr, (db, host) in self.world.hosts.items()},
                "host_info": self.world.host_info,
                "clock_offset": self.world.clock.offset,
                "iscsi": self.world.iscsi,
                "lun_data": self.world.lun_data,
                "nfs_exports": self.world.nfs_exports,
            })

    def save(self, path: str) -> None:
        """POST /sim/save and --save-state-on-exit: the full state, mode 0600 (it holds the secrets load needs)."""
        write_private_json(path, self.full_state())

    def load(self, path: str) -> None:
        with open(path, encoding="utf-8") as handle:
            data = _decode(json.load(handle))
        world = self.world
        with world.lock:
            world.dbs = []
            for dump in data["dbs"]:
                db = world.new_db()
                db.gen = int(dump["gen"])
                db.meta = dump.get("meta", {})
                for cls, table in dump["tables"].items():
                    if cls not in db.tables:
                        continue
                    db.tables[cls] = table
                    db.uuids[cls] = {rec["uuid"]: ref for ref, rec in table.items() if "uuid" in rec}
                for session in list(db.tables["session"]):
                    db.tables["session"].pop(session)
            world.hosts = {addr: (world.dbs[idx], host) for addr, (idx, host) in data["hosts"].items()}
            world.host_info = data.get("host_info", world.host_info)
            world.username = data.get("username", world.username)
            world.iscsi = data.get("iscsi", [])
            world.lun_data = data.get("lun_data", {})
            for scsi_id, sr_uuid in data.get("lun_sr", {}).items():  # states saved before the LUN data area
                world.lun_data.setdefault(scsi_id, {"format": san.FORMAT, "sr_uuid": sr_uuid})
            world.nfs_exports = data.get("nfs_exports", {})
            world.clock.advance(float(data.get("clock_offset", 0.0)) - world.clock.offset)

    # ------------------------------------------------------------------ listeners
    def listen(self, addresses: list[str], port: int, ssl_context: ssl.SSLContext | None, attempts: int = 20) -> int:
        last_error: OSError | None = None
        for _attempt in range(attempts):
            servers: list[DualProtocolHTTPServer] = []
            try:
                chosen = port
                for address in addresses:
                    server = DualProtocolHTTPServer((address, chosen), make_handler(self), ssl_context)
                    server.latency_s = self.world.latency_ms / 1000.0
                    servers.append(server)
                    chosen = server.server_address[1]
                self.servers = servers
                self.port = chosen
                for server in servers:
                    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
                return chosen
            except OSError as exc:
                last_error = exc
                for server in servers:
                    server.server_close()
                if port:
                    break
        raise OSError("could not bind all listeners: %s" % last_error)

    def request_shutdown(self) -> None:
        threading.Timer(0.1, self.stopped.set).start()

    def close(self) -> None:
        self.world.scheduler.stop()
        for server in self.servers:
            server.shutdown()
            server.server_close()


def _apply_fault(fault: dict) -> None:
    """The fault's effect on the answer: drop the connection, wait, or fail with its error."""
    if fault["action"] == "drop":
        raise DropConnection()
    if fault["action"] == "delay":
        time.sleep(fault["delay_s"])
        return
    raise XapiError(*fault["error"])


def redact_state(data: dict) -> dict:
    """A copy of a state document without secrets: secret.value, and every map entry whose key names a
    password/secret (CHAP passwords of static iSCSI targets included). Keys ending in `_secret` hold the
    uuid of a secret object, not the secret, and are kept."""
    def walk(value, key: str = ""):
        if isinstance(value, dict):
            return {k: (REDACTED if _secret_key(k) and not isinstance(v, (dict, list)) else walk(v, k))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v, key) for v in value]
        return value

    out = walk(data)
    for db in out.get("dbs", []):
        for rec in (db.get("tables", {}).get("secret") or {}).values():
            if isinstance(rec, dict) and "value" in rec:
                rec["value"] = REDACTED
    return out


def _secret_key(key) -> bool:
    key = str(key)
    return bool(SECRET_WORDS.search(key)) and not key.endswith("_secret") and key not in ("secret", "secrets")


def _encode(value):
    if isinstance(value, DT):
        return {"__dt__": str(value)}
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    return value


def _decode(value):
    if isinstance(value, dict):
        if set(value) == {"__dt__"}:
            return DT(value["__dt__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def make_handler(sim: Simulator):
    class XapiHandler(WatchedRequestHandler):
        """One listener's HTTP handling: XML-RPC, JSON-RPC, OPTIONS and /sim/."""

        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True
        server_version = "xapisim"
        sys_version = ""

        def log_message(self, format, *args):  # pylint: disable=redefined-builtin
            return

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _send(self, status: int, body: bytes, ctype: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Access-Control-Allow-Origin", "*")
            # one write for headers and body: avoids Nagle/delayed-ACK stalls on keep-alive connections
            self._headers_buffer.append(b"\r\n" + body)
            self.flush_headers()

        def _control(self, method: str) -> bool:
            if not ControlAPI.handles(self.path):
                return False
            status, payload = sim.control.dispatch(method, self.path, self._body())
            self._send(status, json.dumps(payload).encode("utf-8"), "application/json")
            return True

        def do_GET(self):  # pylint: disable=invalid-name
            if self._control("GET"):
                return
            if rrd.handles(self.path):
                answer = rrd.answer(sim, self.server.server_address[0], self.path)
                if answer is not None:
                    self._send(*answer)
                    return
                self.close_connection = True  # fault action 'drop'
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            self._send(404, b"Not found", "text/plain")

        def do_DELETE(self):  # pylint: disable=invalid-name
            if not self._control("DELETE"):
                self._send(404, b"Not found", "text/plain")

        def do_OPTIONS(self):  # pylint: disable=invalid-name
            self.send_response(200)
            self.send_header("Access-Control-Allow-Origin", "*")
            self.send_header("Access-Control-Allow-Methods", "POST, GET, OPTIONS")
            self.send_header("Access-Control-Allow-Headers", "content-type, authorization")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_POST(self):  # pylint: disable=invalid-name
            if self._control("POST"):
                return
            address = self.server.server_address[0]
            body = self._body()
            path = self.path.split("?", 1)[0]
            try:
                if path in JSON_PATHS:
                    self._json(address, body)
                else:
                    self._xml(address, body)
            except DropConnection:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        def _xml(self, address: str, body: bytes) -> None:
            try:
                method, params = xml_request(body)
            except ValueError as exc:
                self._send(400, str(exc).encode("utf-8"), "text/plain")
                return
            try:
                envelope = envelope_success(sim.invoke(address, method, params))
            except XapiError as exc:
                envelope = envelope_failure(exc.description)
            self._send(200, xml_response(envelope), "text/xml")

        def _json(self, address: str, body: bytes) -> None:
            try:
                request = json.loads(body.decode("utf-8"))
                method = str(request["method"])
                params = request.get("params") or []
                if not isinstance(params, list):
                    raise ValueError("params must be a list")
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                self._send(400, json.dumps({"error": str(exc)}).encode("utf-8"), "application/json")
                return
            try:
                out = json_response(request, result=sim.invoke(address, method, params))
            except XapiError as exc:
                out = json_response(request, error=exc.description)
            self._send(200, out, "application/json")

    return XapiHandler


def make_ssl_context(state_dir: str, addresses: list[str]) -> tuple[ssl.SSLContext, str]:
    ca, cert, key = tls_material(state_dir, addresses)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx, ca
