# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Transport-level tests: REST error mapping, job polling, paging; ZAPI paging; transport choice."""

from __future__ import annotations

import pytest

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap import client as client_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap import rest as rest_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import WaitTimeout
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapAuthError, OntapConnectionError, OntapError, OntapTLSError
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.rest import RestClient
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.zapi import ZapiClient, build_element, parse_element
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._ontap.ontap_fakes import (
    CLUSTER_PROBE,
    CLUSTER_REPLY,
    ZAPI_VERSION_REPLY,
    FakeRest,
    FakeZapi,
    iter_result,
)

SECRET = "s3cr3t-Pa55"


def make_rest(fake: FakeRest, **kw) -> RestClient:
    return RestClient("cluster1", "admin", SECRET, sender=fake, sleep=lambda _s: None, **kw)


def test_post_202_polls_job_until_success():
    fake = FakeRest()
    fake.expect("POST", "/api/storage/volumes", {"return_timeout": 30}, {"job": {"uuid": "j1"}}, status=202, body={"name": "v"})
    fake.expect("GET", "/api/cluster/jobs/j1", None, {"uuid": "j1", "state": "running"})
    fake.expect("GET", "/api/cluster/jobs/j1", None, {"uuid": "j1", "state": "success", "code": 0})
    make_rest(fake).post("/api/storage/volumes", {"name": "v"})
    fake.assert_done()


def test_failed_job_raises_with_job_error_code():
    fake = FakeRest()
    fake.expect("DELETE", "/api/storage/luns/u1", {"return_timeout": 30}, {"job": {"uuid": "j2"}}, status=202)
    fake.expect("GET", "/api/cluster/jobs/j2", None, {"state": "failure", "code": 5374866, "error": {"code": "5374866", "message": "volume offline"}})
    with pytest.raises(OntapError) as exc:
        make_rest(fake).delete("/api/storage/luns/u1")
    assert exc.value.code == "5374866" and "volume offline" in str(exc.value)


def test_job_timeout_is_reported():
    fake = FakeRest()
    fake.expect("PATCH", "/api/storage/luns/u1", {"return_timeout": 30}, {"job": {"uuid": "j3"}}, status=202)
    fake.expect("GET", "/api/cluster/jobs/j3", None, {"state": "running"})
    client = make_rest(fake, job_timeout=0)
    with pytest.raises(WaitTimeout) as exc:
        client.patch("/api/storage/luns/u1", {"space": {"size": 1}})
    assert exc.value.code == "WAIT_TIMEOUT" and "ONTAP job j3" in str(exc.value)


def test_job_polls_through_the_one_wait_loop(monkeypatch):
    """rest.py has no loop of its own: job polling is _common.wait.wait_until with the client's timeout and sleep."""
    seen = {}

    def fake_wait(fetch, ready, what, timeout, interval, failed, sleep):
        seen.update(what=what, timeout=timeout, interval=interval)
        return fetch()

    monkeypatch.setattr(rest_mod, "wait_until", fake_wait)
    fake = FakeRest()
    fake.expect("DELETE", "/api/storage/luns/u1", {"return_timeout": 30}, {"job": {"uuid": "j4"}}, status=202)
    fake.expect("GET", "/api/cluster/jobs/j4", None, {"state": "success"})
    make_rest(fake, job_timeout=7).delete("/api/storage/luns/u1")
    assert seen == {"what": "ONTAP job j4", "timeout": 7, "interval": 1.0}


def test_error_envelope_becomes_typed_error():
    fake = FakeRest().error("POST", "/api/protocols/san/igroups", {"return_timeout": 30}, "5374023", "igroup exists", status=409)
    with pytest.raises(OntapError) as exc:
        make_rest(fake).post("/api/protocols/san/igroups", {"name": "ig"})
    assert (exc.value.code, exc.value.status) == ("5374023", 409)


def test_401_names_user_not_password():
    fake = FakeRest().expect("GET", "/api/cluster", {"fields": "version,name,uuid"}, {}, status=401)
    with pytest.raises(OntapAuthError) as exc:
        make_rest(fake).get("/api/cluster", {"fields": "version,name,uuid"})
    assert "'admin'" in str(exc.value) and SECRET not in str(exc.value)


def test_paging_follows_next_link():
    fake = FakeRest()
    first_page = {"records": [{"uuid": "a"}], "_links": {"next": {"href": "/api/storage/luns?start.uuid=a&fields=uuid"}}}
    fake.expect("GET", "/api/storage/luns", {"fields": "uuid"}, first_page)
    fake.expect("GET", "/api/storage/luns", {"start.uuid": "a", "fields": "uuid"}, {"records": [{"uuid": "b"}], "num_records": 1})
    assert [r["uuid"] for r in make_rest(fake).get_records("/api/storage/luns", {"fields": "uuid"})] == ["a", "b"]
    fake.assert_done()


