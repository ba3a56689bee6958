# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import yaml

from ansible_collections.vdc.xenpool.plugins.doc_fragments.other_config import ModuleDocFragment as OtherConfigFragment
from ansible_collections.vdc.xenpool.plugins.doc_fragments.wait import ModuleDocFragment as WaitFragment
from ansible_collections.vdc.xenpool.plugins.doc_fragments.xen_connection import ModuleDocFragment as XenFragment
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import (
    OTHER_CONFIG_SPEC,
    WAIT_SPEC,
    XEN_CONNECTION_SPEC,
    merge_specs,
    xen_client_kwargs,
)


def _check_fragment(fragment, spec):
    options = yaml.safe_load(fragment.DOCUMENTATION)["options"]
    assert set(options) == set(spec)
    for name, entry in spec.items():
        doc = options[name]
        assert doc["type"] == entry["type"], name
        assert doc.get("default") == entry.get("default"), name
        assert bool(doc.get("required", False)) == bool(entry.get("required", False)), name
        assert sorted(doc.get("aliases", [])) == sorted(entry.get("aliases", [])), name


def test_fragments_match_specs():
    _check_fragment(XenFragment, XEN_CONNECTION_SPEC)
    _check_fragment(WaitFragment, WAIT_SPEC)


def test_password_is_no_log():
    assert XEN_CONNECTION_SPEC["password"]["no_log"] is True


def test_merge_specs_copies():
    merged = merge_specs(XEN_CONNECTION_SPEC, {"timeout": {"type": "int", "default": 5}})
    merged["hostname"]["aliases"].append("oops")
    assert "oops" not in XEN_CONNECTION_SPEC["hostname"]["aliases"]
    assert merged["timeout"]["default"] == 5 and XEN_CONNECTION_SPEC["timeout"]["default"] == 60


def test_client_kwargs():
    params = {"hostname": "h", "username": "root", "password": None, "validate_certs": False, "ca_path": None, "timeout": 7, "other": 1}
    assert xen_client_kwargs(params) == {
        "hostname": "h", "username": "root", "password": "", "validate_certs": False, "ca_path": None, "timeout": 7,
    }


def test_other_config_fragment_matches_spec():
    _check_fragment(OtherConfigFragment, OTHER_CONFIG_SPEC)
