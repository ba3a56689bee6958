# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""GET /rrd_updates on the XenAPI simulator: auth, xport shape, archives, consolidation, call log, faults, the CPU load
model (per-VM, moving over simulated time, hosts consistent with their VMs) and the per-step answer cache."""
from __future__ import annotations

import http.client
import math
import ssl
import time
import xml.etree.ElementTree as ET
from urllib.parse import urlencode, urlsplit

import pytest

from conftest import connect, start_sim


@pytest.fixture(scope="module", name="rrd_sim")
def rrd_sim_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "rrd", "small.yml")
    yield sim
    sim.stop()


@pytest.fixture(scope="module", name="session")
def session_fixture(rrd_sim):
    """A session with the one VM of small.yml running (so the host reports a VM too)."""
    xen = connect(rrd_sim)
    vm = [ref for ref, rec in xen.xenapi.VM.get_all_records().items() if not rec["is_a_template"] and not rec["is_control_domain"]][0]
    if xen.xenapi.VM.get_power_state(vm) != "Running":
        xen.xenapi.VM.start(vm, False, False)
    yield xen
    xen.xenapi.session.logout()


def get(sim, params: dict, https: bool = True) -> tuple[int, bytes]:
    entry = sim.ready["hosts"][0]
    url = urlsplit(entry["url_https"] if https else entry["url_http"])
    if https:
        conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=30,
                                           context=ssl.create_default_context(cafile=sim.ready["ca_cert"]))
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request("GET", "/rrd_updates?" + urlencode(params))
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def parse(body: bytes) -> dict:
    root = ET.fromstring(body)
    meta = root.find("meta")
    legend = [e.text for e in meta.find("legend").findall("entry")]
    rows = [(int(r.find("t").text), [float(v.text) for v in r.findall("v")]) for r in root.find("data").findall("row")]
    return {k: int(meta.find(k).text) for k in ("start", "step", "end", "rows", "columns")} | {"legend": legend, "data": rows}


def ids(xen) -> dict:
    host = xen.xenapi.host.get_all()[0]
    vm = next(ref for ref, rec in xen.xenapi.VM.get_all_records().items() if rec["power_state"] == "Running"
              and not rec["is_control_domain"])
    return {"host": host, "host_uuid": xen.xenapi.host.get_uuid(host), "vm": vm, "vm_uuid": xen.xenapi.VM.get_uuid(vm)}


def test_bad_or_missing_session_is_refused(rrd_sim, session):
    assert session  # the VM is running; sessions exist
    now = int(time.time())
    assert get(rrd_sim, {"start": now - 60, "host": "true"})[0] == 401
    status, body = get(rrd_sim, {"session_id": "OpaqueRef:00000000-dead-beef-0000-000000000000", "start": now - 60})
    assert status == 401 and b"xport" not in body


def test_xport_shape_and_legend(rrd_sim, session):
    known = ids(session)
    rrd_sim.control.reset_calls()
    status, body = get(rrd_sim, {"session_id": session._session, "start": int(time.time()) - 60,  # pylint: disable=protected-access
                                 "cf": "AVERAGE", "interval": 5, "host": "true"})
    assert status == 200
    doc = parse(body)
    assert doc["step"] == 5
    assert doc["end"] % 5 == 0 and doc["end"] <= time.time() + 1
    assert 11 <= doc["rows"] <= 13
    assert doc["rows"] == len(doc["data"]) and doc["columns"] == len(doc["legend"])
    stamps = [t for t, _values in doc["data"]]
    assert stamps == sorted(stamps, reverse=True) and stamps[0] == doc["end"] and stamps[-1] == doc["start"]
    assert all(a - b == 5 for a, b in zip(stamps, stamps[1:]))
    for name in ("cpu_avg", "cpu0", "memory_total_kib", "pif_eth0_rx", "pif_eth0_tx"):
        assert "AVERAGE:host:%s:%s" % (known["host_uuid"], name) in doc["legend"]
    for name in ("cpu0", "memory", "vbd_xvda_read", "vbd_xvda_write", "vif_0_rx", "vif_0_tx"):
        assert "AVERAGE:vm:%s:%s" % (known["vm_uuid"], name) in doc["legend"]
    assert all(not math.isnan(v) and v >= 0 for _stamp, row in doc["data"] for v in row)
    calls = rrd_sim.control.calls()
    assert calls["counters"] == {"rrd_updates": 1} and calls["writes"] == 0
    assert session._session not in str(calls)  # pylint: disable=protected-access


def test_figures_are_the_data_source_model(rrd_sim, session):
    known = ids(session)
    status, body = get(rrd_sim, {"session_id": session._session, "start": int(time.time()) - 20,  # pylint: disable=protected-access
                                 "interval": 5, "host": "true"})
    assert status == 200
    doc = parse(body)
    latest = dict(zip(doc["legend"], doc["data"][0][1]))
    total = session.xenapi.host.query_data_source(known["host"], "memory_total_kib")
    assert latest["AVERAGE:host:%s:memory_total_kib" % known["host_uuid"]] == pytest.approx(float(total), rel=1e-5)
    memory = session.xenapi.VM.query_data_source(known["vm"], "memory")
    assert latest["AVERAGE:vm:%s:memory" % known["vm_uuid"]] == pytest.approx(float(memory), rel=1e-5)


def test_host_false_and_vm_filter(rrd_sim, session):
    known = ids(session)
    base = {"session_id": session._session, "start": int(time.time()) - 20, "interval": 5}  # pylint: disable=protected-access
    doc = parse(get(rrd_sim, base)[1])
    assert doc["legend"] and all(":vm:" in e for e in doc["legend"])
    doc = parse(get(rrd_sim, dict(base, host="true", vm_uuid=known["vm_uuid"]))[1])
    assert {e.split(":")[2] for e in doc["legend"]} == {known["vm_uuid"]}


def test_interval_picks_archive_and_cf_consolidates(rrd_sim, session):
    base = {"session_id": session._session, "start": int(time.time()) - 600, "host": "true"}  # pylint: disable=protected-access
    minute = {cf: parse(get(rrd_sim, dict(base, interval=60, cf=cf), https=False)[1]) for cf in ("MIN", "AVERAGE", "MAX")}
    assert {d["step"] for d in minute.values()} == {60}
    assert all(d["legend"][0].startswith(cf + ":") for cf, d in minute.items())
    assert 9 <= minute["AVERAGE"]["rows"] <= 11
    # rows of the same minute: MIN <= AVERAGE <= MAX, and the cpu figures do differ within a minute
    rows = {cf: dict(d["data"]) for cf, d in minute.items()}
    common = set(rows["MIN"]) & set(rows["AVERAGE"]) & set(rows["MAX"])
    assert common
    spread = 0.0
    for t in common:
        for low, mid, high in zip(rows["MIN"][t], rows["AVERAGE"][t], rows["MAX"][t]):
            assert low <= mid * (1 + 1e-4) + 1e-9 and mid <= high * (1 + 1e-4) + 1e-9
            spread = max(spread, high - low)
    assert spread > 0
    # a start older than the 5 s archive holds falls back to the minute archive even with interval=5
    assert parse(get(rrd_sim, dict(base, interval=5, start=int(time.time()) - 3600))[1])["step"] == 60
    # an hour-old start with a fine interval is capped at the archive length
    assert parse(get(rrd_sim, dict(base, interval=5))[1])["rows"] <= 120
    assert get(rrd_sim, dict(base, cf="MEDIAN"))[0] == 400
    assert get(rrd_sim, dict(base, start="yesterday"))[0] == 400


def test_faults_apply_to_rrd_updates(rrd_sim, session):
    base = {"session_id": session._session, "start": int(time.time()) - 20, "interval": 5, "host": "true"}  # pylint: disable=protected-access
    rrd_sim.control.clear_faults()
    try:
        rrd_sim.control.add_fault("rrd_updates", nth=1, action="error", error=["INTERNAL_ERROR", "rrdd down"])
        status, body = get(rrd_sim, base)
        assert status == 500 and b"rrdd down" in body
        rrd_sim.control.add_fault("rrd_updates", nth=2, action="drop")
        with pytest.raises((http.client.HTTPException, ConnectionError)):
            get(rrd_sim, base)
        assert get(rrd_sim, base)[0] == 200
    finally:
        rrd_sim.control.clear_faults()


# ---------------------------------------------------------------------------- CPU load model, per-step cache
@pytest.fixture(scope="module", name="busy_sim")
def busy_sim_fixture(tmp_path_factory):
    """Two 32-CPU hosts with 12 running VMs (--generate), so hosts and VMs have CPU figures to compare."""
    sim = start_sim(tmp_path_factory, "rrd-busy", None, ["--generate", "hosts=2,vms=12"])
    yield sim
    sim.stop()


@pytest.fixture(scope="module", name="busy")
def busy_session_fixture(busy_sim):
    xen = connect(busy_sim)
    yield xen
    xen.xenapi.session.logout()


def minute_rows(sim, xen, start_ago: int = 600) -> dict:
    """{t: {(kind, uuid, name): value}} of host 0's minute archive, newest row first."""
    now = int(time.time() + sim.control.request("GET", "state")["clock_offset"])
    status, body = get(sim, {"session_id": xen._session, "start": now - start_ago, "interval": 60,  # pylint: disable=protected-access
                             "host": "true"})
    assert status == 200
    doc = parse(body)
    keys = [tuple(entry.split(":")[1:4]) for entry in doc["legend"]]
    return {t: dict(zip(keys, values)) for t, values in doc["data"]}


