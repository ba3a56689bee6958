# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wire protocol: envelopes, encodings, error codes, JSON-RPC, clients."""
from __future__ import annotations

import http.client
import json
import re
import xmlrpc.client

import pytest
import XenAPI

from conftest import connect, password


def raw(sim, body: bytes, path: str = "/", ctype: str = "text/xml", method: str = "POST"):
    entry = sim.ready["hosts"][0]
    conn = http.client.HTTPConnection(entry["address"], sim.ready["port"], timeout=10)
    try:
        conn.request(method, path, body=body, headers={"Content-Type": ctype})
        resp = conn.getresponse()
        return resp.status, resp.getheader("Content-Type"), resp.read()
    finally:
        conn.close()


def xml_call(sim, method: str, params: tuple, path: str = "/"):
    return raw(sim, xmlrpc.client.dumps(params, method).encode("utf-8"), path)


def login_ref(sim) -> str:
    _status, _ctype, body = xml_call(sim, "session.login_with_password", (sim.ready["username"], password(sim)))
    return xmlrpc.client.loads(body)[0][0]["Value"]


def test_official_client_https_and_http(small_sim):
    for https in (True, False):
        session = connect(small_sim, https=https)
        hosts = session.xenapi.host.get_all()
        assert len(hosts) == 1
        assert session.xenapi.host.get_address(hosts[0]) == small_sim.ready["hosts"][0]["address"]
        session.xenapi.session.logout()


def test_envelope_is_compact_untyped_and_never_a_fault(small_sim):
    session = login_ref(small_sim)
    status, ctype, body = xml_call(small_sim, "host.get_all_records", (session,))
    assert status == 200 and ctype == "text/xml"
    text = body.decode("utf-8")
    assert "<fault>" not in text and "<string>" not in text and "<int>" not in text
    assert not re.search(r">\s+<", text), "XML must not contain whitespace text nodes"
    assert "<member><name>Status</name><value>Success</value></member>" in text
    assert re.search(r"<name>memory_overhead</name><value>\d+</value>", text)
    assert re.search(r"<name>enabled</name><value><boolean>1</boolean></value>", text)
    # an error is also a successful XML-RPC response carrying Status=Failure
    status, ctype, body = xml_call(small_sim, "VM.get_record", (session, "OpaqueRef:nope"))
    assert status == 200 and "<fault>" not in body.decode()
    value = xmlrpc.client.loads(body)[0][0]
    assert value == {"Status": "Failure", "ErrorDescription": ["HANDLE_INVALID", "VM", "OpaqueRef:nope"]}


@pytest.mark.parametrize("path", ["/", "/RPC2", "/xmlrpc", "/anything/else"])
def test_xmlrpc_paths(small_sim, path):
    status, ctype, body = xml_call(small_sim, "system.listMethods", (), path=path)
    assert status == 200 and ctype == "text/xml"
    methods = xmlrpc.client.loads(body)[0][0]["Value"]
    assert "VM.start" in methods and "Async.VM.start" in methods and "VM.get_uuid" in methods
    assert "Async.VM.get_uuid" not in methods


def test_options_preflight(small_sim):
    status, _ctype, _body = raw(small_sim, b"", path="/jsonrpc", method="OPTIONS")
    assert status == 200


def test_jsonrpc_v2_and_v1(small_sim):
    req = {"jsonrpc": "2.0", "method": "session.login_with_password", "params": ["root", password(small_sim)], "id": 7}
    status, ctype, body = raw(small_sim, json.dumps(req).encode(), "/jsonrpc", "application/json")
    reply = json.loads(body)
    assert status == 200 and ctype == "application/json"
    assert reply["jsonrpc"] == "2.0" and reply["id"] == 7 and reply["result"].startswith("OpaqueRef:")
    session = reply["result"]
    req = {"jsonrpc": "2.0", "method": "host.get_all_records", "params": [session], "id": 8}
    reply = json.loads(raw(small_sim, json.dumps(req).encode(), "/jsonrpc", "application/json")[2])
    record = next(iter(reply["result"].values()))
    assert isinstance(record["memory_overhead"], int), "ints are JSON numbers on JSON-RPC"
    req = {"jsonrpc": "2.0", "method": "VM.get_record", "params": [session, "OpaqueRef:bad"], "id": 9}
    reply = json.loads(raw(small_sim, json.dumps(req).encode(), "/jsonrpc", "application/json")[2])
    assert reply == {"jsonrpc": "2.0", "error": {"code": 1, "message": "HANDLE_INVALID", "data": ["VM", "OpaqueRef:bad"]},
                     "id": 9}
    req = {"method": "VM.get_record", "params": [session, "OpaqueRef:bad"], "id": 10}
    reply = json.loads(raw(small_sim, json.dumps(req).encode(), "/json", "application/json")[2])
    assert reply == {"result": None, "error": ["HANDLE_INVALID", "VM", "OpaqueRef:bad"], "id": 10}
    req = {"method": "pool.get_all", "params": [session], "id": 11}
    reply = json.loads(raw(small_sim, json.dumps(req).encode(), "/jsonrpc", "application/json")[2])
    assert reply["error"] is None and len(reply["result"]) == 1


