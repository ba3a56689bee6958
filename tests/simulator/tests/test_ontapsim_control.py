# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ontapsim call log, faults, jobs + simulated time, save/load, bulk generation and model rules."""
from __future__ import annotations

import base64
import http.client
import json
import os
import sys
import urllib.error

import pytest

SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SIM_ROOT not in sys.path:
    sys.path.insert(0, SIM_ROOT)

# pylint: disable=wrong-import-position
from ontapsim.errors import OntapError  # noqa: E402
from ontapsim.fixture import build_state, load_fixture  # noqa: E402
from ontapsim.model import OntapState, SimClock, scsi_id  # noqa: E402
from ontapsim.testing import REFERENCE_FIXTURE, RestClient, ontapsim_process, read_password, start_ontapsim  # noqa: E402

GIB = 1024 ** 3
ZAPI_VERSION = ("<netapp xmlns=\"http://www.netapp.com/filer/admin\" version=\"1.110\">"
                "<system-get-version/></netapp>").encode("utf-8")


@pytest.fixture(scope="module", name="sim")
def sim_fixture(tmp_path_factory):
    # time_scale 1.0: jobs take their simulated seconds in real time unless the clock is advanced
    proc = start_ontapsim(str(tmp_path_factory.mktemp("ontapsim_ctl")), time_scale=1.0)
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(name="api")
def api_fixture(sim):
    client = RestClient(sim.ready)
    client.control("POST", "calls/reset", {})
    client.control("DELETE", "faults")
    return client


def zapi_post(sim, body: bytes, password: str | None = None) -> tuple[int, str]:
    """Raw ZAPI call over plain http with pre-emptive Basic auth (as netapp.ontap sends it)."""
    conn = http.client.HTTPConnection(sim.ready["address"], sim.ready["port"], timeout=10)
    token = base64.b64encode(("%s:%s" % (sim.ready["username"], password or read_password(sim.ready))).encode()).decode()
    conn.request("POST", sim.ready["zapi_path"], body=body, headers={"Content-Type": "text/xml",
                                                                     "Authorization": "Basic " + token})
    resp = conn.getresponse()
    data = resp.read().decode("utf-8")
    conn.close()
    return resp.status, data


def test_call_log_and_no_secret(sim, api):
    password = read_password(sim.ready)
    api.get("/api/cluster", fields="version")
    api.request("POST", "/api/protocols/san/igroups", {"name": "log_ig", "svm.name": "svm_xen", "os_type": "xen"})
    zapi_post(sim, ZAPI_VERSION)
    calls = api.control("GET", "calls")
    methods = [c["method"] for c in calls["calls"]]
    assert methods == ["GET /api/cluster", "POST /api/protocols/san/igroups", "system-get-version"]
    assert [c["write"] for c in calls["calls"]] == [False, True, False]
    assert calls["writes"] == 1 and calls["counters"]["GET /api/cluster"] == 1
    assert "fields=version" in calls["calls"][0]["summary"]
    assert password not in json.dumps(calls)
    # unauthenticated requests are refused before they reach the API and are not logged
    assert RestClient(sim.ready, password="nope").get("/api/cluster")[0] == 401
    assert len(api.control("GET", "calls")["calls"]) == 3


def test_faults_rest_and_zapi(sim, api):
    api.control("POST", "faults", {"method": "GET /api/storage/luns", "nth": 2, "action": "error",
                                   "error": ["13001", "injected failure", "503"]})
    assert api.get("/api/storage/luns")[0] == 200
    status, body, _h = api.get("/api/storage/luns")
    assert status == 503 and body["error"] == {"message": "injected failure", "code": "13001"}
    assert api.get("/api/storage/luns")[0] == 200
    # template form matches any uuid
    lun_uuid = api.get("/api/storage/luns")[1]["records"][0]["uuid"]
    api.control("POST", "faults", {"method": "GET /api/storage/luns/{uuid}", "action": "drop"})
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        api.get("/api/storage/luns/%s" % lun_uuid)
    api.control("POST", "faults", {"method": "system-get-version", "action": "error", "error": ["13114", "boom"]})
    status, text = zapi_post(sim, ZAPI_VERSION)
    assert status == 200 and 'status="failed"' in text and 'errno="13114"' in text
    status, text = zapi_post(sim, ZAPI_VERSION)
    assert 'status="passed"' in text


