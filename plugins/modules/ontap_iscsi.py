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
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
options:
  state:
    description: Whether the service should exist. V(absent) stops it first, then deletes it.
  enabled:
    description: Whether the service should be started.
    type: bool
    default: true
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.ontap_object
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: iSCSI on for the Xen SVM
  vdc.xenpool.ontap_iscsi:
    svm: svm_xen
  register: iscsi

- name: Use the target for the SR
  ansible.builtin.debug:
    msg: "target={{ iscsi.iscsi.portals | map('split', ':') | map('first') | join(',') }} targetIQN={{ iscsi.iscsi.target_name }}"
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
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
"""

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import ONTAP_OBJECT_SPEC, merge_specs
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan, removal
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.cluster import SvmService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.iscsi import IscsiService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lif import LifService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.validate import check_name, check_parent

SPEC: dict[str, dict[str, t.Any]] = merge_specs(ONTAP_OBJECT_SPEC, {
    "enabled": {"type": "bool", "default": True},
})


def desired_state(params: dict) -> dict:
    """The wanted service; the SVM name is checked before any call (an empty one would select every SVM's service)."""
    return {"svm": check_name("svm", params["svm"], "svm"), "enabled": params["enabled"]}


def read(client: t.Any, params: dict, desired: dict) -> dict:
    """The service and the SVM's iSCSI portals (the portals are what XenServer logs in to)."""
    service = IscsiService(client).get(params["svm"])
    portals = LifService(client).iscsi_portals(params["svm"]) if params["state"] == "present" else []
    svm = SvmService(client).get(params["svm"]) if service is None and params["state"] == "present" else None
    return {"service": public(service), "raw": service, "portals": portals, "svm": svm}


def plan_iscsi(state: dict, params: dict, desired: dict, check_mode: bool = False) -> Plan:
    current = state["service"]
    label = "iSCSI service of SVM " + desired["svm"]
    if params["state"] == "absent":
        return removal(current, label, "stop and delete" if current and current.get("enabled") else "delete")
    before = dict(current, portals=state["portals"]) if current else None
    if current is None:
        check_parent(state["svm"], "svm", desired["svm"])
        plan = Plan(None, {"svm": desired["svm"], "enabled": desired["enabled"], "target_name": None, "target_alias": None,
                           "portals": state["portals"]}, changed=True)
        plan.add("create", label, "started" if desired["enabled"] else "stopped")
        return plan
    plan = Plan(before, dict(before, enabled=desired["enabled"]), changed=current["enabled"] != desired["enabled"])
    if plan.changed:
        plan.add("start" if desired["enabled"] else "stop", label)
    return plan


def apply(client: t.Any, state: dict, params: dict, desired: dict) -> dict | None:
    service = IscsiService(client)
    if state["raw"] is None:
        after = service.create(desired["svm"], desired["enabled"])
    else:
        after = service.set_enabled(state["raw"], desired["enabled"])
    return dict(public(after) or {}, portals=state["portals"])


def main() -> None:
    om = OntapModule(SPEC)
    om.run("iSCSI service of SVM", om.params["svm"], desired_state, read, plan_iscsi, apply, result_key="iscsi",
           service=IscsiService, record="raw")


if __name__ == "__main__":
    main()
