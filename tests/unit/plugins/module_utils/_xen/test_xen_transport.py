# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The client's real transports (TLS context, CA path, socket timeout) against a tiny local server.

The fake transport of the other tests skips the socket layer; these tests do not. The server binds
127.0.0.1 on a free port, lives only for the test and is shut down by the fixture.
"""

from __future__ import annotations

import datetime
import http.server
import ipaddress
import ssl
import threading
import time
import xmlrpc.client

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenConnectionError

cryptography = pytest.importorskip("cryptography")

# pylint: disable=wrong-import-position
from cryptography import x509  # noqa: E402
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

PASSWORD = "Transport-Test-Pw-7"


def _write_certs(tmp_path):
    """A CA and a server certificate for 127.0.0.1 signed by it."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xenpool unit CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = tmp_path / "ca.pem"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path = tmp_path / "server.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path = tmp_path / "server.key"
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return str(ca_path), str(cert_path), str(key_path)


class _Handler(http.server.BaseHTTPRequestHandler):
    server_version = "xapi-unit"
    delay = 0.0

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass

    def do_POST(self):  # pylint: disable=invalid-name
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path == "/notxml":
            self._send(b"hello", "text/plain")
            return
        if self.path == "/missing":
            self.send_error(404)
            return
        params, method = xmlrpc.client.loads(body)
        time.sleep(type(self).delay)
        seen = type(self).seen
        seen[method] = seen.get(method, 0) + 1
        if method in type(self).drop and seen[method] == 1:
            self.close_connection = True  # done, but the answer is lost: the connection closes without one
            return
        if method == "session.login_with_password":
            answer = ({"Status": "Success", "Value": "OpaqueRef:s"} if params[1] == PASSWORD else
                      {"Status": "Failure", "ErrorDescription": ["SESSION_AUTHENTICATION_FAILED", params[0], "Authentication failure"]})
        elif method == "session.logout":
            answer = {"Status": "Success", "Value": ""}
        elif method in ("pool.get_all", "VM.get_all"):
            answer = {"Status": "Success", "Value": ["OpaqueRef:p"]}
        elif method == "network.create":
            answer = {"Status": "Success", "Value": "OpaqueRef:n%d" % seen[method]}
        else:
            answer = {"Status": "Failure", "ErrorDescription": ["MESSAGE_METHOD_UNKNOWN", method]}
        self._send(xmlrpc.client.dumps((answer,), methodresponse=True).encode(), "text/xml")

    def _send(self, payload, ctype):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)
        if type(self).close_idle:
            self.close_connection = True  # a kept-alive connection the server closes once idle


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def shutdown_request(self, request):
        super().shutdown_request(request)
        self.handler.closed.set()  # the socket is closed now, not merely done with


def _serve(tls_files=None, delay=0.0, drop=(), keep_alive=False):
    handler = type("Handler", (_Handler,), {
        "delay": delay, "seen": {}, "drop": set(drop), "close_idle": keep_alive, "closed": threading.Event(),
        "protocol_version": "HTTP/1.1" if keep_alive else "HTTP/1.0"})
    server = _Server(("127.0.0.1", 0), handler)
    server.handler = handler
    if tls_files:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(tls_files[1], tls_files[2])
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture
def servers(tmp_path):
    started = []

    def start(tls=False, delay=0.0, **kwargs):
        files = _write_certs(tmp_path) if tls else None
        server, thread = _serve(files, delay, **kwargs)
        started.append((server, thread))
        scheme = "https" if tls else "http"
        url = "%s://127.0.0.1:%d" % (scheme, server.server_address[1])
        start.handlers[url] = server.handler  # what the server saw, for the tests that count requests
        return url, (files[0] if files else None)

    start.handlers = {}
    yield start
    for server, thread in started:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_http_login_call_logout(servers):
    url, _ca = servers()
    with XenClient(url, "root", PASSWORD, timeout=5) as client:
        assert client.call("pool.get_all") == ["OpaqueRef:p"]
    assert client.calls == {"session.login_with_password": 1, "pool.get_all": 1, "session.logout": 1}


