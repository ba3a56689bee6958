# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The simulator's fast paths give what the general forms give: the XML-RPC encoder (byte for byte), record copies,
and the data-source plans behind query_data_source and /rrd_updates (in-process, no sockets)."""
from __future__ import annotations

import math
import xmlrpc.client

import pytest

from xapisim import cpuload, datacenter, rrd, wire
from xapisim.dispatch import Context
from xapisim.handlers_pool import host_sources
from xapisim.handlers_vm import vm_sources
from xapisim.model import host_free_memory
from xapisim.sources import SourcePlan, host_plan, vm_plan
from xapisim.spec import DT, I4, Spec
from xapisim.state import World, clone

SPEC = Spec()


class Text(str):
    """A str subclass other than DT: takes the general form."""


class Number(int):
    """An int subclass other than I4 and bool."""


VALUES = [
    None, "", "plain", "a&b<c>d \"q\" 'a'", "\u00e9t\u00e9 \u2603", True, False, 0, -1, 2 ** 63, I4(7), I4(-3), 0.0, -0.5,
    1e300, float("inf"), float("nan"), 1 / 3.0, DT("20261206T01:02:03Z"), Text("sub<str>"), Number(5),
    [], (), {}, ["OpaqueRef:1", "x&y"], ("t", 1, None), {"k": "v", "a&b": "<c>", "n": 1, "f": 2.5, "b": True},
    {1: "int key", None: "none key", ("t",): "tuple key", 2.5: "float key", False: "bool key"},
    {"nested": [{"x": [1, "2", {"y": DT("19700101T00:00:00Z")}]}, (), {}], "empty": ""},
    [[["deep", I4(1)]], {"m": {"n": {"o": [False, None]}}}], xmlrpc.client.DateTime("20260101T00:00:00"),
    {"Status": "Success", "Value": {"OpaqueRef:a": {"uuid": "u", "other_config": {"k&": "v<"}, "VCPUs_max": 4}}},
]


def reference(value) -> str:
    out: list[str] = []
    wire._xml_value_other(value, out)  # pylint: disable=protected-access
    return "".join(out)


@pytest.mark.parametrize("value", VALUES, ids=range(len(VALUES)))
def test_encoder_fast_paths_are_byte_identical_to_the_general_form(value):
    assert wire.xml_value(value) == reference(value)
    assert wire.xml_response({"Status": "Success", "Value": value}) == \
        ('<?xml version="1.0"?><methodResponse><params><param>%s</param></params></methodResponse>'
         % reference({"Status": "Success", "Value": value})).encode("utf-8")


def test_encoder_writes_what_xapi_writes():
    """Fixed expectations, so that the test fails if the fast path and the general form change together."""
    assert wire.xml_value({"a&b": ["x<y", 3, I4(4), True, 1.5, None, DT("20260101T00:00:00Z")]}) == (
        "<value><struct><member><name>a&amp;b</name><value><array><data><value>x&lt;y</value><value>3</value>"
        "<value><i4>4</i4></value><value><boolean>1</boolean></value><value><double>1.5</double></value>"
        "<value></value><value><dateTime.iso8601>20260101T00:00:00Z</dateTime.iso8601></value>"
        "</data></array></value></member></struct></value>")
    # many distinct struct keys (refs are keys of get_all_records) stay correct past the name cache's bound
    many = {"OpaqueRef:%d&" % i: str(i) for i in range(wire._MEMBER_OPEN_LIMIT + 10)}  # pylint: disable=protected-access
    assert wire.xml_value(many) == reference(many)


def test_clone_is_a_deep_copy():
    value = {"a": [1, {"b": ["c"]}], "d": DT("20260101T00:00:00Z"), "e": ("t", [1])}
    copied = clone(value)
    assert copied == value
    copied["a"][1]["b"].append("x")
    copied["e"][1].append(2)
    assert value == {"a": [1, {"b": ["c"]}], "d": DT("20260101T00:00:00Z"), "e": ("t", [1])}


@pytest.fixture(scope="module", name="world")
def world_fixture():
    world = World(SPEC, 1.0)
    with world.lock:
        datacenter.build(world, datacenter.generated("hosts=2,vms=12"))
    yield world
    world.scheduler.stop()


def test_records_and_defaults_are_never_shared(world):
    db = world.dbs[0]
    with world.lock:
        first, second = db.create("VM", {"name_label": "a"}), db.create("VM", {"name_label": "b"})
        try:
            assert db.get("VM", first)["other_config"] is not db.get("VM", second)["other_config"]
            rendered = db.render("VM", first)
            rendered["other_config"]["x"] = "y"
            rendered["blocked_operations"]["clean_shutdown"] = "z"
            assert "x" not in db.get("VM", first)["other_config"]
            assert db.get("VM", second)["blocked_operations"] == {}
        finally:
            db.destroy("VM", first)
            db.destroy("VM", second)


def _running(db) -> list[str]:
    return [ref for ref, rec in db.tables["VM"].items() if rec["power_state"] == "Running" and not rec["is_control_domain"]]


def test_plans_are_the_data_source_model(world):
    """A VM's and a host's sources, as the model's formulas give them at one instant (cpuload, model)."""
    db = world.dbs[0]
    with world.lock:
        vm = _running(db)[0]
        rec = db.get("VM", vm)
        at = 1234.5
        values = vm_plan(db, vm).as_dict(at)
        loads = cpuload.vcpu_loads(rec["uuid"], rec["VCPUs_at_startup"], at)
        assert [values["cpu%d" % n] for n in range(rec["VCPUs_at_startup"])] == loads
        assert values["cpu_usage"] == sum(loads) / len(loads)
        assert values["memory"] == float(rec["memory_dynamic_max"])
        phase = (__import__("zlib").crc32((rec["uuid"] + "mem").encode("utf-8")) % 1000) / 1000.0 * 2 * math.pi
        expected = max(0.0, rec["memory_dynamic_max"] / 2048.0
                       + rec["memory_dynamic_max"] / 8192.0 * math.sin(at * 2 * math.pi / 300.0 + phase))
        assert values["memory_internal_free"] == expected
        host = rec["resident_on"]
        hvalues = host_plan(db, host, host_free_memory(db, host)).as_dict(at)
        running = [db.get("VM", v) for v in db.get("host", host)["resident_VMs"]]
        cpus = len(db.get("host", host)["host_CPUs"])
        load = cpuload.host_load([(r["uuid"], r["VCPUs_at_startup"]) for r in running if r["power_state"] == "Running"], cpus, at)
        assert hvalues["cpu_avg"] == load
        assert [hvalues["cpu%d" % n] for n in range(cpus)] == cpuload.host_cpu_loads(db.get("host", host)["uuid"], load, cpus, at)
        # the API's view is the same plan now
        ctx = Context(world, db, host, None, "test")
        assert set(vm_sources(ctx, vm)) == set(values) and set(host_sources(ctx, host)) == set(hvalues)
        halted = next(r for r, v in db.tables["VM"].items() if v["power_state"] == "Halted")
        assert vm_plan(db, halted) is None and vm_sources(ctx, halted) == {}


