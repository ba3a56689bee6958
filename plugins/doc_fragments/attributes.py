# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """Shared attribute documentation for every module of the collection."""

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

    # Membership of the xen action group.
    XEN_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/vdc.xenpool.xen) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - vdc.xenpool.xen
"""

    # Membership of the ontap action group.
    ONTAP_GROUP = r"""
options: {}
attributes:
  action_group:
    description: Use C(group/vdc.xenpool.ontap) in C(module_defaults) to set defaults for this module.
    support: full
    membership:
      - vdc.xenpool.ontap
"""