def vm_usage(row: dict) -> dict:
    """{vm uuid: mean of its cpuN} in one row."""
    per_vm: dict[str, list[float]] = {}
    for (kind, uuid, name), value in row.items():
        if kind == "vm" and name.startswith("cpu") and name[3:].isdigit():
            per_vm.setdefault(uuid, []).append(value)
    return {uuid: sum(v) / len(v) for uuid, v in per_vm.items()}


def test_vm_cpu_load_is_per_vm_and_deterministic(busy_sim, busy):
    rows = minute_rows(busy_sim, busy)
    newest = rows[max(rows)]
    usage = vm_usage(newest)
    assert len(usage) >= 4  # host 0 runs about half of the 12 VMs
    # each VM has a load of its own, not one figure shifted in phase: the busiest works several times the idlest
    assert max(usage.values()) > 2 * min(usage.values()) and max(usage.values()) - min(usage.values()) > 0.05
    assert all(0.0 <= u <= 1.0 for u in usage.values())
    # the same instant read again with another window (not the same answer from the cache) has the same figures
    again = minute_rows(busy_sim, busy, start_ago=300)
    common = sorted(set(rows) & set(again))
    assert common
    for t in common:
        assert again[t] == pytest.approx(rows[t], rel=1e-5, abs=1e-9)


