# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import functools
import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.module_utils._common import module as module_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.modules import pool_info
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi, cert_error


class Exited(Exception):
    pass


class Failed(Exception):
    pass


@pytest.fixture
def fake(monkeypatch):
    xapi = FakeXapi()
    xapi.seed_pool(hosts=2, vms=2)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory))

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    def fail_json(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    return xapi


def run(args, expect=Exited):
    with patch_module_args(args):
        with pytest.raises(expect) as info:
            pool_info.main()
    return info.value.args[0]


def test_reads_pool(fake):
    result = run({"hostname": "127.0.0.10", "password": fake.password})
    assert result["changed"] is False
    assert set(result) == {"changed", "pool", "hosts", "srs", "networks", "vms"}
    assert [h["name"] for h in result["hosts"]] == ["xen-01", "xen-02"]
    assert [v["name"] for v in result["vms"]] == ["vm-0000", "vm-0001"]
    json.dumps(result)
    assert fake.open_sessions() == 0


def test_member_host_redirects_to_master(fake):
    result = run({"hostname": "127.0.0.11", "password": fake.password})
    assert result["pool"]["master"] == "xen-01"
    assert [c[0] for c in fake.calls("session.login_with_password")] == ["127.0.0.11", "127.0.0.10"]


def test_check_mode_and_filters(fake):
    result = run({"hostname": "127.0.0.10", "password": fake.password, "_ansible_check_mode": True,
                  "include_templates": True, "vms": ["Debian Bookworm 12"]})
    assert [v["name"] for v in result["vms"]] == ["Debian Bookworm 12"]
    assert result["vms"][0]["is_template"] is True


def test_wrong_password(fake):
    result = run({"hostname": "127.0.0.10", "password": "Not-The-Password-42"}, expect=Failed)
    assert result["msg"].startswith("Failed to read pool '127.0.0.10': SESSION_AUTHENTICATION_FAILED [root, Authentication failure]")
    assert "Not-The-Password-42" not in json.dumps(result)


def test_untrusted_certificate_names_the_options(fake):
    fake.network_errors["127.0.0.10"] = cert_error()
    result = run({"hostname": "127.0.0.10", "password": fake.password}, expect=Failed)
    assert "CONNECTION_FAILED" in result["msg"] and "validate_certs" in result["msg"] and "ca_path" in result["msg"]


def test_same_number_of_calls_for_more_vms(monkeypatch, fake):
    run({"hostname": "127.0.0.10", "password": fake.password})
    small = fake.counters()
    big = FakeXapi()
    big.seed_pool(hosts=8, vms=300)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=big.transport_factory))
    result = run({"hostname": "127.0.0.10", "password": big.password})
    assert len(result["vms"]) == 300
    assert big.counters() == small
