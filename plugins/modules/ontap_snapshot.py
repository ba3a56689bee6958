#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ontap_snapshot
short_description: Create or delete a volume snapshot
version_added: 0.1.0
description:
  - Create or delete a named snapshot of an ONTAP volume, for example before a pool upgrade.
  - An existing snapshot is never changed; O(comment) only applies at creation.
options:
  state:
    description: Whether the snapshot should exist.
    type: str
    choices: [present, absent]
    default: present
  svm:
    description: SVM of the volume.
    type: str
    required: true
  volume:
    description: Volume name.
    type: str
    required: true
  name:
    description: Snapshot name.
    type: str
    required: true
  comment:
    description: Comment stored with a new snapshot.
    type: str
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.attributes.ONTAP_GROUP
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
"""

EXAMPLES = r"""
- name: Snapshot before the upgrade
  vdc.xenpool.ontap_snapshot:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    volume: xen_sr1
    name: pre_upgrade
    comment: before XenServer 8.4 rolling upgrade

- name: Drop it afterwards
  vdc.xenpool.ontap_snapshot:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    volume: xen_sr1
    name: pre_upgrade
    state: absent
"""

RETURN = r"""
snapshot:
  description: The snapshot after the task (the prediction in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name: {description: "Snapshot name.", type: str, returned: success}
    uuid: {description: "Snapshot UUID (null when only predicted).", type: str, returned: success}
    volume: {description: "Volume.", type: str, returned: success}
    svm: {description: "SVM.", type: str, returned: success}
    comment: {description: "Comment.", type: str, returned: success}
transport:
  description: Which ONTAP API ran, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import SnapshotService

MANAGED = ("name", "volume")


def main() -> None:
    om = OntapModule({
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "svm": {"type": "str", "required": True},
        "volume": {"type": "str", "required": True},
        "name": {"type": "str", "required": True},
        "comment": {"type": "str"},
    })
    p = om.params
    service = SnapshotService(om.connect())
    label = "%s@%s" % (p["volume"], p["name"])
    try:
        current = service.get(p["svm"], p["volume"], p["name"])
        if p["state"] == "absent":
            if current and not om.check_mode:
                service.delete(current)
            om.exit(bool(current), "snapshot", current, None, MANAGED)
        if current:
            om.exit(False, "snapshot", current, current, MANAGED)
        after = {"name": p["name"], "uuid": None, "volume": p["volume"], "svm": p["svm"], "comment": p["comment"]}
        if not om.check_mode:
            after = service.create(p["svm"], p["volume"], p["name"], p["comment"])
        om.exit(True, "snapshot", None, after, MANAGED)
    except OntapError as exc:
        om.fail("create" if p["state"] == "present" else "delete", "snapshot", label, exc)


if __name__ == "__main__":
    main()
