# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontap_volume on both transports: create, no-op, drift, delete, delete-when-absent, check mode, errors."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import ontap_volume
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_fakes import CLUSTER_PROBE, FakeRest
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_harness import new_fake, run
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import GIB, rest_volume, script_volume_get, zapi_sis, zapi_volume

TRANSPORTS = ("rest", "zapi")
RT = {"return_timeout": 30}
ARGS = {"svm": "svm_xen", "name": "vol1", "aggregate": "aggr1", "size_gib": 10, "space_guarantee": "none", "snapshot_policy": "none",
        "dedupe": True}


def existing(transport, fake, size=10 * GIB, policy="none"):
    script_volume_get(transport, fake, rest_volume(size=size, policy=policy), zapi_volume(size=size, policy=policy), zapi_sis(enabled=True))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create(monkeypatch, transport):
    fake = new_fake(transport)
    script_volume_get(transport, fake)
    if transport == "rest":
        fake.expect("POST", "/api/storage/volumes", RT, {"job": {"uuid": "j1"}}, status=202, body={
            "name": "vol1", "svm": {"name": "svm_xen"}, "aggregates": [{"name": "aggr1"}], "size": 10 * GIB, "guarantee": {"type": "none"},
            "snapshot_policy": {"name": "none"}, "efficiency": {"dedupe": "background"}})
        fake.expect("GET", "/api/cluster/jobs/j1", None, {"state": "success"})
    else:
        fake.expect("volume-create", {"volume": "vol1", "containing-aggr-name": "aggr1", "size": 10 * GIB, "space-reserve": "none",
                                      "snapshot-policy": "none"}, vserver="svm_xen")
        fake.expect("sis-enable", {"path": "/vol/vol1"}, vserver="svm_xen")
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, ARGS, diff=True)
    assert kind == "exit" and result["changed"] is True and result["transport"] == transport
    assert result["volume"]["uuid"] == "v-1" and result["diff"]["before"] == {} and result["diff"]["after"]["size_bytes"] == 10 * GIB


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create_check_mode_makes_no_write(monkeypatch, transport):
    fake = new_fake(transport)
    script_volume_get(transport, fake)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, ARGS, check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["volume"]["uuid"] is None
    assert result["volume"]["efficiency"] == {"dedupe": True, "compression": False}
    assert fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_change(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, ARGS)
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_drift_grows_and_sets_policy(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("PATCH", "/api/storage/volumes/v-1", RT, {}, body={"size": 20 * GIB, "snapshot_policy": {"name": "default"}})
    else:
        fake.expect("volume-size", {"volume": "vol1", "new-size": 20 * GIB}, vserver="svm_xen")
        fake.expect("volume-modify-iter", None, {"num-succeeded": "1"}, vserver="svm_xen")
    existing(transport, fake, size=20 * GIB, policy="default")
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, dict(ARGS, size_gib=20, snapshot_policy="default"), diff=True)
    assert kind == "exit" and result["changed"] is True
    assert result["diff"]["before"]["size_bytes"] == 10 * GIB and result["diff"]["after"]["size_bytes"] == 20 * GIB


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_drift_check_mode_predicts_without_writes(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, dict(ARGS, size_gib=5), check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["volume"]["size_bytes"] == 5 * GIB and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("DELETE", "/api/storage/volumes/v-1", RT, {})
    else:
        fake.expect("volume-offline", {"name": "vol1"}, vserver="svm_xen")
        fake.expect("volume-destroy", {"name": "vol1"}, vserver="svm_xen")
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, {"svm": "svm_xen", "name": "vol1", "state": "absent"})
    assert kind == "exit" and result["changed"] is True and result["volume"] == {}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_when_absent(monkeypatch, transport):
    fake = new_fake(transport)
    script_volume_get(transport, fake)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, {"svm": "svm_xen", "name": "vol1", "state": "absent"})
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


def test_create_needs_aggregate(monkeypatch):
    fake = new_fake("rest")
    script_volume_get("rest", fake)
    kind, result = run(monkeypatch, ontap_volume.main, "rest", fake, {"svm": "svm_xen", "name": "vol1", "size_gib": 1})
    assert kind == "fail" and "aggregate and size_gib are required" in result["msg"] and fake.writes() == []


def test_ontap_error_has_message_shape(monkeypatch):
    fake = new_fake("rest")
    script_volume_get("rest", fake)
    fake.error("POST", "/api/storage/volumes", RT, "917508", "aggregate not found", status=404)
    kind, result = run(monkeypatch, ontap_volume.main, "rest", fake, dict(ARGS, aggregate="nope"))
    assert kind == "fail" and result["msg"] == "Failed to manage volume 'vol1': 917508 aggregate not found" and result["error_code"] == "917508"


def test_bad_password_is_clear_and_secret_free(monkeypatch):
    fake = FakeRest().expect(*CLUSTER_PROBE, response={}, status=401)
    kind, result = run(monkeypatch, ontap_volume.main, "rest", fake, ARGS)
    assert kind == "fail" and "Authentication failed" in result["msg"] and "'admin'" in result["msg"]
