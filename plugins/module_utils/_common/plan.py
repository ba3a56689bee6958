# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The plan of a state module as a value (private to vdc.xenpool).

Every state module reads, plans, and applies unless in check mode. The plan is what check mode
reports, what --diff shows and what apply executes, so the three cannot disagree. Steps carry an
impact so that a VM change can say whether it is live, needs a reboot or needs a power-off, and a
destructive flag so that guards can refuse before the first write.
"""

from __future__ import annotations

import typing as t

LIVE = "live"
REBOOT = "needs reboot"
POWER_OFF = "needs power-off"


class Step(dict):
    """One planned action: {'action', 'object', 'detail', 'impact', 'destructive'} (a dict, so it prints as data)."""

    def __init__(self, action: str, obj: str = "", detail: t.Any = None, impact: str = LIVE, destructive: bool = False,
                 **extra: t.Any) -> None:
        super().__init__(action=action, object=obj, detail=detail, impact=impact, destructive=destructive, **extra)


class Plan:
    """before/after views of the managed fields plus the ordered steps that lead from one to the other."""

    def __init__(self, before: t.Any = None, after: t.Any = None, steps: t.Iterable[Step] | None = None,
                 changed: bool | None = None) -> None:
        self.before = before
        self.after = after
        self.steps: list[Step] = list(steps or [])
        self.notes: list[str] = []  # what the plan cannot know yet, or chose, in words for the operator
        self._changed = changed

    @property
    def changed(self) -> bool:
        if self._changed is not None:
            return self._changed
        return bool(self.steps) or self.before != self.after

    @property
    def destructive(self) -> list[Step]:
        return [s for s in self.steps if s.get("destructive")]

    def add(self, action: str, obj: str = "", detail: t.Any = None, impact: str = LIVE, destructive: bool = False,
            **extra: t.Any) -> Step:
        step = Step(action, obj, detail, impact, destructive, **extra)
        self.steps.append(step)
        return step

    def summary(self) -> list[str]:
        """One line per step, for humans: '<action> <object>: <detail> [impact]'."""
        lines = []
        for s in self.steps:
            text = s["action"] + (" " + s["object"] if s["object"] else "")
            if s["detail"] not in (None, "", {}):
                text += ": %s" % (s["detail"],)
            if s["impact"] != LIVE:
                text += " [%s]" % s["impact"]
            lines.append(text)
        return lines


def removal(current: t.Any, obj: str, action: str = "delete", detail: t.Any = None) -> Plan:
    """The plan of state=absent: nothing to do for an object that is gone, else one destructive step."""
    if current is None:
        return Plan(None, None, changed=False)
    plan = Plan(current, None, changed=True)
    plan.add(action, obj, detail, destructive=True)
    return plan
