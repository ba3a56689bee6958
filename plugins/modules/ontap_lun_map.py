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
  - A LUN that is already mapped to another igroup (for example another pool's) is not mapped again unless
    O(allow_shared_lun=true); the refusal names the other igroups.
  - Names are matched exactly; empty names, names with characters ONTAP does not allow and LUN ids outside 0..4095 are
    refused before any call.
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
options:
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
    description: LUN id the hosts see (0..4095). Unset lets ONTAP pick the lowest free id.
    type: int
  allow_shared_lun:
    description:
      - Map the LUN even when it is already mapped to other igroups. Two pools writing one lvmoiscsi SR destroy it;
        only set this for a LUN that is meant to be shared.
    type: bool
    default: false
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.ontap_object
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: Map the SR LUN to the pool igroup as LUN 0
  vdc.xenpool.ontap_lun_map:
    svm: svm_xen
    volume: xen_sr1
    name: lun0
    igroup: xenpool1
    lun_id: 0

- name: Unmap it
  vdc.xenpool.ontap_lun_map:
    svm: svm_xen
    path: /vol/xen_sr1/lun0
    igroup: xenpool1
    state: absent
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
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
"""

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import ONTAP_OBJECT_SPEC, merge_specs
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan, removal
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.igroup import IgroupService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LunService, lun_path
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun_map import LunMapService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.validate import check_lun_id, check_lun_path, check_name

SPEC: dict[str, dict[str, t.Any]] = merge_specs(ONTAP_OBJECT_SPEC, {
    "path": {"type": "str"},
    "volume": {"type": "str"},
    "name": {"type": "str"},
    "igroup": {"type": "str", "required": True},
    "lun_id": {"type": "int"},
    "allow_shared_lun": {"type": "bool", "default": False},
})


def desired_state(params: dict) -> dict:
    """The wanted map, with the LUN path, igroup name and LUN id checked before any call."""
    check_name("svm", params["svm"], "svm")
    if params["path"] is not None:
        check_lun_path(params["path"])
        path = params["path"]
    else:
        path = lun_path(check_name("volume", params["volume"], "volume"), check_name("LUN", params["name"]))
    return {"lun_path": path, "igroup": check_name("igroup", params["igroup"], "igroup"), "lun_id": check_lun_id(params["lun_id"])}


def read(client: t.Any, params: dict, desired: dict) -> dict:
    """Every map of the LUN (one call: ours and any other igroup's), plus the LUN and igroup when a map is to be made."""
    maps = LunMapService(client).list(params["svm"], lun_path=desired["lun_path"])
    current = next((m for m in maps if m["igroup"] == desired["igroup"]), None)
    state = {"map": current, "others": [m for m in maps if m["igroup"] != desired["igroup"]], "lun": None, "igroup": None}
    if current is None and params["state"] == "present":
        state["lun"] = LunService(client).get(params["svm"], desired["lun_path"])
        state["igroup"] = IgroupService(client).get(params["svm"], desired["igroup"]) if state["lun"] else None
    return state


def plan_map(state: dict, params: dict, desired: dict, check_mode: bool = False) -> Plan:
    current = public(state["map"])
    obj = "%s -> igroup %s" % (desired["lun_path"], desired["igroup"])
    if params["state"] == "absent":
        return removal(current, obj, "unmap")
    if current is not None:
        if desired["lun_id"] is not None and desired["lun_id"] != current["lun_id"]:
            raise PlanError("LUN_ID_FIXED", "the map exists with lun_id %s, requested %s" % (current["lun_id"], desired["lun_id"]),
                            "ONTAP cannot change the id of a map; run vdc.xenpool.ontap_lun_map with state=absent first, then map "
                            "again (hosts lose the path in between) (nothing was changed)")
        return Plan(current, current, changed=False)
    if state["lun"] is None:
        raise PlanError("LUN_NOT_FOUND", "LUN %s does not exist in SVM %s" % (desired["lun_path"], params["svm"]),
                        "Create it with vdc.xenpool.ontap_lun (nothing was changed)")
    if state["igroup"] is None:
        raise PlanError("IGROUP_NOT_FOUND", "igroup %s does not exist in SVM %s" % (desired["igroup"], params["svm"]),
                        "Create it with vdc.xenpool.ontap_igroup (nothing was changed)")
    if state["others"] and not params["allow_shared_lun"]:
        raise PlanError("LUN_MAPPED_ELSEWHERE", "LUN %s is already mapped to igroup %s" % (
            desired["lun_path"], ", ".join(sorted("%s (lun_id %s)" % (m["igroup"], m["lun_id"]) for m in state["others"]))),
            "It may belong to another pool: check the igroup and LUN you gave, or set allow_shared_lun: true for a LUN "
            "that is meant to be shared (nothing was changed)")
    after = {"svm": params["svm"], "lun_path": desired["lun_path"], "lun_uuid": state["lun"]["uuid"], "igroup": desired["igroup"],
             "igroup_uuid": state["igroup"]["uuid"], "lun_id": desired["lun_id"]}
    plan = Plan(None, after, changed=True)
    plan.add("map", obj, "lun_id %s" % ("chosen by ONTAP" if desired["lun_id"] is None else desired["lun_id"]))
    return plan


def apply(client: t.Any, state: dict, params: dict, desired: dict) -> dict | None:
    return public(LunMapService(client).create(params["svm"], desired["lun_path"], desired["igroup"], desired["lun_id"]))


def main() -> None:
    om = OntapModule(SPEC, mutually_exclusive=[("path", "volume"), ("path", "name")], required_together=[("volume", "name")],
                     required_one_of=[("path", "volume")])
    p = om.params
    label = "%s -> %s" % (p["path"] or "/vol/%s/%s" % (p["volume"], p["name"]), p["igroup"])
    om.run("LUN map", label, desired_state, read, plan_map, apply, result_key="lun_map", service=LunMapService, record="map",
           verb="map" if p["state"] == "present" else "unmap")


if __name__ == "__main__":
    main()
