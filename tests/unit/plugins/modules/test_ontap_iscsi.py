# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontap_iscsi on both transports: create+start, no-op, start a stopped service, delete."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.modules import ontap_iscsi
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_harness import new_fake, run
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import TARGET, script_iscsi_get, script_portals, script_svm_get

TRANSPORTS = ("rest", "zapi")
RT = {"return_timeout": 30}
PORTALS = ["192.0.2.11:3260", "192.0.2.12:3260"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create_and_start(monkeypatch, transport):
    fake = new_fake(transport)
    script_iscsi_get(transport, fake)
    script_svm_get(transport, fake)
    if transport == "rest":
        fake.expect("POST", "/api/protocols/san/iscsi/services", RT, {}, status=201, body={"svm": {"name": "svm_xen"}, "enabled": True})
    else:
        fake.expect("iscsi-service-create", {"start": True}, vserver="svm_xen")
    script_iscsi_get(transport, fake, enabled=True)
    script_portals(transport, fake)
    kind, result = run(monkeypatch, ontap_iscsi.main, transport, fake, {"svm": "svm_xen"})
    assert kind == "exit" and result["changed"] is True
    assert result["iscsi"] == {"svm": "svm_xen", "enabled": True, "target_name": TARGET, "target_alias": "svm_xen", "portals": PORTALS}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_create_check_mode(monkeypatch, transport):
    fake = new_fake(transport)
    script_iscsi_get(transport, fake)
    script_svm_get(transport, fake)
    script_portals(transport, fake)
    kind, result = run(monkeypatch, ontap_iscsi.main, transport, fake, {"svm": "svm_xen"}, check_mode=True)
    assert kind == "exit" and result["changed"] is True and result["iscsi"]["portals"] == PORTALS and fake.writes() == []


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_no_change(monkeypatch, transport):
    fake = new_fake(transport)
    script_iscsi_get(transport, fake, enabled=True)
    script_portals(transport, fake)
    kind, result = run(monkeypatch, ontap_iscsi.main, transport, fake, {"svm": "svm_xen"})
    assert kind == "exit" and result["changed"] is False and fake.writes() == [] and "_svm_uuid" not in result["iscsi"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_start_stopped(monkeypatch, transport):
    fake = new_fake(transport)
    script_iscsi_get(transport, fake, enabled=False)
    if transport == "rest":
        fake.expect("PATCH", "/api/protocols/san/iscsi/services/svm-u", RT, {}, body={"enabled": True})
    else:
        fake.expect("iscsi-service-start", None, vserver="svm_xen")
    script_iscsi_get(transport, fake, enabled=True)
    script_portals(transport, fake)
    kind, result = run(monkeypatch, ontap_iscsi.main, transport, fake, {"svm": "svm_xen"}, diff=True)
    assert kind == "exit" and result["changed"] is True and result["plan"] == ["start iSCSI service of SVM svm_xen"]
    assert result["diff"]["before"]["enabled"] is False and result["diff"]["after"]["enabled"] is True
    assert result["diff"]["after"]["portals"] == ["192.0.2.11:3260", "192.0.2.12:3260"]


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete(monkeypatch, transport):
    fake = new_fake(transport)
    script_iscsi_get(transport, fake, enabled=True)
    if transport == "rest":
        fake.expect("PATCH", "/api/protocols/san/iscsi/services/svm-u", RT, {}, body={"enabled": False})
        fake.expect("DELETE", "/api/protocols/san/iscsi/services/svm-u", RT, {})
    else:
        fake.expect("iscsi-service-stop", None)
        fake.expect("iscsi-service-destroy", None)
    kind, result = run(monkeypatch, ontap_iscsi.main, transport, fake, {"svm": "svm_xen", "state": "absent"})
    assert kind == "exit" and result["changed"] is True


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_delete_when_absent(monkeypatch, transport):
    fake = new_fake(transport)
    script_iscsi_get(transport, fake)
    kind, result = run(monkeypatch, ontap_iscsi.main, transport, fake, {"svm": "svm_xen", "state": "absent"})
    assert kind == "exit" and result["changed"] is False and fake.writes() == []


@pytest.mark.parametrize("svm", ["", "svm*", "!svm_xen"])
def test_svm_name_is_never_a_pattern(monkeypatch, svm):
    fake = new_fake("rest")
    kind, result = run(monkeypatch, ontap_iscsi.main, "rest", fake, {"svm": svm, "state": "absent"})
    assert kind == "fail" and fake.log == [] and result["msg"].startswith("Failed to delete iSCSI service of SVM '%s'" % svm)


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_unknown_svm_refused_while_planning(monkeypatch, transport):
    fake = new_fake(transport)
    script_iscsi_get(transport, fake)
    script_portals(transport, fake)
    script_svm_get(transport, fake, exists=False)
    kind, result = run(monkeypatch, ontap_iscsi.main, transport, fake, {"svm": "svm_xen"})
    assert kind == "fail" and fake.writes() == [] and "SVM_NOT_FOUND SVM svm_xen does not exist" in result["msg"]
