# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontapsim ZAPI behaviour with the real netapp-lib client, and REST <-> ZAPI visibility."""
from __future__ import annotations

import os
import sys

import pytest

SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SIM_ROOT not in sys.path:
    sys.path.insert(0, SIM_ROOT)

from ontapsim.testing import RestClient, read_password, start_ontapsim  # noqa: E402  pylint: disable=wrong-import-position

zapi = pytest.importorskip("netapp_lib.api.zapi.zapi")

GIB = 1024 ** 3


@pytest.fixture(scope="module", name="sim")
def sim_fixture(tmp_path_factory):
    proc = start_ontapsim(str(tmp_path_factory.mktemp("ontapsim_zapi")))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(autouse=True, name="trust_sim_ca")
def trust_sim_ca_fixture(sim, monkeypatch):
    """netapp-lib uses urllib's default HTTPS context: point it at the simulator CA."""
    monkeypatch.setenv("SSL_CERT_FILE", sim.ready["ca_cert"])


def server(sim, vserver=None, transport="HTTPS", password=None):
    srv = zapi.NaServer(sim.ready["address"], username=sim.ready["username"],
                        password=password if password is not None else read_password(sim.ready))
    srv.set_transport_type(transport)
    srv.set_port(sim.ready["port"])  # after set_transport_type, which resets the port
    srv.set_api_version(1, 110)
    srv.set_style(zapi.NaServer.STYLE_LOGIN_PASSWORD)
    srv.set_server_type(zapi.NaServer.SERVER_TYPE_FILER)
    if vserver:
        srv.set_vserver(vserver)
    srv.tunnel = bool(vserver)
    return srv


def call(srv, api_name, /, **children):
    elem = zapi.NaElement(api_name)
    for key, value in children.items():
        elem.add_new_child(key.replace("_", "-"), str(value))
    return srv.invoke_successfully(elem, enable_tunneling=srv.tunnel)


def errno_of(srv, api_name, /, **children):
    with pytest.raises(zapi.NaApiError) as info:
        call(srv, api_name, **children)
    return str(info.value.code)


def iter_all(srv, name, query=None, desired=None, page=50):
    """Follow next-tag like a ZAPI client; returns (records, pages)."""
    records, tag, pages = [], None, 0
    while True:
        elem = zapi.NaElement(name)
        elem.add_new_child("max-records", str(page))
        if tag:
            elem.add_new_child("tag", tag)
        for key, tmpl in (("query", query), ("desired-attributes", desired)):
            if tmpl is not None:
                wrap = zapi.NaElement(key)
                wrap.add_child_elem(tmpl)
                elem.add_child_elem(wrap)
        result = srv.invoke_successfully(elem, enable_tunneling=srv.tunnel)
        pages += 1
        count = int(result.get_child_content("num-records"))
        if count:
            records += result.get_child_by_name("attributes-list").get_children()
        else:
            assert result.get_child_by_name("attributes-list") is None
        tag = result.get_child_content("next-tag")
        if not tag:
            return records, pages


def test_version_auth_challenge_and_transports(sim):
    # plain netapp-lib sends credentials only after the 401 challenge
    result = call(server(sim), "system-get-version")
    assert result.get_child_content("version").startswith("NetApp Release 9.14.1")
    tup = result.get_child_by_name("version-tuple").get_child_by_name("system-version-tuple")
    assert (tup.get_child_content("generation"), tup.get_child_content("major")) == ("9", "14")
    assert call(server(sim, transport="HTTP"), "system-get-ontapi-version").get_child_content("major-version") == "1"
    with pytest.raises(zapi.NaApiError) as info:
        call(server(sim, password="wrong"), "system-get-version")
    assert str(info.value.code) == "401"


def test_scope_and_api_errors(sim):
    cluster = server(sim)
    assert errno_of(cluster, "no-such-api") == "13005"
    assert errno_of(cluster, "lun-create-by-size", path="/vol/x/y", size=GIB, ostype="xen") == "13005"
    assert errno_of(server(sim, vserver="svm_nope"), "lun-get-iter") == "15698"
    assert errno_of(server(sim, vserver="svm_xen"), "aggr-get-iter") == "13005"
    aggrs, _pages = iter_all(cluster, "aggr-get-iter")
    assert sorted(a.get_child_content("aggregate-name") for a in aggrs) == ["aggr1", "aggr2"]
    admin = zapi.NaElement("vserver-info")
    admin.add_new_child("vserver-type", "admin")
    found, _pages = iter_all(cluster, "vserver-get-iter", query=admin)
    assert [v.get_child_content("vserver-name") for v in found] == ["cluster1"]


