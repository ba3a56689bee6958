# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """tags and purge_tags of the Xen modules that manage an object's tags; mirrors TAGS_SPEC in module_utils/_common/argspec.py.

    Every such module reconciles xapi's C(tags) set the same way (add-only unless purged), so it is said once.
    """

    DOCUMENTATION = r"""
options:
  tags:
    description:
      - Tags the object must carry (xapi's C(tags) field). Tags not listed are kept unless O(purge_tags=true).
      - Unset leaves the tags alone.
    type: list
    elements: str
  purge_tags:
    description: Remove the tags that are not in O(tags).
    type: bool
    default: false
"""
