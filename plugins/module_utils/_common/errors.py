# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The one error root of the collection (private to vdc.xenpool).

Every foreseeable failure below the module layer is raised as a subclass of CollectionError, with a
machine-readable `code`, the server's `params` when there are any, and a `hint` that tells the
user what to do. The module base turns all of them into one message shape:
`Failed to <verb> <noun> '<name>': <CODE> <params>. <hint>`.
"""

from __future__ import annotations

import typing as t


class CollectionError(Exception):
    """Base of every error the collection raises on purpose."""

    code: str = ""
    params: t.Sequence[t.Any] | None = None

    @property
    def hint(self) -> str:
        return ""


class PlanError(CollectionError):
    """A refusal decided while planning, before any write: bad input, a guard, an impossible change."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        self.code = code
        self.message = message
        self._hint = hint
        super().__init__(str(self))

    def __str__(self) -> str:
        return "%s %s" % (self.code, self.message) if self.message else self.code

    @property
    def hint(self) -> str:
        return self._hint


def failure_message(verb: str, noun: str, name: t.Any, err: BaseException) -> str:
    """`Failed to <verb> <noun> '<name>': <CODE> <params>` followed by what to do about it."""
    msg = "Failed to %s %s '%s': %s" % (verb, noun, name, err)
    hint = getattr(err, "hint", "")
    return "%s. %s" % (msg, hint) if hint else msg
