# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run an ontap_* module's main() against the scripted fakes and capture exit_json/fail_json."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_fakes import (
    CLUSTER_PROBE, CLUSTER_REPLY, ZAPI_VERSION_REPLY, FakeRest, FakeZapi,
)

PASSWORD = "n0t-in-0utput"
CONN = {"hostname": "cluster1", "username": "admin", "password": PASSWORD, "validate_certs": False}


class Exited(Exception):
    def __init__(self, kind: str, result: dict) -> None:
        super().__init__(kind)
        self.kind = kind
        self.result = result


def new_fake(transport: str):
    """A fake with the connection handshake already scripted."""
    if transport == "rest":
        return FakeRest().expect(*CLUSTER_PROBE, response=CLUSTER_REPLY)
    return FakeZapi().expect("system-get-version", None, ZAPI_VERSION_REPLY)


def run(monkeypatch, main, transport: str, fake, args: dict, check_mode: bool = False, diff: bool = False):
    """Returns (kind, result); asserts every scripted call was made and no password leaked."""
    def _exit(_self, **kwargs):
        raise Exited("exit", kwargs)

    def _fail(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Exited("fail", kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", _exit)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", _fail)
    monkeypatch.setattr(module_mod, "REST_SENDER", fake if transport == "rest" else None)
    monkeypatch.setattr(module_mod, "ZAPI_INVOKER", fake if transport == "zapi" else None)
    full = dict(CONN, use_rest="always" if transport == "rest" else "never", _ansible_check_mode=check_mode, _ansible_diff=diff)
    full.update(args)
    with patch_module_args(full):
        with pytest.raises(Exited) as exc:
            main()
    assert PASSWORD not in json.dumps(exc.value.result, default=str)
    if exc.value.kind == "exit":
        fake.assert_done()
    return exc.value.kind, exc.value.result
