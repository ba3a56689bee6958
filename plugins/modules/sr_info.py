#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: sr_info
short_description: Storage repositories of a XenServer / XCP-ng pool, with per-host PBD health and the hosts' iSCSI initiators
version_added: 0.1.0
description:
  - Reads the pool's SRs, PBDs and hosts in one call per class and returns every SR (or the ones asked for) with the
    state of its PBD on each host, plus each host's initiator IQN and multipathing setting, which is what an array needs
    to grant the pool access to a LUN.
options:
  srs:
    description: Only return the SRs with these names or uuids.
    type: list
    elements: str
  types:
    description: Only return SRs of these types, for example V(lvmoiscsi).
    type: list
    elements: str
extends_documentation_fragment:
  - vdc.xenpool.xen_connection
  - vdc.xenpool.attributes.INFO_MODULE
author:
  - vdc.xenpool contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Initiators of the pool, for the igroup
  vdc.xenpool.sr_info:
    types: [lvmoiscsi]
  delegate_to: localhost
  register: storage

- name: IQNs
  ansible.builtin.debug:
    msg: "{{ storage.hosts | map(attribute='iscsi_iqn') | list }}"
"""

RETURN = r"""
hosts:
  description: Hosts of the pool, master first.
  returned: success
  type: list
  elements: dict
  contains:
    name: {description: "Host name.", type: str, returned: success}
    uuid: {description: "Host uuid.", type: str, returned: success}
    is_master: {description: "Whether it is the pool master.", type: bool, returned: success}
    iscsi_iqn: {description: "Initiator IQN (null when the host has none).", type: str, returned: success}
    multipathing: {description: "Whether multipathing is on.", type: bool, returned: success}
srs:
  description: SRs, sorted by name; each as RV(vdc.xenpool.sr#module:sr) returns it, with C(pbds) per host.
  returned: success
  type: list
  elements: dict
"""

from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import XenModule
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import sr as srs


def main() -> None:
    xm = XenModule({"srs": {"type": "list", "elements": "str"}, "types": {"type": "list", "elements": "str"}})
    p = xm.params
    with xm.session("read", "storage of pool") as client:
        state = srs.read(client)
    master = state.master_ref
    hosts = []
    for ref in srs.hosts(state):
        rec = state.get("host", ref) or {}
        hosts.append({"name": rec.get("name_label"), "uuid": rec.get("uuid"), "is_master": ref == master,
                      "iscsi_iqn": rec.get("iscsi_iqn") or (rec.get("other_config") or {}).get("iscsi_iqn") or None,
                      "multipathing": bool(rec.get("multipathing"))})
    wanted = set(p["srs"] or [])
    found = []
    for ref, rec in state.all("SR").items():
        if wanted and rec.get("name_label") not in wanted and rec.get("uuid") not in wanted:
            continue
        if p["types"] and rec.get("type") not in p["types"]:
            continue
        found.append(srs.describe(state, ref))
    found.sort(key=lambda s: (s["name"] or "", s["uuid"] or ""))
    xm.exit_result(changed=False, hosts=hosts, srs=found)


if __name__ == "__main__":
    main()