def test_a_name_met_twice_keeps_its_first_place_and_last_value():
    class Plan(SourcePlan):
        __slots__ = ()

        def _raw(self, elapsed):
            return [1.0, 2.0, 3.0, elapsed]

    plan = Plan(["a", "b", "a", "c"], ())
    assert plan.names == ["a", "b", "c"] and plan.values(9.0) == [3.0, 2.0, 9.0]


def test_xport_rows_are_the_plans_consolidated(world):
    """Each <v> of a minute row is its source's sub-samples (plan values at history instants) consolidated."""
    db = world.dbs[0]
    with world.lock:
        host = db.get("VM", _running(db)[0])["resident_on"]
        now = world.clock.wall()
        body = rrd.build_xport(world, db, host, int(now) - 300, 60, "MAX", True)
    legend = body.split("<legend>")[1].split("</legend>")[0].replace("<entry>", "").split("</entry>")[:-1]
    first_row = body.split("<row>")[1]
    stamp = int(first_row.split("<t>")[1].split("</t>")[0])
    cells = [c.split("</v>")[0] for c in first_row.split("<v>")[1:]]
    assert len(cells) == len(legend) and all(e.startswith("MAX:") for e in legend)
    vm_uuid = next(e.split(":")[2] for e in legend if ":vm:" in e)
    with world.lock:
        plan = vm_plan(db, db.by_uuid("VM", vm_uuid))
    column = legend.index("MAX:vm:%s:cpu0" % vm_uuid)
    # the instants are those of the request; a neighbouring instant gives the same figure to 4 digits
    instants = [stamp - 60 + 60 * f - (now - world.clock.elapsed()) for f in rrd.SUBSAMPLES]
    expected = max(plan.as_dict(at)["cpu0"] for at in instants)
    assert float(cells[column]) == pytest.approx(expected, rel=1e-4, abs=1e-6)
