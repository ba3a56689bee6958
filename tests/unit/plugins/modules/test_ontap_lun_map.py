# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontap_lun_map on both transports: map, no-op, lun_id conflict, missing LUN/igroup, unmap."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import ontap_lun_map
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_harness import new_fake, run
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import (
    rest_igroup, rest_lun, script_igroup_get, script_lun_get, script_map_get, script_maps_of_lun, zapi_igroup, zapi_lun,
)

TRANSPORTS = ("rest", "zapi")
RT = {"return_timeout": 30}
ARGS = {"svm": "svm_xen", "volume": "vol1", "name": "lun1", "igroup": "xenpool", "lun_id": 0}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_map(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake)
    script_lun_get(transport, fake, rest_lun(), zapi_lun())
    script_igroup_get(transport, fake, rest_igroup(), zapi_igroup())
    if transport == "rest":
        fake.expect("POST", "/api/protocols/san/lun-maps", RT, {}, status=201, body={
            "svm": {"name": "svm_xen"}, "lun": {"name": "/vol/vol1/lun1"}, "igroup": {"name": "xenpool"}, "logical_unit_number": 0})
    else:
        fake.expect("lun-map", {"path": "/vol/vol1/lun1", "initiator-group": "xenpool", "lun-id": 0}, {"lun-id-assigned": "0"})
    script_map_get(transport, fake, lun_id=0)
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, ARGS)
    assert kind == "exit" and result["changed"] is True and result["lun_map"]["lun_id"] == 0 and result["lun_map"]["lun_uuid"] == "l-1"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_map_check_mode(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake)
    script_lun_get(transport, fake, rest_lun(), zapi_lun())
    script_igroup_get(transport, fake, rest_igroup(), zapi_igroup())
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, ARGS, check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["lun_map"]["igroup_uuid"] == "ig-1" and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_change(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake, [("xenpool", 0)])
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, dict(ARGS, lun_id=None))
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_other_lun_id_is_an_error(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake, [("xenpool", 2)])
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, ARGS)
    assert kind == "fail" and "lun_id 2, requested 0" in result["msg"] and "state=absent first" in result["msg"] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_missing_igroup(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake)
    script_lun_get(transport, fake, rest_lun(), zapi_lun())
    script_igroup_get(transport, fake)
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, ARGS)
    assert kind == "fail" and "igroup xenpool does not exist in SVM svm_xen" in result["msg"] and "ontap_igroup" in result["msg"]
    assert fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_missing_lun(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake)
    script_lun_get(transport, fake)
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, ARGS)
    assert kind == "fail" and "LUN /vol/vol1/lun1 does not exist" in result["msg"] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unmap(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake, [("xenpool", 0)])
    if transport == "rest":
        fake.expect("DELETE", "/api/protocols/san/lun-maps/l-1/ig-1", RT, {})
    else:
        fake.expect("lun-unmap", {"path": "/vol/vol1/lun1", "initiator-group": "xenpool"})
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, {"svm": "svm_xen", "path": "/vol/vol1/lun1", "igroup": "xenpool",
                                                                          "state": "absent"})
    assert kind == "exit" and result["changed"] is True and result["lun_map"] == {}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unmap_when_absent(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake)
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, {"svm": "svm_xen", "path": "/vol/vol1/lun1", "igroup": "xenpool",
                                                                          "state": "absent"})
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_lun_of_another_pool_is_not_mapped(monkeypatch, transport):
    """Issue 9 (4): a LUN already mapped to another igroup is refused, naming that igroup."""
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake, [("xen_pool_b", 0)])
    script_lun_get(transport, fake, rest_lun(mapped=True), zapi_lun(mapped=True))
    script_igroup_get(transport, fake, rest_igroup(), zapi_igroup())
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, ARGS, check_mode=True)
    assert kind == "fail" and fake.writes() == []
    assert "LUN_MAPPED_ELSEWHERE LUN /vol/vol1/lun1 is already mapped to igroup xen_pool_b (lun_id 0)" in result["msg"]
    assert "allow_shared_lun: true" in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_shared_lun_when_allowed(monkeypatch, transport):
    fake = new_fake(transport)
    script_maps_of_lun(transport, fake, [("xen_pool_b", 0)])
    script_lun_get(transport, fake, rest_lun(mapped=True), zapi_lun(mapped=True))
    script_igroup_get(transport, fake, rest_igroup(), zapi_igroup())
    kind, result = run(monkeypatch, ontap_lun_map.main, transport, fake, dict(ARGS, allow_shared_lun=True), check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["plan"] == ["map /vol/vol1/lun1 -> igroup xenpool: lun_id 0"]


@pytest.mark.parametrize("over", [{"lun_id": 4096}, {"lun_id": -1}, {"igroup": ""}, {"igroup": "xen_pool_a*"}, {"name": "lun*"},
                                  {"volume": ""}, {"path": "/vol/vol1/*"}, {"path": ""}])
def test_bad_input_refused_before_any_call(monkeypatch, over):
    fake = new_fake("rest")
    base = {"svm": "svm_xen", "igroup": "xenpool"} if "path" in over else ARGS
    kind, result = run(monkeypatch, ontap_lun_map.main, "rest", fake, dict(base, **over))
    assert kind == "fail" and fake.log == [] and result["msg"].startswith("Failed to map LUN map '")
    assert "nothing was changed" in result["msg"]
