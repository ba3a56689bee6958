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
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import (
    GIB, rest_volume, script_aggregates, script_luns_of_volume, script_maps_of_svm, script_svm_get, script_volume_get, zapi_sis,
    zapi_volume,
)

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
    script_svm_get(transport, fake)
    script_aggregates(transport, fake)
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
    script_svm_get(transport, fake)
    script_aggregates(transport, fake)
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
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, dict(ARGS, size_gib=30), check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["volume"]["size_bytes"] == 30 * GIB and fake.writes() == []
    assert result["plan"] == ["resize volume vol1: 10.00 -> 30.00 GiB"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    script_luns_of_volume(transport, fake)
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
    script_svm_get("rest", fake)
    kind, result = run(monkeypatch, ontap_volume.main, "rest", fake, {"svm": "svm_xen", "name": "vol1", "size_gib": 1})
    assert kind == "fail" and "MISSING_OPTION aggregate and size_gib are required" in result["msg"] and fake.writes() == []


def test_ontap_error_has_message_shape(monkeypatch):
    fake = new_fake("rest")
    script_volume_get("rest", fake)
    script_svm_get("rest", fake)
    script_aggregates("rest", fake, names=("aggr1", "nope"))
    fake.error("POST", "/api/storage/volumes", RT, "917508", "aggregate not found", status=404)
    kind, result = run(monkeypatch, ontap_volume.main, "rest", fake, dict(ARGS, aggregate="nope"))
    assert kind == "fail" and result["error_code"] == "917508"
    assert result["msg"] == ("Failed to manage volume 'vol1': 917508 aggregate not found. "
                             "Check the aggregate name against vdc.xenpool.ontap_info (gather_subset: aggregates)")


def test_bad_password_is_clear_and_secret_free(monkeypatch):
    fake = FakeRest().expect(*CLUSTER_PROBE, response={}, status=401)
    kind, result = run(monkeypatch, ontap_volume.main, "rest", fake, ARGS)
    assert kind == "fail" and "Authentication failed" in result["msg"] and "'admin'" in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name", ["", "scratch_vol2*", "vol|other", "!vol1", "vol..2", "null", "vol-1"])
def test_names_are_never_patterns(monkeypatch, transport, name):
    """Issue 9 (1): an empty name matched every volume and 'scratch_vol2*' deleted real ones; now refused before any call."""
    fake = new_fake(transport)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, {"svm": "svm_xen", "name": name, "state": "absent"})
    assert kind == "fail" and fake.log == []
    assert result["msg"].startswith("Failed to delete volume '%s': " % name)
    assert ("EMPTY_NAME" if name == "" else "INVALID_NAME") in result["msg"] and "nothing was changed" in result["msg"]


