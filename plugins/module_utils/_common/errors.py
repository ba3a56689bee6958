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
    """Base of every error the collection raises on purpose.

    The hint is looked up in one way for every error: the hint its raiser gave (`_hint`), else the
    entry for its code in the class's `hints` table (what to do about a server's error code), else
    the class's `default_hint`. Subclasses only declare their table and default.
    """

    code: str = ""
    params: t.Sequence[t.Any] | None = None
    hints: t.Mapping[str, str] = {}
    default_hint: str = ""
    _hint: str = ""

    @property
    def hint(self) -> str:
        return self._hint or self.hints.get(self.code, self.default_hint)


class PlanError(CollectionError):
    """A refusal decided while planning, before any write: bad input, a guard, an impossible change."""

    def __init__(self, code: str, message: str, hint: str = "", params: t.Sequence[t.Any] | None = None) -> None:
        self.code = code
        self.message = message
        self._hint = hint
        if params is not None:
            self.params = list(params)
        super().__init__(str(self))

    def __str__(self) -> str:
        return "%s %s" % (self.code, self.message) if self.message else self.code


def failure_message(verb: str, noun: str, name: t.Any, err: BaseException) -> str:
    """`Failed to <verb> <noun> '<name>': <CODE> <params>` followed by what to do about it."""
    msg = "Failed to %s %s '%s': %s" % (verb, noun, name, err)
    hint = getattr(err, "hint", "")
    return "%s. %s" % (msg, hint) if hint else msg
