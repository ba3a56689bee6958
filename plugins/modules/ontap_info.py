#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: ontap_info
short_description: Read the ONTAP objects a XenServer pool uses
version_added: 0.1.0
description:
  - Returns the cluster version, SVMs, aggregates, volumes (with efficiency savings), LUNs (with SCSIid),
    igroups, LUN maps, LIFs and iSCSI services.
  - Every object type costs one list request (followed through pages), whatever the number of objects;
    over ZAPI volumes cost two (volumes plus their efficiency status).
  - The same keys come back whichever transport ran.
author:
  - vdc.xenpool maintainers (@vdc-xenpool)
options:
  gather_subset:
    description: Object types to read. V(all) reads every type. The cluster version is always returned.
    type: list
    elements: str
    default: [all]
    choices: [all, cluster, svms, aggregates, volumes, luns, igroups, lun_maps, lifs, iscsi_services]
  svm:
    description: Only return objects of this SVM (SVMs and aggregates are not filtered). Matched exactly, never as a pattern.
    type: str
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
  - vdc.xenpool.attributes.INFO_MODULE
"""

EXAMPLES = r"""
- name: Everything
  vdc.xenpool.ontap_info:
  register: ontap

- name: Only LUNs and maps of one SVM
  vdc.xenpool.ontap_info:
    svm: svm_xen
    gather_subset: [luns, lun_maps]
"""

RETURN = r"""
extends_documentation_fragment:
  - vdc.xenpool.ontap_connection
ontap_info:
  description: One key per gathered object type, each a list of normalised dicts (see the matching ontap_* modules).
  returned: always
  type: dict
  contains:
    cluster: {description: "Version: C(full), C(generation), C(major), C(minor).", type: dict, returned: always}
    svms: {description: "SVMs (name, uuid, state).", type: list, elements: dict, returned: when gathered}
    aggregates: {description: "Aggregates (name, uuid, state).", type: list, elements: dict, returned: when gathered}
    volumes: {description: "Volumes with size, guarantee, efficiency and savings.", type: list, elements: dict, returned: when gathered}
    luns: {description: "LUNs with serial, naa_id and scsi_id.", type: list, elements: dict, returned: when gathered}
    igroups: {description: "igroups with lower-case initiators.", type: list, elements: dict, returned: when gathered}
    lun_maps: {description: "LUN maps with lun_id.", type: list, elements: dict, returned: when gathered}
    lifs: {description: "IP interfaces (name, svm, address, enabled, iscsi).", type: list, elements: dict, returned: when gathered}
    iscsi_services: {description: "iSCSI services (svm, enabled, target_name, target_alias).", type: list, elements: dict, returned: when gathered}
calls:
  description: Requests made, in total and per endpoint or API, to show the constant cost.
  returned: always
  type: dict
  sample: {total: 9, by_call: {"GET /api/storage/luns": 1}}
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.cluster import AggregateService, ClusterService, SvmService
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.validate import check_name
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.igroup import IgroupService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.iscsi import IscsiService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lif import LifService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LunService
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun_map import LunMapService
from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.service import public
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import VolumeService

SUBSETS = ("cluster", "svms", "aggregates", "volumes", "luns", "igroups", "lun_maps", "lifs", "iscsi_services")


def gather(client, subsets, svm):  # type: ignore[no-untyped-def]
    readers = {
        "svms": lambda: SvmService(client).list(),
        "aggregates": lambda: AggregateService(client).list(),
        "volumes": lambda: VolumeService(client).list(svm),
        "luns": lambda: LunService(client).list(svm),
        "igroups": lambda: IgroupService(client).list(svm),
        "lun_maps": lambda: LunMapService(client).list(svm),
        "lifs": lambda: LifService(client).list(svm),
        "iscsi_services": lambda: IscsiService(client).list(svm),
    }
    info = {"cluster": ClusterService(client).info()}
    for name in SUBSETS[1:]:
        if name in subsets:
            info[name] = [public(r) for r in readers[name]()]
    return info


def main() -> None:
    om = OntapModule({
        "gather_subset": {"type": "list", "elements": "str", "default": ["all"], "choices": ["all"] + list(SUBSETS)},
        "svm": {"type": "str"},
    })
    subsets = set(SUBSETS) if "all" in om.params["gather_subset"] else set(om.params["gather_subset"])
    if om.params["svm"] is not None:
        try:
            check_name("svm", om.params["svm"], "svm")
        except PlanError as err:
            om.fail("read", "ONTAP objects of", om.params["hostname"], err)
    client = om.connect()
    try:
        info = gather(client, subsets, om.params["svm"])
    except OntapError as exc:
        om.fail("read", "ONTAP objects of", om.params["hostname"], exc)
    counts = client.call_counts()
    om.module.exit_json(changed=False, ontap_info=info, transport=client.transport,
                        calls={"total": sum(counts.values()), "by_call": counts})


if __name__ == "__main__":
    main()
