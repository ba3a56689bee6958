# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Wait options of modules that start long operations; mirrors WAIT_SPEC in module_utils/_common/argspec.py."""

    DOCUMENTATION = r"""
options:
  wait:
    description:
      - Whether to wait until the operation has finished on the server before returning.
      - With V(false) the module returns once the operation has been started.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait for the operation when O(wait=true).
      - When it expires the module fails; the operation may still finish on the server.
    type: int
    default: 600
"""

    # Modules that always wait for what they start (WAIT_TIMEOUT_SPEC).
    TIMEOUT = r"""
options:
  wait_timeout:
    description:
      - Seconds to wait for each XenAPI task the module starts (and for anything else its description says it waits for).
      - When it expires the module fails and says which task it was; the task may still finish on the server.
    type: int
    default: 600
"""
