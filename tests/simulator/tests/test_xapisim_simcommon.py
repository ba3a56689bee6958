# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""simcommon pieces in isolation (no simulator process)."""
from __future__ import annotations

import argparse
import json
import os
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler

import pytest
from cryptography import x509

from simcommon import (CallLog, ControlAPI, DualProtocolHTTPServer, FaultPlan, WatchedRequestHandler, Watchdog,
                       add_common_arguments, tls_material, wait_ready_file, write_private_json, write_ready_file)
from simcommon import launch
from simcommon.runtime import DEFAULT_IDLE_TIMEOUT_S, DEFAULT_LIFETIME_S, pid_alive


def test_calllog_counts_and_writes():
    log = CallLog()
    log.record("127.0.0.11", "VM.get_record", False, "self=x")
    log.record("127.0.0.11", "VM.start", True)
    log.record("127.0.0.12", "VM.start", True)
    assert log.counters() == {"VM.get_record": 1, "VM.start": 2}
    assert log.write_count() == 2
    entries = log.entries()
    assert [e["method"] for e in entries] == ["VM.get_record", "VM.start", "VM.start"]
    assert set(entries[0]) == {"endpoint", "method", "write", "summary", "time"}
    log.reset()
    assert log.entries() == [] and log.write_count() == 0


def test_faultplan_nth_and_repeat():
    plan = FaultPlan()
    plan.add("VM.start", nth=2, error=["HOST_OFFLINE", "x"], repeat=2)
    assert plan.check("VM.start") is None
    assert plan.check("VM.start")["error"] == ["HOST_OFFLINE", "x"]
    assert plan.check("VM.start")["action"] == "error"
    assert plan.check("VM.start") is None
    assert plan.check("VM.stop") is None
    plan.clear()
    plan.add("VM.start", action="drop")
    assert plan.check("VM.start")["action"] == "drop"
    assert plan.faults()[0]["when"] == "before"
    plan.add("VM.clone", action="drop", when="after")
    assert plan.check("VM.clone")["when"] == "after"
    with pytest.raises(ValueError):
        plan.add("x", action="explode")
    with pytest.raises(ValueError):
        plan.add("x", action="drop", when="during")


def test_tls_material_sans_and_reuse(tmp_path):
    ca, cert, key = tls_material(str(tmp_path), ["127.0.0.11", "127.0.0.12"])
    with open(cert, "rb") as handle:
        parsed = x509.load_pem_x509_certificate(handle.read())
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert ips == {"127.0.0.1", "127.0.0.11", "127.0.0.12"}
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    mtime = os.path.getmtime(cert)
    assert tls_material(str(tmp_path), ["127.0.0.12"]) == (ca, cert, key)
    assert os.path.getmtime(cert) == mtime
    # a new address forces regeneration
    tls_material(str(tmp_path), ["127.0.0.99"])
    with open(cert, "rb") as handle:
        parsed = x509.load_pem_x509_certificate(handle.read())
    san = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "127.0.0.99" in {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}


def test_ready_file_roundtrip_and_timeout(tmp_path):
    path = str(tmp_path / "ready.json")
    with pytest.raises(TimeoutError):
        wait_ready_file(path, 0.2)
    write_ready_file(path, {"port": 1})
    assert wait_ready_file(path, 1) == {"port": 1}


def test_common_arguments_defaults():
    args = add_common_arguments(argparse.ArgumentParser()).parse_args(["--state-dir", "/tmp/x"])
    assert args.port == 0 and args.time_scale == 1.0 and args.latency_ms == 0.0
    assert args.watch_pid == [] and args.idle_timeout == DEFAULT_IDLE_TIMEOUT_S == 1800.0
    assert args.lifetime == DEFAULT_LIFETIME_S >= 4 * 3600, "the absolute cap is a last resort, far beyond any slow run"
    args = add_common_arguments(argparse.ArgumentParser()).parse_args(
        ["--state-dir", "/tmp/x", "--watch-pid", "12", "--watch-pid", "34", "--idle-timeout", "0"])
    assert args.watch_pid == [12, 34] and args.idle_timeout == 0.0


def _expired_within(watchdog: Watchdog, seconds: float) -> str | None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reason = watchdog.expired()
        if reason:
            return reason
        time.sleep(0.05)
    return None


def test_watchdog_idle_timeout_counts_requests_in_progress():
    watchdog = Watchdog(lambda: None, idle_timeout=0.3)
    watchdog.begin()  # a long request in progress is not idle time
    assert _expired_within(watchdog, 0.6) is None
    watchdog.end()
    assert watchdog.expired() is None, "the end of a request is activity too"
    assert "idle" in (_expired_within(watchdog, 2) or "")
    assert Watchdog(lambda: None).expired() is None, "0 = no idle timeout, no cap"


