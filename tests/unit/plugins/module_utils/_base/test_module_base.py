# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import functools

import pytest
from ansible.module_utils.testing import patch_module_args
from xapisim.testing import InProcessXapi

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import failure_message
from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError


HOST = "127.0.0.11"


class Exited(Exception):
    pass


class Failed(Exception):
    pass


@pytest.fixture
def fake(monkeypatch):
    xapi = InProcessXapi("small.yml")  # its one host answers at HOST
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory))

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    def fail_json(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    yield xapi
    xapi.close()


def run(args, body, wait=False, diff=False):
    if diff:
        args = dict(args, _ansible_diff=True)
    with patch_module_args(args):
        module = XenModule({"name": {"type": "str"}}, wait=wait)
        with module.session("update", "thing", module.params["name"]) as client:
            body(module, client)


def test_failure_message_shape():
    err = XapiError("SESSION_AUTHENTICATION_FAILED", ["root", "Authentication failure"])
    assert failure_message("read", "pool", "h1", err) == (
        "Failed to read pool 'h1': SESSION_AUTHENTICATION_FAILED [root, Authentication failure]. Check the username and password options."
    )
    assert failure_message("read", "pool", "h1", XapiError("X_Y", ["1"])) == "Failed to read pool 'h1': X_Y [1]"


def test_session_opens_and_closes(fake):
    with pytest.raises(Exited) as info:
        run({"hostname": HOST, "password": fake.password, "name": "n"},
            lambda m, c: m.exit_result(changed=True, before={"a": 1}, after={"a": 2}, thing={"uuid": "u"}))
    result = info.value.args[0]
    assert result == {"changed": True, "thing": {"uuid": "u"}}
    # exit inside the body still logs out
    assert fake.open_sessions() == 0
    assert fake.calls("session.logout")


def test_diff_only_in_diff_mode(fake):
    with pytest.raises(Exited) as info:
        run({"hostname": HOST, "password": fake.password}, lambda m, c: m.exit_result(True, {"a": 1}, {"a": 2}), diff=True)
    assert info.value.args[0]["diff"] == {"before": {"a": 1}, "after": {"a": 2}}


def test_xapi_error_becomes_fail_json_and_session_closed(fake):
    def body(_module, client):
        client.call("VM.get_record", "OpaqueRef:gone")

    with pytest.raises(Failed) as info:
        run({"hostname": HOST, "password": fake.password, "name": "web01"}, body)
    result = info.value.args[0]
    assert result["msg"].startswith("Failed to update thing 'web01': HANDLE_INVALID [VM, OpaqueRef:gone]")
    assert result["error_code"] == "HANDLE_INVALID"
    assert result["error_params"] == ["VM", "OpaqueRef:gone"]
    assert fake.open_sessions() == 0


def test_login_failure_names_host_not_password(fake):
    with pytest.raises(Failed) as info:
        run({"hostname": HOST, "password": "Very-Wrong-Pw"}, lambda m, c: None)
    msg = info.value.args[0]["msg"]
    assert msg.startswith(f"Failed to update thing '{HOST}': SESSION_AUTHENTICATION_FAILED")
    assert "Very-Wrong-Pw" not in repr(info.value.args[0])


def test_bad_hostname(fake):
    with pytest.raises(Failed) as info:
        run({"hostname": "ftp://x", "password": fake.password}, lambda m, c: None)
    assert "unsupported URL scheme" in info.value.args[0]["msg"]


def test_wait_spec_and_env_fallback(fake, monkeypatch):
    monkeypatch.setenv("XENSERVER_HOST", HOST)
    monkeypatch.setenv("XENSERVER_PASSWORD", fake.password)

    def body(module, _client):
        module.exit_result(params={k: module.params[k] for k in ("hostname", "wait", "wait_timeout")})

    with pytest.raises(Exited) as info:
        run({}, body, wait=True)
    assert info.value.args[0]["params"] == {"hostname": HOST, "wait": True, "wait_timeout": 600}


def test_missing_xenapi(fake, monkeypatch):
    monkeypatch.setattr(module_mod, "HAS_XENAPI", False)
    with pytest.raises(Failed) as info:
        run({"hostname": HOST, "password": fake.password}, lambda m, c: None)
    assert "XenAPI" in info.value.args[0]["msg"]


def test_wait_timeout_becomes_fail_json(fake):
    def body(_module, _client):
        raise WaitTimeout("an IP address on web01", 30)

    with pytest.raises(Failed) as info:
        run({"hostname": HOST, "password": fake.password, "name": "web01"}, body)
    result = info.value.args[0]
    assert result["msg"] == ("Failed to update thing 'web01': timed out after 30s waiting for an IP address on web01. "
                             "Raise wait_timeout, or check why the condition is not reached.")
    assert result["error_code"] == "WAIT_TIMEOUT"
    assert fake.open_sessions() == 0


def test_converge_narrows_the_diff_but_not_the_result(fake):
    """diff_view keeps --diff to the managed fields; the result still carries the whole record."""
    from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan

    args = {"hostname": HOST, "password": fake.password, "name": "x", "_ansible_diff": True, "_ansible_check_mode": True}
    with patch_module_args(args):
        module = XenModule({"name": {"type": "str"}})
        with pytest.raises(Exited) as exc:
            module.converge("update", "thing", "x", read=lambda client: {"size": 1, "used": 7},
                            plan=lambda current: Plan(before=current, after={"size": 2, "used": 7}),
                            apply=lambda client, current, plan: None, result_key="thing",
                            diff_view=lambda record: {"size": record["size"]})
    result = exc.value.args[0]
    assert result["diff"] == {"before": {"size": 1}, "after": {"size": 2}}
    assert result["thing"] == {"size": 2, "used": 7} and result["changed"]


def run_state_module(fake, state, desired_state, check_mode=False):
    """run() as an ontap_* main() calls it; returns (outcome, result, records deleted through the service)."""
    from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import removal

    deleted = []

    class Service:
        def __init__(self, client):
            assert client is not None

        def delete(self, record):
            deleted.append(record)

    args = {"hostname": HOST, "password": fake.password, "name": "x", "state": state, "_ansible_check_mode": check_mode}
    with patch_module_args(args):
        module = XenModule({"name": {"type": "str"}, "state": {"type": "str", "choices": ["present", "absent"]}})
        with pytest.raises((Exited, Failed)) as exc:
            module.run("thing", "x", desired_state, read=lambda client, params, desired: {"thing": {"name": "x"}},
                       plan=lambda state, params, desired, check: removal(state["thing"], "thing x"),
                       apply=lambda client, state, params, desired: pytest.fail("apply is for state=present only"),
                       result_key="thing", service=Service, record="thing")
    return type(exc.value).__name__, exc.value.args[0], deleted


def test_run_deletes_through_the_service_and_only_outside_check_mode(fake):
    outcome, result, deleted = run_state_module(fake, "absent", lambda params: {})
    assert outcome == "Exited" and result["changed"] and result["plan"] == ["delete thing x"] and result["thing"] == {}
    assert deleted == [{"name": "x"}]
    assert run_state_module(fake, "absent", lambda params: {}, check_mode=True)[2] == []


def test_run_refuses_bad_options_before_connecting(fake):
    from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError

    def refuse(params):
        raise PlanError("INVALID_NAME", "name x is not allowed", "Give another name")

    outcome, result, deleted = run_state_module(fake, "absent", refuse)
    assert outcome == "Failed" and result["msg"] == "Failed to delete thing 'x': INVALID_NAME name x is not allowed. Give another name"
    assert deleted == [] and fake.calls() == []
