# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The storage the SR unit tests run against: xapisim in-process with a pool of two multipathed hosts (xen-01, xen-02)
and a standalone xen-03 to add later, a NetApp-like iSCSI target with one LUN on two portals, and an NFS export for
ISOs. Probe stages, SR.create/introduce/forget/destroy, PBD plugs and sm's error codes all come from xapisim's SR
handlers (tests/simulator/xapisim/handlers_storage.py); this file only arranges the fabric and reads it back."""

from __future__ import annotations

from xapisim.testing import InProcessXapi, hosts_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import pool as poolsvc
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.inprocess import client

GIB = 1024 ** 3
SERIAL = "wf0Iq+N4uck3"
SCSI = "3600a0980" + SERIAL.encode().hex()  # a NetApp LUN's SCSIid: NAA prefix and the serial in hex
TARGET_IQN = "iqn.1992-08.com.netapp:sn.0123456789abcdef:vs.3"
PORTALS = ("192.0.2.21", "192.0.2.22")
NEW_HOST = "127.0.0.13"  # xen-03, standalone until join_new_host()


def start(size_gib: int = 2048) -> InProcessXapi:
    xapi = InProcessXapi(hosts_datacenter(
        ("xen-", 3, "GenuineIntel"), nics=1,
        pools=[{"name_label": "pool-a", "master": "xen-01", "members": ["xen-02"]}],
        nfs_exports=[{"server": "nfs01.example.org", "path": "/export/iso", "size_gib": 100}]))
    lun_visible_to(xapi, size_gib=size_gib)
    for address in (xapi.master, NEW_HOST):
        for ref, rec in xapi.records("host", address).items():
            xapi.update("host", ref, address, multipathing=True, other_config=dict(rec["other_config"], multipathing="true"))
    xapi.reset_calls()
    return xapi


def lun_visible_to(xapi: InProcessXapi, *initiators: str, size_gib: int = 2048, chap: tuple[str, str] = ("", "")) -> None:
    """(Re)define the LUN on both portals: its size, the initiators that see it (none named: every host), the target's CHAP."""
    for portal in PORTALS:
        xapi.iscsi_target({"address": portal, "iqn": TARGET_IQN, "chap_user": chap[0], "chap_password": chap[1],
                           "luns": [{"scsi_id": SCSI, "serial": SERIAL, "size": size_gib * GIB, "lun_id": 0,
                                     "initiators": list(initiators)}]})


def iscsi_srs(xapi: InProcessXapi) -> dict[str, dict]:
    return {ref: rec for ref, rec in xapi.records("SR").items() if rec["type"] == "lvmoiscsi"}


def pbds(xapi: InProcessXapi, sr: str) -> list[dict]:
    hosts = xapi.records("host")
    return sorted((p for p in xapi.records("PBD").values() if p["SR"] == sr), key=lambda p: hosts[p["host"]]["name_label"])


def iqn_of(xapi: InProcessXapi, name: str) -> str:
    return xapi.records("host")[xapi.find("host", name_label=name)]["iscsi_iqn"]


def write_vdi(xapi: InProcessXapi, sr: str, name: str, size: int) -> str:
    """A disk made on the SR through the API (what a VM disk leaves behind on the LUN)."""
    with client(xapi) as master:
        return master.call("VDI.create", {"name_label": name, "name_description": "", "SR": sr, "virtual_size": str(size),
                                          "type": "user", "sharable": False, "read_only": False, "other_config": {},
                                          "xenstore_data": {}, "sm_config": {}, "tags": []})


def join_new_host(xapi: InProcessXapi) -> None:
    """xen-03 joins the pool as the pool module joins it, without xapi's own PBDs for the shared SRs
    (pool other_config sync_create_pbds=nosync), as a host whose PBD is still to be made."""
    pool_ref, pool = next(iter(xapi.records("pool").items()))
    xapi.update("pool", pool_ref, other_config=dict(pool["other_config"], sync_create_pbds="nosync"))
    with client(xapi) as master:
        state = poolsvc.read(master)
        plan = poolsvc.plan(state, {}, [poolsvc.Member(NEW_HOST, "root", xapi.password)], lambda m: client(xapi, m.address))
        poolsvc.apply(master, state, plan, "root", xapi.password, False, False, 30)
