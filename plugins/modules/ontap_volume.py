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
  - The name is matched exactly; an empty name or one with characters ONTAP does not allow in volume names (such as V(*))
    is refused before any call.
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
options:
  name:
    description: Volume name (letters, digits and V(_), starting with a letter or V(_)).
    type: str
    required: true
  aggregate:
    description:
      - Aggregate to create the volume on. Required to create; ignored on an existing volume (moving is out of scope).
    type: str
  size_gib:
    description:
      - Volume size in GiB (1024^3 bytes); fractions allowed.
      - Required to create. A larger value grows the volume online.
      - A smaller value is refused unless O(allow_shrink=true); even then the volume must still hold its LUNs and its used
        space after the snapshot reserve is set aside, which is checked before any change.
    type: float
  allow_shrink:
    description:
      - Allow O(size_gib) to shrink an existing volume (never below its LUNs, used space and snapshot reserve).
    type: bool
    default: false
  delete_mapped_luns:
    description:
      - With O(state=absent), delete the volume even when it holds LUNs that are mapped to igroups (hosts lose those LUNs).
      - Without it such a volume is not deleted and the LUNs and their igroups are named.
    type: bool
    default: false
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
  - vdc.xenpool.ontap_object
  - vdc.xenpool.attributes
"""

EXAMPLES = r"""
- name: Thin volume for the pool's SR LUN
  vdc.xenpool.ontap_volume:
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
    svm: svm_xen
    name: xen_sr1
    state: absent
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes
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
    snapshot_reserve_percent: {description: "Percentage of the size kept for snapshots.", type: int, returned: success}
  sample: {name: xen_sr1, svm: svm_xen, aggregate: aggr1, size_bytes: 644245094400, space_guarantee: none}
plan:
  sample: ["resize volume xen_sr1: 20.00 -> 40.00 GiB"]
"""

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import ONTAP_OBJECT_SPEC, merge_specs
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan, removal
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.cluster import AggregateService, SvmService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LunService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun_map import LunMapService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.validate import MIN_VOLUME_BYTES, check_name, check_parent, check_size
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import GIB, VolumeService, check_resize

SPEC: dict[str, dict[str, t.Any]] = merge_specs(ONTAP_OBJECT_SPEC, {
    "name": {"type": "str", "required": True},
    "aggregate": {"type": "str"},
    "size_gib": {"type": "float"},
    "allow_shrink": {"type": "bool", "default": False},
    "delete_mapped_luns": {"type": "bool", "default": False},
    "space_guarantee": {"type": "str", "choices": ["none", "volume"]},
    "snapshot_policy": {"type": "str"},
    "dedupe": {"type": "bool"},
    "compression": {"type": "bool"},
})
FIELDS = ("size_bytes", "space_guarantee", "snapshot_policy")


def desired_state(params: dict) -> dict:
    """The wanted volume, with every option checked against ONTAP's rules before any call."""
    check_name("svm", params["svm"], "svm")
    check_name("volume", params["name"])
    if params["aggregate"] is not None:
        check_name("aggregate", params["aggregate"], "aggregate")
    if params["snapshot_policy"] is not None:
        check_name("snapshot policy", params["snapshot_policy"], "snapshot_policy")
    return {"size_bytes": check_size("volume", params["size_gib"], MIN_VOLUME_BYTES), "space_guarantee": params["space_guarantee"],
            "snapshot_policy": params["snapshot_policy"], "dedupe": params["dedupe"], "compression": params["compression"]}


def read(client: t.Any, params: dict, desired: dict) -> dict:
    """The volume, plus its LUNs (and their maps) only when a delete or a shrink has to be checked against them.

    A volume to create needs its SVM and aggregate: both are read here, so that a wrong name is refused
    while planning instead of by a failed write.
    """
    volume = VolumeService(client).get(params["svm"], params["name"])
    parents: dict = {}
    if volume is None and params["state"] == "present":
        parents["svm"] = SvmService(client).get(params["svm"])
        if parents["svm"] is not None and params["aggregate"]:
            parents["aggregates"] = [a["name"] for a in AggregateService(client).list()]
    luns: list[dict] = []
    maps: list[dict] = []
    shrinking = volume is not None and desired["size_bytes"] is not None and desired["size_bytes"] < (volume["size_bytes"] or 0)
    if volume is not None and (params["state"] == "absent" or (shrinking and params["allow_shrink"])):
        luns = LunService(client).list(params["svm"], volume=params["name"])
    if luns and params["state"] == "absent":
        paths = {lun["path"] for lun in luns}
        maps = [m for m in LunMapService(client).list(params["svm"]) if m["lun_path"] in paths]
    return {"volume": volume, "luns": luns, "maps": maps, "transport": client.transport, "parents": parents}


def changes_for(current: dict, desired: dict) -> dict:
    changes = {k: desired[k] for k in FIELDS if desired[k] is not None and desired[k] != current.get(k)}
    for key in ("dedupe", "compression"):
        if desired[key] is not None and desired[key] != current["efficiency"].get(key):
            changes[key] = desired[key]
    return changes


