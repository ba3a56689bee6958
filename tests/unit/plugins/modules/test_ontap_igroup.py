# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontap_igroup on both transports: add-only versus purge, case-insensitive IQNs, mapped delete."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import ontap_igroup
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_harness import new_fake, run
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import (
    IQN1, IQN2, rest_igroup, script_igroup_get, script_map_get, script_svm_get, zapi_igroup,
)
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_fakes import iter_result

TRANSPORTS = ("rest", "zapi")
RT = {"return_timeout": 30}
IQN3 = "iqn.2026-01.com.example:host3"


def existing(transport, fake, initiators=(IQN1, IQN2), os_type="xen"):
    script_igroup_get(transport, fake, rest_igroup(initiators, os_type), zapi_igroup(initiators, os_type))


def args(**kw):
    out = {"svm": "svm_xen", "name": "xenpool"}
    out.update(kw)
    return out


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create(monkeypatch, transport):
    fake = new_fake(transport)
    script_igroup_get(transport, fake)
    script_svm_get(transport, fake)
    if transport == "rest":
        fake.expect("POST", "/api/protocols/san/igroups", RT, {}, status=201, body={
            "svm": {"name": "svm_xen"}, "name": "xenpool", "os_type": "xen", "protocol": "iscsi", "initiators": [{"name": IQN1}]})
    else:
        fake.expect("igroup-create", {"initiator-group-name": "xenpool", "initiator-group-type": "iscsi", "os-type": "xen"})
        fake.expect("igroup-add", {"initiator-group-name": "xenpool", "initiator": IQN1})
    existing(transport, fake, initiators=(IQN1,))
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(initiators=[IQN1.upper()]))
    assert kind == "exit" and result["changed"] is True and result["igroup"]["initiators"] == [IQN1]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_change_case_insensitive(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(initiators=[IQN2.upper(), IQN1]))
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_add_only_keeps_extra_initiators(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("POST", "/api/protocols/san/igroups/ig-1/initiators", RT, {}, status=201, body={"records": [{"name": IQN3}]})
    else:
        fake.expect("igroup-add", {"initiator-group-name": "xenpool", "initiator": IQN3})
    existing(transport, fake, initiators=(IQN1, IQN2, IQN3))
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(initiators=[IQN3]))
    assert kind == "exit" and result["changed"] is True and result["plan"] == ["add initiators to igroup xenpool: %s" % IQN3]
    assert result["initiators_added"] == [IQN3] and result["initiators_removed"] == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_purge_makes_list_exact(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("DELETE", "/api/protocols/san/igroups/ig-1/initiators/%s" % IQN2, RT, {})
        fake.expect("POST", "/api/protocols/san/igroups/ig-1/initiators", RT, {}, status=201, body={"records": [{"name": IQN3}]})
    else:
        fake.expect("igroup-remove", {"initiator-group-name": "xenpool", "initiator": IQN2})
        fake.expect("igroup-add", {"initiator-group-name": "xenpool", "initiator": IQN3})
    existing(transport, fake, initiators=(IQN1, IQN3))
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(initiators=[IQN1, IQN3], purge_initiators=True), diff=True)
    assert kind == "exit" and result["changed"] is True
    assert result["plan"] == ["remove initiators from igroup xenpool: %s" % IQN2, "add initiators to igroup xenpool: %s" % IQN3]
    assert result["initiators_removed"] == [IQN2] and result["initiators_added"] == [IQN3]
    assert result["diff"]["before"]["initiators"] == [IQN1, IQN2] and result["diff"]["after"]["initiators"] == [IQN1, IQN3]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_purge_check_mode_no_writes(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(initiators=[IQN1], purge_initiators=True), check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["igroup"]["initiators"] == [IQN1] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_unmapped(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("GET", "/api/protocols/san/lun-maps", {"fields": "svm.name,lun.name,lun.uuid,igroup.name,igroup.uuid,logical_unit_number",
                                                           "svm.name": "svm_xen", "igroup.name": "xenpool"}, {"records": []})
        fake.expect("DELETE", "/api/protocols/san/igroups/ig-1", RT, {})
    else:
        fake.expect("lun-map-get-iter", None, iter_result("lun-map-info", []))
        fake.expect("igroup-destroy", {"initiator-group-name": "xenpool"})
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(state="absent"))
    assert kind == "exit" and result["changed"] is True


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_mapped_refused(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake)
    if transport == "rest":
        fake.expect("GET", "/api/protocols/san/lun-maps", {"fields": "svm.name,lun.name,lun.uuid,igroup.name,igroup.uuid,logical_unit_number",
                                                           "svm.name": "svm_xen", "igroup.name": "xenpool"},
                    {"records": [{"svm": {"name": "svm_xen"}, "lun": {"name": "/vol/vol1/lun1", "uuid": "l-1"},
                                  "igroup": {"name": "xenpool", "uuid": "ig-1"},
                                  "logical_unit_number": 0}]})
    else:
        script_map_get("zapi", fake, lun_id=0)
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(state="absent"))
    assert kind == "fail" and "still mapped to /vol/vol1/lun1" in result["msg"] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_when_absent(monkeypatch, transport):
    fake = new_fake(transport)
    script_igroup_get(transport, fake)
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(state="absent"))
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_os_type_drift_is_corrected(monkeypatch, transport):
    fake = new_fake(transport)
    existing(transport, fake, os_type="linux")
    if transport == "rest":
        fake.expect("PATCH", "/api/protocols/san/igroups/ig-1", RT, {}, body={"os_type": "xen"})
    else:
        fake.expect("igroup-set-attribute", {"initiator-group-name": "xenpool", "attribute": "os-type", "value": "xen"}, vserver="svm_xen")
    existing(transport, fake)
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(), diff=True)
    assert kind == "exit" and result["changed"] is True
    assert result["diff"]["before"]["os_type"] == "linux" and result["diff"]["after"]["os_type"] == "xen"


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("name,state", [("", "present"), ("", "absent"), ("ig_bad*", "absent"), ("xen_pool_a*", "present")])
def test_names_are_never_patterns(monkeypatch, transport, name, state):
    """Issue 9 (1): name '' once added an initiator to the SVM's only igroup and 'ig_bad*' deleted one; now no call is made."""
    fake = new_fake(transport)
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(name=name, state=state, initiators=[IQN3]))
    assert kind == "fail" and fake.log == []
    assert result["msg"].startswith("Failed to %s igroup '%s': " % ("delete" if state == "absent" else "manage", name))
    assert "names are never patterns" in result["msg"] or "would match every igroup" in result["msg"]


