# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Test-only callback of the fault suite: both simulators' write counts at the start of every play.

Lets one ansible-playbook run hold many bad-input cases (one play each) and still tell which case wrote.
"""
from __future__ import annotations

import json
import os
import urllib.request

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: faults_writes
type: aggregate
short_description: the simulators' write counts at each play start (tests/faults only)
description:
  - Reads C(GET <control>/calls) of every simulator in E(FAULTS_CONTROLS) (comma-separated control URLs) when a
    play starts and when the run ends, and writes the list to the file E(FAULTS_WRITES_FILE).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "faults_writes"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._controls = [c for c in os.environ.get("FAULTS_CONTROLS", "").split(",") if c]
        self._path = os.environ.get("FAULTS_WRITES_FILE")
        self._marks = []

    def _mark(self, play):
        counts = []
        for control in self._controls:
            with urllib.request.urlopen(control.rstrip("/") + "/calls", timeout=120) as answer:
                counts.append(int(json.load(answer)["writes"]))
        self._marks.append({"play": play, "writes": counts})
        if self._path:
            with open(self._path, "w", encoding="utf-8") as handle:
                json.dump(self._marks, handle)

    def v2_playbook_on_play_start(self, play):
        self._mark(play.get_name())

    def v2_playbook_on_stats(self, stats):
        self._mark(None)
