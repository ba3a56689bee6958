# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Diff helpers that encode the collection's idempotency rules (private to vdc.xenpool).

- A desired value of None means "not managed": it is never compared and never shown in the diff.
- Maps lose keys only when the caller asks for a purge (purge_<map> options).
- Sets and lists of scalars compare without regard to order.
The result carries `before` and `after` limited to managed fields, which is what `--diff` shows.
"""

from __future__ import annotations

import copy
import typing as t


class Changes:
    """What differs between current and desired, plus the before/after views for --diff."""

    def __init__(self) -> None:
        self.fields: dict[str, tuple[t.Any, t.Any]] = {}
        self.before: dict[str, t.Any] = {}
        self.after: dict[str, t.Any] = {}

    def __bool__(self) -> bool:
        return bool(self.fields)

    def __contains__(self, name: str) -> bool:
        return name in self.fields

    def record(self, name: str, old: t.Any, new: t.Any) -> None:
        self.before[name] = old
        self.after[name] = new
        if old != new:
            self.fields[name] = (old, new)

    def predicted(self, current: dict[str, t.Any] | None) -> dict[str, t.Any]:
        """Current state with the changes applied: the check-mode `after` of a whole object."""
        result = copy.deepcopy(current) if current else {}
        result.update(copy.deepcopy(self.after))
        return result


def map_target(current: dict[str, t.Any] | None, desired: dict[str, t.Any] | None, purge: bool = False) -> dict[str, t.Any] | None:
    """The map the object should end up with; None when unmanaged."""
    if desired is None:
        return None
    if purge:
        return dict(desired)
    merged = dict(current or {})
    merged.update(desired)
    return merged


def map_changes(
    current: dict[str, t.Any] | None, desired: dict[str, t.Any] | None, purge: bool = False
) -> tuple[dict[str, t.Any], list[str]]:
    """(keys to set with their values, keys to remove) to go from current to desired."""
    if desired is None:
        return {}, []
    current = current or {}
    to_set = {k: v for k, v in desired.items() if k not in current or current[k] != v}
    to_remove = sorted(k for k in current if k not in desired) if purge else []
    return to_set, to_remove


def set_changes(current: t.Iterable[t.Any] | None, desired: t.Iterable[t.Any] | None, purge: bool = True) -> tuple[list[t.Any], list[t.Any]]:
    """(members to add, members to remove), order-insensitive; without purge nothing is removed."""
    if desired is None:
        return [], []
    have = list(dict.fromkeys(current or []))
    want = list(dict.fromkeys(desired))
    add = [x for x in want if x not in have]
    remove = [x for x in have if x not in want] if purge else []
    return add, remove


def diff(
    current: dict[str, t.Any] | None,
    desired: dict[str, t.Any],
    maps: t.Iterable[str] = (),
    sets: t.Iterable[str] = (),
    purge: dict[str, bool] | None = None,
) -> Changes:
    """Compare desired (None values skipped) with current; `maps`/`sets` name fields with special rules."""
    maps = set(maps)
    sets = set(sets)
    purge = purge or {}
    current = current or {}
    changes = Changes()
    for name, want in desired.items():
        if want is None:
            continue
        have = current.get(name)
        if name in maps:
            changes.record(name, dict(have or {}), map_target(have, want, purge.get(name, False)))
        elif name in sets:
            have_list = sorted(have or [], key=str)
            add, remove = set_changes(have_list, want, purge.get(name, True))
            target = sorted([x for x in have_list if x not in remove] + add, key=str)
            changes.record(name, have_list, target)
        else:
            changes.record(name, have, want)
    return changes