def test_cross_transport_lun_and_igroup(sim):
    svm = server(sim, vserver="svm_xen")
    api = RestClient(sim.ready)
    call(svm, "volume-create", volume="zvol1", containing_aggr_name="aggr1", size=20 * GIB, space_reserve="none")
    assert errno_of(svm, "volume-create", volume="zvol1", containing_aggr_name="aggr1", size=20 * GIB) == "17"
    res = call(svm, "lun-create-by-size", path="/vol/zvol1/lun0", size=5 * GIB, ostype="xen",
               space_reservation_enabled="false", use_exact_size="True")
    assert res.get_child_content("actual-size") == str(5 * GIB)
    assert errno_of(svm, "lun-create-by-size", path="/vol/zvol1/lun0", size=GIB, ostype="xen") == "9012"
    assert errno_of(svm, "lun-create-by-size", path="/vol/none/lun0", size=GIB, ostype="xen") == "9036"
    # ZAPI-created LUN seen over REST with the same uuid/serial
    q = zapi.NaElement("lun-info")
    q.add_new_child("path", "/vol/zvol1/lun0")
    luns, _pages = iter_all(svm, "lun-get-iter", query=q)
    assert len(luns) == 1
    zlun = luns[0]
    status, body, _h = api.get("/api/storage/luns", name="/vol/zvol1/lun0", fields="serial_number,os_type,space.size")
    assert status == 200 and body["num_records"] == 1
    rlun = body["records"][0]
    assert rlun["uuid"] == zlun.get_child_content("uuid")
    assert rlun["serial_number"] == zlun.get_child_content("serial-number")
    assert rlun["os_type"] == zlun.get_child_content("multiprotocol-type") == "xen"
    # REST-created igroup seen and used over ZAPI
    status, body, _h = api.request("POST", "/api/protocols/san/igroups",
                                   {"name": "rest_ig", "svm.name": "svm_xen", "os_type": "xen", "protocol": "iscsi",
                                    "initiators": [{"name": "iqn.2024-03.test.x:A"}]})
    assert status == 201, body
    gq = zapi.NaElement("initiator-group-info")
    gq.add_new_child("initiator-group-name", "rest_ig")
    groups, _pages = iter_all(svm, "igroup-get-iter", query=gq)
    assert len(groups) == 1
    names = [i.get_child_content("initiator-name")
             for i in groups[0].get_child_by_name("initiators").get_children()]
    assert names == ["iqn.2024-03.test.x:a"]
    assert errno_of(svm, "igroup-create", initiator_group_name="rest_ig", initiator_group_type="iscsi",
                    os_type="xen") == "9004"
    assert errno_of(svm, "igroup-add", initiator_group_name="rest_ig", initiator="IQN.2024-03.test.x:a") == "9008"
    call(svm, "igroup-add", initiator_group_name="rest_ig", initiator="iqn.2024-03.test.x:b")
    mapped = call(svm, "lun-map", path="/vol/zvol1/lun0", initiator_group="rest_ig")
    assert mapped.get_child_content("lun-id-assigned") == "0"
    assert errno_of(svm, "lun-map", path="/vol/zvol1/lun0", initiator_group="rest_ig") == "9009"
    maps = api.get("/api/protocols/san/lun-maps", **{"lun.name": "/vol/zvol1/lun0", "fields": "logical_unit_number"})[1]
    assert maps["records"][0]["logical_unit_number"] == 0
    info = call(svm, "lun-map-list-info", path="/vol/zvol1/lun0")
    group = info.get_child_by_name("initiator-groups").get_children()[0]
    assert (group.get_child_content("initiator-group-name"), group.get_child_content("lun-id")) == ("rest_ig", "0")
    # resize rules and mapped destroy
    assert errno_of(svm, "lun-resize", path="/vol/zvol1/lun0", size=5 * GIB) == "9042"
    call(svm, "lun-resize", path="/vol/zvol1/lun0", size=6 * GIB)
    assert api.get("/api/storage/luns", name="/vol/zvol1/lun0", fields="space.size")[1]["records"][0]["space"]["size"] == 6 * GIB
    assert errno_of(svm, "igroup-remove", initiator_group_name="rest_ig", initiator="iqn.2024-03.test.x:b") == "9029"
    assert errno_of(svm, "lun-destroy", path="/vol/zvol1/lun0") == "9013"
    call(svm, "lun-unmap", path="/vol/zvol1/lun0", initiator_group="rest_ig")
    assert errno_of(svm, "lun-unmap", path="/vol/zvol1/lun0", initiator_group="rest_ig") == "9016"
    call(svm, "lun-destroy", path="/vol/zvol1/lun0", force="False")
    assert api.get("/api/storage/luns", name="/vol/zvol1/lun0")[1]["num_records"] == 0
    assert errno_of(svm, "lun-resize", path="/vol/zvol1/lun0", size=GIB) == "9017"


