# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._common.reconcile import diff, map_changes, map_target, set_changes


CURRENT = {
    "name_label": "pool-a",
    "name_description": "old",
    "other_config": {"a": "1", "b": "2"},
    "tags": ["x", "y"],
}


def test_none_is_unmanaged_and_absent_from_diff():
    changes = diff(CURRENT, {"name_label": "pool-a", "name_description": None})
    assert not changes
    assert changes.before == {"name_label": "pool-a"} and changes.after == {"name_label": "pool-a"}


def test_scalar_change():
    changes = diff(CURRENT, {"name_description": "new"})
    assert changes and "name_description" in changes
    assert changes.fields == {"name_description": ("old", "new")}
    assert changes.predicted(CURRENT)["name_description"] == "new"
    assert CURRENT["name_description"] == "old"  # prediction does not mutate current


def test_map_without_purge_only_adds_or_updates():
    changes = diff(CURRENT, {"other_config": {"b": "2"}}, maps=["other_config"])
    assert not changes
    changes = diff(CURRENT, {"other_config": {"c": "3"}}, maps=["other_config"])
    assert changes.after["other_config"] == {"a": "1", "b": "2", "c": "3"}


def test_map_with_purge_removes_keys():
    changes = diff(CURRENT, {"other_config": {"b": "2"}}, maps=["other_config"], purge={"other_config": True})
    assert changes.fields["other_config"] == ({"a": "1", "b": "2"}, {"b": "2"})
    assert map_changes({"a": "1", "b": "2"}, {"b": "3"}, purge=True) == ({"b": "3"}, ["a"])
    assert map_changes({"a": "1"}, {"b": "3"}, purge=False) == ({"b": "3"}, [])
    assert map_changes({"a": "1"}, None, purge=True) == ({}, [])
    assert map_target({"a": "1"}, None) is None


def test_sets_are_order_insensitive():
    assert not diff(CURRENT, {"tags": ["y", "x"]}, sets=["tags"])
    changes = diff(CURRENT, {"tags": ["y", "z"]}, sets=["tags"])
    assert changes.fields["tags"] == (["x", "y"], ["y", "z"])
    keep = diff(CURRENT, {"tags": ["z"]}, sets=["tags"], purge={"tags": False})
    assert keep.after["tags"] == ["x", "y", "z"]
    assert set_changes(["a", "b"], ["b", "c"]) == (["c"], ["a"])
    assert set_changes(["a"], None) == ([], [])


def test_missing_current_means_create():
    changes = diff(None, {"name_label": "new", "other_config": {"k": "v"}}, maps=["other_config"])
    assert changes.fields == {"name_label": (None, "new"), "other_config": ({}, {"k": "v"})}
    assert changes.predicted(None) == {"name_label": "new", "other_config": {"k": "v"}}
