#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ontap_volume
short_description: Manage a FlexVol volume that holds XenServer LUNs
version_added: 0.1.0
description:
  - Create, resize, tune or delete an ONTAP FlexVol volume over REST or ZAPI.
  - Options left unset are not managed on an existing volume.
options:
  state:
    description: Whether the volume should exist.
    type: str
    choices: [present, absent]
    default: present
  name:
    description: Volume name.
    type: str
    required: true
  svm:
    description: SVM (vserver) that owns the volume.
    type: str
    required: true
  aggregate:
    description:
      - Aggregate to create the volume on. Required to create; ignored on an existing volume (moving is out of scope).
    type: str
  size_gib:
    description:
      - Volume size in GiB (1024^3 bytes); fractions allowed.
      - Required to create. A different value grows or shrinks the volume; ONTAP refuses a shrink below the used space and the error is reported.
    type: float
  space_guarantee:
    description: Space guarantee; V(none) is thin provisioning.
    type: str
    choices: [none, volume]
  snapshot_policy:
    description: Name of the snapshot policy, for example V(none) or V(default).
    type: str
  dedupe:
    description: Storage efficiency deduplication on or off.
    type: bool
  compression:
    description:
      - Compression on or off. Over ZAPI compression requires O(dedupe=true).
    type: bool
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
  - vdc.xenpool.attributes.ONTAP_GROUP
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
"""

EXAMPLES = r"""
- name: Thin volume for the pool's SR LUN
  vdc.xenpool.ontap_volume:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    name: xen_sr1
    aggregate: aggr1
    size_gib: 600
    space_guarantee: none
    snapshot_policy: none
    dedupe: true
    compression: true

- name: Remove the volume
  vdc.xenpool.ontap_volume:
    hostname: cluster1.example.com
    username: admin
    password: "{{ ontap_password }}"
    svm: svm_xen
    name: xen_sr1
    state: absent
"""

RETURN = r"""
volume:
  description: The volume after the task (the prediction in check mode); empty when absent.
  returned: always
  type: dict
  contains:
    name: {description: "Volume name.", type: str, returned: success}
    uuid: {description: "Volume UUID (null for a volume only predicted in check mode).", type: str, returned: success}
    svm: {description: "Owning SVM.", type: str, returned: success}
    aggregate: {description: "Aggregate.", type: str, returned: success}
    size_bytes: {description: "Size in bytes.", type: int, returned: success}
    space_guarantee: {description: "none or volume.", type: str, returned: success}
    snapshot_policy: {description: "Snapshot policy name.", type: str, returned: success}
    efficiency: {description: "C(dedupe) and C(compression) booleans.", type: dict, returned: success}
    savings: {description: "Space saved in bytes: C(total_bytes), C(dedupe_bytes), C(compression_bytes).", type: dict, returned: success}
  sample: {name: xen_sr1, svm: svm_xen, aggregate: aggr1, size_bytes: 644245094400, space_guarantee: none}
transport:
  description: Which ONTAP API ran, V(rest) or V(zapi).
  returned: always
  type: str
  sample: rest
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import gib_to_bytes
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import VolumeService

MANAGED = ("size_bytes", "space_guarantee", "snapshot_policy", "efficiency")


def desired_state(params: dict) -> dict:
    return {"size_bytes": gib_to_bytes(params["size_gib"]), "space_guarantee": params["space_guarantee"],
            "snapshot_policy": params["snapshot_policy"], "dedupe": params["dedupe"], "compression": params["compression"]}


def changes_for(current: dict, desired: dict) -> dict:
    changes = {k: desired[k] for k in ("size_bytes", "space_guarantee", "snapshot_policy")
               if desired[k] is not None and desired[k] != current.get(k)}
    for key in ("dedupe", "compression"):
        if desired[key] is not None and desired[key] != current["efficiency"].get(key):
            changes[key] = desired[key]
    return changes


def predict(current: dict | None, svm: str, name: str, aggregate: str | None, desired: dict) -> dict:
    after = dict(current) if current else {"name": name, "uuid": None, "svm": svm, "aggregate": aggregate,
                                           "efficiency": {"dedupe": False, "compression": False}}
    after["efficiency"] = dict(after["efficiency"])
    for key in ("size_bytes", "space_guarantee", "snapshot_policy"):
        if desired[key] is not None:
            after[key] = desired[key]
    for key in ("dedupe", "compression"):
        if desired[key] is not None:
            after["efficiency"][key] = desired[key]
    return after


def main() -> None:
    om = OntapModule({
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "name": {"type": "str", "required": True},
        "svm": {"type": "str", "required": True},
        "aggregate": {"type": "str"},
        "size_gib": {"type": "float"},
        "space_guarantee": {"type": "str", "choices": ["none", "volume"]},
        "snapshot_policy": {"type": "str"},
        "dedupe": {"type": "bool"},
        "compression": {"type": "bool"},
    })
    p = om.params
    service = VolumeService(om.connect())
    desired = desired_state(p)
    try:
        current = service.get(p["svm"], p["name"])
        if p["state"] == "absent":
            if current and not om.check_mode:
                service.delete(current)
            om.exit(bool(current), "volume", current, None, MANAGED)
        if current is None:
            if not p["aggregate"] or desired["size_bytes"] is None:
                om.fail("create", "volume", p["name"], "aggregate and size_gib are required to create a volume")
            after = predict(None, p["svm"], p["name"], p["aggregate"], desired)
            if not om.check_mode:
                after = service.create(p["svm"], p["name"], p["aggregate"], desired["size_bytes"], desired["space_guarantee"],
                                       desired["snapshot_policy"], desired["dedupe"], desired["compression"])
            om.exit(True, "volume", None, after, MANAGED)
        changes = changes_for(current, desired)
        after = predict(current, p["svm"], p["name"], None, desired)
        if changes and not om.check_mode:
            after = service.modify(current, changes)
        om.exit(bool(changes), "volume", current, after if changes else current, MANAGED)
    except OntapError as exc:
        om.fail("manage" if p["state"] == "present" else "delete", "volume", p["name"], exc)


if __name__ == "__main__":
    main()