@pytest.mark.parametrize("iqn", ["host1", "iqn.2026-1.com.example:h", "eui.12", "iqn.2026-01.com.example:a b"])
def test_bad_initiators_refused_before_any_call(monkeypatch, iqn):
    fake = new_fake("rest")
    kind, result = run(monkeypatch, ontap_igroup.main, "rest", fake, args(initiators=[IQN1, iqn]))
    assert kind == "fail" and fake.log == [] and "INVALID_INITIATOR initiators entry '%s'" % iqn in result["msg"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_look_alike_igroup_is_not_ours(monkeypatch, transport):
    """A pattern-matching server returns another pool's igroup: it is neither modified nor deleted."""
    fake = new_fake(transport)
    script_igroup_get(transport, fake, rest_igroup(name="xenpool_b"), zapi_igroup(name="xenpool_b"))
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(state="absent"))
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


def test_protocol_change_refused_while_planning(monkeypatch):
    fake = new_fake("rest")
    existing("rest", fake)
    kind, result = run(monkeypatch, ontap_igroup.main, "rest", fake, args(protocol="mixed"))
    assert kind == "fail" and "PROTOCOL_FIXED igroup xenpool has protocol iscsi, requested mixed" in result["msg"] and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_svm_refused_while_planning(monkeypatch, transport):
    fake = new_fake(transport)
    script_igroup_get(transport, fake)
    script_svm_get(transport, fake, exists=False)
    kind, result = run(monkeypatch, ontap_igroup.main, transport, fake, args(initiators=[IQN1]))
    assert kind == "fail" and fake.writes() == [] and "SVM_NOT_FOUND SVM svm_xen does not exist" in result["msg"]