def test_drop_after_apply_rest_and_zapi(sim, api):
    """when="after": ONTAP did the work, the client never got the answer (no retry with urllib)."""
    api.control("POST", "faults", {"method": "POST /api/protocols/san/igroups", "action": "drop", "when": "after"})
    with pytest.raises((urllib.error.URLError, http.client.HTTPException, ConnectionError)):
        api.request("POST", "/api/protocols/san/igroups", {"name": "lost_answer_ig", "svm.name": "svm_xen",
                                                           "os_type": "xen"})
    assert api.get("/api/protocols/san/igroups", name="lost_answer_ig")[1]["num_records"] == 1
    # a retry of the same POST now meets the object it created itself
    status, body, _h = api.request("POST", "/api/protocols/san/igroups", {"name": "lost_answer_ig",
                                                                          "svm.name": "svm_xen", "os_type": "xen"})
    assert status >= 400 and body["error"]["code"] == "5374023"
    api.control("POST", "faults", {"method": "igroup-create", "action": "drop", "when": "after"})
    body = ("<netapp xmlns=\"http://www.netapp.com/filer/admin\" version=\"1.110\" vfiler=\"svm_xen\">"
            "<igroup-create><initiator-group-name>zapi_lost_ig</initiator-group-name>"
            "<initiator-group-type>iscsi</initiator-group-type><os-type>xen</os-type></igroup-create></netapp>")
    with pytest.raises((http.client.HTTPException, ConnectionError)):
        zapi_post(sim, body.encode("utf-8"))
    assert api.get("/api/protocols/san/igroups", name="zapi_lost_ig")[1]["num_records"] == 1
    api.control("POST", "faults", {"method": "GET /api/cluster", "action": "delay", "delay_s": 0.2, "when": "after"})
    assert api.get("/api/cluster")[0] == 200


def test_jobs_follow_simulated_time(api):
    status, body, headers = api.request("POST", "/api/storage/volumes", {"name": "slow_vol", "svm.name": "svm_xen",
                                                                         "aggregates": [{"name": "aggr1"}], "size": GIB})
    assert status == 202
    job = api.get("/api/cluster/jobs/%s" % body["job"]["uuid"])[1]
    assert job["state"] == "running" and job["description"] == "POST /api/storage/volumes"
    assert api.get(headers["Location"])[0] == 404  # not there until the job is done
    api.control("POST", "time", {"advance_s": 5})
    job = api.get("/api/cluster/jobs/%s" % body["job"]["uuid"])[1]
    assert job["state"] == "success" and "end_time" in job
    assert api.get(headers["Location"])[0] == 200
    # return_timeout shorter than the job -> still 202
    status, body, _h = api.request("DELETE", headers["Location"], params={"return_timeout": 1})
    assert status == 202


def test_save_and_load_state(sim, api, tmp_path):
    api.request("POST", "/api/protocols/san/igroups", {"name": "saved_ig", "svm.name": "svm_xen", "os_type": "xen",
                                                       "initiators": [{"name": "iqn.2024-04.test.save:h"}]})
    path = str(tmp_path / "state.json")
    api.control("POST", "save", {"path": path})
    assert os.stat(path).st_mode & 0o777 == 0o600
    summary = api.control("GET", "state")
    with open(path, encoding="utf-8") as handle:
        saved = json.load(handle)
    assert saved["format"] == "ontapsim-state/1"
    assert read_password(sim.ready) not in json.dumps(saved)
    with ontapsim_process(str(tmp_path / "second"), extra=["--load-state", path], fixture=None) as second:
        other = RestClient(second.ready)
        rec = other.get("/api/protocols/san/igroups", name="saved_ig", fields="initiators")[1]["records"][0]
        assert rec["initiators"][0]["name"] == "iqn.2024-04.test.save:h"
        assert other.control("GET", "state")["igroups"] == summary["igroups"]
        assert read_password(second.ready) != read_password(sim.ready)


