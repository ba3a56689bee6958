# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontapsim REST behaviour against a real simulator process (urllib + json only)."""
from __future__ import annotations

import os
import re
import sys

import pytest

SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SIM_ROOT not in sys.path:
    sys.path.insert(0, SIM_ROOT)

from ontapsim.testing import RestClient, start_ontapsim  # noqa: E402  pylint: disable=wrong-import-position

GIB = 1024 ** 3


@pytest.fixture(scope="module", name="sim")
def sim_fixture(tmp_path_factory):
    proc = start_ontapsim(str(tmp_path_factory.mktemp("ontapsim_rest")))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module", name="api")
def api_fixture(sim):
    return RestClient(sim.ready)


def one(api, path, **params):
    status, body, _headers = api.get(path, **params)
    assert status == 200, body
    assert body["num_records"] == 1, body
    return body["records"][0]


def error_code(resp):
    status, body, _headers = resp
    assert "error" in body, (status, body)
    return status, body["error"]["code"]


def make_volume(api, name, size=10 * GIB, svm="svm_xen"):
    status, body, headers = api.request("POST", "/api/storage/volumes",
                                        {"name": name, "svm.name": svm, "aggregates": [{"name": "aggr1"}],
                                         "size": size, "guarantee": {"type": "none"}},
                                        params={"return_timeout": 30})
    assert status in (201, 200), body
    assert headers["Location"].startswith("/api/storage/volumes/")
    return headers["Location"].rsplit("/", 1)[1]


def make_lun(api, vol, name, size=GIB, svm="svm_xen"):
    status, body, headers = api.request("POST", "/api/storage/luns",
                                        {"svm.name": svm, "name": "/vol/%s/%s" % (vol, name),
                                         "location.volume.name": vol, "os_type": "xen", "space.size": size,
                                         "space.guarantee.requested": False},
                                        params={"return_timeout": 30})
    assert status == 201, body
    return headers["Location"].rsplit("/", 1)[1]


def test_cluster_version_and_auth(sim, api):
    status, body, _h = api.get("/api/cluster", fields="version")
    assert status == 200
    assert body["version"]["generation"] == 9 and body["version"]["major"] == 14
    assert body["version"]["full"].startswith("NetApp Release 9.14.1")
    assert "name" not in body  # only the asked-for field (plus links)
    status, body, headers = api.request("GET", "/api/cluster", auth=False)
    assert status == 401 and "Basic" in headers.get("WWW-Authenticate", "")
    bad = RestClient(sim.ready, password="wrong-password")
    assert bad.get("/api/cluster")[0] == 401
    # plain http serves the same API on the same port
    assert RestClient(sim.ready, scheme="http").get("/api/cluster", fields="version")[0] == 200


def test_envelope_default_and_fields(api):
    status, body, _h = api.get("/api/svm/svms")
    assert status == 200 and body["num_records"] == 2
    assert set(body["records"][0]) == {"uuid", "name", "_links"}
    svm = one(api, "/api/svm/svms", name="svm_xen", fields="iscsi,aggregates.name,")
    assert svm["iscsi"] == {"allowed": True, "enabled": False}
    assert [a["name"] for a in svm["aggregates"]] == ["aggr1", "aggr2"]
    assert "uuid" not in svm["aggregates"][0]
    full = one(api, "/api/svm/svms", name="svm_xen", fields="*")
    assert "ip_interfaces" in full and "language" in full
    # valid-but-unmodelled field is omitted, unknown field is an error
    vol = one(api, "/api/storage/volumes", name="svm_xen_root", fields="qos.policy.name,size")
    assert "qos" not in vol and vol["size"] == GIB
    assert error_code(api.get("/api/storage/volumes", fields="no_such_field")) == (400, "262197")
    assert error_code(api.get("/api/storage/volumes", bogus="1")) == (400, "262179")


def test_filters(api):
    status, body, _h = api.get("/api/storage/volumes", name="nope_*")
    assert status == 200 and body["num_records"] == 0 and body["records"] == []
    lifs = api.get("/api/network/ip/interfaces", **{"svm.name": "svm_xen", "services": "data_iscsi",
                                                    "fields": "ip.address"})[1]
    assert sorted(r["ip"]["address"] for r in lifs["records"]) == ["192.0.2.21", "192.0.2.22"]
    both = api.get("/api/svm/svms", name="svm_xen|svm_san2")[1]
    assert both["num_records"] == 2
    big = api.get("/api/storage/aggregates", **{"space.block_storage.size": ">=%d" % (10 * 1024 ** 4)})[1]
    assert big["num_records"] == 2
    none = api.get("/api/storage/aggregates", **{"space.block_storage.size": "<1"})[1]
    assert none["num_records"] == 0
    notxen = api.get("/api/svm/svms", name="!svm_xen")[1]
    assert [r["name"] for r in notxen["records"]] == ["svm_san2"]


