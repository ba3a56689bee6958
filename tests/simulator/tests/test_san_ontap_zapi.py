# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontapsim SAN additions: lun-set-space-reservation-info, igroup-set-attribute, the per-LUN data area."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from ontapsim.testing import RestClient, read_password, start_ontapsim

zapi = pytest.importorskip("netapp_lib.api.zapi.zapi")

GIB = 1024 ** 3


@pytest.fixture(scope="module", name="sim")
def sim_fixture(tmp_path_factory):
    proc = start_ontapsim(str(tmp_path_factory.mktemp("san_zapi")))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(autouse=True, name="trust_sim_ca")
def trust_sim_ca_fixture(sim, monkeypatch):
    monkeypatch.setenv("SSL_CERT_FILE", sim.ready["ca_cert"])


def svm_server(sim, vserver="svm_xen"):
    srv = zapi.NaServer(sim.ready["address"], username=sim.ready["username"], password=read_password(sim.ready))
    srv.set_transport_type("HTTPS")
    srv.set_port(sim.ready["port"])
    srv.set_api_version(1, 110)
    srv.set_style(zapi.NaServer.STYLE_LOGIN_PASSWORD)
    srv.set_server_type(zapi.NaServer.SERVER_TYPE_FILER)
    srv.set_vserver(vserver)
    return srv


def call(srv, api_name, /, **children):
    elem = zapi.NaElement(api_name)
    for key, value in children.items():
        elem.add_new_child(key.replace("_", "-"), str(value))
    return srv.invoke_successfully(elem, enable_tunneling=True)


def errno_of(srv, api_name, /, **children):
    with pytest.raises(zapi.NaApiError) as info:
        call(srv, api_name, **children)
    return str(info.value.code)


def control(sim, method, route, body=None):
    data = json.dumps(body).encode("utf-8") if body is not None else None
    req = urllib.request.Request(sim.ready["control"] + "/" + route, data=data, method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_space_reservation_and_igroup_attribute(sim):
    srv = svm_server(sim)
    api = RestClient(sim.ready)
    call(srv, "volume-create", volume="zres", containing_aggr_name="aggr1", size=10 * GIB, space_reserve="none")
    call(srv, "lun-create-by-size", path="/vol/zres/l0", size=GIB, ostype="xen", space_reservation_enabled="true")
    rest_lun = api.get("/api/storage/luns", name="/vol/zres/l0", fields="space.guarantee.requested")[1]["records"][0]
    assert rest_lun["space"]["guarantee"]["requested"] is True
    call(srv, "lun-set-space-reservation-info", path="/vol/zres/l0", enable="false")
    rest_lun = api.get("/api/storage/luns", name="/vol/zres/l0", fields="space.guarantee.requested")[1]["records"][0]
    assert rest_lun["space"]["guarantee"]["requested"] is False
    q = zapi.NaElement("lun-get-iter")
    info = zapi.NaElement("lun-info")
    info.add_new_child("path", "/vol/zres/l0")
    query = zapi.NaElement("query")
    query.add_child_elem(info)
    q.add_child_elem(query)
    rec = srv.invoke_successfully(q, enable_tunneling=True).get_child_by_name("attributes-list").get_children()[0]
    assert rec.get_child_content("is-space-reservation-enabled") == "false"
    assert errno_of(srv, "lun-set-space-reservation-info", path="/vol/zres/none", enable="true") == "9017"
    assert errno_of(srv, "lun-set-space-reservation-info", path="/vol/zres/l0", enable="maybe") == "13115"
    calls = control(sim, "GET", "calls")
    assert [c["write"] for c in calls["calls"] if c["method"] == "lun-set-space-reservation-info"][0] is True

    call(srv, "igroup-create", initiator_group_name="zig", initiator_group_type="iscsi", os_type="linux")
    call(srv, "igroup-set-attribute", initiator_group_name="zig", attribute="os-type", value="xen")
    assert api.get("/api/protocols/san/igroups", name="zig", fields="os_type")[1]["records"][0]["os_type"] == "xen"
    assert errno_of(srv, "igroup-set-attribute", initiator_group_name="zig", attribute="os-type", value="beos") == "9032"
    assert errno_of(srv, "igroup-set-attribute", initiator_group_name="zig", attribute="colour", value="x") == "13115"
    assert errno_of(srv, "igroup-set-attribute", initiator_group_name="nope", attribute="os-type", value="xen") != "0"


def test_lun_data_area_and_targets(sim, tmp_path):
    api = RestClient(sim.ready)
    lun = api.get("/api/storage/luns", name="/vol/san2_vol1/lun0", fields="serial_number")[1]["records"][0]
    route = "ontap/luns/%s/data" % lun["serial_number"]
    before = control(sim, "GET", route)
    assert before["data"] is None and before["scsi_id"] == "3600a0980" + lun["serial_number"].encode().hex()
    calls_before = control(sim, "GET", "calls")["counters"]
    control(sim, "PUT", route, {"data": {"sr_uuid": "abc", "vdis": {}}})
    assert control(sim, "GET", route)["data"] == {"sr_uuid": "abc", "vdis": {}}
    assert control(sim, "GET", "calls")["counters"] == calls_before, "control routes are not ONTAP calls"
    with pytest.raises(urllib.error.HTTPError) as info:
        control(sim, "PUT", route, {"data": [1, 2]})
    assert info.value.code == 400
    saved = str(tmp_path / "ontap-state.json")
    control(sim, "POST", "save", {"path": saved})
    with open(saved, encoding="utf-8") as handle:
        luns = json.load(handle)["luns"]
    assert [v["host_data"] for v in luns.values() if v["serial"] == lun["serial_number"]] == [{"sr_uuid": "abc", "vdis": {}}]
    control(sim, "DELETE", route)
    assert control(sim, "GET", route)["data"] is None
    with pytest.raises(urllib.error.HTTPError) as info:
        control(sim, "GET", "ontap/luns/NOSUCHSERIAL/data")
    assert info.value.code == 404
    # sendtargets view: every SVM with a running iSCSI service, whoever asks
    seen = control(sim, "GET", "ontap/visible?initiator=iqn.2000-01.com.example:nobody")
    assert seen["luns"] == []
    assert [(t["svm"], t["portals"]) for t in seen["targets"]] == [("svm_san2", ["192.0.2.31:3260", "192.0.2.32:3260"])]
