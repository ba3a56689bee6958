# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""XenClient against xapisim in-process: login and the HOST_IS_SLAVE redirect, typed errors, retries on busy codes,
logout on every path. Failures below XML-RPC (TLS, timeouts, refused connections) are InProcessXapi.break_network."""

from __future__ import annotations

import socket
import ssl

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import client as client_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient, build_url, replace_host, tls_context
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenConnectionError

MASTER, MEMBER = "127.0.0.11", "127.0.0.13"


@pytest.fixture(name="xapi")
def xapi_fixture():
    xapi = InProcessXapi(pool_datacenter(hosts=3, vms=2))
    yield xapi
    xapi.close()


def make(xapi, host=MASTER, password=None, **kwargs):
    sleeps = []
    client = XenClient(host, "root", xapi.password if password is None else password,
                       transport_factory=xapi.transport_factory, sleep=sleeps.append, **kwargs)
    client.sleeps = sleeps
    return client


def methods(xapi):
    return [method for _address, method in xapi.calls()]


def cert_error() -> ssl.SSLCertVerificationError:
    err = ssl.SSLCertVerificationError(1, "certificate verify failed")
    err.verify_message = "self-signed certificate in certificate chain"
    return err


@pytest.mark.parametrize("given, port, expected", [
    ("xen1.example.com", None, "https://xen1.example.com/"),
    ("10.0.0.5", 8443, "https://10.0.0.5:8443/"),
    ("http://10.0.0.5", None, "http://10.0.0.5/"),
    ("https://xen1:4443/RPC2", None, "https://xen1:4443/RPC2"),
    ("fe80::1", None, "https://[fe80::1]/"),
    ("HTTP://[fe80::1]:80", None, "http://[fe80::1]:80/"),
])
def test_build_url(given, port, expected):
    assert build_url(given, port) == expected


@pytest.mark.parametrize("bad", ["", "ftp://xen1", "https://"])
def test_build_url_rejects(bad):
    with pytest.raises(ValueError):
        build_url(bad)


def test_replace_host_keeps_scheme_port_and_path():
    assert replace_host("http://127.0.0.11:8080/RPC2", "127.0.0.10") == "http://127.0.0.10:8080/RPC2"
    assert replace_host("https://xen2/", "fe80::2") == "https://[fe80::2]/"


def test_tls_context_modes(tmp_path):
    loose = tls_context(False, None)
    assert loose.verify_mode == ssl.CERT_NONE and not loose.check_hostname
    strict = tls_context(True, None)
    assert strict.verify_mode == ssl.CERT_REQUIRED and strict.check_hostname
    with pytest.raises((FileNotFoundError, ssl.SSLError, OSError)):
        tls_context(True, str(tmp_path / "missing.pem"))


def test_tls_context_is_built_once_per_settings():
    # a module opens one connection per host (members, rrd_updates): the CA store must not be loaded each time
    assert tls_context(False, None) is tls_context(False, None)
    assert tls_context(True, None) is tls_context(True, None) is not tls_context(False, None)
    assert tls_context(False, None).cert_store_stats()["x509_ca"] == 0  # nothing to verify with: nothing loaded


def test_login_call_and_logout_on_exit(xapi):
    with make(xapi) as client:
        pools = client.call("pool.get_all_records")
        assert len(pools) == 1
        assert xapi.open_sessions() == 1
    assert xapi.open_sessions() == 0
    assert methods(xapi) == ["session.login_with_password", "pool.get_all_records", "session.logout"]
    assert client.call_count == 3
    assert client.calls["pool.get_all_records"] == 1
    # the password never reaches the server's call log either
    assert xapi.summaries("session.login_with_password") == ["uname=root, pwd=***, version=1.0, originator=vdc.xenpool"]


def test_logout_happens_when_body_raises(xapi):
    with pytest.raises(XapiError):
        with make(xapi) as client:
            client.call("VM.get_record", "OpaqueRef:gone")
    assert xapi.open_sessions() == 0
    assert xapi.calls("session.logout")


def test_host_is_slave_redirects_to_master_same_scheme_and_port(xapi):
    client = make(xapi, host="http://%s:8080" % MEMBER)
    client.login()
    assert client.url == "http://%s:8080/" % MASTER
    assert [address for address, _m in xapi.calls("session.login_with_password")] == [MEMBER, MASTER]
    client.call("host.get_all")
    assert xapi.calls("host.get_all") == [(MASTER, "host.get_all")]
    client.close()


def test_redirect_loop_is_bounded(xapi):
    """Two members naming each other as master (a pool in the middle of a master change): the client gives up."""
    xapi.add_fault("session.login_with_password", error=["HOST_IS_SLAVE", "127.0.0.12"], repeat=50)
    with pytest.raises(XapiError) as info:
        make(xapi, host=MEMBER).login()
    assert info.value.code == "HOST_IS_SLAVE"
    assert len(xapi.calls("session.login_with_password")) == XenClient.max_redirects + 1


def test_wrong_password_maps_to_typed_error_without_password(xapi):
    secret = "Wr0ng-Secret-Value"
    with pytest.raises(XapiError) as info:
        make(xapi, password=secret).login()
    err = info.value
    assert err.code == "SESSION_AUTHENTICATION_FAILED"
    assert err.params == ["root", "Authentication failure"]
    assert str(err) == "SESSION_AUTHENTICATION_FAILED [root, Authentication failure]"
    assert secret not in str(err) and secret not in repr(err.params)


def test_password_echoed_by_server_is_masked(xapi):
    xapi.add_fault("session.login_with_password", error=["INTERNAL_ERROR", "bad login for %s" % xapi.password])
    with pytest.raises(XapiError) as info:
        make(xapi).login()
    assert xapi.password not in str(info.value)
    assert "********" in str(info.value)


@pytest.mark.parametrize("error, reason, option", [
    (cert_error(), "TLS certificate verification failed", "validate_certs"),
    (socket.timeout("timed out"), "timed out", "timeout"),
    (ConnectionRefusedError(111, "Connection refused"), "unreachable", "hostname"),
])
def test_connection_errors(xapi, error, reason, option):
    xapi.break_network(MASTER, error)
    with pytest.raises(XenConnectionError) as info:
        make(xapi).login()
    assert reason in info.value.reason
    assert option in info.value.hint
    assert MASTER in str(info.value)
    assert xapi.password not in str(info.value) + info.value.hint
    assert xapi.calls() == []


def test_unknown_host_is_unreachable(xapi):
    with pytest.raises(XenConnectionError) as info:
        make(xapi, host="127.0.0.99").login()
    assert "Connection refused" in info.value.reason


def test_retry_on_busy_codes_with_bounded_backoff(xapi):
    client = make(xapi)
    xapi.add_fault("VM.get_all_records", error=["OTHER_OPERATION_IN_PROGRESS", "VM", "OpaqueRef:x", "clean_shutdown", "OpaqueRef:t"],
                   repeat=2)
    xapi.add_fault("host.get_all", error=["TOO_BUSY"])
    assert len(client.call("VM.get_all_records")) == 2 + 3 + 1  # the VMs, three control domains, the template
    assert len(client.call("host.get_all")) == 3
    assert client.calls["VM.get_all_records"] == 3 and xapi.counters()["VM.get_all_records"] == 3
    assert client.sleeps == [0.5, 1.0, 0.5]
    client.close()


def test_retry_gives_up(xapi):
    client = make(xapi)
    xapi.add_fault("pool.get_all", error=["HOST_IS_BUSY"], repeat=50)
    with pytest.raises(XapiError) as info:
        client.call("pool.get_all")
    assert info.value.code == "HOST_IS_BUSY"
    assert client.calls["pool.get_all"] == XenClient.max_retries + 1 == xapi.counters()["pool.get_all"]
    assert all(s <= XenClient.retry_max_delay for s in client.sleeps)
    assert len(client.sleeps) == XenClient.max_retries
    client.close()


def test_non_retryable_error_is_raised_at_once(xapi):
    client = make(xapi)
    with pytest.raises(XapiError) as info:
        client.call("VM.get_record", "OpaqueRef:missing")
    assert info.value.code == "HANDLE_INVALID"
    assert info.value.params == ["VM", "OpaqueRef:missing"]
    assert info.value.method == "VM.get_record"
    assert client.sleeps == []
    client.close()


def test_session_invalid_is_relogged_by_xenapi(xapi):
    """A session xapi's database GC removed (a day without use) is logged in again by XenAPI.Session itself."""
    client = make(xapi)
    client.login()
    xapi.advance(86400 + 60)
    assert client.call("pool.get_all")
    assert len(xapi.calls("session.login_with_password")) == 2
    client.close()