def test_https_with_ca_path(servers):
    url, ca = servers(tls=True)
    with XenClient(url, "root", PASSWORD, ca_path=ca, timeout=5) as client:
        assert client.call("pool.get_all") == ["OpaqueRef:p"]


def test_https_untrusted_names_options(servers):
    url, _ca = servers(tls=True)
    with pytest.raises(XenConnectionError) as info:
        XenClient(url, "root", PASSWORD, timeout=5).login()
    assert "certificate verification failed" in info.value.reason
    assert "validate_certs" in info.value.hint and "ca_path" in info.value.hint


def test_https_without_verification(servers):
    url, _ca = servers(tls=True)
    with XenClient(url, "root", PASSWORD, validate_certs=False, timeout=5) as client:
        assert client.logged_in


def test_tls_to_plain_http_port(servers):
    url, _ca = servers()
    with pytest.raises(XenConnectionError) as info:
        XenClient(url.replace("http://", "https://"), "root", PASSWORD, timeout=5).login()
    assert info.value.reason.startswith("TLS error")


def test_timeout_is_bounded(servers):
    url, _ca = servers(delay=3.0)
    started = time.monotonic()
    with pytest.raises(XenConnectionError) as info:
        XenClient(url, "root", PASSWORD, timeout=0.5).login()
    assert time.monotonic() - started < 2.5
    assert "timed out" in info.value.reason and "timeout" in info.value.hint


def test_auth_failure_and_http_errors(servers):
    url, _ca = servers()
    with pytest.raises(XapiError) as info:
        XenClient(url, "root", "nope", timeout=5).login()
    assert info.value.code == "SESSION_AUTHENTICATION_FAILED"
    with pytest.raises(XenConnectionError) as info:
        XenClient(url + "/missing", "root", PASSWORD, timeout=5).login()
    assert "HTTP 404" in info.value.reason
    with pytest.raises(XenConnectionError) as info:
        XenClient(url + "/notxml", "root", PASSWORD, timeout=5).login()
    assert info.value.reason.startswith("not an XML-RPC answer")


def test_refused():
    with pytest.raises(XenConnectionError) as info:
        XenClient("http://127.0.0.1:1", "root", PASSWORD, timeout=2).login()
    assert "unreachable" in info.value.reason


def test_write_whose_answer_is_lost_is_not_sent_again(servers):
    """xmlrpc.client would send network.create a second time and make a second network; the client does not."""
    url, _ca = servers(drop=["network.create"])
    with XenClient(url, "root", PASSWORD, timeout=5) as client:
        with pytest.raises(XenConnectionError) as info:
            client.call("network.create", {"name_label": "storage"})
    assert servers.handlers[url].seen["network.create"] == 1
    assert "network.create was sent" in info.value.reason and "not sent again" in info.value.reason
    assert "Run the task again" in info.value.hint and PASSWORD not in str(info.value)


def test_read_whose_answer_is_lost_is_sent_again(servers):
    url, _ca = servers(drop=["VM.get_all"])
    with XenClient(url, "root", PASSWORD, timeout=5) as client:
        assert client.call("VM.get_all") == ["OpaqueRef:p"]
    assert servers.handlers[url].seen["VM.get_all"] == 2


@pytest.mark.parametrize("tls", [False, True])
def test_write_on_a_connection_the_server_closed_while_idle_goes_out_once(servers, tls):
    url, ca = servers(tls=tls, keep_alive=True)
    handler = servers.handlers[url]
    with XenClient(url, "root", PASSWORD, ca_path=ca, timeout=5) as client:
        client.login()
        assert handler.closed.wait(10), "the server did not close the idle connection"
        assert client.call("network.create", {"name_label": "storage"}) == "OpaqueRef:n1"
    assert handler.seen["network.create"] == 1
