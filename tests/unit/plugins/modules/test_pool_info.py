# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

import functools
import json
import threading
from urllib.parse import parse_qs, urlsplit

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen import rrd as rrd_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.modules import pool_info
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi, cert_error


class Exited(Exception):
    pass


class Failed(Exception):
    pass


class FakeRrd:
    """Each host's GET /rrd_updates, built from the FakeXapi store: two one-minute rows per object.

    Per row (newest first): VM disk reads 2048/1024 B/s and writes 1024/0, VIF rx 4096/2048 and tx 1024/1024,
    host NIC rx 8192/4096 and tx 2048/2048, CPUs 0.5/0.25. `dead` addresses refuse the connection.
    """

    def __init__(self, xapi: FakeXapi) -> None:
        self.xapi = xapi
        self.requests: list[str] = []
        self.dead: set[str] = set()
        self._lock = threading.Lock()

    def __call__(self, url, context, timeout):  # pylint: disable=unused-argument
        parts = urlsplit(url)
        with self._lock:
            self.requests.append(parts.hostname)
        if parts.hostname in self.dead:
            raise ConnectionRefusedError(111, "Connection refused")
        if parse_qs(parts.query).get("session_id", [""])[0] not in self.xapi.sessions:
            return 401, b"Unauthorised"
        objects = self.xapi.objects
        host = next(rec for rec in objects["host"].values() if rec["address"] == parts.hostname)
        legend, rows = [], [[], []]

        def add(kind, uuid, name, newest, oldest):
            legend.append("AVERAGE:%s:%s:%s" % (kind, uuid, name))
            rows[0].append(newest)
            rows[1].append(oldest)

        add("host", host["uuid"], "cpu_avg", 0.5, 0.25)
        add("host", host["uuid"], "pif_eth0_rx", 8192, 4096)
        add("host", host["uuid"], "pif_eth0_tx", 2048, 2048)
        for vm in (objects["VM"][ref] for ref in host["resident_VMs"]):
            if vm["power_state"] != "Running":
                continue
            add("vm", vm["uuid"], "cpu0", 0.5, 0.25)
            if not vm.get("is_control_domain"):
                add("vm", vm["uuid"], "vbd_xvda_read", 2048, 1024)
                add("vm", vm["uuid"], "vbd_xvda_write", 1024, 0)
                add("vm", vm["uuid"], "vif_0_rx", 4096, 2048)
                add("vm", vm["uuid"], "vif_0_tx", 1024, 1024)
        body = ['<?xml version="1.0"?><xport><meta><start>1700000000</start><step>60</step><end>1700000060</end>',
                "<rows>2</rows><columns>%d</columns><legend>" % len(legend)]
        body += ["<entry>%s</entry>" % e for e in legend]
        body.append("</legend></meta><data>")
        for stamp, values in zip((1700000060, 1700000000), rows):
            body.append("<row><t>%d</t>%s</row>" % (stamp, "".join("<v>%s</v>" % v for v in values)))
        body.append("</data></xport>")
        return 200, "".join(body).encode("utf-8")


@pytest.fixture
def fake(monkeypatch):
    xapi = FakeXapi()
    xapi.seed_pool(hosts=2, vms=2)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory))
    xapi.rrd = FakeRrd(xapi)
    xapi.warnings = []
    monkeypatch.setattr(rrd_mod, "http_get", xapi.rrd)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.warn", lambda _self, msg: xapi.warnings.append(msg))

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    def fail_json(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)
    return xapi


def run(args, expect=Exited):
    with patch_module_args(args):
        with pytest.raises(expect) as info:
            pool_info.main()
    return info.value.args[0]


def test_reads_pool(fake):
    result = run({"hostname": "127.0.0.10", "password": fake.password})
    assert result["changed"] is False
    assert set(result) == {"changed", "pool", "hosts", "srs", "networks", "vms"}
    assert [h["name"] for h in result["hosts"]] == ["xen-01", "xen-02"]
    assert [v["name"] for v in result["vms"]] == ["vm-0000", "vm-0001"]
    json.dumps(result)
    assert fake.open_sessions() == 0


def test_member_host_redirects_to_master(fake):
    result = run({"hostname": "127.0.0.11", "password": fake.password})
    assert result["pool"]["master"] == "xen-01"
    assert [c[0] for c in fake.calls("session.login_with_password")] == ["127.0.0.11", "127.0.0.10"]


def test_check_mode_and_filters(fake):
    result = run({"hostname": "127.0.0.10", "password": fake.password, "_ansible_check_mode": True,
                  "include_templates": True, "vms": ["Debian Bookworm 12"]})
    assert [v["name"] for v in result["vms"]] == ["Debian Bookworm 12"]
    assert result["vms"][0]["is_template"] is True


def test_wrong_password(fake):
    result = run({"hostname": "127.0.0.10", "password": "Not-The-Password-42"}, expect=Failed)
    assert result["msg"].startswith("Failed to read pool '127.0.0.10': SESSION_AUTHENTICATION_FAILED [root, Authentication failure]")
    assert "Not-The-Password-42" not in json.dumps(result)