def _failure(xs_call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        xs_call(*args)
    return info.value.details


def test_error_codes(small_sim, xs):
    vm = xs.VM.get_all()[0]
    session = login_ref(small_sim)
    # unknown method
    body = xml_call(small_sim, "VM.no_such_call", (session, vm))[2]
    assert xmlrpc.client.loads(body)[0][0]["ErrorDescription"] == ["MESSAGE_METHOD_UNKNOWN", "VM.no_such_call"]
    # arity: expected counts only required params, both exclude the session
    body = xml_call(small_sim, "VM.start", (session,))[2]
    assert xmlrpc.client.loads(body)[0][0]["ErrorDescription"] == ["MESSAGE_PARAMETER_COUNT_MISMATCH", "VM.start", "3", "0"]
    body = xml_call(small_sim, "host.disable", (session, xs.host.get_all()[0]))[2]
    assert xmlrpc.client.loads(body)[0][0]["Status"] == "Success", "trailing params with defaults may be omitted"
    xs.host.enable(xs.host.get_all()[0])
    # RO field has no setter
    assert _failure(xs.VM.set_uuid, vm, "x") == ["MESSAGE_METHOD_UNKNOWN", "VM.set_uuid"]
    assert _failure(xs.VM.set_power_state, vm, "Running")[0] == "MESSAGE_METHOD_UNKNOWN"
    assert _failure(xs.VM.get_by_uuid, "nope") == ["UUID_INVALID", "VM", "nope"]
    assert _failure(xs.SR.get_record, "OpaqueRef:x") == ["HANDLE_INVALID", "SR", "OpaqueRef:x"]
    # map semantics
    xs.VM.add_to_other_config(vm, "k", "v")
    assert _failure(xs.VM.add_to_other_config, vm, "k", "v") == ["MAP_DUPLICATE_KEY", "VM", "other_config", vm, "k"]
    xs.VM.remove_from_other_config(vm, "k")
    xs.VM.remove_from_other_config(vm, "k")
    assert "k" not in xs.VM.get_other_config(vm)
    # set semantics: duplicates and missing members are silent
    xs.VM.add_tags(vm, "t1")
    xs.VM.add_tags(vm, "t1")
    assert xs.VM.get_tags(vm) == ["t1"]
    xs.VM.remove_tags(vm, "t1")
    xs.VM.remove_tags(vm, "t1")
    assert xs.VM.get_tags(vm) == []
    # async on a sync-only message
    assert _failure(xs.Async.VM.get_uuid, vm) == ["Fault", "No async mode for this operation (rpc: Async.VM.get_uuid)"]
    # ints accepted as decimal strings
    assert xs.VM.get_by_name_label("definitely-not-there") == []


def test_session_invalid_and_auth_failure(small_sim):
    body = xml_call(small_sim, "VM.get_all", ("OpaqueRef:dead",))[2]
    assert xmlrpc.client.loads(body)[0][0]["ErrorDescription"] == ["SESSION_INVALID", "OpaqueRef:dead"]
    session = connect(small_sim, login=False)
    with pytest.raises(XenAPI.Failure) as info:
        session.xenapi.login_with_password("root", "wrong-password", "1.0", "pytest")
    assert info.value.details == ["SESSION_AUTHENTICATION_FAILED", "root", "Authentication failure"]
    entries = small_sim.control.calls()["calls"]
    assert not any("wrong-password" in json.dumps(e) for e in entries), "passwords never reach the call log"
    assert not any(password(small_sim) in json.dumps(e) for e in entries)


def test_logout_invalidates_and_client_relogs(small_sim):
    session = connect(small_sim)
    ref = session._session  # pylint: disable=protected-access
    session.xenapi.session.logout()
    body = xml_call(small_sim, "pool.get_all", (ref,))[2]
    assert xmlrpc.client.loads(body)[0][0]["ErrorDescription"][0] == "SESSION_INVALID"


def test_get_all_records_where(xs):
    templates = xs.VM.get_all_records_where('field "is_a_template" = "true" and field "name__label" = "CentOS Stream 9"')
    assert len(templates) == 1
    assert next(iter(templates.values()))["name_label"] == "CentOS Stream 9"
    assert len(xs.VM.get_all_records_where('field "is_control_domain"="true"')) == 1
    assert xs.VM.get_all_records_where('name_label="nothing like this"') == {}