@pytest.mark.parametrize("size_gib", [0, -5, 0.00001])
def test_bad_sizes_refused_before_any_call(monkeypatch, size_gib):
    fake = new_fake("rest")
    kind, result = run(monkeypatch, ontap_volume.main, "rest", fake, dict(ARGS, size_gib=size_gib))
    assert kind == "fail" and "INVALID_SIZE" in result["msg"] and fake.log == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_exact_name_only(monkeypatch, transport):
    """A look-alike returned by a pattern-matching server is not the volume: the module plans a create."""
    fake = new_fake(transport)
    script_volume_get(transport, fake, rest_volume(name="vol10"), zapi_volume(name="vol10"), zapi_sis(name="vol10"))
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, {"svm": "svm_xen", "name": "vol1", "state": "absent"})
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_with_mapped_luns_refused(monkeypatch, transport):
    """Issue 9 (2): a volume holding a mapped LUN is not deleted; the LUN and its igroup are named."""
    fake = new_fake(transport)
    existing(transport, fake)
    script_luns_of_volume(transport, fake, [("lun0", 8 * GIB)])
    script_maps_of_svm(transport, fake, [("/vol/vol1/lun0", "xen_pool_a", 0), ("/vol/other/lun0", "xen_pool_b", 0)])
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, {"svm": "svm_xen", "name": "vol1", "state": "absent"})
    assert kind == "fail" and fake.writes() == []
    assert "VOLUME_HAS_MAPPED_LUNS volume vol1 holds mapped LUNs: /vol/vol1/lun0 mapped to igroup xen_pool_a" in result["msg"]
    assert "xen_pool_b" not in result["msg"] and "delete_mapped_luns: true" in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_with_mapped_luns_when_allowed(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    script_luns_of_volume(transport, fake, [("lun0", 8 * GIB)])
    script_maps_of_svm(transport, fake, [("/vol/vol1/lun0", "xen_pool_a", 0)])
    if transport == "rest":
        fake.expect("DELETE", "/api/storage/volumes/v-1", RT, {})
    else:
        fake.expect("volume-offline", {"name": "vol1"}, vserver="svm_xen")
        fake.expect("volume-destroy", {"name": "vol1"}, vserver="svm_xen")
    absent = {"svm": "svm_xen", "name": "vol1", "state": "absent", "delete_mapped_luns": True}
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, absent)
    assert kind == "exit" and result["changed"] is True and result["plan"] == ["delete volume vol1: with 1 LUN(s)"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_shrink_refused_without_allow_shrink(monkeypatch, transport):
    """Issue 9 (5): lowering the size no longer shrinks the volume under its LUN."""
    fake = new_fake(transport)
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, dict(ARGS, size_gib=5))
    assert kind == "fail" and fake.writes() == []
    assert "SHRINK_REFUSED volume vol1 would shrink from 10.00 to 5.00 GiB" in result["msg"] and "allow_shrink: true" in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_allowed_shrink_still_keeps_the_luns(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    script_luns_of_volume(transport, fake, [("lun0", 8 * GIB)])
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, dict(ARGS, size_gib=8, allow_shrink=True), check_mode=True)
    assert kind == "fail" and fake.writes() == [] and "cannot hold its LUNs (/vol/vol1/lun0: 8.00 GiB)" in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_allowed_shrink_applies(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    script_luns_of_volume(transport, fake, [("lun0", 8 * GIB)])
    if transport == "rest":
        fake.expect("PATCH", "/api/storage/volumes/v-1", RT, {}, body={"size": 9 * GIB})
    else:
        fake.expect("volume-size", {"volume": "vol1", "new-size": 9 * GIB}, vserver="svm_xen")
    existing(transport, fake, size=9 * GIB)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, dict(ARGS, size_gib=9, allow_shrink=True))
    assert kind == "exit" and result["changed"] is True and result["volume"]["size_bytes"] == 9 * GIB


def test_zapi_compression_without_dedupe_refused_while_planning(monkeypatch):
    fake = new_fake("zapi")
    existing("zapi", fake)
    kind, result = run(monkeypatch, ontap_volume.main, "zapi", fake, dict(ARGS, dedupe=False, compression=True))
    assert kind == "fail" and "UNSUPPORTED over ZAPI, compression needs deduplication" in result["msg"] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_svm_refused_while_planning(monkeypatch, transport):
    """A failed POST is a write attempt too: an unknown SVM is found by a read and refused before any write."""
    fake = new_fake(transport)
    script_volume_get(transport, fake)
    script_svm_get(transport, fake, exists=False)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, ARGS)
    assert kind == "fail" and fake.writes() == [] and "SVM_NOT_FOUND SVM svm_xen does not exist" in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_aggregate_refused_while_planning(monkeypatch, transport):
    fake = new_fake(transport)
    script_volume_get(transport, fake)
    script_svm_get(transport, fake)
    script_aggregates(transport, fake)
    kind, result = run(monkeypatch, ontap_volume.main, transport, fake, dict(ARGS, aggregate="aggr_nope"))
    assert kind == "fail" and fake.writes() == []
    assert "AGGREGATE_NOT_FOUND aggregate aggr_nope does not exist (aggregates: aggr1, aggr2)" in result["msg"]
