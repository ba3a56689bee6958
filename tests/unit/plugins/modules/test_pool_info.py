# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool_info's main() against xapisim in-process: the API calls and each host's GET /rrd_updates (InProcessXapi.rrd_get,
xapisim's own figures) come from the one model; a dead host is a broken network to its address."""

from __future__ import annotations

import json
import ssl

import pytest
from xapisim.testing import InProcessXapi, pool_datacenter

from ansible_collections.vdc.xenpool.plugins.module_utils._xen import rrd as rrd_mod
from ansible_collections.vdc.xenpool.plugins.modules import pool_info
from ansible_collections.vdc.xenpool.tests.unit.plugins.modules.xen_harness import Failed, attach, run_module

MASTER, MEMBER = "127.0.0.11", "127.0.0.12"
DISK = ("disk_read_kib_s", "disk_write_kib_s", "disk_kib_s")
NET = ("net_rx_kib_s", "net_tx_kib_s", "net_kib_s")


def use(monkeypatch, xapi, warnings):
    attach(monkeypatch, xapi)
    monkeypatch.setattr(rrd_mod, "http_get", xapi.rrd_get)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.warn", lambda _self, msg: warnings.append(msg))


@pytest.fixture(name="xapi")
def xapi_fixture(monkeypatch):
    xapi = InProcessXapi(pool_datacenter(hosts=2, vms=2))
    xapi.warnings = []
    use(monkeypatch, xapi, xapi.warnings)
    yield xapi
    xapi.close()


def run(xapi, args=None, expect=None, hostname=MASTER):
    return run_module(pool_info, hostname, xapi, dict(args or {}), **({"expect": expect} if expect else {}))


def api_counters(xapi):
    return {method: n for method, n in xapi.counters().items() if method != "rrd_updates"}


def rrd_hosts(xapi):
    return sorted(address for address, _method in xapi.calls("rrd_updates"))


def assert_figures(entry):
    """Every I/O figure of a host or running VM is read, and the totals are the sums of their parts."""
    for key in DISK + NET:
        assert entry[key] is not None and 0 <= entry[key]["avg"] <= entry[key]["max"], key
    for total, parts in (("disk_kib_s", DISK[:2]), ("net_kib_s", NET[:2])):
        assert entry[total]["avg"] == pytest.approx(sum(entry[p]["avg"] for p in parts), abs=0.15), total


def test_reads_pool(xapi):
    result = run(xapi)
    assert result["changed"] is False
    assert set(result) == {"changed", "pool", "hosts", "srs", "networks", "vms"}
    assert [h["name"] for h in result["hosts"]] == ["xen-01", "xen-02"]
    assert [v["name"] for v in result["vms"]] == ["vm-0001", "vm-0002"]
    json.dumps(result)
    assert xapi.open_sessions() == 0 and xapi.writes() == []


def test_member_host_redirects_to_master(xapi):
    result = run(xapi, hostname=MEMBER)
    assert result["pool"]["master"] == "xen-01"
    assert [address for address, _m in xapi.calls("session.login_with_password")] == [MEMBER, MASTER]


def test_check_mode_and_filters(xapi):
    result = run_module(pool_info, MASTER, xapi, {"include_templates": True, "vms": ["Debian Bookworm 12"]}, check=True)
    assert [v["name"] for v in result["vms"]] == ["Debian Bookworm 12"]
    assert result["vms"][0]["is_template"] is True


def test_wrong_password(xapi):
    result = run_module(pool_info, MASTER, xapi, {"password": "Not-The-Password-42"}, expect=Failed)
    assert result["msg"].startswith("Failed to read pool '%s': SESSION_AUTHENTICATION_FAILED [root, Authentication failure]" % MASTER)
    assert "Not-The-Password-42" not in json.dumps(result)


def test_untrusted_certificate_names_the_options(xapi):
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_message = "self-signed certificate in certificate chain"  # what ssl sets on a real handshake
    xapi.break_network(MASTER, error)
    result = run(xapi, expect=Failed)
    assert "CONNECTION_FAILED" in result["msg"] and "validate_certs" in result["msg"] and "ca_path" in result["msg"]


def run_big(monkeypatch):
    """pool_info against a pool of 8 hosts and 120 VMs: (its xapi, the result)."""
    big = InProcessXapi(pool_datacenter(hosts=8, vms=120))
    use(monkeypatch, big, [])
    result = run(big)
    big.close()
    assert len(result["vms"]) == 120
    return big, result


def test_same_number_of_calls_for_more_vms(monkeypatch, xapi):
    run(xapi)
    big, _result = run_big(monkeypatch)
    assert api_counters(big) == api_counters(xapi)


def test_io_figures_for_hosts_and_running_vms(xapi):
    result = run(xapi, {"include_templates": True})
    assert xapi.warnings == []
    assert rrd_hosts(xapi) == [MASTER, MEMBER]
    for host in result["hosts"]:
        assert_figures(host)
    vms = {v["name"]: v for v in result["vms"]}
    for name in ("vm-0001", "vm-0002"):
        assert_figures(vms[name])
    template = vms["Debian Bookworm 12"]
    assert all(template[k] is None for k in DISK + NET)
    text = json.dumps(result)
    assert "OpaqueRef" not in text and xapi.password not in text


def test_io_metrics_false_sends_no_request(xapi):
    result = run(xapi, {"io_metrics": False})
    assert rrd_hosts(xapi) == []
    assert result["hosts"][0]["disk_kib_s"] is None and result["vms"][0]["net_kib_s"] is None


def test_dead_host_is_a_warning_not_a_failure(xapi):
    xapi.break_network(MEMBER, ConnectionRefusedError(111, "Connection refused"))
    result = run(xapi)
    hosts = {h["name"]: h for h in result["hosts"]}
    assert_figures(hosts["xen-01"])
    assert all(hosts["xen-02"][k] is None for k in DISK + NET)
    vms = {v["name"]: v for v in result["vms"]}
    assert vms["vm-0001"]["host"] == "xen-01" and vms["vm-0001"]["disk_kib_s"] is not None
    assert vms["vm-0002"]["host"] == "xen-02" and vms["vm-0002"]["disk_kib_s"] is None
    assert len(xapi.warnings) == 1
    warning = xapi.warnings[0]
    assert "xen-02" in warning and MEMBER in warning and "Connection refused" in warning and "null" in warning
    assert "OpaqueRef" not in warning and xapi.password not in warning
    assert xapi.open_sessions() == 0


def test_host_that_is_not_live_is_not_asked(xapi):
    member = xapi.records("host")[xapi.find("host", name_label="xen-02")]
    xapi.update("host_metrics", member["metrics"], live=False)
    result = run(xapi)
    assert rrd_hosts(xapi) == [MASTER] and xapi.warnings == []
    assert {h["name"]: h["net_kib_s"] for h in result["hosts"]}["xen-02"] is None


def test_rrd_requests_follow_hosts_not_vms(monkeypatch, xapi):
    run(xapi)
    big, result = run_big(monkeypatch)
    assert all(v["disk_kib_s"] is not None for v in result["vms"])
    assert api_counters(big) == api_counters(xapi)
    assert rrd_hosts(xapi) == [MASTER, MEMBER] and rrd_hosts(big) == ["127.0.0.%d" % (11 + i) for i in range(8)]
