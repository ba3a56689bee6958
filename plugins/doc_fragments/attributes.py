# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Shared attribute documentation for every module of the collection.

    The action group attribute comes with the connection fragments (xen_connection, ontap_connection),
    because a module is in a group exactly when it takes that group's connection options.
    """

    # Modules that change something.
    DOCUMENTATION = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target; makes no write call.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode; secrets are masked.
    support: full
"""

    # What the runner returns for every module that changes something (a RETURN fragment).
    RETURN = r"""
plan:
  description: The planned steps, one line each; in check mode, the steps a real run would take.
  returned: always
  type: list
  elements: str
"""

    # Read-only *_info modules.
    INFO_MODULE = r"""
options: {}
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: This module only reads, so check mode changes nothing about its behaviour.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: N/A
    details: This module only reads.
"""
