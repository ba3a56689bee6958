# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontap_snapshot on both transports: create, no-op, delete, delete-when-absent, check mode."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import ontap_snapshot
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_harness import new_fake, run
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_fakes import iter_result
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import rest_volume, script_volume_get, zapi_sis, zapi_volume

TRANSPORTS = ("rest", "zapi")
RT = {"return_timeout": 30}
VOL_Q = {"svm.name": "svm_xen", "name": "vol1", "fields": "uuid,name"}
SNAP_Q = {"name": "s1", "fields": "uuid,name,comment"}
ARGS = {"svm": "svm_xen", "volume": "vol1", "name": "s1"}


def script_get(transport, fake, exists):
    if transport == "rest":
        fake.expect("GET", "/api/storage/volumes", VOL_Q, {"records": [{"uuid": "v-1", "name": "vol1"}]})
        fake.expect("GET", "/api/storage/volumes/v-1/snapshots", SNAP_Q,
                    {"records": [{"uuid": "s-1", "name": "s1", "comment": "c"}] if exists else []})
    else:
        recs = [{"name": "s1", "volume": "vol1", "vserver": "svm_xen", "snapshot-instance-uuid": "s-1", "comment": "c"}] if exists else []
        fake.expect("snapshot-get-iter", None, iter_result("snapshot-info", recs), vserver="svm_xen")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create(monkeypatch, transport):
    fake = new_fake(transport)
    script_get(transport, fake, False)
    script_volume_get(transport, fake, rest_volume(), zapi_volume(), zapi_sis())
    if transport == "rest":
        fake.expect("GET", "/api/storage/volumes", VOL_Q, {"records": [{"uuid": "v-1", "name": "vol1"}]})
        fake.expect("POST", "/api/storage/volumes/v-1/snapshots", RT, {}, status=201, body={"name": "s1", "comment": "c"})
    else:
        fake.expect("snapshot-create", {"volume": "vol1", "snapshot": "s1", "comment": "c"})
    script_get(transport, fake, True)
    kind, result = run(monkeypatch, ontap_snapshot.main, transport, fake, dict(ARGS, comment="c"))
    expected = {"name": "s1", "uuid": "s-1", "volume": "vol1", "svm": "svm_xen", "comment": "c"}
    assert kind == "exit" and result["changed"] is True and result["snapshot"] == expected


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create_check_mode(monkeypatch, transport):
    fake = new_fake(transport)
    script_get(transport, fake, False)
    script_volume_get(transport, fake, rest_volume(), zapi_volume(), zapi_sis())
    kind, result = run(monkeypatch, ontap_snapshot.main, transport, fake, ARGS, check_mode=True)
    assert kind == "exit" and result["changed"] is True and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_change(monkeypatch, transport):
    fake = new_fake(transport)
    script_get(transport, fake, True)
    kind, result = run(monkeypatch, ontap_snapshot.main, transport, fake, ARGS)
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete(monkeypatch, transport):
    fake = new_fake(transport)
    script_get(transport, fake, True)
    if transport == "rest":
        fake.expect("DELETE", "/api/storage/volumes/v-1/snapshots/s-1", RT, {})
    else:
        fake.expect("snapshot-delete", {"volume": "vol1", "snapshot": "s1"})
    kind, result = run(monkeypatch, ontap_snapshot.main, transport, fake, dict(ARGS, state="absent"))
    assert kind == "exit" and result["changed"] is True


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_when_absent(monkeypatch, transport):
    fake = new_fake(transport)
    script_get(transport, fake, False)
    kind, result = run(monkeypatch, ontap_snapshot.main, transport, fake, dict(ARGS, state="absent"))
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("over", [{"name": ""}, {"name": "pre*"}, {"volume": "scratch_vol2*"}, {"name": "a..b"}])
def test_names_are_never_patterns(monkeypatch, transport, over):
    fake = new_fake(transport)
    kind, result = run(monkeypatch, ontap_snapshot.main, transport, fake, dict(ARGS, state="absent", **over))
    assert kind == "fail" and fake.log == [] and result["msg"].startswith("Failed to delete snapshot '")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_look_alike_snapshot_is_not_deleted(monkeypatch, transport):
    fake = new_fake(transport)
    if transport == "rest":
        fake.expect("GET", "/api/storage/volumes", VOL_Q, {"records": [{"uuid": "v-1", "name": "vol1"}]})
        fake.expect("GET", "/api/storage/volumes/v-1/snapshots", SNAP_Q, {"records": [{"uuid": "s-9", "name": "s10"}]})
    else:
        fake.expect("snapshot-get-iter", None, iter_result("snapshot-info", [{"name": "s10", "volume": "vol1", "vserver": "svm_xen"}]))
    kind, result = run(monkeypatch, ontap_snapshot.main, transport, fake, dict(ARGS, state="absent"))
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


def test_too_long_comment_refused_before_any_call(monkeypatch):
    fake = new_fake("rest")
    kind, result = run(monkeypatch, ontap_snapshot.main, "rest", fake, dict(ARGS, comment="c" * 256))
    assert kind == "fail" and fake.log == [] and "INVALID_VALUE comment is 256 characters long; ONTAP keeps at most 255" in result["msg"]


def test_zapi_snapshot_of_unknown_volume_refused_while_planning(monkeypatch):
    fake = new_fake("zapi")
    script_get("zapi", fake, False)
    script_volume_get("zapi", fake)
    kind, result = run(monkeypatch, ontap_snapshot.main, "zapi", fake, ARGS)
    assert kind == "fail" and fake.writes() == [] and "VOLUME_NOT_FOUND volume vol1 does not exist in SVM svm_xen" in result["msg"]
