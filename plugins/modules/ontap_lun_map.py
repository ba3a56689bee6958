#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ontap_lun_map
short_description: Map an ONTAP LUN to an igroup
version_added: 0.1.0
description:
  - Map a LUN to the pool's igroup so every host sees it under the same LUN id.
  - Unmapping only happens with O(state=absent).
  - An existing map with a different O(lun_id) is an error; remap by running O(state=absent) first.
  - The LUN and the igroup must exist; a missing one is reported by name and nothing is changed.
options:
  state:
    description: Whether the map should exist.
    type: str
    choices: [present, absent]
    default: present
  svm:
    description: SVM of the LUN and igroup.
    type: str
    required: true
  path:
    description: LUN path C(/vol/<volume>/<name>). Give this or O(volume) and O(name).
    type: str
  volume:
    description: Volume of the LUN (with O(name)).
    type: str
  name:
    description: LUN name (with O(volume)).
    type: str
  igroup:
    description: igroup name.
    type: str
    required: true
  lun_id:
    description: LUN id the hosts see. Unset lets ONTAP pick the lowest free id.
    type: int
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.attributes.ONTAP_GROUP
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
"""

EXAMPLES = r"""
- name: Map the SR LUN to the pool igroup as LUN 0
  vdc.xenpool.ontap_lun_map:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    volume: xen_sr1
    name: lun0
    igroup: xenpool1
    lun_id: 0

- name: Unmap it
  vdc.xenpool.ontap_lun_map:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    path: /vol/xen_sr1/lun0
    igroup: xenpool1
    state: absent
"""

RETURN = r"""
lun_map:
  description: The map after the task (the prediction in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    svm: {description: "SVM.", type: str, returned: success}
    lun_path: {description: "LUN path.", type: str, returned: success}
    lun_uuid: {description: "LUN UUID.", type: str, returned: success}
    igroup: {description: "igroup name.", type: str, returned: success}
    igroup_uuid: {description: "igroup UUID.", type: str, returned: success}
    lun_id: {description: "LUN id (null when ONTAP will choose it in a real run).", type: int, returned: success}
transport:
  description: Which ONTAP API ran, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.igroup import IgroupService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LunService, lun_path
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun_map import LunMapService
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule

MANAGED = ("lun_path", "igroup", "lun_id")


def main() -> None:
    om = OntapModule({
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "svm": {"type": "str", "required": True},
        "path": {"type": "str"},
        "volume": {"type": "str"},
        "name": {"type": "str"},
        "igroup": {"type": "str", "required": True},
        "lun_id": {"type": "int"},
    }, mutually_exclusive=[("path", "volume"), ("path", "name")], required_together=[("volume", "name")],
        required_one_of=[("path", "volume")])
    p = om.params
    path = p["path"] or lun_path(p["volume"], p["name"])
    label = "%s -> %s" % (path, p["igroup"])
    client = om.connect()
    service = LunMapService(client)
    try:
        current = service.get(p["svm"], path, p["igroup"])
        if p["state"] == "absent":
            if current and not om.check_mode:
                service.delete(current)
            om.exit(bool(current), "lun_map", current, None, MANAGED)
        if current is not None:
            if p["lun_id"] is not None and p["lun_id"] != current["lun_id"]:
                om.fail("update", "LUN map", label, "it exists with lun_id %s, requested %s" % (current["lun_id"], p["lun_id"]),
                        "ONTAP cannot change the id of a map; run vdc.xenpool.ontap_lun_map with state=absent first, then map again "
                        "(hosts lose the path in between)")
            om.exit(False, "lun_map", current, current, MANAGED)
        lun = LunService(client).get(p["svm"], path)
        if lun is None:
            om.fail("create", "LUN map", label, "LUN %s does not exist in SVM %s" % (path, p["svm"]), "Create it with vdc.xenpool.ontap_lun")
        igroup = IgroupService(client).get(p["svm"], p["igroup"])
        if igroup is None:
            om.fail("create", "LUN map", label, "igroup %s does not exist in SVM %s" % (p["igroup"], p["svm"]),
                    "Create it with vdc.xenpool.ontap_igroup")
        after = {"svm": p["svm"], "lun_path": path, "lun_uuid": lun["uuid"], "igroup": p["igroup"], "igroup_uuid": igroup["uuid"],
                 "lun_id": p["lun_id"]}
        if not om.check_mode:
            after = service.create(p["svm"], path, p["igroup"], p["lun_id"])
        om.exit(True, "lun_map", None, after, MANAGED)
    except OntapError as exc:
        om.fail("map" if p["state"] == "present" else "unmap", "LUN map", label, exc)


if __name__ == "__main__":
    main()