def test_iterator_paging_desired_attributes_and_volume_ops(sim):
    svm = server(sim, vserver="svm_xen")
    for i in range(7):
        call(svm, "volume-create", volume="zpage_%d" % i, containing_aggr_name="aggr2", size="1g", space_reserve="none")
    q = zapi.NaElement("volume-attributes")
    ids = zapi.NaElement("volume-id-attributes")
    ids.add_new_child("name", "zpage_*")
    q.add_child_elem(ids)
    desired = zapi.NaElement("volume-attributes")
    want = zapi.NaElement("volume-id-attributes")
    want.add_new_child("name", "")
    desired.add_child_elem(want)
    vols, pages = iter_all(svm, "volume-get-iter", query=q, desired=desired, page=3)
    assert pages == 3
    assert sorted(v.get_child_by_name("volume-id-attributes").get_child_content("name") for v in vols) == \
        ["zpage_%d" % i for i in range(7)]
    assert all(v.get_child_by_name("volume-space-attributes") is None for v in vols)
    # size, offline/destroy, modify-iter
    assert call(svm, "volume-size", volume="zpage_0", new_size="+1g").get_child_content("volume-size") == "2g"
    assert errno_of(svm, "volume-destroy", name="zpage_1") == "13060"
    call(svm, "volume-offline", name="zpage_1")
    call(svm, "volume-destroy", name="zpage_1")
    assert errno_of(svm, "volume-size", volume="zpage_1") == "13040"
    mod = zapi.NaElement("volume-modify-iter")
    query = zapi.NaElement("query")
    query.add_child_elem(q)
    mod.add_child_elem(query)
    attrs = zapi.NaElement("attributes")
    va = zapi.NaElement("volume-attributes")
    snap = zapi.NaElement("volume-snapshot-attributes")
    snap.add_new_child("snapshot-policy", "none")
    va.add_child_elem(snap)
    attrs.add_child_elem(va)
    mod.add_child_elem(attrs)
    res = svm.invoke_successfully(mod, enable_tunneling=True)
    assert res.get_child_content("num-succeeded") == "6" and res.get_child_content("num-failed") == "0"
    api = RestClient(sim.ready)
    recs = api.get("/api/storage/volumes", name="zpage_*", fields="snapshot_policy.name")[1]["records"]
    assert {r["snapshot_policy"]["name"] for r in recs} == {"none"}


def test_efficiency_iscsi_and_snapshots(sim):
    svm = server(sim, vserver="svm_xen")
    api = RestClient(sim.ready)
    call(svm, "volume-create", volume="zeff", containing_aggr_name="aggr1", size=10 * GIB, space_reserve="none")
    assert errno_of(svm, "sis-set-config", path="/vol/zeff", enable_compression="true") == "13001"
    call(svm, "sis-enable", path="/vol/zeff")
    assert errno_of(svm, "sis-enable", path="/vol/zeff") == "40043"
    call(svm, "sis-set-config", path="/vol/zeff", enable_compression="true", enable_inline_compression="true",
         policy_name="auto")
    eff = api.get("/api/storage/volumes", name="zeff", fields="efficiency")[1]["records"][0]["efficiency"]
    assert (eff["dedupe"], eff["compression"], eff["policy"]["name"]) == ("background", "both", "auto")
    q = zapi.NaElement("sis-status-info")
    q.add_new_child("path", "/vol/zeff")
    sis, _pages = iter_all(svm, "sis-get-iter", query=q)
    assert sis[0].get_child_content("state") == "enabled"
    assert sis[0].get_child_content("is-inline-compression-enabled") == "true"
    # iSCSI: svm_xen has no service yet in this simulator instance
    assert errno_of(svm, "iscsi-node-get-name") == "13001"
    call(svm, "iscsi-service-create", start="true")
    node_name = call(svm, "iscsi-node-get-name").get_child_content("node-name")
    rest = api.get("/api/protocols/san/iscsi/services", **{"svm.name": "svm_xen", "fields": "target.name,enabled"})[1]
    assert rest["records"][0]["target"]["name"] == node_name and rest["records"][0]["enabled"] is True
    portals, _pages = iter_all(svm, "iscsi-interface-get-iter")
    assert sorted(p.get_child_content("ip-address") for p in portals) == ["192.0.2.21", "192.0.2.22"]
    assert errno_of(svm, "iscsi-service-create") == "13130"
    # snapshots over ZAPI, seen over REST
    call(svm, "snapshot-create", volume="zeff", snapshot="zs1", comment="from zapi")
    assert errno_of(svm, "snapshot-create", volume="zeff", snapshot="zs1") == "13020"
    vol_uuid = api.get("/api/storage/volumes", name="zeff")[1]["records"][0]["uuid"]
    snaps = api.get("/api/storage/volumes/%s/snapshots" % vol_uuid, fields="comment")[1]["records"]
    assert [(s["name"], s["comment"]) for s in snaps] == [("zs1", "from zapi")]
    call(svm, "snapshot-delete", volume="zeff", snapshot="zs1")
    assert errno_of(svm, "snapshot-delete", volume="zeff", snapshot="zs1") == "13021"


def test_zapi_can_be_disabled(sim):
    api = RestClient(sim.ready)
    api.control("POST", "ontap/zapi", {"enabled": False})
    try:
        assert errno_of(server(sim), "system-get-version") == "13005"
        assert api.get("/api/cluster", fields="version")[0] == 200
    finally:
        api.control("POST", "ontap/zapi", {"enabled": True})
    assert call(server(sim), "system-get-version").get_child_content("is-clustered") == "true"
