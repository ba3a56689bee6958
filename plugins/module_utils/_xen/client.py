# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""XenAPI session handling (private to vdc.xenpool).

Every XenAPI request of the collection goes through `XenClient.call()`, so that there is exactly one
place that logs in to the pool master, turns wire failures into typed errors, retries the codes that
mean "busy, try again", keeps the password out of every message and counts calls (the benchmark and
the unit tests use those counters to prove that reading a pool costs a constant number of calls).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import http.client
import re
import select
import socket
import ssl
import time
import traceback
import typing as t
import xmlrpc.client
from urllib.parse import urlsplit
from xml.parsers.expat import ExpatError

from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import scrub
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import (
    RETRYABLE_CODES,
    XapiError,
    XenConnectionError,
    XenError,
)
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.transport import FastResponseMixin

try:
    from XenAPI import Failure as _XenAPIFailure
    from XenAPI import Session as _XenAPISession
except ImportError:
    HAS_XENAPI = False
    XENAPI_IMPORT_ERROR: str | None = traceback.format_exc()

    class _XenAPIFailure(Exception):  # type: ignore[no-redef]
        """Stand-in so that except clauses stay valid when XenAPI is missing."""

    _XenAPISession = None
else:
    HAS_XENAPI = True
    XENAPI_IMPORT_ERROR = None

API_VERSION = "1.0"
ORIGINATOR = "vdc.xenpool"

TransportFactory = t.Callable[[str, "ssl.SSLContext | None", float], xmlrpc.client.Transport]


# The XenAPI messages that only read or check (get_*, assert_*, *compute_*, event.from, session login and logout):
# sending one again after a dropped connection does no harm.
_RESENDABLE = re.compile(rb"<methodName>(?:[\w.]*\.(?:get_|assert_|\w*compute_)\w*|event\.(?:from|next)|session\.\w+)</methodName>")


class AnswerLost(Exception):
    """The connection dropped after a request that changes something was sent: xapi may have carried it out."""


class _AtMostOnceMixin:
    """Mixed into an `xmlrpc.client.Transport`: a request that changes something is sent at most once.

    `xmlrpc.client.Transport.request` sends every request a second time when the connection drops before the
    answer (it assumes a kept-alive connection the server had closed). For `VM.clone` or `network.create` the
    server may already have done it, and the second send makes a second VM or network: the next run then finds
    two objects of one name. Here only reads are sent again. Before a write, a kept-alive connection that the
    server has closed in the meantime (its socket reads as ready while idle) is replaced, so the stale case that
    the second send was meant for does not arise; a drop after the write is sent raises AnswerLost.
    """

    _connection: tuple[t.Any, t.Any]

    def request(self, host, handler, request_body, verbose=False):  # type: ignore[no-untyped-def]
        if _RESENDABLE.search(request_body[:512]):
            return super().request(host, handler, request_body, verbose)  # type: ignore[misc]
        conn = self._connection[1] if self._connection else None
        sock = getattr(conn, "sock", None)
        if sock is not None and _readable_while_idle(sock):
            self.close()  # type: ignore[attr-defined]
        try:
            return self.single_request(host, handler, request_body, verbose)  # type: ignore[attr-defined]
        except (http.client.RemoteDisconnected, ConnectionResetError, ConnectionAbortedError, BrokenPipeError) as exc:
            raise AnswerLost(str(exc) or type(exc).__name__) from None


def _readable_while_idle(sock: socket.socket) -> bool:
    """Whether a kept-alive socket with no request out reads as ready: the server closed it (or sent what it
    should not have). poll(), unlike select(), takes descriptors above 1023; an error counts as closed."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (AttributeError, ValueError, OSError):
        return True


class _HTTPTransport(_AtMostOnceMixin, FastResponseMixin, xmlrpc.client.Transport):
    """Plain HTTP transport whose connections honour the client's socket timeout (answers: transport.py)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout

    def make_connection(self, host):  # type: ignore[override]
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


class _HTTPSTransport(_AtMostOnceMixin, FastResponseMixin, xmlrpc.client.SafeTransport):
    """HTTPS transport with our own TLS context (CA path / no verification) and socket timeout (answers: transport.py)."""

    def __init__(self, context: ssl.SSLContext | None, timeout: float) -> None:
        super().__init__(context=context)
        self._timeout = timeout

    def make_connection(self, host):  # type: ignore[override]
        conn = super().make_connection(host)
        conn.timeout = self._timeout
        return conn


def default_transport(scheme: str, context: ssl.SSLContext | None, timeout: float) -> xmlrpc.client.Transport:
    if scheme == "https":
        return _HTTPSTransport(context, timeout)
    return _HTTPTransport(timeout)


