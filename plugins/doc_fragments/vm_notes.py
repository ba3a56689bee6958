# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """The check-mode notes of the VM modules (vm, vms): a RETURN fragment only."""

    DOCUMENTATION = r"""
options: {}
"""

    RETURN = r"""
notes:
  description:
    - In check mode, the SRs and networks the VMs need that do not exist yet because an earlier step of the same run
      (the storage or network step of C(playbooks/site.yml)) creates them; the plan is built on them and the real run
      checks them.
  returned: in check mode, when something does not exist yet
  type: list
  elements: str
"""
