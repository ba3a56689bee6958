# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    """other_config and purge_other_config of the Xen modules; mirrors OTHER_CONFIG_SPEC in module_utils/_common/argspec.py.

    The pool, network, sr and vm modules reconcile xapi's C(other_config) map the same way (listed keys set,
    others kept unless purged, the collection's own keys never purged), so it is said once.
    """

    DOCUMENTATION = r"""
options:
  other_config:
    description:
      - Keys of the object's C(other_config) map and their values. Keys not listed are kept unless O(purge_other_config=true).
      - Unset leaves the map alone.
    type: dict
  purge_other_config:
    description:
      - Remove the C(other_config) keys that are not in O(other_config).
      - Some keys survive a purge, even with O(other_config) empty, because the collection or the VM's installation
        needs them. These are the C(vdc.xenpool.owner) marker of an SR or a network the collection created (and an SR's
        C(vdc.xenpool.pool)), and a VM's C(xenpool_*), C(install-*), C(mac_seed), C(base_template_name) and
        C(import_task) keys. On a pool, every key not listed is removed.
    type: bool
    default: false
"""
