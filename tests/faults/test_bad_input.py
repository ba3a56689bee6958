# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every bad input of the catalogue (cases/*.yml) fails clearly and changes nothing.

A case runs the real module (or role) through ansible-playbook against both simulators and asserts:
the task failed; the message holds the case's fragments (the object's name, the cause) in the house
shape; no traceback, no password; and neither simulator's call log gained a write call.

Cases run in batches, one play each in one ansible-playbook run (ansible's start-up dominates a
case's cost); the faults_writes callback records both simulators' write counts at every play start.
A case that wrote ends its batch: the simulators are restored to the baseline and the next case
starts a new batch, so no case ever runs on another case's damage.
"""
from __future__ import annotations

import json
import os

import pytest
import yaml

from catalogue import SHAPE, TRACEBACK_MARKERS, load_cases, params, play_for

HERE = os.path.dirname(os.path.abspath(__file__))
BATCH = 15


class Outcome:
    """What one case did: its play's results, its failure messages, the write counts around it."""

    def __init__(self, result, play: int, before: list[int], after: list[int]) -> None:
        self.failures = result.failures(play)
        self.message = result.failure_text(play)
        self.text = json.dumps(result.plays()[play]) + result.stderr if play < len(result.plays()) else result.stderr
        self.before = before
        self.after = after


class Batches:
    """Runs the selected cases in pytest's order, a batch at a time, on demand."""

    def __init__(self, world, order: list[dict]) -> None:
        self.world = world
        self.order = order
        self.outcomes: dict[str, Outcome] = {}

    def outcome(self, case: dict) -> Outcome:
        if case["id"] not in self.outcomes:
            ids = [c["id"] for c in self.order]
            start = ids.index(case["id"]) if case["id"] in ids else None
            self._run(self.order[start:start + BATCH] if start is not None else [case])
        if case["id"] not in self.outcomes:  # the batch broke before this case: run it alone
            self._run([case])
        return self.outcomes[case["id"]]

    def _run(self, batch: list[dict]) -> None:
        self.world.ensure_baseline()
        path = os.path.join(self.world.root, "cases-%s.yml" % batch[0]["id"])
        marks_path = path + ".writes.json"
        with open(path, "w", encoding="utf-8") as handle:
            yaml.safe_dump([play_for(case) for case in batch], handle, sort_keys=False)
        if os.path.exists(marks_path):
            os.unlink(marks_path)
        env = {"ANSIBLE_CALLBACK_PLUGINS": os.path.join(HERE, "callback_plugins"),
               "ANSIBLE_CALLBACKS_ENABLED": "faults_writes",
               "FAULTS_CONTROLS": ",".join([self.world.xapi.ready["control"], self.world.ontap.ready["control"]]),
               "FAULTS_WRITES_FILE": marks_path}
        result = self.world.run_playbook([path], env=env)
        with open(path + ".out.json", "w", encoding="utf-8") as handle:  # for a human after FAULTS_KEEP=1
            handle.write(result.stdout)
        marks = []
        if os.path.exists(marks_path):
            with open(marks_path, encoding="utf-8") as handle:
                marks = [mark["writes"] for mark in json.load(handle)]
        for index, case in enumerate(batch):
            if index + 1 >= len(marks):
                break
            self.outcomes[case["id"]] = Outcome(result, index, marks[index], marks[index + 1])
            if marks[index + 1] != marks[index]:
                self.world.restore()  # the rest of this batch ran on this case's damage: run it again
                break


@pytest.fixture(scope="module")
def batches(world, request):
    selected = [item.callspec.params["case"] for item in request.session.items
                if getattr(item, "originalname", "") == "test_bad_input" and hasattr(item, "callspec")]
    return Batches(world, selected)


def _holds(message: str, fragment) -> bool:
    """A fragment is a string, or a list of alternatives (any one will do); case-insensitive."""
    options = fragment if isinstance(fragment, list) else [fragment]
    return any(str(option).lower() in message.lower() for option in options)


@pytest.mark.parametrize("case", params())
def test_bad_input(world, batches, case):
    outcome = batches.outcome(case)
    message = outcome.message

    assert outcome.failures, "the task did not fail:\n%s" % outcome.text[-3000:]
    for marker in TRACEBACK_MARKERS:
        assert marker not in outcome.text, "a traceback instead of a message:\n%s" % outcome.text[-3000:]
    for secret in world.secrets() + list(case.get("secrets", [])):
        assert secret not in outcome.text, "a secret was shown"
    assert outcome.after == outcome.before, "write calls were made (xapi, ontap: before %s, after %s); message: %s" % (
        outcome.before, outcome.after, message)
    if case.get("shape", True):
        assert SHAPE.search(message), "not the house message shape: %s" % message
    missing = [fragment for fragment in case["expect"] if not _holds(message, fragment)]
    assert not missing, "the message lacks %s: %s" % (missing, message)


@pytest.mark.fast
def test_catalogue_is_big_enough_and_covers_every_module():
    """The catalogue grows with the collection: every module and role has cases, 60 at least."""
    cases = load_cases()
    assert len(cases) >= 60
    covered = {case.get("module") or case.get("role") for case in cases}
    repo = os.path.dirname(os.path.dirname(HERE))
    modules = {name[:-3] for name in os.listdir(os.path.join(repo, "plugins", "modules")) if name.endswith(".py")}
    roles = set(os.listdir(os.path.join(repo, "roles")))
    missing = sorted((modules | roles) - covered)
    assert not missing, "no bad-input case for: %s" % ", ".join(missing)
