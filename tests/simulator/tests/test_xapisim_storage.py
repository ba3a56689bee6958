# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared iSCSI SRs: probe stages, create/forget/introduce/destroy, PBDs after join."""
from __future__ import annotations

import json
import os
import threading
import urllib.parse
import xml.dom.minidom
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import XenAPI
import yaml

from conftest import connect, password, start_sim
from test_xapisim_pool import member_ready

GIB = 1024 ** 3
LUN1 = "3600a098038303053453f463045714a31"
LUN2 = "3600a098038303053453f463045714a32"
TARGET_IQN = "iqn.1992-08.com.netapp:sn.4b0c8a6f:vs.3"
DATACENTER = {
    "name": "storage",
    "credentials": {"username": "root", "password": "storage-sim-pw"},
    "host_groups": [{"name_prefix": "st-", "count": 3, "cpu": {"vendor": "GenuineIntel", "cores": 4}, "memory_gib": 16,
                     "nics": 2}],
    "pools": [{"name_label": "iscsi-pool", "master": "st-01", "members": ["st-02"]}],
    "iscsi_targets": [{"address": "127.0.0.200", "iqn": TARGET_IQN, "chap_user": "chapu", "chap_password": "chap-secret",
                       "luns": [{"scsi_id": LUN1, "size_gib": 100}, {"scsi_id": LUN2, "size_gib": 50,
                                                                     "initiators": ["iqn.2000-01.other:host"]}]}],
}


@pytest.fixture(scope="module", name="storage_sim")
def storage_sim_fixture(tmp_path_factory):
    path = tmp_path_factory.mktemp("dc") / "storage.yml"
    path.write_text(yaml.safe_dump(DATACENTER))
    sim = start_sim(tmp_path_factory, "storage", None, ["--datacenter", str(path)])
    yield sim
    sim.stop()


def details(call, *args):
    with pytest.raises(XenAPI.Failure) as info:
        call(*args)
    return info.value.details


def test_probe_stages(storage_sim):
    x = connect(storage_sim).xenapi
    host = x.pool.get_master(x.pool.get_all()[0])
    assert details(x.SR.probe, host, {}, "lvmoiscsi", {})[:3] == ["SR_BACKEND_FAILURE_95", "", "The request is missing the target parameter"]
    assert details(x.SR.probe, host, {"target": "127.0.0.201"}, "lvmoiscsi", {})[0] == "SR_BACKEND_FAILURE_141"
    assert details(x.SR.probe, host, {"target": "127.0.0.200"}, "lvmoiscsi", {})[0] == "SR_BACKEND_FAILURE_68"
    chap = {"target": "127.0.0.200", "chapuser": "chapu", "chappassword": "chap-secret"}
    err = details(x.SR.probe, host, chap, "lvmoiscsi", {})
    assert err[0] == "SR_BACKEND_FAILURE_96" and len(err) == 4
    dom = xml.dom.minidom.parseString(err[3])
    iqns = [n.firstChild.data.strip() for n in dom.getElementsByTagName("TargetIQN")]
    assert iqns == [TARGET_IQN, "*"]
    assert dom.getElementsByTagName("Port") == [], "Port only appears when it is not 3260"
    err = details(x.SR.probe, host, dict(chap, targetIQN=TARGET_IQN), "lvmoiscsi", {})
    assert err[0] == "SR_BACKEND_FAILURE_107"
    luns = xml.dom.minidom.parseString(err[3]).getElementsByTagName("LUN")
    assert [lun.getElementsByTagName("SCSIid")[0].firstChild.data.strip() for lun in luns] == [LUN1], \
        "LUNs mapped to other initiators are not visible"
    assert luns[0].getElementsByTagName("size")[0].firstChild.data.strip() == str(100 * GIB)
    result = x.SR.probe(host, dict(chap, targetIQN=TARGET_IQN, SCSIid=LUN1), "lvmoiscsi", {})
    assert xml.dom.minidom.parseString(result).getElementsByTagName("SR") == []
    # xapi_sr.ml probe_ext runs the SM probe first; an SMAPIv1 driver's Raw answer is then refused
    assert details(x.SR.probe_ext, host, chap, "lvmoiscsi", {})[0] == "SR_BACKEND_FAILURE_96"
    assert details(x.SR.probe_ext, host, dict(chap, targetIQN=TARGET_IQN, SCSIid=LUN1), "lvmoiscsi", {}) == \
        ["SR_OPERATION_NOT_SUPPORTED"]
    calls = storage_sim.control.calls()
    assert "chap-secret" not in str(calls), "device_config passwords are redacted in the call log"


