#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ontap_iscsi
short_description: Manage the iSCSI service of an SVM and read its target IQN and portals
version_added: 0.1.0
description:
  - Create and start (or stop, or delete) the iSCSI target service of an SVM.
  - Returns the target IQN (XenServer C(device-config:targetIQN)) and the portals C(address:3260) of the
    SVM's iSCSI data LIFs (XenServer C(device-config:target)).
options:
  state:
    description: Whether the service should exist. V(absent) stops it first, then deletes it.
    type: str
    choices: [present, absent]
    default: present
  svm:
    description: SVM name.
    type: str
    required: true
  enabled:
    description: Whether the service should be started.
    type: bool
    default: true
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.attributes.ONTAP_GROUP
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
"""

EXAMPLES = r"""
- name: iSCSI on for the Xen SVM
  vdc.xenpool.ontap_iscsi:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
  register: iscsi

- name: Use the target for the SR
  ansible.builtin.debug:
    msg: "target={{ iscsi.iscsi.portals | map('split', ':') | map('first') | join(',') }} targetIQN={{ iscsi.iscsi.target_name }}"
"""

RETURN = r"""
iscsi:
  description: The service after the task (the prediction in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    svm: {description: "SVM.", type: str, returned: success}
    enabled: {description: "Whether the service runs.", type: bool, returned: success}
    target_name: {description: "Target IQN (null when only predicted).", type: str, returned: success,
                  sample: "iqn.1992-08.com.netapp:sn.0123456789abcdef0123456789abcdef:vs.3"}
    target_alias: {description: "Target alias.", type: str, returned: success}
    portals:
      description: C(address:3260) of every enabled iSCSI data LIF of the SVM, sorted.
      type: list
      elements: str
      returned: success
      sample: ["192.0.2.11:3260", "192.0.2.12:3260"]
transport:
  description: Which ONTAP API ran, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.cluster import LifService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.iscsi import IscsiService
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule

MANAGED = ("enabled",)


def main() -> None:
    om = OntapModule({
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "svm": {"type": "str", "required": True},
        "enabled": {"type": "bool", "default": True},
    })
    p = om.params
    client = om.connect()
    service = IscsiService(client)
    try:
        current = service.get(p["svm"])
        if p["state"] == "absent":
            if current and not om.check_mode:
                service.delete(current)
            om.exit(bool(current), "iscsi", current, None, MANAGED)
        changed = current is None or current["enabled"] != p["enabled"]
        if current is None:
            after = {"svm": p["svm"], "enabled": p["enabled"], "target_name": None, "target_alias": None}
            if not om.check_mode:
                after = service.create(p["svm"], p["enabled"])
        else:
            after = dict(current, enabled=p["enabled"])
            if changed and not om.check_mode:
                after = service.set_enabled(current, p["enabled"])
        after = dict(after or {}, portals=LifService(client).iscsi_portals(p["svm"]))
        om.exit(changed, "iscsi", current, after, MANAGED)
    except OntapError as exc:
        om.fail("manage" if p["state"] == "present" else "delete", "iSCSI service of SVM", p["svm"], exc)


if __name__ == "__main__":
    main()