def test_untrusted_certificate_names_the_options(fake):
    fake.network_errors["127.0.0.10"] = cert_error()
    result = run({"hostname": "127.0.0.10", "password": fake.password}, expect=Failed)
    assert "CONNECTION_FAILED" in result["msg"] and "validate_certs" in result["msg"] and "ca_path" in result["msg"]


def test_same_number_of_calls_for_more_vms(monkeypatch, fake):
    run({"hostname": "127.0.0.10", "password": fake.password})
    small = fake.counters()
    big = FakeXapi()
    big.seed_pool(hosts=8, vms=300)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=big.transport_factory))
    result = run({"hostname": "127.0.0.10", "password": big.password})
    assert len(result["vms"]) == 300
    assert big.counters() == small


def test_io_figures_for_hosts_and_running_vms(fake):
    result = run({"hostname": "127.0.0.10", "password": fake.password, "include_templates": True})
    assert fake.warnings == []
    assert sorted(fake.rrd.requests) == ["127.0.0.10", "127.0.0.11"]
    for host in result["hosts"]:
        # NIC rx 8 and 4 KiB/s, tx 2 and 2; disks: the one VM on each host
        assert host["net_rx_kib_s"] == {"avg": 6.0, "max": 8.0}
        assert host["net_kib_s"] == {"avg": 8.0, "max": 10.0}
        assert host["disk_kib_s"] == {"avg": 2.0, "max": 3.0}
    vms = {v["name"]: v for v in result["vms"]}
    for name in ("vm-0000", "vm-0001"):
        assert vms[name]["disk_read_kib_s"] == {"avg": 1.5, "max": 2.0}
        assert vms[name]["disk_write_kib_s"] == {"avg": 0.5, "max": 1.0}
        assert vms[name]["disk_kib_s"] == {"avg": 2.0, "max": 3.0}
        assert vms[name]["net_kib_s"] == {"avg": 4.0, "max": 5.0}
    template = vms["Debian Bookworm 12"]
    assert all(template[k] is None for k in ("disk_kib_s", "disk_read_kib_s", "net_kib_s", "net_rx_kib_s"))
    text = json.dumps(result)
    assert "OpaqueRef" not in text and fake.password not in text


def test_io_metrics_false_sends_no_request(fake):
    result = run({"hostname": "127.0.0.10", "password": fake.password, "io_metrics": False})
    assert fake.rrd.requests == []
    assert result["hosts"][0]["disk_kib_s"] is None and result["vms"][0]["net_kib_s"] is None


def test_dead_host_is_a_warning_not_a_failure(fake):
    fake.rrd.dead.add("127.0.0.11")
    result = run({"hostname": "127.0.0.10", "password": fake.password})
    hosts = {h["name"]: h for h in result["hosts"]}
    assert hosts["xen-01"]["net_kib_s"] == {"avg": 8.0, "max": 10.0}
    assert all(hosts["xen-02"][k] is None for k in ("disk_kib_s", "net_kib_s", "net_rx_kib_s", "disk_write_kib_s"))
    vms = {v["name"]: v for v in result["vms"]}
    assert vms["vm-0000"]["host"] == "xen-01" and vms["vm-0000"]["disk_kib_s"] == {"avg": 2.0, "max": 3.0}
    assert vms["vm-0001"]["host"] == "xen-02" and vms["vm-0001"]["disk_kib_s"] is None
    assert len(fake.warnings) == 1
    warning = fake.warnings[0]
    assert "xen-02" in warning and "127.0.0.11" in warning and "Connection refused" in warning and "null" in warning
    assert "OpaqueRef" not in warning and fake.password not in warning
    assert fake.open_sessions() == 0


def test_host_that_is_not_live_is_not_asked(fake):
    for host in fake.objects["host"].values():
        if host["address"] == "127.0.0.11":
            fake.objects["host_metrics"][host["metrics"]]["live"] = False
    result = run({"hostname": "127.0.0.10", "password": fake.password})
    assert fake.rrd.requests == ["127.0.0.10"] and fake.warnings == []
    assert {h["name"]: h["net_kib_s"] for h in result["hosts"]}["xen-02"] is None


def test_rrd_requests_follow_hosts_not_vms(monkeypatch, fake):
    run({"hostname": "127.0.0.10", "password": fake.password})
    small = (fake.counters(), len(fake.rrd.requests))
    big = FakeXapi()
    big.seed_pool(hosts=8, vms=300)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=big.transport_factory))
    big_rrd = FakeRrd(big)
    monkeypatch.setattr(rrd_mod, "http_get", big_rrd)
    result = run({"hostname": "127.0.0.10", "password": big.password})
    assert len(result["vms"]) == 300 and all(v["disk_kib_s"] == {"avg": 2.0, "max": 3.0} for v in result["vms"])
    assert big.counters() == small[0]
    assert small[1] == 2 and sorted(big_rrd.requests) == ["127.0.0.%d" % (10 + i) for i in range(8)]
