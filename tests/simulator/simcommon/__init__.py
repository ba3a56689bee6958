# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pieces shared by the XenAPI and ONTAP simulators (see tests/simulator/README.md)."""
from __future__ import annotations

from .calllog import CallLog
from .control import ControlAPI
from .faults import FaultPlan
from .httpserver import DualProtocolHTTPServer
from .runtime import add_common_arguments, lifetime_watchdog, wait_ready_file, write_ready_file
from .tls import tls_material

__all__ = [
    "CallLog", "ControlAPI", "DualProtocolHTTPServer", "FaultPlan", "add_common_arguments",
    "lifetime_watchdog", "tls_material", "wait_ready_file", "write_ready_file",
]
