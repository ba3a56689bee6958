# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontap_info: same output on both transports and a constant number of calls per object type."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LUN_FIELDS
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import VOLUME_FIELDS
from ansible_collections.vdc.xenpool.plugins.modules import ontap_info
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_harness import new_fake, run
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_fakes import iter_result
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_records import GIB, rest_lun, rest_volume, zapi_lun, zapi_sis, zapi_volume


def script_rest(fake, n):
    fake.expect("GET", "/api/storage/volumes", {"fields": VOLUME_FIELDS},
                {"records": [rest_volume(name="v%d" % i, uuid="v-%d" % i) for i in range(n)]})
    fake.expect("GET", "/api/storage/luns", {"fields": LUN_FIELDS},
                {"records": [rest_lun(path="/vol/v%d/l" % (i // 2), uuid="l-%d" % i) for i in range(2 * n)]})


def script_zapi(fake, n):
    fake.expect("volume-get-iter", None, iter_result("volume-attributes", [zapi_volume(name="v%d" % i, uuid="v-%d" % i) for i in range(n)]))
    fake.expect("sis-get-iter", None, iter_result("sis-status-info", [zapi_sis(name="v%d" % i) for i in range(n)]))
    fake.expect("lun-get-iter", None, iter_result("lun-info", [zapi_lun(path="/vol/v%d/l" % (i // 2), uuid="l-%d" % i) for i in range(2 * n)]))


def gather(monkeypatch, transport, n):
    fake = new_fake(transport)
    (script_rest if transport == "rest" else script_zapi)(fake, n)
    kind, result = run(monkeypatch, ontap_info.main, transport, fake, {"gather_subset": ["volumes", "luns"]}, check_mode=True)
    assert kind == "exit" and result["changed"] is False and fake.writes() == []
    return result


def test_same_output_on_both_transports(monkeypatch):
    rest = gather(monkeypatch, "rest", 3)
    zapi = gather(monkeypatch, "zapi", 3)
    assert rest["ontap_info"] == zapi["ontap_info"]
    assert len(rest["ontap_info"]["luns"]) == 6 and rest["ontap_info"]["volumes"][0]["size_bytes"] == 10 * GIB
    assert rest["ontap_info"]["cluster"]["major"] == 14


def test_call_count_does_not_grow_with_objects(monkeypatch):
    for transport in ("rest", "zapi"):
        small = gather(monkeypatch, transport, 1)["calls"]["total"]
        large = gather(monkeypatch, transport, 50)["calls"]["total"]
        assert small == large == (3 if transport == "rest" else 4)


def test_svm_filter_is_never_a_pattern(monkeypatch):
    fake = new_fake("rest")
    kind, result = run(monkeypatch, ontap_info.main, "rest", fake, {"svm": "svm*", "gather_subset": ["volumes"]})
    assert kind == "fail" and fake.log == [] and "INVALID_NAME svm 'svm*'" in result["msg"]