@functools.lru_cache(maxsize=4)
def tls_context(validate_certs: bool, ca_path: str | None) -> ssl.SSLContext:
    """The TLS context of these settings, built once per module run and shared by its clients and threads.

    With validate_certs false neither the chain nor the name is checked, so the CA store is not loaded at all;
    loading it costs about 20 ms of CPU, which a module that opens a connection per host (the pool's members,
    rrd_updates of every host) would otherwise pay once per host."""
    if not validate_certs:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=ca_path) if ca_path else ssl.create_default_context()


def build_url(hostname: str, port: int | None = None) -> str:
    """Turn a host name, an IP address or a URL into the XML-RPC endpoint URL.

    A bare host means https: the management interface of XenServer / XCP-ng always offers it and
    credentials should not travel in clear text by default.
    """
    text = (hostname or "").strip()
    if not text:
        raise ValueError("hostname is empty")
    if "://" not in text:
        if text.count(":") > 1 and not text.startswith("["):
            text = "[%s]" % text  # bare IPv6 address
        text = "https://" + text
    parts = urlsplit(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError("unsupported URL scheme %r; use http or https" % parts.scheme)
    host = parts.hostname
    if not host:
        raise ValueError("no host name in %r" % hostname)
    if ":" in host:
        host = "[%s]" % host
    effective_port = port or parts.port
    netloc = host if not effective_port else "%s:%d" % (host, effective_port)
    return "%s://%s%s" % (scheme, netloc, parts.path or "/")


def replace_host(url: str, address: str) -> str:
    """Same scheme, port and path as url, but the given host (used for the HOST_IS_SLAVE redirect)."""
    parts = urlsplit(url)
    host = "[%s]" % address if ":" in address and not address.startswith("[") else address
    netloc = host if parts.port is None else "%s:%d" % (host, parts.port)
    return "%s://%s%s" % (parts.scheme, netloc, parts.path or "/")


class XenClient:
    """One authenticated XenAPI session on a pool master.

    Use as a context manager (`with XenClient(...) as client:`) so the session is always logged out:
    xapi caps the number of sessions per user, and leaked sessions push out other tools' sessions.
    """

    max_retries = 5
    retry_delay = 0.5
    retry_max_delay = 8.0
    max_redirects = 2

    def __init__(
        self,
        hostname: str,
        username: str = "root",
        password: str | None = None,
        validate_certs: bool = True,
        ca_path: str | None = None,
        timeout: float = 60,
        port: int | None = None,
        transport_factory: TransportFactory | None = None,
        sleep: t.Callable[[float], None] = time.sleep,
    ) -> None:
        self.hostname = hostname
        self.username = username or "root"
        self._password = password or ""
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = float(timeout)
        self.url = build_url(hostname, port)
        self.calls: collections.Counter[str] = collections.Counter()
        self._transport_factory = transport_factory or default_transport
        self._sleep = sleep
        self._session: t.Any = None
        # Whether the server answers event.from (state.read_pool_state reads a pool with one): None until asked.
        self.supports_event_from: bool | None = None

    def __repr__(self) -> str:
        return "XenClient(%r, username=%r)" % (self.url, self.username)

    @property
    def call_count(self) -> int:
        """Requests sent, including login and logout (comparable to a server-side call log)."""
        return sum(self.calls.values())

    @property
    def logged_in(self) -> bool:
        return self._session is not None

    @property
    def session_ref(self) -> str | None:
        """The logged-in session's OpaqueRef, for xapi's HTTP handlers (/rrd_updates) that take session_id."""
        return getattr(self._session, "_session", None) if self._session is not None else None

    def __enter__(self) -> "XenClient":
        self.login()
        return self

    def __exit__(self, *exc_info: t.Any) -> None:
        self.close()

    def login(self) -> None:
        """Log in, following HOST_IS_SLAVE to the master (same scheme and port) a bounded number of times."""
        if self._session is not None:
            return
        if not HAS_XENAPI:
            raise XenConnectionError("the XenAPI Python package is not installed", self.url, "Install it with: pip install XenAPI")
        url = self.url
        for _attempt in range(self.max_redirects + 1):
            session = _XenAPISession(url, transport=self._make_transport(url))
            try:
                self._wire(
                    "session.login_with_password",
                    url,
                    lambda s=session: s.xenapi.login_with_password(self.username, self._password, API_VERSION, ORIGINATOR),
                )
            except XapiError as err:
                if err.code == "HOST_IS_SLAVE" and err.params and err.params[0]:
                    url = replace_host(url, err.params[0])
                    continue
                raise
            self._session = session
            self.url = url
            return
        raise XapiError("HOST_IS_SLAVE", [urlsplit(url).hostname or url], method="session.login_with_password")

    def close(self) -> None:
        """Log out; never raises, because it runs on every exit path, failures included."""
        session, self._session = self._session, None
        if session is None:
            return
        try:
            self._wire("session.logout", self.url, session.xenapi.session.logout)
        except XenError:
            pass

    def call(self, method: str, *args: t.Any) -> t.Any:
        """Call `<Class>.<message>` with the session prepended; retry busy codes with bounded backoff."""
        self.login()
        delay = self.retry_delay
        attempt = 0
        while True:
            try:
                return self._wire(method, self.url, lambda: self._session.xenapi_request(method, tuple(args)))
            except XapiError as err:
                if err.code not in RETRYABLE_CODES or attempt >= self.max_retries:
                    raise
            attempt += 1
            self._sleep(min(delay, self.retry_max_delay))
            delay *= 2

    @contextlib.contextmanager
    def watching(self, watch: t.Callable[[dict[str, t.Any]], None]) -> t.Iterator[None]:
        """Within the block, `watch` sees each struct of an array of an answer as soon as it is read (each event of
        an event.from), while the rest is still being read: pool_info starts the hosts' rrd_updates that way.
        Transports that read answers otherwise ignore it; the answer itself is the same."""
        self.login()
        transport = getattr(self._session, "transport", None)
        if transport is not None:
            transport.watch = watch
        try:
            yield
        finally:
            if transport is not None:
                transport.watch = None

    def call_async(self, method: str, *args: t.Any) -> str:
        """Start `Async.<Class>.<message>` and return the task reference (see tasks.wait_task)."""
        return str(self.call("Async." + method, *args))

    def _make_transport(self, url: str) -> xmlrpc.client.Transport:
        scheme = urlsplit(url).scheme
        try:
            context = tls_context(self.validate_certs, self.ca_path) if scheme == "https" else None
        except (OSError, ssl.SSLError) as exc:
            raise XenConnectionError(
                "cannot load the CA bundle %s: %s" % (self.ca_path, getattr(exc, "strerror", None) or exc),
                url,
                "Check that ca_path names a readable PEM file with the CA certificate(s).",
            ) from None
        return self._transport_factory(scheme, context, self.timeout)

    def _scrub(self, text: str) -> str:
        return scrub(text, [self._password])

    def _wire(self, method: str, url: str, func: t.Callable[[], t.Any]) -> t.Any:
        """Send one request and translate every foreseeable failure into a typed error."""
        self.calls[method] += 1
        try:
            return func()
        except _XenAPIFailure as exc:
            err = XapiError.from_details(exc.details, method=method)
            err.params = [self._scrub(p) for p in err.params]
            raise err from None
        except xmlrpc.client.Fault as exc:
            if exc.faultCode == 504:  # XenAPI's own rewrite of ETIMEDOUT during login
                raise XenConnectionError("timed out", url, "Check that the host is reachable, or raise the timeout option.") from None
            raise XapiError("XMLRPC_FAULT", [str(exc.faultCode), self._scrub(str(exc.faultString))], method=method) from None
        except xmlrpc.client.ProtocolError as exc:
            raise XenConnectionError(
                "HTTP %s %s" % (exc.errcode, exc.errmsg), url, "Check that the URL points at the XenAPI endpoint of the host."
            ) from None
        except ssl.SSLCertVerificationError as exc:
            raise XenConnectionError(
                "TLS certificate verification failed: %s" % self._scrub(str(getattr(exc, "verify_message", None) or exc)),
                url,
                "Set ca_path to the CA bundle that signed the host certificate, or validate_certs=false to skip verification.",
            ) from None
        except ssl.SSLError as exc:
            raise XenConnectionError("TLS error: %s" % self._scrub(str(exc)), url, "Check the URL scheme (http or https) and the port.") from None
        except AnswerLost as exc:
            raise XenConnectionError(
                "the connection dropped after %s was sent, before its answer (%s); xapi may have carried it out, so it "
                "was not sent again" % (method, self._scrub(str(exc))), url,
                "Run the task again: it reads the pool first and goes on from what was done.",
            ) from None
        except (TimeoutError, socket.timeout):
            raise XenConnectionError(
                "timed out after %gs" % self.timeout, url, "Check that the host is reachable, or raise the timeout option."
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else (str(exc) or type(exc).__name__)
            raise XenConnectionError(
                "unreachable: %s" % self._scrub(reason), url, "Check hostname, port and the network path to the host."
            ) from None
        except ExpatError as exc:
            raise XenConnectionError("not an XML-RPC answer: %s" % exc, url, "Check that the URL points at a XenAPI server.") from None