def test_watchdog_lifetime_cap_and_watched_process():
    assert "cap" in (_expired_within(Watchdog(lambda: None, lifetime=0.2), 2) or "")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # pylint: disable=consider-using-with
    try:
        watchdog = Watchdog(lambda: None, watch_pids=[child.pid])
        assert watchdog.expired() is None and pid_alive(child.pid)
        child.kill()
        deadline = time.monotonic() + 5
        while pid_alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not pid_alive(child.pid), "a zombie (killed, not yet reaped) counts as gone"
        child.wait(10)
        assert "watched process %d is gone" % child.pid == watchdog.expired()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(10)


def test_watchdog_thread_calls_back_once():
    fired = threading.Event()
    watchdog = Watchdog(fired.set, idle_timeout=0.2, poll_s=0.05).start()
    assert fired.wait(5) and "idle" in watchdog.reason


def test_private_json_is_0600(tmp_path):
    path = tmp_path / "state.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    write_private_json(str(path), {"a": 1})
    assert json.loads(path.read_text()) == {"a": 1}
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_bundled_data_and_launch_environment():
    assert os.path.isfile(os.path.join(launch.data_dir("xapisim"), "reference.yml"))
    assert os.path.isfile(os.path.join(launch.data_dir("ontapsim"), "reference.yml"))
    assert launch.resolve_data_file("xapisim", "small").endswith(os.path.join("", "small.yml"))
    assert launch.resolve_data_file("xapisim", "/no/such/file.yml") == "/no/such/file.yml"
    assert "reference" in launch.bundled_names("ontapsim")
    assert launch.command("xapisim", "/py") == ["/py", "-m", "xapisim"]
    with pytest.raises(ValueError):
        launch.command("nosim")
    env = launch.child_env({"PYTHONPATH": "/elsewhere"})
    # a checkout (editable or not installed) puts the package root first; a site install needs nothing
    assert env["PYTHONPATH"] in ("/elsewhere", launch.PACKAGE_ROOT + os.pathsep + "/elsewhere")


def test_control_api_routes():
    log, plan = CallLog(), FaultPlan()
    advanced = []
    api = ControlAPI(log, plan, state=lambda: {"s": 1}, advance=advanced.append)
    log.record("a", "VM.start", True)
    status, body = api.dispatch("GET", "/sim/calls", b"")
    assert status == 200 and body["writes"] == 1 and body["counters"] == {"VM.start": 1}
    assert api.dispatch("POST", "/sim/faults", json.dumps({"method": "VM.start", "nth": 1}).encode())[0] == 200
    assert plan.check("VM.start") is not None
    assert api.dispatch("DELETE", "/sim/faults", b"")[0] == 200
    assert plan.check("VM.start") is None
    assert api.dispatch("POST", "/sim/time", b'{"advance_s": 30}')[0] == 200 and advanced == [30.0]
    assert api.dispatch("GET", "/sim/state", b"") == (200, {"s": 1})
    assert api.dispatch("POST", "/sim/save", b'{"path": "/tmp/x"}')[0] == 501
    assert api.dispatch("GET", "/sim/nope", b"")[0] == 404
    assert api.dispatch("POST", "/sim/faults", b"{bad")[0] == 400
    assert api.dispatch("POST", "/sim/calls/reset", b"")[0] == 200 and log.entries() == []


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self):  # pylint: disable=invalid-name
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        return


class _Watched(WatchedRequestHandler, _Hello):
    protocol_version = "HTTP/1.1"


def test_watched_handler_reports_each_request(tmp_path):
    """Each request is one begin and, after its answer, one end, told by the thread that served it. The next
    request's thread may begin before the previous one has told its end (one thread per connection), so the
    order is checked per thread, not across threads; the waits are long bounds, not expected durations."""
    del tmp_path
    seen = []

    class Recorder:
        def begin(self):
            seen.append(("begin", threading.get_ident()))

        def end(self):
            seen.append(("end", threading.get_ident()))

    server = DualProtocolHTTPServer(("127.0.0.1", 0), _Watched, None)
    server.watchdog = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        for _attempt in range(2):
            with urllib.request.urlopen("http://127.0.0.1:%d/" % server.server_address[1], timeout=60) as resp:
                assert resp.read() == b"hello"
        deadline = time.monotonic() + 60
        while len(seen) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sorted(event for event, _ident in seen) == ["begin", "begin", "end", "end"]
        for ident in {ident for _event, ident in seen}:
            events = [event for event, who in seen if who == ident]
            assert events == ["begin", "end"] * (len(events) // 2), seen
    finally:
        server.shutdown()
        server.server_close()


def test_dual_protocol_server_serves_http_and_https_on_one_port(tmp_path):
    ca, cert, key = tls_material(str(tmp_path), [])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = DualProtocolHTTPServer(("127.0.0.1", 0), _Hello, context)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5) as resp:
            assert resp.read() == b"hello"
        client_ctx = ssl.create_default_context(cafile=ca)
        with urllib.request.urlopen("https://127.0.0.1:%d/" % port, timeout=5, context=client_ctx) as resp:
            assert resp.read() == b"hello"
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen("https://127.0.0.1:%d/" % port, timeout=5,  # pylint: disable=consider-using-with
                                   context=ssl.create_default_context())
    finally:
        server.shutdown()
        server.server_close()