def test_volume_async_job_and_duplicate(api):
    status, body, headers = api.request("POST", "/api/storage/volumes",
                                        {"name": "vol_async", "svm": {"name": "svm_xen"}, "aggregates": [{"name": "aggr2"}],
                                         "size": "20GB"})
    assert status == 202, body
    job_uuid = body["job"]["uuid"]
    assert body["job"]["_links"]["self"]["href"] == "/api/cluster/jobs/%s" % job_uuid
    vol_uuid = headers["Location"].rsplit("/", 1)[1]
    job = api.wait_job(job_uuid)
    assert job["state"] == "success" and job["code"] == 0
    vol = api.get("/api/storage/volumes/%s" % vol_uuid)[1]
    assert vol["size"] == 20 * GIB and vol["aggregates"][0]["name"] == "aggr2"
    assert vol["guarantee"]["type"] == "volume" and vol["snapshot_policy"]["name"] == "default"
    # duplicate, asynchronous: the job fails with the volume error code
    status, body, _h = api.request("POST", "/api/storage/volumes",
                                   {"name": "vol_async", "svm.name": "svm_xen", "aggregates": [{"name": "aggr1"}]})
    assert status == 202
    failed = api.wait_job(body["job"]["uuid"])
    assert failed["state"] == "failure" and failed["error"]["code"] == "917526" and failed["code"] == 917526
    # duplicate with return_timeout: the error comes back directly
    resp = api.request("POST", "/api/storage/volumes", {"name": "vol_async", "svm.name": "svm_xen",
                                                        "aggregates": [{"name": "aggr1"}]}, params={"return_timeout": 30})
    assert error_code(resp) == (409, "917526")
    assert error_code(api.request("POST", "/api/storage/volumes", {"name": "v2", "svm.name": "svm_xen",
                                                                   "aggregates": [{"name": "aggr9"}]})) == (404, "917508")
    assert error_code(api.request("POST", "/api/storage/volumes", {"name": "v2", "svm.name": "nosvm",
                                                                   "aggregates": [{"name": "aggr1"}]})) == (404, "2621462")
    # PATCH size and DELETE
    status, body, _h = api.request("PATCH", "/api/storage/volumes/%s" % vol_uuid, {"size": 30 * GIB},
                                   params={"return_timeout": 30})
    assert status == 200, body
    assert api.get("/api/storage/volumes/%s" % vol_uuid, fields="size")[1]["size"] == 30 * GIB
    status, body, _h = api.request("DELETE", "/api/storage/volumes/%s" % vol_uuid, params={"return_timeout": 30})
    assert status == 200, body
    assert error_code(api.get("/api/storage/volumes/%s" % vol_uuid))[0] == 404