def test_tls_failure_names_the_options_and_hides_password(monkeypatch):
    def boom(*_a, **_kw):
        raise OSError("<urlopen error [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate>")

    monkeypatch.setattr(rest_mod, "open_url", boom)
    client = RestClient("cluster1", "admin", SECRET, port=8443)
    with pytest.raises(OntapTLSError) as exc:
        client.get("/api/cluster")
    text = str(exc.value)
    assert "validate_certs" in text and "ca_path" in text and "https://cluster1:8443" in text and SECRET not in text


def test_connection_refused_is_a_connection_error(monkeypatch):
    def refused(*_a, **_kw):
        raise ConnectionRefusedError("[Errno 111] Connection refused")

    monkeypatch.setattr(rest_mod, "open_url", refused)
    with pytest.raises(OntapConnectionError) as exc:
        RestClient("127.0.0.1", "admin", SECRET, port=1).get("/api/cluster")
    assert exc.value.code == "CONNECTION"


def test_zapi_get_iter_follows_next_tag():
    fake = FakeZapi()
    fake.expect("volume-get-iter", {"max-records": 1024}, iter_result("volume-attributes", [{"a": "1"}], next_tag="t1"))
    fake.expect("volume-get-iter", {"max-records": 1024, "tag": "t1"}, iter_result("volume-attributes", [{"a": "2"}, {"a": "3"}]))
    records = ZapiClient(fake).get_iter("volume-get-iter")
    assert [r["a"] for r in records] == ["1", "2", "3"]
    fake.assert_done()


def test_auto_uses_rest_when_cluster_answers():
    fake = FakeRest().expect(*CLUSTER_PROBE, response=CLUSTER_REPLY)
    client = client_mod.connect("c", "admin", SECRET, use_rest="auto", rest_sender=fake, zapi_invoker=FakeZapi())
    assert client.transport == "rest" and client.version["major"] == 14


def test_auto_falls_back_to_zapi_when_rest_is_missing():
    rest = FakeRest().expect(*CLUSTER_PROBE, response={}, status=404)
    zapi = FakeZapi().expect("system-get-version", None, ZAPI_VERSION_REPLY)
    client = client_mod.connect("c", "admin", SECRET, use_rest="auto", rest_sender=rest, zapi_invoker=zapi)
    assert client.transport == "zapi" and client.version == {"full": "NetApp Release 9.14.1", "generation": 9, "major": 14, "minor": 1}
    zapi.assert_done()


def test_auto_does_not_fall_back_on_bad_password():
    rest = FakeRest().expect(*CLUSTER_PROBE, response={}, status=401)
    zapi = FakeZapi()
    with pytest.raises(OntapAuthError):
        client_mod.connect("c", "admin", SECRET, use_rest="auto", rest_sender=rest, zapi_invoker=zapi)
    assert zapi.log == []


def test_always_fails_without_rest():
    rest = FakeRest().expect(*CLUSTER_PROBE, response={}, status=404)
    with pytest.raises(OntapConnectionError):
        client_mod.connect("c", "admin", SECRET, use_rest="always", rest_sender=rest, zapi_invoker=FakeZapi())


def test_never_skips_rest():
    rest = FakeRest()
    zapi = FakeZapi().expect("system-get-version", None, ZAPI_VERSION_REPLY)
    assert client_mod.connect("c", "admin", SECRET, use_rest="never", rest_sender=rest, zapi_invoker=zapi).transport == "zapi"
    assert rest.log == []


def test_netapp_lib_element_round_trip():
    zapi_mod = pytest.importorskip("netapp_lib.api.zapi.zapi")
    elem = build_element("lun-get-iter", {"max-records": 5, "query": {"lun-info": {"path": "/vol/v/l", "mapped": True}},
                                          "desired-attributes": {"lun-info": {"path": None}}})
    assert isinstance(elem, zapi_mod.NaElement)
    assert elem.get_child_by_name("query").get_child_by_name("lun-info").get_child_content("mapped") == "true"
    reply = build_element("results", {"num-records": 2, "attributes-list": {"lun-info": [{"path": "/a"}, {"path": "/b"}]}})
    assert parse_element(reply) == {"num-records": "2", "attributes-list": {"lun-info": [{"path": "/a"}, {"path": "/b"}]}}


def test_parse_strips_the_ontap_namespace():
    zapi_mod = pytest.importorskip("netapp_lib.api.zapi.zapi")
    xml = (b'<netapp xmlns="http://www.netapp.com/filer/admin"><results status="passed"><num-records>1</num-records>'
           b'<attributes-list><lun-info><path>/vol/v/l</path></lun-info></attributes-list></results></netapp>')
    results = zapi_mod.NaElement(zapi_mod.etree.XML(xml)).get_child_by_name("results")
    assert parse_element(results) == {"num-records": "1", "attributes-list": {"lun-info": {"path": "/vol/v/l"}}}


def test_never_with_zapi_disabled_points_to_rest():
    zapi = FakeZapi().expect("system-get-version", None, error=("13005", "Unable to find API: system-get-version"))
    with pytest.raises(OntapConnectionError) as exc:
        client_mod.connect("c", "admin", SECRET, use_rest="never", rest_sender=FakeRest(), zapi_invoker=zapi)
    assert exc.value.code == "13005" and "use_rest: always" in str(exc.value)
