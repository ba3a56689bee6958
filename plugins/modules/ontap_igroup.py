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
  - The name is matched exactly. An empty name, a name with characters ONTAP does not allow in igroup names (such as V(*))
    and initiators that are not iSCSI names (RFC 3720 C(iqn.), C(eui.), C(naa.)) are refused before any call.
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
options:
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
  - vdc.xenpool.ontap_object
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: One igroup for the whole pool
  vdc.xenpool.ontap_igroup:
    svm: svm_xen
    name: xenpool1
    initiators:
      - iqn.2026-01.com.example:xen1
      - iqn.2026-01.com.example:xen2
    purge_initiators: true

- name: Remove the igroup
  vdc.xenpool.ontap_igroup:
    svm: svm_xen
    name: xenpool1
    state: absent
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
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
  returned: when state is present
  type: list
  elements: str
initiators_removed:
  description: Initiators removed because of O(purge_initiators).
  returned: when state is present
  type: list
  elements: str
plan:
  description: The planned steps, one line each, e.g. the initiators added and removed (also in check mode).
  sample: ["add initiators to igroup xenpool1: iqn.2026-01.com.example:xen3"]
"""

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import ONTAP_OBJECT_SPEC, merge_specs
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan, removal
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.cluster import SvmService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.igroup import IgroupService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun_map import LunMapService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.validate import check_iqn, check_name, check_parent

OS_TYPES = ["xen", "linux", "vmware", "windows", "hyper_v", "solaris", "aix", "hpux", "netware", "openvms"]
SPEC: dict[str, dict[str, t.Any]] = merge_specs(ONTAP_OBJECT_SPEC, {
    "name": {"type": "str", "required": True},
    "initiators": {"type": "list", "elements": "str"},
    "purge_initiators": {"type": "bool", "default": False},
    "os_type": {"type": "str", "default": "xen", "choices": OS_TYPES},
    "protocol": {"type": "str", "default": "iscsi", "choices": ["iscsi", "mixed"]},
})


def desired_state(params: dict) -> dict:
    """The wanted igroup: checked name, initiators lower-cased and checked (None leaves members alone)."""
    check_name("svm", params["svm"], "svm")
    check_name("igroup", params["name"])
    wanted = None if params["initiators"] is None else sorted({check_iqn(i) for i in params["initiators"]})
    return {"os_type": params["os_type"], "protocol": params["protocol"], "initiators": wanted}


def read(client: t.Any, params: dict, desired: dict) -> dict:
    """The igroup, and its maps when it would be deleted (a mapped igroup is never deleted)."""
    igroup = IgroupService(client).get(params["svm"], params["name"])
    maps = LunMapService(client).list(params["svm"], igroup=params["name"]) if igroup and params["state"] == "absent" else []
    svm = SvmService(client).get(params["svm"]) if igroup is None and params["state"] == "present" else None
    return {"igroup": igroup, "maps": maps, "svm": svm}


def membership(current: dict, desired: dict, purge: bool) -> tuple[list[str], list[str]]:
    """(initiators to add, initiators to remove): add-only unless purge makes the list exact."""
    have = set(current["initiators"])
    wanted = desired["initiators"]
    add = sorted(set(wanted or []) - have)
    remove = sorted(have - set(wanted)) if wanted is not None and purge else []
    return add, remove


def plan_igroup(state: dict, params: dict, desired: dict, check_mode: bool = False) -> Plan:
    current = public(state["igroup"])
    obj = "igroup " + params["name"]
    if params["state"] == "absent":
        if state["maps"]:
            raise PlanError("IGROUP_MAPPED", "igroup %s is still mapped to %s" % (params["name"], ", ".join(sorted(m["lun_path"] for m in state["maps"]))),
                            "Unmap first with vdc.xenpool.ontap_lun_map state=absent (nothing was changed)")
        return removal(current, obj)
    if current is None:
        check_parent(state["svm"], "svm", params["svm"])
        plan = Plan(None, {"name": params["name"], "uuid": None, "svm": params["svm"], "os_type": desired["os_type"],
                           "protocol": desired["protocol"], "initiators": desired["initiators"] or []}, changed=True)
        plan.add("create", obj, "os_type %s, protocol %s, initiators: %s" % (desired["os_type"], desired["protocol"],
                                                                             ", ".join(desired["initiators"] or []) or "none"))
        return plan
    if current["protocol"] != desired["protocol"]:
        raise PlanError("PROTOCOL_FIXED", "igroup %s has protocol %s, requested %s" % (params["name"], current["protocol"], desired["protocol"]),
                        "The protocol is fixed at creation; delete and recreate the igroup (nothing was changed)")
    add, remove = membership(current, desired, params["purge_initiators"])
    after = dict(current, os_type=desired["os_type"], initiators=sorted((set(current["initiators"]) - set(remove)) | set(add)))
    plan = Plan(current, after, changed=bool(add or remove or current["os_type"] != desired["os_type"]))
    if remove:
        plan.add("remove initiators from", obj, ", ".join(remove), destructive=True, initiators=remove)
    if add:
        plan.add("add initiators to", obj, ", ".join(add), initiators=add)
    if current["os_type"] != desired["os_type"]:
        plan.add("set", obj, "os_type: %s -> %s" % (current["os_type"], desired["os_type"]))
    return plan


def membership_result(plan: Plan) -> dict:
    """initiators_added / initiators_removed, read back from the plan's steps."""
    steps = {s["action"]: s.get("initiators", []) for s in plan.steps}
    return {"initiators_added": steps.get("add initiators to", []), "initiators_removed": steps.get("remove initiators from", [])}


def apply(client: t.Any, state: dict, params: dict, desired: dict) -> dict | None:
    service = IgroupService(client)
    current = state["igroup"]
    if current is None:
        return public(service.create(params["svm"], params["name"], desired["os_type"], desired["protocol"], desired["initiators"] or []))
    add, remove = membership(current, desired, params["purge_initiators"])
    service.remove_initiators(current, remove)
    service.add_initiators(current, add)
    if current["os_type"] != desired["os_type"]:
        service.set_os_type(current, desired["os_type"])
    return public(service.get(params["svm"], params["name"]))


def main() -> None:
    om = OntapModule(SPEC)
    om.run("igroup", om.params["name"], desired_state, read, plan_igroup, apply, result_key="igroup", service=IgroupService,
           record="igroup", extra=membership_result if om.params["state"] == "present" else None)


if __name__ == "__main__":
    main()
