# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Equivalent raw records for both transports, and helpers that script the reads services make.

Tests use them to prove that REST and ZAPI normalise to the same dict and to keep module tests
short; the field lists come from the services so a changed query shows up as an unexpected call.
"""

from __future__ import annotations

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.lun import LUN_FIELDS
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.volume import VOLUME_FIELDS, ZAPI_VOLUME_DESIRED
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_fakes import iter_result

GIB = 1024 ** 3
SERIAL = "wf0Iq+N4uck3"
IQN1 = "iqn.2026-01.com.example:host1"
IQN2 = "iqn.2026-01.com.example:host2"


def rest_volume(name="vol1", size=10 * GIB, guarantee="none", policy="none", dedupe="background", compression="none", uuid="v-1"):
    return {"uuid": uuid, "name": name, "svm": {"name": "svm_xen"}, "aggregates": [{"name": "aggr1"}],
            "space": {"size": size, "used": GIB, "available": size - GIB, "snapshot": {"reserve_percent": 5}}, "guarantee": {"type": guarantee},
            "snapshot_policy": {"name": policy}, "state": "online",
            "efficiency": {"dedupe": dedupe, "compression": compression, "space_savings": {"total": 5, "dedupe": 5, "compression": 0}}}


def zapi_volume(name="vol1", size=10 * GIB, guarantee="none", policy="none", uuid="v-1"):
    return {"volume-id-attributes": {"name": name, "owning-vserver-name": "svm_xen", "containing-aggregate-name": "aggr1", "uuid": uuid},
            "volume-space-attributes": {"size": str(size), "size-used": str(GIB), "size-available": str(size - GIB), "space-guarantee": guarantee,
                                        "percentage-snapshot-reserve": "5"},
            "volume-snapshot-attributes": {"snapshot-policy": policy}, "volume-state-attributes": {"state": "online"},
            "volume-sis-attributes": {"total-space-saved": "5", "deduplication-space-saved": "5", "compression-space-saved": "0"}}


def zapi_sis(name="vol1", enabled=True, compression=False):
    return {"path": "/vol/%s" % name, "state": "enabled" if enabled else "disabled", "is-compression-enabled": str(compression).lower(),
            "vserver": "svm_xen"}


def script_volume_get(transport, fake, rest_rec=None, zapi_rec=None, sis=None, name="vol1"):
    if transport == "rest":
        fake.expect("GET", "/api/storage/volumes", {"fields": VOLUME_FIELDS, "svm.name": "svm_xen", "name": name},
                    {"records": [rest_rec] if rest_rec else [], "num_records": 1 if rest_rec else 0})
        return
    query = {"volume-attributes": {"volume-id-attributes": {"name": name, "owning-vserver-name": "svm_xen"}}}
    fake.expect("volume-get-iter", {"max-records": 1024, "query": query, "desired-attributes": ZAPI_VOLUME_DESIRED},
                iter_result("volume-attributes", [zapi_rec] if zapi_rec else []), vserver="svm_xen")
    if zapi_rec:
        fake.expect("sis-get-iter", None, iter_result("sis-status-info", [sis] if sis else []), vserver="svm_xen")


def script_svm_get(transport, fake, exists=True, name="svm_xen"):
    """The SVM read a create makes to refuse an unknown SVM while planning."""
    if transport == "rest":
        fake.expect("GET", "/api/svm/svms", {"fields": "uuid,name,state,subtype", "name": name},
                    {"records": [{"uuid": "svm-u", "name": name, "state": "running"}] if exists else []})
    else:
        fake.expect("vserver-get-iter", None, iter_result("vserver-info", [{"vserver-name": name, "uuid": "svm-u", "state": "running"}]
                                                          if exists else []))


def script_aggregates(transport, fake, names=("aggr1", "aggr2")):
    if transport == "rest":
        fake.expect("GET", "/api/storage/aggregates", {"fields": "uuid,name,state"},
                    {"records": [{"uuid": "a-%s" % n, "name": n, "state": "online"} for n in names]})
    else:
        fake.expect("aggr-get-iter", None, iter_result("aggr-attributes", [{"aggregate-name": n, "aggregate-uuid": "a-%s" % n} for n in names]))


def rest_lun(size=10 * GIB, os_type="xen", mapped=False, reserve=False, path="/vol/vol1/lun1", uuid="l-1"):
    return {"uuid": uuid, "name": path, "svm": {"name": "svm_xen"},
            "location": {"volume": {"name": path.split("/")[2]}, "logical_unit": path.rsplit("/", 1)[-1]},
            "space": {"size": size, "guarantee": {"requested": reserve}}, "os_type": os_type, "serial_number": SERIAL,
            "status": {"state": "online", "mapped": mapped}}


def zapi_lun(size=10 * GIB, os_type="xen", mapped=False, reserve=False, path="/vol/vol1/lun1", uuid="l-1"):
    return {"path": path, "volume": path.split("/")[2], "vserver": "svm_xen", "size": str(size), "multiprotocol-type": os_type,
            "serial-number": SERIAL, "uuid": uuid, "is-space-reservation-enabled": str(reserve).lower(),
            "mapped": str(mapped).lower(), "state": "online"}


def script_lun_get(transport, fake, rest_rec=None, zapi_rec=None, path="/vol/vol1/lun1"):
    if transport == "rest":
        fake.expect("GET", "/api/storage/luns", {"fields": LUN_FIELDS, "svm.name": "svm_xen", "name": path},
                    {"records": [rest_rec] if rest_rec else [], "num_records": 1 if rest_rec else 0})
    else:
        fake.expect("lun-get-iter", None, iter_result("lun-info", [zapi_rec] if zapi_rec else []), vserver="svm_xen")


def script_luns_of_volume(transport, fake, luns=(), volume="vol1"):
    """The LUN list ontap_volume reads before a delete or a shrink. luns: (name, size) pairs."""
    paths = [("/vol/%s/%s" % (volume, name), size) for name, size in luns]
    if transport == "rest":
        fake.expect("GET", "/api/storage/luns", {"fields": LUN_FIELDS, "svm.name": "svm_xen", "location.volume.name": volume},
                    {"records": [rest_lun(size=size, path=path, mapped=True, uuid="l-%d" % i) for i, (path, size) in enumerate(paths)]})
    else:
        fake.expect("lun-get-iter", None, iter_result("lun-info", [zapi_lun(size=size, path=path, mapped=True, uuid="l-%d" % i)
                                                                   for i, (path, size) in enumerate(paths)]), vserver="svm_xen")


def script_maps_of_svm(transport, fake, maps=()):
    """Every LUN map of the SVM (one call). maps: (lun path, igroup, lun_id)."""
    if transport == "rest":
        fake.expect("GET", "/api/protocols/san/lun-maps", {"fields": MAP_FIELDS, "svm.name": "svm_xen"},
                    {"records": [{"svm": {"name": "svm_xen"}, "lun": {"name": path, "uuid": "l-x"}, "igroup": {"name": ig, "uuid": "ig-x"},
                                  "logical_unit_number": lun_id} for path, ig, lun_id in maps]})
    else:
        fake.expect("lun-map-get-iter", None, iter_result("lun-map-info", [
            {"vserver": "svm_xen", "path": path, "lun-uuid": "l-x", "initiator-group": ig, "initiator-group-uuid": "ig-x", "lun-id": str(lun_id)}
            for path, ig, lun_id in maps]), vserver="svm_xen")


def rest_igroup(initiators=(IQN1,), os_type="xen", uuid="ig-1", name="xenpool"):
    rec = {"uuid": uuid, "name": name, "svm": {"name": "svm_xen"}, "os_type": os_type, "protocol": "iscsi"}
    if initiators:
        rec["initiators"] = [{"name": i} for i in initiators]
    return rec


def zapi_igroup(initiators=(IQN1,), os_type="xen", uuid="ig-1", name="xenpool"):
    rec = {"initiator-group-name": name, "initiator-group-uuid": uuid, "vserver": "svm_xen", "initiator-group-os-type": os_type,
           "initiator-group-type": "iscsi"}
    if initiators:
        infos = [{"initiator-name": i} for i in initiators]
        rec["initiators"] = {"initiator-info": infos[0] if len(infos) == 1 else infos}
    return rec


def script_igroup_get(transport, fake, rest_rec=None, zapi_rec=None, name="xenpool"):
    if transport == "rest":
        fake.expect("GET", "/api/protocols/san/igroups", {"fields": "uuid,name,svm.name,os_type,protocol,initiators", "svm.name": "svm_xen",
                                                          "name": name},
                    {"records": [rest_rec] if rest_rec else [], "num_records": 1 if rest_rec else 0})
    else:
        fake.expect("igroup-get-iter", None, iter_result("initiator-group-info", [zapi_rec] if zapi_rec else []), vserver="svm_xen")


MAP_FIELDS = "svm.name,lun.name,lun.uuid,igroup.name,igroup.uuid,logical_unit_number"


def script_map_get(transport, fake, lun_id=None, path="/vol/vol1/lun1", igroup="xenpool"):
    if transport == "rest":
        recs = [] if lun_id is None else [{"svm": {"name": "svm_xen"}, "lun": {"name": path, "uuid": "l-1"}, "igroup": {"name": igroup, "uuid": "ig-1"},
                                           "logical_unit_number": lun_id}]
        fake.expect("GET", "/api/protocols/san/lun-maps", {"fields": MAP_FIELDS, "svm.name": "svm_xen", "lun.name": path, "igroup.name": igroup},
                    {"records": recs, "num_records": len(recs)})
    else:
        recs = [] if lun_id is None else [{"vserver": "svm_xen", "path": path, "lun-uuid": "l-1", "initiator-group": igroup,
                                           "initiator-group-uuid": "ig-1", "lun-id": str(lun_id)}]
        fake.expect("lun-map-get-iter", None, iter_result("lun-map-info", recs), vserver="svm_xen")


def script_maps_of_lun(transport, fake, maps=(), path="/vol/vol1/lun1"):
    """The read ontap_lun_map makes: every map of one LUN, whatever the igroup. maps: (igroup, lun_id) pairs."""
    if transport == "rest":
        recs = [{"svm": {"name": "svm_xen"}, "lun": {"name": path, "uuid": "l-1"}, "igroup": {"name": ig, "uuid": "ig-1" if ig == "xenpool" else "ig-%s" % ig},
                 "logical_unit_number": lun_id} for ig, lun_id in maps]
        fake.expect("GET", "/api/protocols/san/lun-maps", {"fields": MAP_FIELDS, "svm.name": "svm_xen", "lun.name": path},
                    {"records": recs, "num_records": len(recs)})
    else:
        recs = [{"vserver": "svm_xen", "path": path, "lun-uuid": "l-1", "initiator-group": ig,
                 "initiator-group-uuid": "ig-1" if ig == "xenpool" else "ig-%s" % ig,
                 "lun-id": str(lun_id)} for ig, lun_id in maps]
        fake.expect("lun-map-get-iter", {"max-records": 1024, "query": {"lun-map-info": {"vserver": "svm_xen", "path": path}},
                                         "desired-attributes": {"lun-map-info": {"vserver": None, "path": None, "lun-uuid": None,
                                                                                 "initiator-group": None, "initiator-group-uuid": None,
                                                                                 "lun-id": None}}},
                    iter_result("lun-map-info", recs), vserver="svm_xen")


ISCSI_FIELDS = "svm.name,svm.uuid,enabled,target.name,target.alias"
TARGET = "iqn.1992-08.com.netapp:sn.0123456789abcdef0123456789abcdef:vs.3"


def script_iscsi_get(transport, fake, enabled=None):
    if transport == "rest":
        recs = [] if enabled is None else [{"svm": {"name": "svm_xen", "uuid": "svm-u"}, "enabled": enabled,
                                            "target": {"name": TARGET, "alias": "svm_xen"}}]
        fake.expect("GET", "/api/protocols/san/iscsi/services", {"fields": ISCSI_FIELDS, "svm.name": "svm_xen"},
                    {"records": recs, "num_records": len(recs)})
    else:
        recs = [] if enabled is None else [{"vserver": "svm_xen", "node-name": TARGET, "alias-name": "svm_xen",
                                            "is-available": str(enabled).lower()}]
        fake.expect("iscsi-service-get-iter", None, iter_result("iscsi-service-info", recs), vserver="svm_xen")


def script_portals(transport, fake):
    if transport == "rest":
        fake.expect("GET", "/api/network/ip/interfaces", {"fields": "uuid,name,svm.name,ip.address,services,enabled", "svm.name": "svm_xen",
                                                          "services": "data_iscsi"},
                    {"records": [{"uuid": "lif-2", "name": "iscsi2", "svm": {"name": "svm_xen"}, "ip": {"address": "192.0.2.12"},
                                  "services": ["data_core", "data_iscsi"], "enabled": True},
                                 {"uuid": "lif-1", "name": "iscsi1", "svm": {"name": "svm_xen"}, "ip": {"address": "192.0.2.11"},
                                  "services": ["data_iscsi"], "enabled": True}]})
    else:
        fake.expect("net-interface-get-iter", None, iter_result("net-interface-info", [
            {"interface-name": "iscsi2", "lif-uuid": "lif-2", "vserver": "svm_xen", "address": "192.0.2.12", "administrative-status": "up",
             "data-protocols": {"data-protocol": "iscsi"}},
            {"interface-name": "mgmt", "lif-uuid": "lif-9", "vserver": "svm_xen", "address": "192.0.2.99", "administrative-status": "up",
             "data-protocols": {"data-protocol": "none"}},
            {"interface-name": "iscsi1", "lif-uuid": "lif-1", "vserver": "svm_xen", "address": "192.0.2.11", "administrative-status": "up",
             "data-protocols": {"data-protocol": "iscsi"}}]), vserver="svm_xen")
