# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""REST fields=* against the resource models of NetApp's ONTAP REST API reference (ontapsim/spec/rest_fields.json).

Measured in-process by ontapsim.fidelity: every served value has the declared type and lies in the
declared enum; every field that netapp.ontap's modules and our module_utils read is served (or is
listed in ONTAP.md as absent on purpose); the served/declared table in ONTAP.md is the current one;
the added fields follow the model's state instead of being constants.
"""
from __future__ import annotations

import json
import os
import sys

import pytest

SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SIM_ROOT not in sys.path:
    sys.path.insert(0, SIM_ROOT)

from ontapsim import fidelity  # noqa: E402  pylint: disable=wrong-import-position
from ontapsim.rest import RestApi  # noqa: E402  pylint: disable=wrong-import-position

# What the clients read with fields= (netapp.ontap 22.x/23.x plugins/modules: na_ontap_volume.get_volume_rest,
# na_ontap_lun.get_luns_rest / na_ontap_lun_map.get_lun_rest, na_ontap_igroup.get_igroup_rest, na_ontap_lun_map
# get_lun_map_rest, na_ontap_iscsi.get_iscsi_service_rest, na_ontap_snapshot.get_snapshot_rest,
# na_ontap_svm.get_svm_rest, na_ontap_interface.get_interface_records_rest; and plugins/module_utils/_ontap's
# VOLUME_FIELDS, LUN_FIELDS and the fields= of igroup.py, iscsi.py, lif.py, lun_map.py, cluster.py, snapshot.py).
CLIENT_READS = {
    "volumes": "encryption.enabled tiering.policy tiering.object_tags nas.export_policy.name aggregates.name aggregates.uuid "
               "uuid nas.path style type comment nas.security_style nas.gid nas.unix_permissions nas.uid "
               "snapshot_policy.name space.snapshot.reserve_percent space.size guarantee.type state efficiency.compression "
               "snaplock.type files.maximum space.logical_space.enforcement space.logical_space.reporting "
               "efficiency.policy.name analytics.state activity_tracking.state name svm.name space.used "
               "space.available efficiency.dedupe efficiency.space_savings.total efficiency.volume_path",
    "luns": "comment name os_type space.size space.guarantee.requested space.scsi_thin_provisioning_support_enabled "
            "lun_maps.igroup.name lun_maps.logical_unit_number enabled serial_number status.state uuid svm.name "
            "location.volume.name location.logical_unit status.mapped",
    "igroups": "name uuid svm.name initiators.name initiators.comment os_type protocol",
    "lun_maps": "logical_unit_number igroup.uuid igroup.name lun.uuid lun.name svm.name",
    "iscsi_services": "svm.name svm.uuid enabled target.name target.alias",
    "snapshots": "uuid comment expiry_time volume.name volume.uuid name snapmirror_label",
    "svms": "subtype aggregates.name language snapshot_policy.name ipspace.name comment nfs.enabled cifs.enabled "
            "fcp.enabled iscsi.enabled iscsi.allowed nvme.enabled state uuid name",
    "ip_interfaces": "name location.home_node.name location.home_port.name location.node.name uuid enabled svm.name "
                     "ip.address ip.netmask service_policy.name services",
    "cluster": "version.generation version.major version.minor name uuid",
}
# Read by a client, absent on purpose: ONTAP itself omits them while the feature is not used, and the
# simulator does not model the feature (ONTAP.md, "Served fields").
ABSENT_ON_PURPOSE = {("volumes", "qos.policy.name"), ("luns", "qos_policy.name"), ("volumes", "tiering.min_cooling_days")}


@pytest.fixture(scope="module", name="report")
def report_fixture():
    return fidelity.measure()


def test_declared_counts_match_the_reference(report):
    """497 readable leaves in the 11 resources (the reference's resource models, as counted by the issue)."""
    assert sum(r["declared"] for r in report.values()) == 497
    assert {k: report[k]["declared"] for k in ("volumes", "luns", "igroups", "svms", "snapshots")} == \
        {"volumes": 240, "luns": 57, "igroups": 42, "svms": 38, "snapshots": 27}


def test_served_values_have_declared_types_and_enums(report):
    assert {k: r["violations"] for k, r in report.items() if r["violations"]} == {}


def test_fields_clients_read_are_served(report):
    missing = [(kind, path) for kind, paths in CLIENT_READS.items() for path in paths.split()
               if path in report[kind]["unserved"] and (kind, path) not in ABSENT_ON_PURPOSE]
    assert missing == []
    for kind, path in ABSENT_ON_PURPOSE:
        assert path in report[kind]["unserved"]


def test_served_grew_from_the_issue_baseline(report):
    """Issue 15 measured volumes 44, LUNs 27, igroups 12, SVMs 22, snapshots 9, all 178; never fall back."""
    served = {k: r["served"] for k, r in report.items()}
    assert served["volumes"] >= 130 and served["luns"] >= 46 and served["igroups"] >= 26
    assert served["svms"] >= 31 and served["snapshots"] >= 20
    assert sum(served.values()) >= 340


def test_ontap_md_table_is_current(report):
    """ONTAP.md carries `python -m ontapsim.fidelity --markdown`; regenerate it when this fails."""
    with open(os.path.join(SIM_ROOT, "ONTAP.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert fidelity.markdown(report) in text


def test_the_spec_is_the_reduced_reference():
    with open(fidelity.SPEC_PATH, encoding="utf-8") as handle:
        spec = json.load(handle)
    assert set(spec["endpoints"]) == {"cluster", "svms", "volumes", "luns", "igroups", "igroup_initiators", "lun_maps",
                                      "iscsi_services", "ip_interfaces", "snapshots", "jobs"}
    assert spec["endpoints"]["luns"]["fields"]["os_type"]["enum"][-1] == "xen"


def _get(api, path, query):
    resp = api.handle("GET", path, query, b"")
    assert resp.status == 200, resp.body
    return resp.body


def test_added_fields_follow_the_state():
    """Space and efficiency figures move with written data; connection state with initiators and maps."""
    state = fidelity.reference_state()
    api = RestApi(state)
    vol = next(v for v in state.volumes.values() if v["name"] == "san2_vol1")
    lun = next(lun for lun in state.luns.values() if lun["vol_uuid"] == vol["uuid"])
    fields = "fields=space,efficiency.ratio,files,autosize"
    before = _get(api, "/api/storage/volumes/%s" % vol["uuid"], fields)
    state.write_data(lun, 512 * 1024 ** 2)
    after = _get(api, "/api/storage/volumes/%s" % vol["uuid"], fields)
    assert after["space"]["used"] > before["space"]["used"]
    assert after["space"]["user_data"] == after["space"]["used"] - after["space"]["logical_space"]["used_by_snapshots"]
    savings = state.volume_savings(vol)
    assert after["efficiency"]["ratio"] == round(savings["logical_used"] / (savings["logical_used"] - savings["total"]), 2)
    assert after["efficiency"]["ratio"] > 1.0
    plain = next(v for v in state.volumes.values() if v["efficiency"]["dedupe"] == "none")
    assert _get(api, "/api/storage/volumes/%s" % plain["uuid"], "fields=efficiency.ratio")["efficiency"]["ratio"] == 1.0
    assert after["autosize"]["maximum"] == vol["size"] * 6 // 5 and after["files"]["maximum"] == vol["size"] // 32768
    svm = state.svms[vol["svm_uuid"]]
    group = state.igroup_create(svm, "fresh", "xen", "iscsi", [])
    states = [_get(api, "/api/protocols/san/igroups/%s" % group["uuid"], "fields=connectivity_tracking")
              ["connectivity_tracking"]["connection_state"]]
    state.igroup_add_initiator(group, "iqn.2024-01.test.fidelity:h1")
    states.append(_get(api, "/api/protocols/san/igroups/%s" % group["uuid"], "fields=connectivity_tracking")
                  ["connectivity_tracking"]["connection_state"])
    state.lun_map(lun, group)
    states.append(_get(api, "/api/protocols/san/igroups/%s" % group["uuid"], "fields=connectivity_tracking")
                  ["connectivity_tracking"]["connection_state"])
    assert states == ["no_initiators", "no_lun_maps", "none"]


def test_derived_uuids_are_stable_and_shared():
    """The default snapshot policy has one uuid wherever it is referenced, and it survives a save/load."""
    state = fidelity.reference_state()
    api = RestApi(state)
    svm = next(iter(state.svms.values()))
    vol = next(v for v in state.volumes.values() if v["svm_uuid"] == svm["uuid"] and v["snapshot_policy"] == "default")
    from_svm = _get(api, "/api/svm/svms/%s" % svm["uuid"], "fields=snapshot_policy")["snapshot_policy"]["uuid"]
    from_vol = _get(api, "/api/storage/volumes/%s" % vol["uuid"], "fields=snapshot_policy")["snapshot_policy"]["uuid"]
    assert from_svm == from_vol
    clone = type(state)()
    clone.load_dict(state.to_dict())
    assert _get(RestApi(clone), "/api/svm/svms/%s" % svm["uuid"], "fields=snapshot_policy")["snapshot_policy"]["uuid"] \
        == from_svm
