# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ONTAP input rules: names are never patterns, iSCSI names follow RFC 3720/3980, sizes and LUN ids are in range."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap import validate

OPERATORS = ["*", "ig*", "!ig", "a|b", "<a", ">a", "a..b", "null", "NULL"]


@pytest.mark.parametrize("kind", sorted(validate.NAME_RULES))
@pytest.mark.parametrize("name", OPERATORS + ["", "   ", None, "a b", "a/b"])
def test_no_name_of_any_kind_can_be_a_query_operator(kind, name):
    with pytest.raises(PlanError) as exc:
        validate.check_name(kind, name)
    assert exc.value.code in ("EMPTY_NAME", "INVALID_NAME") and "nothing was changed" in exc.value.hint


@pytest.mark.parametrize("kind,name", [("volume", "xen_sr1"), ("volume", "_v"), ("LUN", "lun0.img"), ("igroup", "xen_pool_a"),
                                       ("igroup", "pool-a:1"), ("snapshot", "pre_upgrade.2026-01-02+1"), ("svm", "svm-xen.1"),
                                       ("aggregate", "aggr1"), ("snapshot policy", "default-1weekly")])
def test_valid_names_pass_unchanged(kind, name):
    assert validate.check_name(kind, name) == name


@pytest.mark.parametrize("kind,name", [("volume", "1vol"), ("volume", "vol-1"), ("volume", "v" * 204), ("igroup", "i" * 97),
                                       ("snapshot", "a b"), ("LUN", "lun/0")])
def test_platform_character_rules(kind, name):
    with pytest.raises(PlanError, match="INVALID_NAME"):
        validate.check_name(kind, name)


def test_empty_name_message_says_why():
    with pytest.raises(PlanError) as exc:
        validate.check_name("igroup", "")
    assert "would match every igroup of the SVM" in str(exc.value)


@pytest.mark.parametrize("iqn", ["iqn.2026-01.com.example:host1", "IQN.2026-01.COM.Example:Host1", "iqn.1992-08.com.netapp",
                                 "eui.0123456789ABCDEF", "naa.0123456789abcdef", "naa.0123456789abcdef0123456789abcdef"])
def test_iscsi_names_accepted_lower_case(iqn):
    assert validate.check_iqn(iqn) == iqn.lower()


@pytest.mark.parametrize("iqn", ["", "host1", "iqn.2026-13.com.example:h", "iqn.26-01.com.example:h", "iqn.2026-01.:h",
                                 "eui.0123", "naa.0123456789abcdef0", "iqn.2026-01.com.example:" + "x" * 220, "iqn.2026-01.com.ex ample"])
def test_bad_iscsi_names_refused(iqn):
    with pytest.raises(PlanError, match="INVALID_INITIATOR"):
        validate.check_iqn(iqn)


def test_sizes():
    assert validate.check_size("LUN", None, validate.MIN_LUN_BYTES) is None
    assert validate.check_size("LUN", 1.5, validate.MIN_LUN_BYTES) == 1536 * 1024 ** 2
    for bad in (0, -1, 1e-9):
        with pytest.raises(PlanError, match="INVALID_SIZE"):
            validate.check_size("LUN", bad, validate.MIN_LUN_BYTES)
    with pytest.raises(PlanError, match="larger than the largest LUN"):
        validate.check_size("LUN", 200 * 1024, validate.MIN_LUN_BYTES, validate.MAX_LUN_BYTES)


@pytest.mark.parametrize("lun_id,ok", [(None, True), (0, True), (4095, True), (-1, False), (4096, False)])
def test_lun_id_range(lun_id, ok):
    if ok:
        assert validate.check_lun_id(lun_id) == lun_id
    else:
        with pytest.raises(PlanError, match="INVALID_LUN_ID"):
            validate.check_lun_id(lun_id)


@pytest.mark.parametrize("path", ["", "lun0", "/vol/v1", "/vol/v1/q/lun0", "/vol//lun0", "/vol/v1/*", "/vol/v*/lun0", "vol/v1/lun0"])
def test_bad_lun_paths(path):
    with pytest.raises(PlanError):
        validate.check_lun_path(path)


def test_good_lun_path():
    assert validate.check_lun_path("/vol/xen_sr1/lun0") == ("xen_sr1", "lun0")