def test_lun_lifecycle_and_errors(api):
    make_volume(api, "vol_luns")
    lun_uuid = make_lun(api, "vol_luns", "lun1", 10 * GIB)
    lun = one(api, "/api/storage/luns", name="/vol/vol_luns/lun1", **{"svm.name": "svm_xen",
                                                                      "fields": "serial_number,serial_number_hex,space,os_type,location"})
    assert lun["uuid"] == lun_uuid
    assert len(lun["serial_number"]) == 12 and lun["serial_number"].isprintable()
    assert bytes.fromhex(lun["serial_number_hex"]).decode("ascii") == lun["serial_number"]
    assert lun["os_type"] == "xen" and lun["space"]["size"] == 10 * GIB
    assert lun["space"]["guarantee"]["requested"] is False
    assert lun["location"]["volume"]["name"] == "vol_luns" and lun["location"]["logical_unit"] == "lun1"
    # duplicate path, missing volume, missing os_type
    dup = api.request("POST", "/api/storage/luns", {"svm.name": "svm_xen", "name": "/vol/vol_luns/lun1",
                                                    "os_type": "xen", "space.size": GIB}, params={"return_timeout": 30})
    assert error_code(dup) == (409, "5374242")
    novol = api.request("POST", "/api/storage/luns", {"svm.name": "svm_xen", "name": "/vol/nope/lun1",
                                                      "os_type": "xen", "space.size": GIB}, params={"return_timeout": 30})
    assert error_code(novol) == (404, "917927")
    noos = api.request("POST", "/api/storage/luns", {"svm.name": "svm_xen", "name": "/vol/vol_luns/l2", "space.size": GIB})
    status, body, _h = noos
    assert status == 400 and body["error"]["code"] == "5374884" and body["error"]["target"] == "os_type"
    # grow, same size, shrink, os_type
    patch = api.request("PATCH", "/api/storage/luns/%s" % lun_uuid, {"space": {"size": 12 * GIB}},
                        params={"return_timeout": 30})
    assert patch[0] == 200, patch
    assert api.get("/api/storage/luns/%s" % lun_uuid, fields="space.size")[1]["space"]["size"] == 12 * GIB
    same = api.request("PATCH", "/api/storage/luns/%s" % lun_uuid, {"space.size": 12 * GIB}, params={"return_timeout": 30})
    assert error_code(same) == (400, "1254226")
    assert "New LUN size is the same as the old LUN size" in same[1]["error"]["message"]
    shrink = api.request("PATCH", "/api/storage/luns/%s" % lun_uuid, {"space.size": GIB}, params={"return_timeout": 30})
    assert error_code(shrink) == (400, "5374892")
    ostype = api.request("PATCH", "/api/storage/luns/%s" % lun_uuid, {"os_type": "linux"}, params={"return_timeout": 30})
    assert error_code(ostype)[0] == 400
    assert api.get("/api/storage/luns/%s" % lun_uuid, fields="os_type")[1]["os_type"] == "xen"
    # asynchronous create: the LUN only exists once the job is done
    status, body, headers = api.request("POST", "/api/storage/luns", {"svm.name": "svm_xen", "name": "/vol/vol_luns/late",
                                                                      "os_type": "xen", "space.size": GIB})
    assert status == 202
    api.wait_job(body["job"]["uuid"])
    assert api.get(headers["Location"])[0] == 200


def test_igroups_maps_and_san_rules(api):
    make_volume(api, "vol_map")
    lun_a = make_lun(api, "vol_map", "a")
    lun_b = make_lun(api, "vol_map", "b")
    status, body, headers = api.request("POST", "/api/protocols/san/igroups",
                                        {"name": "xen_pool", "svm": {"name": "svm_xen"}, "os_type": "xen",
                                         "protocol": "iscsi",
                                         "initiators": [{"name": "iqn.2024-01.com.Example:Host1"}]},
                                        params={"return_records": "true"})
    assert status == 201, body
    ig_uuid = headers["Location"].rsplit("/", 1)[1]
    assert body["records"][0]["initiators"][0]["name"] == "iqn.2024-01.com.example:host1"
    dup = api.request("POST", "/api/protocols/san/igroups", {"name": "xen_pool", "svm.name": "svm_xen", "os_type": "xen"})
    assert error_code(dup) == (409, "5374023")
    empty = api.request("POST", "/api/protocols/san/igroups", {"name": "empty_ig", "svm.name": "svm_xen",
                                                               "os_type": "linux", "protocol": "iscsi"})
    assert empty[0] == 201
    rec = one(api, "/api/protocols/san/igroups", name="empty_ig", fields="initiators,os_type,protocol,svm")
    assert "initiators" not in rec and rec["protocol"] == "iscsi"
    # initiators sub-collection: case-insensitive duplicate
    inits = "/api/protocols/san/igroups/%s/initiators" % ig_uuid
    added = api.request("POST", inits, {"records": [{"name": "iqn.2024-01.com.example:host2"}]})
    assert added[0] == 201, added
    assert error_code(api.request("POST", inits, {"name": "IQN.2024-01.com.example:HOST2"})) == (409, "5374035")
    assert error_code(api.request("POST", inits, {"name": "not-an-iqn"})) == (400, "5374039")
    # maps: lowest free id, duplicate, explicit id conflict, missing igroup
    first = api.request("POST", "/api/protocols/san/lun-maps", {"svm.name": "svm_xen", "igroup.name": "xen_pool",
                                                                "lun.name": "/vol/vol_map/a"}, params={"return_timeout": 30})
    assert first[0] == 201 and first[2]["Location"] == "/api/protocols/san/lun-maps/%s/%s" % (lun_a, ig_uuid)
    api.request("POST", "/api/protocols/san/lun-maps", {"svm.name": "svm_xen", "igroup.name": "xen_pool",
                                                        "lun.name": "/vol/vol_map/b"})
    maps = api.get("/api/protocols/san/lun-maps", **{"igroup.name": "xen_pool", "svm.name": "svm_xen",
                                                     "fields": "logical_unit_number,lun.name", "order_by": "lun.name"})[1]
    assert [(m["lun"]["name"], m["logical_unit_number"]) for m in maps["records"]] == [
        ("/vol/vol_map/a", 0), ("/vol/vol_map/b", 1)]
    again = api.request("POST", "/api/protocols/san/lun-maps", {"svm.name": "svm_xen", "igroup.name": "xen_pool",
                                                                "lun.name": "/vol/vol_map/a"})
    assert error_code(again) == (409, "1254207")
    missing = api.request("POST", "/api/protocols/san/lun-maps", {"svm.name": "svm_xen", "igroup.name": "no_such_ig",
                                                                  "lun.name": "/vol/vol_map/a"})
    assert error_code(missing) == (404, "5374878")
    lun_c = make_lun(api, "vol_map", "c")
    clash = api.request("POST", "/api/protocols/san/lun-maps", {"svm.name": "svm_xen", "igroup.name": "xen_pool",
                                                                "lun.name": "/vol/vol_map/c", "logical_unit_number": "1"})
    assert error_code(clash)[1] == "1254324"
    # deleting a mapped LUN is refused unless allow_delete_while_mapped
    refused = api.request("DELETE", "/api/storage/luns/%s" % lun_b, params={"return_timeout": 30})
    assert error_code(refused) == (409, "1254197")
    allowed = api.request("DELETE", "/api/storage/luns/%s" % lun_b,
                          params={"return_timeout": 30, "allow_delete_while_mapped": "true"})
    assert allowed[0] == 200
    # the freed id 1 is reused by the next map
    api.request("POST", "/api/protocols/san/lun-maps", {"svm.name": "svm_xen", "igroup.name": "xen_pool",
                                                        "lun.uuid": lun_c})
    lun = api.get("/api/storage/luns/%s" % lun_c, fields="lun_maps")[1]
    assert lun["lun_maps"][0]["logical_unit_number"] == 1
    # unmap by keys; second time is 5374922
    path = "/api/protocols/san/lun-maps/%s/%s" % (lun_a, ig_uuid)
    assert api.request("DELETE", path)[0] == 200
    assert error_code(api.request("DELETE", path)) == (404, "5374922")
    # igroup delete while mapped
    assert error_code(api.request("DELETE", "/api/protocols/san/igroups/%s" % ig_uuid)) == (409, "1254213")