def test_call_async_returns_task(xapi):
    vm = xapi.find("VM", name_label="vm-0001")
    client = make(xapi)
    task = client.call_async("VM.clean_shutdown", vm)
    assert task.startswith("OpaqueRef:")
    assert xapi.records("task")[task]["name_label"] == "Async.VM.clean_shutdown"
    assert client.calls["Async.VM.clean_shutdown"] == 1
    client.close()


def test_close_is_idempotent_and_swallows_errors(xapi):
    client = make(xapi)
    client.login()
    xapi.break_network(MASTER, ConnectionRefusedError(111, "Connection refused"))
    client.close()
    client.close()
    assert not client.logged_in
    assert xapi.open_sessions() == 1 and not xapi.calls("session.logout")


def test_missing_xenapi_gives_connection_error(xapi, monkeypatch):
    monkeypatch.setattr(client_mod, "HAS_XENAPI", False)
    with pytest.raises(XenConnectionError) as info:
        make(xapi).login()
    assert "XenAPI" in str(info.value)


def test_repr_hides_password(xapi):
    client = make(xapi)
    assert xapi.password not in repr(client)
    assert xapi.password not in repr(vars(client).get("hostname"))


def test_unreadable_ca_path_is_a_connection_error(xapi, tmp_path):
    bogus = tmp_path / "not-a-ca.pem"
    bogus.write_text("not a certificate")
    for path in (str(tmp_path / "missing.pem"), str(bogus)):
        with pytest.raises(XenConnectionError) as info:
            make(xapi, ca_path=path).login()
        assert "cannot load the CA bundle" in info.value.reason and "ca_path" in info.value.hint
    assert not xapi.calls()