def test_generate_bulk(tmp_path):
    with ontapsim_process(str(tmp_path), extra=["--generate", "volumes=40,luns=90"]) as bulk:
        api = RestClient(bulk.ready)
        assert api.get("/api/storage/luns", name="/vol/bench_vol_*", return_records="false")[1]["num_records"] == 90
        assert api.get("/api/storage/volumes", name="bench_vol_*", return_records="false")[1]["num_records"] == 40


# ---------------------------------------------------------------- model only
@pytest.fixture(name="state")
def state_fixture():
    st = OntapState(SimClock(0.01), seed="unit")
    return build_state(st, load_fixture(REFERENCE_FIXTURE))


def _lun(st, svm, vol, name):
    return st.lun_create(svm["uuid"], "/vol/%s/%s" % (vol["name"], name), "xen", GIB, st.new_uuid(), st.new_serial())


def test_lun_ids_unique_per_initiator(state):
    svm = state.svm_by_name("svm_xen")
    vol = state.volume_create(svm["uuid"], "m", next(iter(state.aggregates)), 50 * GIB, state.new_uuid(), guarantee="none")
    a, b, c = (_lun(state, svm, vol, n) for n in "abc")
    g1 = state.igroup_create(svm, "g1", "xen", "iscsi", [{"name": "iqn.2024-01.t:h1"}])
    g2 = state.igroup_create(svm, "g2", "xen", "iscsi", [{"name": "iqn.2024-01.t:h1"}, {"name": "iqn.2024-01.t:h2"}])
    assert state.lun_map(a, g1)["lun_id"] == 0
    # h1 already sees id 0 through g1, so g2's first map gets 1
    assert state.lun_map(b, g2)["lun_id"] == 1
    with pytest.raises(OntapError) as info:
        state.lun_map(c, g2, 0)
    assert info.value.rest_code == "1254324" and info.value.errno == "9009"
    # adding h1 to an igroup whose map id collides is refused
    g3 = state.igroup_create(svm, "g3", "xen", "iscsi", [])
    state.lun_map(c, g3, 1)
    with pytest.raises(OntapError) as info:
        state.igroup_add_initiator(g3, "iqn.2024-01.T:H1")
    assert info.value.rest_code == "1254324"


def test_visible_luns_requires_enabled_service(state):
    svm = state.svm_by_name("svm_xen")
    vol = state.volume_create(svm["uuid"], "v", next(iter(state.aggregates)), 50 * GIB, state.new_uuid(), guarantee="none")
    lun = _lun(state, svm, vol, "x")
    ig = state.igroup_create(svm, "pool", "xen", "iscsi", [{"name": "iqn.2024-01.t:pool1"}])
    state.lun_map(lun, ig)
    assert state.visible_luns("iqn.2024-01.t:pool1") == []  # no iSCSI service on svm_xen yet
    state.iscsi_create(svm)
    seen = state.visible_luns("IQN.2024-01.t:POOL1")
    assert [(e["lun_path"], e["lun_id"], e["serial"]) for e in seen] == [(lun["path"], 0, lun["serial"])]
    assert seen[0]["scsi_id"] == scsi_id(lun["serial"]) and len(seen[0]["scsi_id"]) == 33
    state.iscsi_modify(svm, {"enabled": False})
    assert state.visible_luns("iqn.2024-01.t:pool1") == []
    # the legacy host in the fixture sees its LUN on the other SVM
    legacy = state.visible_luns("iqn.1994-05.com.redhat:legacy01")
    assert [e["lun_path"] for e in legacy] == ["/vol/san2_vol1/lun0"]


def test_scsi_id_known_value():
    # serial/SCSIid pair quoted in the research notes (rest.json derived_identifiers)
    assert scsi_id("815wy$P8JJbu") == "3600a098038313577792450384a4a6275"
