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
  - Names are matched exactly; empty names and names with characters ONTAP does not allow (such as V(*)) are refused
    before any call.
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
options:
  volume:
    description: Volume name.
    type: str
    required: true
  name:
    description: Snapshot name.
    type: str
    required: true
  comment:
    description: Comment stored with a new snapshot (at most 255 characters).
    type: str
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.ontap_object
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: Snapshot before the upgrade
  vdc.xenpool.ontap_snapshot:
    svm: svm_xen
    volume: xen_sr1
    name: pre_upgrade
    comment: before XenServer 8.4 rolling upgrade

- name: Drop it afterwards
  vdc.xenpool.ontap_snapshot:
    svm: svm_xen
    volume: xen_sr1
    name: pre_upgrade
    state: absent
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
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
"""

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import ONTAP_OBJECT_SPEC, merge_specs
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan, removal
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.snapshot import SnapshotService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.validate import check_name, check_parent, check_text
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import VolumeService

SPEC: dict[str, dict[str, t.Any]] = merge_specs(ONTAP_OBJECT_SPEC, {
    "volume": {"type": "str", "required": True},
    "name": {"type": "str", "required": True},
    "comment": {"type": "str"},
})


def desired_state(params: dict) -> dict:
    """The wanted snapshot; the names are checked before any call because a snapshot name is never a pattern."""
    return {"svm": check_name("svm", params["svm"], "svm"), "volume": check_name("volume", params["volume"], "volume"),
            "name": check_name("snapshot", params["name"]), "comment": check_text(params["comment"], 255, "comment")}


def read(client: t.Any, params: dict, desired: dict) -> dict:
    """The snapshot, and its volume when it is to be created (ZAPI would only fail the write for a missing volume)."""
    current = SnapshotService(client).get(params["svm"], params["volume"], params["name"])
    volume = VolumeService(client).get(params["svm"], params["volume"]) if current is None and params["state"] == "present" else None
    return {"snapshot": current, "volume": volume}


def plan_snapshot(state: dict, params: dict, desired: dict, check_mode: bool = False) -> Plan:
    label = "snapshot %s@%s" % (desired["volume"], desired["name"])
    current = public(state["snapshot"])
    if params["state"] == "absent":
        return removal(current, label)
    if current is not None:
        return Plan(current, current, changed=False)
    check_parent(state["volume"], "volume", desired["volume"], desired["svm"], check_mode)
    plan = Plan(None, {"name": desired["name"], "uuid": None, "volume": desired["volume"], "svm": desired["svm"],
                       "comment": desired["comment"]}, changed=True)
    plan.add("create", label, desired["comment"])
    return plan


def apply(client: t.Any, state: dict, params: dict, desired: dict) -> dict | None:
    return public(SnapshotService(client).create(desired["svm"], desired["volume"], desired["name"], desired["comment"]))


def main() -> None:
    om = OntapModule(SPEC)
    om.run("snapshot", "%s@%s" % (om.params["volume"], om.params["name"]), desired_state, read, plan_snapshot, apply,
           result_key="snapshot", service=SnapshotService, record="snapshot", verb="create" if om.params["state"] == "present" else "delete")


if __name__ == "__main__":
    main()