def test_create_join_forget_introduce_destroy(storage_sim):
    x = connect(storage_sim).xenapi
    master = x.pool.get_master(x.pool.get_all()[0])
    config = {"target": "127.0.0.200", "targetIQN": TARGET_IQN, "SCSIid": LUN1, "chapuser": "chapu",
              "chappassword": "chap-secret"}
    sr = x.SR.create(master, config, "0", "netapp-lun1", "", "lvmoiscsi", "", True, {})
    rec = x.SR.get_record(sr)
    assert rec["shared"] is True and rec["physical_size"] == str(100 * GIB) and len(rec["PBDs"]) == 2
    for pbd in rec["PBDs"]:
        prec = x.PBD.get_record(pbd)
        assert prec["currently_attached"] is True
        assert "chappassword" not in prec["device_config"]
        secret = x.secret.get_by_uuid(prec["device_config"]["chappassword_secret"])
        assert x.secret.get_value(secret) == "chap-secret"
    assert len({x.PBD.get_device_config(p)["chappassword_secret"] for p in rec["PBDs"]}) == 2, "one secret per PBD"
    found = x.SR.probe(master, config, "lvmoiscsi", {})
    uuids = [n.firstChild.data.strip() for n in xml.dom.minidom.parseString(found).getElementsByTagName("UUID")]
    assert uuids == [rec["uuid"]]
    assert details(x.SR.create, master, config, "0", "again", "", "lvmoiscsi", "", True, {}) == ["SR_DEVICE_IN_USE"]
    # a host joining the pool gets a plugged PBD for the shared SR
    joiner = connect(storage_sim, 2).xenapi
    joiner.pool.join(storage_sim.ready["hosts"][0]["address"], "root", password(storage_sim))
    x = connect(storage_sim).xenapi
    new_host = member_ready(x, "st-03")  # its PBDs come with its toolstack restart (create_storage.ml)
    pbds = {x.PBD.get_host(p): p for p in x.SR.get_PBDs(sr)}
    assert new_host in pbds and x.PBD.get_currently_attached(pbds[new_host]) is True
    # forget needs every PBD unplugged; the data stays and can be reattached
    assert details(x.SR.forget, sr) == ["SR_HAS_PBD", sr]
    for pbd in x.SR.get_PBDs(sr):
        x.PBD.unplug(pbd)
    x.SR.forget(sr)
    assert sr not in x.SR.get_all()
    again = x.SR.introduce(rec["uuid"], "netapp-lun1", "", "lvmoiscsi", "", True, {})
    assert details(x.SR.introduce, rec["uuid"], "dup", "", "lvmoiscsi", "", True, {}) == ["SR_UUID_EXISTS", rec["uuid"]]
    assert x.SR.get_physical_size(again) == "-1"
    for host in x.host.get_all():
        pbd = x.PBD.create({"host": host, "SR": again, "device_config": config, "other_config": {}})
        x.PBD.plug(pbd)
    assert x.SR.get_physical_size(again) == str(100 * GIB)
    assert details(x.SR.destroy, again) == ["SR_HAS_PBD", again]
    for pbd in x.SR.get_PBDs(again):
        x.PBD.unplug(pbd)
    x.SR.destroy(again)
    empty = x.SR.probe(master, config, "lvmoiscsi", {})
    assert xml.dom.minidom.parseString(empty).getElementsByTagName("SR") == []


def test_fabric_control_route(storage_sim):
    x = connect(storage_sim).xenapi
    master = x.pool.get_master(x.pool.get_all()[0])
    iqn = x.host.get_iscsi_iqn(master)
    storage_sim.control.request("POST", "iscsi/targets", {
        "address": "127.0.0.200", "port": 3261, "iqn": "iqn.2026-11.sim:second",
        "luns": [{"scsi_id": "3600a0980000000000000000000000042", "size": 5 * GIB, "initiators": [iqn]}]})
    targets = storage_sim.control.request("GET", "iscsi/targets")["targets"]
    assert {t["iqn"] for t in targets} == {TARGET_IQN, "iqn.2026-11.sim:second"}
    err = details(x.SR.probe, master, {"target": "127.0.0.200", "port": "3261"}, "lvmoiscsi", {})
    dom = xml.dom.minidom.parseString(err[3])
    assert [n.firstChild.data.strip() for n in dom.getElementsByTagName("Port")] == ["3261", "3261"]
    err = details(x.SR.probe, master, {"target": "127.0.0.200", "port": "3261", "targetIQN": "*"}, "lvmoiscsi", {})
    assert "3600a0980000000000000000000000042" in err[3]
    assert os.path.exists(storage_sim.ready["ca_cert"])


