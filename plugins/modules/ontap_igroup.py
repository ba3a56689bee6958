#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ontap_igroup
short_description: Manage the iSCSI initiator group of a XenServer pool
version_added: 0.1.0
description:
  - Create, update or delete an igroup holding the initiator IQNs of every pool member.
  - IQNs are compared case-insensitively and reported lower-case, as ONTAP stores them.
  - Initiators are only added unless O(purge_initiators=true), which makes the list exact.
  - An igroup that still has LUN maps is not deleted; unmap first with M(vdc.xenpool.ontap_lun_map).
options:
  state:
    description: Whether the igroup should exist.
    type: str
    choices: [present, absent]
    default: present
  svm:
    description: SVM of the igroup.
    type: str
    required: true
  name:
    description: igroup name.
    type: str
    required: true
  initiators:
    description: Initiator IQNs (for XenServer, each host's C(other_config:iscsi_iqn)). Unset leaves members alone.
    type: list
    elements: str
  purge_initiators:
    description: Remove initiators that are not in O(initiators).
    type: bool
    default: false
  os_type:
    description: OS type of the igroup.
    type: str
    default: xen
    choices: [xen, linux, vmware, windows, hyper_v, solaris, aix, hpux, netware, openvms]
  protocol:
    description: Protocol of the igroup; fixed at creation.
    type: str
    default: iscsi
    choices: [iscsi, mixed]
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.attributes.ONTAP_GROUP
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
"""

EXAMPLES = r"""
- name: One igroup for the whole pool
  vdc.xenpool.ontap_igroup:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    name: xenpool1
    initiators:
      - iqn.2026-01.com.example:xen1
      - iqn.2026-01.com.example:xen2
    purge_initiators: true

- name: Remove the igroup
  vdc.xenpool.ontap_igroup:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    name: xenpool1
    state: absent
"""

RETURN = r"""
igroup:
  description: The igroup after the task (the prediction in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name: {description: "igroup name.", type: str, returned: success}
    uuid: {description: "igroup UUID (null when only predicted).", type: str, returned: success}
    svm: {description: "SVM.", type: str, returned: success}
    os_type: {description: "OS type.", type: str, returned: success}
    protocol: {description: "Protocol.", type: str, returned: success}
    initiators: {description: "Lower-case initiator names, sorted.", type: list, elements: str, returned: success}
initiators_added:
  description: Initiators added (or that would be added in check mode).
  returned: when state is present and the igroup existed
  type: list
  elements: str
initiators_removed:
  description: Initiators removed because of O(purge_initiators).
  returned: when state is present and the igroup existed
  type: list
  elements: str
transport:
  description: Which ONTAP API ran, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.igroup import IgroupService, norm_initiator
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun_map import LunMapService
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule

MANAGED = ("os_type", "protocol", "initiators")


def main() -> None:
    om = OntapModule({
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "svm": {"type": "str", "required": True},
        "name": {"type": "str", "required": True},
        "initiators": {"type": "list", "elements": "str"},
        "purge_initiators": {"type": "bool", "default": False},
        "os_type": {"type": "str", "default": "xen", "choices": ["xen", "linux", "vmware", "windows", "hyper_v", "solaris", "aix", "hpux",
                                                                 "netware", "openvms"]},
        "protocol": {"type": "str", "default": "iscsi", "choices": ["iscsi", "mixed"]},
    })
    p = om.params
    client = om.connect()
    service = IgroupService(client)
    wanted = None if p["initiators"] is None else sorted({norm_initiator(i) for i in p["initiators"]})
    try:
        current = service.get(p["svm"], p["name"])
        if p["state"] == "absent":
            if current:
                maps = LunMapService(client).list(p["svm"], igroup=p["name"])
                if maps:
                    om.fail("delete", "igroup", p["name"], "still mapped to %s" % ", ".join(sorted(m["lun_path"] for m in maps)),
                            "Unmap first with vdc.xenpool.ontap_lun_map state=absent (nothing was changed)")
                if not om.check_mode:
                    service.delete(current)
            om.exit(bool(current), "igroup", current, None, MANAGED)
        if current is None:
            after = {"name": p["name"], "uuid": None, "svm": p["svm"], "os_type": p["os_type"], "protocol": p["protocol"],
                     "initiators": wanted or []}
            if not om.check_mode:
                after = service.create(p["svm"], p["name"], p["os_type"], p["protocol"], wanted or [])
            om.exit(True, "igroup", None, after, MANAGED)
        if current["protocol"] != p["protocol"]:
            om.fail("update", "igroup", p["name"], "protocol is %s, requested %s" % (current["protocol"], p["protocol"]),
                    "the protocol is fixed at creation; delete and recreate the igroup")
        have = set(current["initiators"])
        add = sorted(set(wanted or []) - have)
        remove = sorted(have - set(wanted)) if wanted is not None and p["purge_initiators"] else []
        os_change = current["os_type"] != p["os_type"]
        changed = bool(add or remove or os_change)
        after = dict(current, os_type=p["os_type"], initiators=sorted((have - set(remove)) | set(add)))
        if changed and not om.check_mode:
            service.remove_initiators(current, remove)
            service.add_initiators(current, add)
            if os_change:
                service.set_os_type(current, p["os_type"])
            after = service.get(p["svm"], p["name"])
        om.exit(changed, "igroup", current, after, MANAGED, initiators_added=add, initiators_removed=remove)
    except OntapError as exc:
        om.fail("manage" if p["state"] == "present" else "delete", "igroup", p["name"], exc)


if __name__ == "__main__":
    main()