def test_iscsi_service_lifecycle(api):
    svc = "/api/protocols/san/iscsi/services"
    assert api.get(svc, **{"svm.name": "svm_xen"})[1]["num_records"] == 0
    status, body, headers = api.request("POST", svc, {"svm.name": "svm_xen", "enabled": True})
    assert status == 201, body
    rec = one(api, svc, **{"svm.name": "svm_xen", "fields": "svm,enabled,target"})
    svm_uuid = rec["svm"]["uuid"]
    assert headers["Location"] == "%s/%s" % (svc, svm_uuid)
    assert rec["enabled"] is True and rec["target"]["alias"] == "svm_xen"
    assert re.match(r"^iqn\.1992-08\.com\.netapp:sn\.%s:vs\.\d+$" % svm_uuid.replace("-", ""), rec["target"]["name"])
    assert error_code(api.request("POST", svc, {"svm.name": "svm_xen"})) == (409, "5374077")
    assert error_code(api.request("DELETE", "%s/%s" % (svc, svm_uuid))) == (409, "5373960")
    assert api.request("PATCH", "%s/%s" % (svc, svm_uuid), {"enabled": False})[0] == 200
    assert api.request("DELETE", "%s/%s" % (svc, svm_uuid))[0] == 200
    assert error_code(api.get("%s/%s" % (svc, svm_uuid)))[1] == "5374078"
    assert api.request("POST", svc, {"svm.name": "svm_xen"})[0] == 201  # leave it on for later tests


def test_snapshots(api):
    vol_uuid = make_volume(api, "vol_snap")
    coll = "/api/storage/volumes/%s/snapshots" % vol_uuid
    status, body, _h = api.request("POST", coll, {"name": "snap1", "svm": {"name": "svm_xen"}, "comment": "first"},
                                   params={"return_timeout": 30})
    assert status == 201, body
    assert error_code(api.request("POST", coll, {"name": "snap1"}, params={"return_timeout": 30})) == (409, "525059")
    snap = one(api, coll, name="snap1", fields="uuid,comment,volume,name")
    assert snap["comment"] == "first" and snap["volume"]["uuid"] == vol_uuid
    assert api.request("DELETE", "%s/%s" % (coll, snap["uuid"]), params={"return_timeout": 30})[0] == 200
    assert api.get(coll)[1]["num_records"] == 0


