# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Conversions every layer needs (private to vdc.xenpool): APIs send numbers as strings, users give GiB."""

from __future__ import annotations

import typing as t

MIB = 1024 ** 2
GIB = 1024 ** 3


def to_int(value: t.Any, default: int | None = None) -> int | None:
    """int(value), or default for None, '' and anything that is not a number (XenAPI and ZAPI send strings)."""
    if value is None or value == "":
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return default


def given(fields: dict[str, t.Any] | None) -> dict[str, t.Any]:
    """Only the fields that have a value: a query filter left unset is not sent at all, because ONTAP
    would read an empty value as a pattern rather than as "no filter"."""
    return {key: value for key, value in (fields or {}).items() if value not in (None, "", {}, [])}


def gib_to_bytes(size_gib: float | None) -> int | None:
    """Sizes are given in GiB (size_gib) and handled in bytes everywhere below the module."""
    if size_gib is None:
        return None
    return int(round(size_gib * GIB))
