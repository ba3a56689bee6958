# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pieces shared by the XenAPI and ONTAP simulators (see the README of the xenpool-simulators package)."""
from __future__ import annotations

from .calllog import CallLog
from .control import ControlAPI
from .faults import FaultPlan
from .httpserver import DualProtocolHTTPServer, WatchedRequestHandler
from .runtime import Watchdog, add_common_arguments, start_watchdog, wait_ready_file, write_private_json, write_ready_file
from .tls import tls_material

__version__ = "0.2.0"

__all__ = [
    "CallLog", "ControlAPI", "DualProtocolHTTPServer", "FaultPlan", "WatchedRequestHandler", "Watchdog",
    "add_common_arguments", "start_watchdog", "tls_material", "wait_ready_file", "write_private_json",
    "write_ready_file",
]
