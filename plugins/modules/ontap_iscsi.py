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
plan:
  description: The planned steps, one line each (also in check mode).
  returned: always
  type: list
  elements: str
transport:
  description: Which ONTAP API ran, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.cluster import SvmService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.iscsi import IscsiService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lif import LifService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.validate import check_name

SPEC: dict[str, dict[str, t.Any]] = {
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "svm": {"type": "str", "required": True},
    "enabled": {"type": "bool", "default": True},
}


def desired_state(params: dict) -> dict:
    """The wanted service; the SVM name is checked before any call (an empty one would select every SVM's service)."""
    return {"svm": check_name("svm", params["svm"], "svm"), "enabled": params["enabled"]}


def read(client: t.Any, params: dict) -> dict:
    """The service and the SVM's iSCSI portals (the portals are what XenServer logs in to)."""
    service = IscsiService(client).get(params["svm"])
    portals = LifService(client).iscsi_portals(params["svm"]) if params["state"] == "present" else []
    svm = SvmService(client).get(params["svm"]) if service is None and params["state"] == "present" else None
    return {"service": public(service), "raw": service, "portals": portals, "svm": svm}


def plan_iscsi(state: dict, params: dict, desired: dict) -> Plan:
    current = state["service"]
    label = "iSCSI service of SVM " + desired["svm"]
    if params["state"] == "absent":
        plan = Plan(current, None, changed=current is not None)
        if current is not None:
            plan.add("stop and delete" if current.get("enabled") else "delete", label, destructive=True)
        return plan
    before = dict(current, portals=state["portals"]) if current else None
    if current is None:
        if state["svm"] is None:
            raise PlanError("SVM_NOT_FOUND", "SVM %s does not exist" % desired["svm"],
                            "Check svm against vdc.xenpool.ontap_info gather_subset svms (nothing was changed)")
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
    if params["state"] == "absent":
        service.delete(state["raw"])
        return None
    if state["raw"] is None:
        after = service.create(desired["svm"], desired["enabled"])
    else:
        after = service.set_enabled(state["raw"], desired["enabled"])
    return dict(public(after) or {}, portals=state["portals"])


def main() -> None:
    om = OntapModule(SPEC)
    p = om.params
    verb = "manage" if p["state"] == "present" else "delete"
    try:
        desired = desired_state(p)
    except PlanError as err:
        om.fail(verb, "iSCSI service of SVM", p["svm"], err)
    om.converge(verb, "iSCSI service of SVM", p["svm"], read=lambda client: read(client, p),
                plan=lambda state: plan_iscsi(state, p, desired),
                apply=lambda client, state, _plan: apply(client, state, p, desired), result_key="iscsi")


if __name__ == "__main__":
    main()