class _FakeOntapControl(BaseHTTPRequestHandler):
    """Stands in for the ONTAP simulator's GET /sim/ontap/visible?initiator=IQN."""

    allowed: set = set()

    def do_GET(self):  # pylint: disable=invalid-name
        query = urllib.parse.parse_qs(urllib.parse.urlparse(self.path).query)
        initiator = query.get("initiator", [""])[0]
        luns = []
        if self.path.startswith("/sim/ontap/visible") and initiator in self.allowed:
            luns = [{"lun_path": "/vol/xen_sr/lun0", "serial": "wCZ5S?FEqJ1x", "lun_id": 0, "target_iqn": ONTAP_IQN,
                     "portals": ["127.0.0.210:3260", "127.0.0.211:3260"], "svm": "svm_xen", "igroup": "xen", "size": 200 * GIB,
                     "scsi_id": ONTAP_SCSI}]
        body = json.dumps({"initiator": initiator, "luns": luns}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        return


ONTAP_IQN = "iqn.1992-08.com.netapp:sn.0123456789:vs.7"
ONTAP_SCSI = "3600a09807743a5a353f4645714a3178"


def test_fabric_from_ontap_control(tmp_path_factory):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOntapControl)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    control = "http://127.0.0.1:%d/sim" % server.server_address[1]
    path = tmp_path_factory.mktemp("dc") / "plain.yml"
    conf = dict(DATACENTER)
    conf.pop("iscsi_targets")
    path.write_text(yaml.safe_dump(conf))
    sim = start_sim(tmp_path_factory, "ontapfabric", None, ["--datacenter", str(path), "--ontap-control", control])
    try:
        x = connect(sim).xenapi
        master = x.pool.get_master(x.pool.get_all()[0])
        member = [h for h in x.host.get_all() if h != master][0]
        config = {"target": "127.0.0.210"}
        _FakeOntapControl.allowed = set()
        assert details(x.SR.probe, master, config, "lvmoiscsi", {})[0] == "SR_BACKEND_FAILURE_141", \
            "no LUN mapped to this initiator: no reachable target"
        _FakeOntapControl.allowed = {x.host.get_iscsi_iqn(master), x.host.get_iscsi_iqn(member)}
        err = details(x.SR.probe, master, config, "lvmoiscsi", {})
        assert err[0] == "SR_BACKEND_FAILURE_96" and ONTAP_IQN in err[3]
        addresses = [n.firstChild.data.strip() for n in xml.dom.minidom.parseString(err[3]).getElementsByTagName("IPAddress")]
        assert addresses == ["127.0.0.210", "127.0.0.211", "127.0.0.210"], "discovery lists every portal, then the * entry"
        err = details(x.SR.probe, master, dict(config, targetIQN=ONTAP_IQN), "lvmoiscsi", {})
        assert err[0] == "SR_BACKEND_FAILURE_107" and ONTAP_SCSI in err[3] and str(200 * GIB) in err[3]
        full = dict(config, targetIQN=ONTAP_IQN, SCSIid=ONTAP_SCSI)
        sr = x.SR.create(master, full, "0", "ontap-sr", "", "lvmoiscsi", "", True, {})
        assert x.SR.get_physical_size(sr) == str(200 * GIB)
        found = x.SR.probe(member, full, "lvmoiscsi", {})
        assert x.SR.get_uuid(sr) in found
        # the LUN disappears from the member's view: LVHDoISCSISR.attach wraps the failure as SRUnavailable (47)
        _FakeOntapControl.allowed = {x.host.get_iscsi_iqn(master)}
        member_pbd = [p for p in x.SR.get_PBDs(sr) if x.PBD.get_host(p) == member][0]
        x.PBD.unplug(member_pbd)
        assert details(x.PBD.plug, member_pbd)[0] == "SR_BACKEND_FAILURE_47"
    finally:
        sim.stop()
        server.shutdown()
        server.server_close()