def test_efficiency_and_savings_grow_with_data(api):
    vol_uuid = make_volume(api, "vol_eff", 100 * GIB)
    make_lun(api, "vol_eff", "data", 50 * GIB)
    base = api.get("/api/storage/volumes/%s" % vol_uuid, fields="efficiency,space")[1]
    assert base["efficiency"]["state"] == "disabled" and base["efficiency"]["space_savings"]["total"] == 0
    policy_first = api.request("PATCH", "/api/storage/volumes/%s" % vol_uuid, {"efficiency.policy.name": "auto"},
                               params={"return_timeout": 30})
    assert error_code(policy_first)[1] == "6881332"
    on = api.request("PATCH", "/api/storage/volumes/%s" % vol_uuid, {"efficiency": {"dedupe": "background",
                                                                                    "compression": "both"}},
                     params={"return_timeout": 30})
    assert on[0] == 200, on
    api.control("POST", "ontap/write", {"svm": "svm_xen", "lun": "/vol/vol_eff/data", "bytes": 4 * GIB})
    first = api.get("/api/storage/volumes/%s" % vol_uuid, fields="efficiency,space")[1]
    api.control("POST", "ontap/write", {"svm": "svm_xen", "lun": "/vol/vol_eff/data", "bytes": 4 * GIB})
    second = api.get("/api/storage/volumes/%s" % vol_uuid, fields="efficiency,space")[1]
    assert first["efficiency"]["state"] == "enabled"
    assert 0 < first["efficiency"]["space_savings"]["dedupe"] < second["efficiency"]["space_savings"]["dedupe"]
    assert second["efficiency"]["space_savings"]["compression"] > 0
    assert second["space"]["used"] < second["space"]["logical_space"]["used"] == 8 * GIB
    assert first["space"]["available"] > second["space"]["available"]


def test_paging_and_return_records(api):
    for i in range(5):
        make_volume(api, "vol_page_%d" % i, 1 * GIB)
    seen = []
    status, body, _h = api.get("/api/storage/volumes", name="vol_page_*", max_records=2)
    while True:
        assert status == 200
        assert body["num_records"] <= 2
        seen += [r["name"] for r in body["records"]]
        nxt = body["_links"].get("next")
        if not nxt:
            break
        status, body, _h = api.request("GET", nxt["href"])
    assert sorted(seen) == ["vol_page_%d" % i for i in range(5)]
    count = api.get("/api/storage/volumes", name="vol_page_*", return_records="false")[1]
    assert count == {"num_records": 5, "_links": count["_links"]}


def test_visible_luns_fabric(api):
    svc = api.request("POST", "/api/protocols/san/iscsi/services", {"svm.name": "svm_xen"})
    assert svc[0] == 201 or svc[1]["error"]["code"] == "5374077"
    make_volume(api, "vol_fab")
    make_lun(api, "vol_fab", "sr0", 2 * GIB)
    api.request("POST", "/api/protocols/san/igroups", {"name": "fab_ig", "svm.name": "svm_xen", "os_type": "xen",
                                                       "protocol": "iscsi",
                                                       "initiators": [{"name": "iqn.2024-02.test.fab:h1"}]})
    api.request("POST", "/api/protocols/san/lun-maps", {"svm.name": "svm_xen", "igroup.name": "fab_ig",
                                                        "lun.name": "/vol/vol_fab/sr0"})
    seen = api.control("GET", "ontap/visible?initiator=IQN.2024-02.test.fab:H1")["luns"]
    assert len(seen) == 1
    entry = seen[0]
    lun = one(api, "/api/storage/luns", name="/vol/vol_fab/sr0", fields="serial_number")
    assert entry["serial"] == lun["serial_number"] and entry["lun_id"] == 0
    assert entry["scsi_id"] == "3600a0980" + lun["serial_number"].encode("ascii").hex()
    assert sorted(entry["portals"]) == ["192.0.2.21:3260", "192.0.2.22:3260"]
    assert entry["target_iqn"].startswith("iqn.1992-08.com.netapp:sn.")
    assert api.control("GET", "ontap/visible?initiator=iqn.2024-02.test.fab:other")["luns"] == []
