# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import ssl

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import client as client_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient, build_url, replace_host, tls_context
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenConnectionError
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi, cert_error, timeout_error


@pytest.fixture
def fake():
    xapi = FakeXapi()
    xapi.seed_pool(hosts=3, vms=2)
    return xapi


def make(fake, host="127.0.0.10", password=None, **kwargs):
    sleeps = []
    client = XenClient(host, "root", fake.password if password is None else password,
                       transport_factory=fake.transport_factory, sleep=sleeps.append, **kwargs)
    client.sleeps = sleeps
    return client


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


def test_login_call_and_logout_on_exit(fake):
    with make(fake) as client:
        pools = client.call("pool.get_all_records")
        assert len(pools) == 1
        assert fake.open_sessions() == 1
    assert fake.open_sessions() == 0
    assert [c[1] for c in fake.log] == ["session.login_with_password", "pool.get_all_records", "session.logout"]
    assert client.call_count == 3
    assert client.calls["pool.get_all_records"] == 1
    # the password never reaches the call log of the fake either (login args are logged without it)
    assert all(fake.password not in repr(entry) for entry in fake.log)


def test_logout_happens_when_body_raises(fake):
    with pytest.raises(XapiError):
        with make(fake) as client:
            client.call("VM.get_record", "OpaqueRef:gone")
    assert fake.open_sessions() == 0
    assert fake.calls("session.logout")


def test_host_is_slave_redirects_to_master_same_scheme_and_port(fake):
    client = make(fake, host="http://127.0.0.12:8080")
    client.login()
    assert client.url == "http://127.0.0.10:8080/"
    logins = [c[0] for c in fake.calls("session.login_with_password")]
    assert logins == ["127.0.0.12", "127.0.0.10"]
    client.call("host.get_all")
    assert fake.calls("host.get_all")[0][0] == "127.0.0.10"
    client.close()


def test_redirect_loop_is_bounded(fake):
    fake.add_endpoint("127.0.0.50", "127.0.0.51")
    fake.add_endpoint("127.0.0.51", "127.0.0.50")
    with pytest.raises(XapiError) as info:
        make(fake, host="127.0.0.50").login()
    assert info.value.code == "HOST_IS_SLAVE"
    assert len(fake.calls("session.login_with_password")) == XenClient.max_redirects + 1


def test_wrong_password_maps_to_typed_error_without_password(fake):
    secret = "Wr0ng-Secret-Value"
    with pytest.raises(XapiError) as info:
        make(fake, password=secret).login()
    err = info.value
    assert err.code == "SESSION_AUTHENTICATION_FAILED"
    assert err.params == ["root", "Authentication failure"]
    assert str(err) == "SESSION_AUTHENTICATION_FAILED [root, Authentication failure]"
    assert secret not in str(err) and secret not in repr(err.params)


def test_password_echoed_by_server_is_masked(fake):
    fake.fail("session.login_with_password", ["INTERNAL_ERROR", "bad login for %s" % fake.password])
    with pytest.raises(XapiError) as info:
        make(fake).login()
    assert fake.password not in str(info.value)
    assert "********" in str(info.value)


@pytest.mark.parametrize("error, reason, option", [
    (cert_error(), "TLS certificate verification failed", "validate_certs"),
    (timeout_error(), "timed out", "timeout"),
    (ConnectionRefusedError(111, "Connection refused"), "unreachable", "hostname"),
])
def test_connection_errors(fake, error, reason, option):
    fake.network_errors["127.0.0.10"] = error
    with pytest.raises(XenConnectionError) as info:
        make(fake).login()
    assert reason in info.value.reason
    assert option in info.value.hint
    assert "127.0.0.10" in str(info.value)
    assert fake.password not in str(info.value) + info.value.hint


def test_unknown_host_is_unreachable(fake):
    with pytest.raises(XenConnectionError) as info:
        make(fake, host="127.0.0.99").login()
    assert "Connection refused" in info.value.reason


def test_retry_on_busy_codes_with_bounded_backoff(fake):
    client = make(fake)
    fake.fail("VM.get_all_records", ["OTHER_OPERATION_IN_PROGRESS", "VM", "OpaqueRef:x", "clean_shutdown", "OpaqueRef:t"], times=2)
    fake.fail("host.get_all", ["TOO_BUSY"], times=1)
    assert len(client.call("VM.get_all_records")) == 2 + 3 + 1
    assert client.call("host.get_all")
    assert client.calls["VM.get_all_records"] == 3
    assert client.sleeps == [0.5, 1.0, 0.5]
    client.close()


def test_retry_gives_up(fake):
    client = make(fake)
    fake.fail("pool.get_all", ["HOST_IS_BUSY"], times=50)
    with pytest.raises(XapiError) as info:
        client.call("pool.get_all")
    assert info.value.code == "HOST_IS_BUSY"
    assert client.calls["pool.get_all"] == XenClient.max_retries + 1
    assert all(s <= XenClient.retry_max_delay for s in client.sleeps)
    assert len(client.sleeps) == XenClient.max_retries
    client.close()


def test_non_retryable_error_is_raised_at_once(fake):
    client = make(fake)
    with pytest.raises(XapiError) as info:
        client.call("VM.get_record", "OpaqueRef:missing")
    assert info.value.code == "HANDLE_INVALID"
    assert info.value.params == ["VM", "OpaqueRef:missing"]
    assert info.value.method == "VM.get_record"
    assert client.sleeps == []
    client.close()


def test_session_invalid_is_relogged_by_xenapi(fake):
    client = make(fake)
    client.login()
    fake.sessions.clear()  # server restarted / session expired
    assert client.call("pool.get_all")
    assert len(fake.calls("session.login_with_password")) == 2
    client.close()


def test_call_async_returns_task(fake):
    fake.async_handlers["VM.clean_shutdown"] = lambda vm: [{"status": "success", "result": "<value></value>"}]
    client = make(fake)
    task = client.call_async("VM.clean_shutdown", "OpaqueRef:vm")
    assert task.startswith("OpaqueRef:")
    assert task in fake.objects["task"]
    assert client.calls["Async.VM.clean_shutdown"] == 1
    client.close()


def test_close_is_idempotent_and_swallows_errors(fake):
    client = make(fake)
    client.login()
    fake.network_errors["127.0.0.10"] = ConnectionRefusedError(111, "Connection refused")
    client.close()
    client.close()
    assert not client.logged_in


def test_missing_xenapi_gives_connection_error(fake, monkeypatch):
    monkeypatch.setattr(client_mod, "HAS_XENAPI", False)
    with pytest.raises(XenConnectionError) as info:
        make(fake).login()
    assert "XenAPI" in str(info.value)


def test_repr_hides_password(fake):
    client = make(fake)
    assert fake.password not in repr(client)
    assert fake.password not in repr(vars(client).get("hostname"))


def test_unreadable_ca_path_is_a_connection_error(fake, tmp_path):
    bogus = tmp_path / "not-a-ca.pem"
    bogus.write_text("not a certificate")
    for path in (str(tmp_path / "missing.pem"), str(bogus)):
        with pytest.raises(XenConnectionError) as info:
            make(fake, ca_path=path).login()
        assert "cannot load the CA bundle" in info.value.reason and "ca_path" in info.value.hint
    assert not fake.log
