# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Connection options are checked once in the module base, for XenAPI and ONTAP alike, before any connection."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule, XenModule


class Exited(Exception):
    pass


class Failed(Exception):
    pass


@pytest.fixture(autouse=True)
def no_exit(monkeypatch):
    warnings = []

    def fail_json(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.warn", lambda _self, text: warnings.append(text))
    return warnings


def build(cls, args, wait=False):
    with patch_module_args(args):
        return cls({"name": {"type": "str"}}, wait=wait)


def failure(cls, args, wait=False):
    with pytest.raises(Failed) as info:
        build(cls, args, wait)
    return info.value.args[0]


ONTAP = {"hostname": "cluster1", "username": "admin", "password": "N3tApp-Pw"}


@pytest.mark.parametrize("timeout", [-1, 0])
def test_xen_timeout_must_be_positive(timeout):
    result = failure(XenModule, {"hostname": "10.0.0.1", "password": "pw-S3cret", "timeout": timeout})
    assert result["msg"].startswith("Failed to connect to XenAPI '10.0.0.1': INVALID_TIMEOUT timeout is %d" % timeout)
    assert "greater than 0" in result["msg"]
    assert result["error_code"] == "INVALID_TIMEOUT"


def test_wait_timeout_must_be_positive():
    result = failure(XenModule, {"hostname": "10.0.0.1", "wait_timeout": -5}, wait=True)
    assert "INVALID_TIMEOUT wait_timeout is -5" in result["msg"]


def test_empty_hostname_is_refused_for_both_platforms():
    assert "INVALID_HOSTNAME hostname is empty" in failure(XenModule, {"hostname": "  "})["msg"]
    assert "INVALID_HOSTNAME hostname is empty" in failure(OntapModule, dict(ONTAP, hostname=""))["msg"]


@pytest.mark.parametrize("timeout", [-1, 0])
def test_ontap_timeout_must_be_positive(timeout):
    result = failure(OntapModule, dict(ONTAP, timeout=timeout))
    assert result["msg"].startswith("Failed to connect to ONTAP 'cluster1': INVALID_TIMEOUT")


def test_missing_ca_path_is_named_with_the_fix(tmp_path):
    missing = str(tmp_path / "nope.pem")
    for cls, args in ((XenModule, {"hostname": "h"}), (OntapModule, ONTAP)):
        result = failure(cls, dict(args, ca_path=missing))
        assert "CA_PATH_NOT_FOUND ca_path %s" % missing in result["msg"]
        assert "Errno" not in result["msg"] and "PEM file" in result["msg"]


def test_password_in_url_never_echoed(no_exit):
    result = failure(XenModule, {"hostname": "https://root:Url-S3cret@10.0.0.9", "timeout": 0})
    assert "Url-S3cret" not in json.dumps(result)
    assert "'https://root@10.0.0.9'" in result["msg"]
    assert any("password in its URL" in w for w in no_exit)


def test_cleartext_is_warned(no_exit):
    build(XenModule, {"hostname": "http://10.0.0.1"})
    build(OntapModule, dict(ONTAP, https=False))
    assert len(no_exit) == 2
    assert "http://" in no_exit[0] and "clear text" in no_exit[0]
    assert "https is false" in no_exit[1]
    no_exit.clear()
    build(XenModule, {"hostname": "https://10.0.0.1"})
    build(OntapModule, ONTAP)
    assert not no_exit
