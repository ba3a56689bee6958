# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """state and svm of every ontap_* state module; mirrors ONTAP_OBJECT_SPEC in module_utils/_common/argspec.py.

    A module that says more about either option documents only the description; the rest comes from here.
    """

    DOCUMENTATION = r"""
options:
  state:
    description:
      - Whether the object should exist. V(absent) deletes it; an object that is already absent is left alone.
    type: str
    choices: [present, absent]
    default: present
  svm:
    description:
      - Name of the SVM (vserver) that holds the object, matched exactly.
    type: str
    required: true
"""