def predict(current: dict | None, params: dict, desired: dict) -> dict:
    after = dict(current) if current else {"name": params["name"], "uuid": None, "svm": params["svm"], "aggregate": params["aggregate"],
                                           "efficiency": {"dedupe": False, "compression": False}}
    after["efficiency"] = dict(after["efficiency"])
    after.update({k: desired[k] for k in FIELDS if desired[k] is not None})
    after["efficiency"].update({k: desired[k] for k in ("dedupe", "compression") if desired[k] is not None})
    return after


def plan_delete(state: dict, params: dict) -> Plan:
    """Deleting a volume deletes its LUNs: refuse while any of them is mapped, unless explicitly allowed."""
    volume = public(state["volume"])
    if state["maps"] and not params["delete_mapped_luns"]:
        paths = sorted({m["lun_path"] for m in state["maps"]})
        held = "; ".join("%s mapped to igroup %s" % (path, ", ".join(sorted(m["igroup"] for m in state["maps"] if m["lun_path"] == path)))
                         for path in paths)
        raise PlanError("VOLUME_HAS_MAPPED_LUNS", "volume %s holds mapped LUNs: %s" % (params["name"], held),
                        "Unmap them with vdc.xenpool.ontap_lun_map state=absent, or set delete_mapped_luns: true to delete "
                        "the volume with its LUNs (nothing was changed)")
    return removal(volume, "volume " + params["name"], detail="with %d LUN(s)" % len(state["luns"]) if state["luns"] else None)


def plan_volume(state: dict, params: dict, desired: dict, check_mode: bool = False) -> Plan:
    """What to do, decided and checked before the first write; the after view is the check-mode prediction."""
    if params["state"] == "absent":
        return plan_delete(state, params)
    current = public(state["volume"])
    obj = "volume " + params["name"]
    if current is None:
        if not params["aggregate"] or desired["size_bytes"] is None:
            raise PlanError("MISSING_OPTION", "aggregate and size_gib are required to create a volume",
                            "Give aggregate and size_gib (nothing was changed)")
        check_parents(state["parents"], params)
        _check_zapi_efficiency(state, desired, False)
        plan = Plan(None, predict(None, params, desired), changed=True)
        plan.add("create", obj, "%.2f GiB on aggregate %s" % (desired["size_bytes"] / GIB, params["aggregate"]))
        return plan
    changes = changes_for(current, desired)
    if "size_bytes" in changes:
        check_resize(current, changes["size_bytes"], state["luns"], params["allow_shrink"])
    _check_zapi_efficiency(state, desired, bool(current["efficiency"].get("dedupe")))
    plan = Plan(current, predict(current, params, desired), changed=bool(changes))
    for key, value in changes.items():
        old = current["efficiency"].get(key) if key in ("dedupe", "compression") else current.get(key)
        if key == "size_bytes":
            plan.add("resize", obj, "%.2f -> %.2f GiB" % (old / GIB, value / GIB))
        else:
            plan.add("set", obj, "%s: %s -> %s" % (key, old, value))
    return plan


def check_parents(parents: dict, params: dict) -> None:
    """A new volume's SVM and aggregate must exist (an empty aggregate list means they cannot be listed: not checked)."""
    check_parent(parents.get("svm"), "svm", params["svm"])
    names = parents.get("aggregates") or []
    if names and params["aggregate"] not in names:
        raise PlanError("AGGREGATE_NOT_FOUND", "aggregate %s does not exist (aggregates: %s)" % (params["aggregate"], ", ".join(sorted(names))),
                        "Give one of the listed aggregates (nothing was changed)")


def _check_zapi_efficiency(state: dict, desired: dict, was_dedupe: bool) -> None:
    """ZAPI compression rides on sis (dedupe): refuse the impossible combination while planning, not half-way."""
    want_dedupe = was_dedupe if desired["dedupe"] is None else desired["dedupe"]
    if state["transport"] == "zapi" and desired["compression"] and not want_dedupe:
        raise PlanError("UNSUPPORTED", "over ZAPI, compression needs deduplication (sis) enabled",
                        "Set dedupe: true, or use REST (use_rest: always) (nothing was changed)")


def apply(client: t.Any, state: dict, params: dict, desired: dict) -> dict | None:
    service = VolumeService(client)
    current = state["volume"]
    if current is None:
        return public(service.create(params["svm"], params["name"], params["aggregate"], desired["size_bytes"], desired["space_guarantee"],
                                     desired["snapshot_policy"], desired["dedupe"], desired["compression"]))
    return public(service.modify(current, changes_for(current, desired)))


# --diff shows what the module manages, not the usage figures that change on their own.
DIFF_FIELDS = ("name", "svm", "aggregate", "size_bytes", "space_guarantee", "snapshot_policy", "efficiency")


def main() -> None:
    om = OntapModule(SPEC)
    om.run("volume", om.params["name"], desired_state, read, plan_volume, apply, result_key="volume", service=VolumeService,
           record="volume", diff_fields=DIFF_FIELDS)


if __name__ == "__main__":
    main()
