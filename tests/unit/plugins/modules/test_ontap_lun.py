# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontap_lun on both transports, including the refusals (shrink, os_type change, mapped delete)."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import ontap_lun
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_harness import new_fake, run
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import (
    GIB, SERIAL, rest_lun, rest_volume, script_lun_get, script_maps_of_lun, script_volume_get, zapi_lun, zapi_sis, zapi_volume,
)

TRANSPORTS = ("rest", "zapi")
RT = {"return_timeout": 30}
ARGS = {"svm": "svm_xen", "volume": "vol1", "name": "lun1", "size_gib": 10}
ABSENT = {"svm": "svm_xen", "volume": "vol1", "name": "lun1", "state": "absent"}


def existing(transport, fake, **kw):
    script_lun_get(transport, fake, rest_lun(**kw), zapi_lun(**kw))


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create_returns_scsi_id(monkeypatch, transport):
    fake = new_fake(transport)
    script_lun_get(transport, fake)
    script_volume_get(transport, fake, rest_volume(), zapi_volume(), zapi_sis())
    if transport == "rest":
        fake.expect("POST", "/api/storage/luns", RT, {}, status=201,
                    body={"svm": {"name": "svm_xen"}, "name": "/vol/vol1/lun1", "os_type": "xen", "space": {"size": 10 * GIB}})
    else:
        fake.expect("lun-create-by-size", {"path": "/vol/vol1/lun1", "size": 10 * GIB, "ostype": "xen", "use-exact-size": True}, vserver="svm_xen")
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ARGS)
    assert kind == "exit" and result["changed"] is True
    assert result["lun"]["serial"] == SERIAL and result["lun"]["scsi_id"] == "3600a0980" + SERIAL.encode().hex()


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create_check_mode(monkeypatch, transport):
    fake = new_fake(transport)
    script_lun_get(transport, fake)
    script_volume_get(transport, fake, rest_volume(), zapi_volume(), zapi_sis())
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ARGS, check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["lun"]["path"] == "/vol/vol1/lun1" and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_change(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ARGS)
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_grow(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("PATCH", "/api/storage/luns/l-1", RT, {}, body={"space": {"size": 15 * GIB}})
    else:
        fake.expect("lun-resize", {"path": "/vol/vol1/lun1", "size": 15 * GIB}, vserver="svm_xen")
    existing(transport, fake, size=15 * GIB)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, dict(ARGS, size_gib=15), diff=True)
    assert kind == "exit" and result["changed"] is True and result["diff"]["after"]["size_bytes"] == 15 * GIB


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_shrink_refused(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, dict(ARGS, size_gib=5))
    assert kind == "fail" and "LUNs only grow" in result["msg"] and "/vol/vol1/lun1" in result["msg"] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_os_type_change_refused(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake, os_type="linux")
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ARGS)
    assert kind == "fail" and "OS_TYPE_FIXED LUN /vol/vol1/lun1 has os_type linux, requested xen" in result["msg"]
    assert "recreate" in result["msg"] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("DELETE", "/api/storage/luns/l-1", RT, {})
    else:
        fake.expect("lun-destroy", {"path": "/vol/vol1/lun1"}, vserver="svm_xen")
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ABSENT)
    assert kind == "exit" and result["changed"] is True


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_mapped_refused(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake, mapped=True)
    script_maps_of_lun(transport, fake, [("xenpool", 0)])
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ABSENT)
    assert kind == "fail" and "LUN_MAPPED LUN /vol/vol1/lun1 is mapped to xenpool" in result["msg"]
    assert "vdc.xenpool.ontap_lun_map state=absent" in result["msg"] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_when_absent(monkeypatch, transport):
    fake = new_fake(transport)
    script_lun_get(transport, fake)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ABSENT, check_mode=True)
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_space_reservation_drift(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("PATCH", "/api/storage/luns/l-1", RT, {}, body={"space": {"guarantee": {"requested": True}}})
    else:
        fake.expect("lun-set-space-reservation-info", {"path": "/vol/vol1/lun1", "enable": True}, vserver="svm_xen")
    existing(transport, fake, reserve=True)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, dict(ARGS, space_reservation=True))
    assert kind == "exit" and result["changed"] is True and result["lun"]["space_reservation"] is True


@pytest.mark.parametrize("over,code", [({"name": ""}, "EMPTY_NAME"), ({"name": "lun*"}, "INVALID_NAME"), ({"volume": "scratch*"}, "INVALID_NAME"),
                                       ({"size_gib": 0}, "INVALID_SIZE"), ({"size_gib": -1}, "INVALID_SIZE"),
                                       ({"size_gib": 129 * 1024}, "INVALID_SIZE"), ({"svm": ""}, "EMPTY_NAME")])
def test_bad_input_refused_before_any_call(monkeypatch, over, code):
    fake = new_fake("zapi")
    kind, result = run(monkeypatch, ontap_lun.main, "zapi", fake, dict(ARGS, **over))
    assert kind == "fail" and fake.log == [] and code in result["msg"] and result["msg"].startswith("Failed to manage LUN '")


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_shrink_refused_once_with_the_fix(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, dict(ARGS, size_gib=5))
    assert kind == "fail" and fake.writes() == []
    assert "SHRINK_REFUSED LUN /vol/vol1/lun1 would shrink" in result["msg"] and "at least 10.00" in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lun_in_unknown_volume_refused_while_planning(monkeypatch, transport):
    fake = new_fake(transport)
    script_lun_get(transport, fake)
    script_volume_get(transport, fake)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ARGS)
    assert kind == "fail" and fake.writes() == [] and "VOLUME_NOT_FOUND volume vol1 does not exist in SVM svm_xen" in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lun_in_volume_still_to_be_created_is_planned_in_check_mode(monkeypatch, transport):
    """A role's check-mode run plans the volume first; the LUN in it is a prediction, not a refusal."""
    fake = new_fake(transport)
    script_lun_get(transport, fake)
    script_volume_get(transport, fake)
    kind, result = run(monkeypatch, ontap_lun.main, transport, fake, ARGS, check_mode=True)
    assert kind == "exit" and result["changed"] is True and fake.writes() == []