def test_vm_cpu_load_moves_with_simulated_time(busy_sim, busy):
    def newest() -> dict:
        rows = minute_rows(busy_sim, busy)
        return vm_usage(rows[max(rows)])

    before = newest()
    busy_sim.control.advance(1200)  # 20 simulated minutes: a slow wave of 30 min to 2 h has moved
    after = newest()
    assert set(before) == set(after)
    moved = [uuid for uuid in before if abs(after[uuid] - before[uuid]) > 0.02]
    assert len(moved) >= len(before) // 2


def test_host_cpu_is_its_vms_load(busy_sim, busy):
    host = busy.xenapi.host.get_all_records()
    cpus = {rec["uuid"]: len(rec["host_CPUs"]) for rec in host.values()}
    vcpus = {rec["uuid"]: int(rec["VCPUs_at_startup"]) for rec in busy.xenapi.VM.get_all_records().values()}
    for row in minute_rows(busy_sim, busy).values():
        host_uuid = next(uuid for kind, uuid, _name in row if kind == "host")
        usage = vm_usage(row)
        expected = 0.02 + sum(vcpus[uuid] * load for uuid, load in usage.items()) / cpus[host_uuid]
        # the VMs' cpuN carry a ripple of at most 0.03 each, which averages out over the host's CPUs
        assert row[("host", host_uuid, "cpu_avg")] == pytest.approx(expected, abs=0.03)
        per_cpu = [v for (kind, _uuid, name), v in row.items() if kind == "host" and name[3:].isdigit() and name.startswith("cpu")]
        assert len(per_cpu) == cpus[host_uuid]
        assert sum(per_cpu) / len(per_cpu) == pytest.approx(row[("host", host_uuid, "cpu_avg")], abs=0.03)


def test_answers_are_kept_for_the_step_and_follow_changes(busy_sim, busy):
    now = int(time.time() + busy_sim.control.request("GET", "state")["clock_offset"])
    query = {"session_id": busy._session, "start": now - 600, "interval": 60, "host": "true"}  # pylint: disable=protected-access
    first = get(busy_sim, query)
    second = get(busy_sim, query)
    if parse(first[1])["end"] == parse(second[1])["end"]:  # same minute: the same document
        assert first == second
    uuid = next(entry.split(":")[2] for entry in parse(second[1])["legend"] if ":vm:" in entry)
    vm = busy.xenapi.VM.get_by_uuid(uuid)
    busy.xenapi.VM.hard_shutdown(vm)
    # within the same step, the halted VM is gone from the answer (the cache key holds what the host runs)
    assert not any(uuid in entry for entry in parse(get(busy_sim, query)[1])["legend"])
