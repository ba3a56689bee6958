# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""In-process checks of xapisim building blocks (no sockets)."""
from __future__ import annotations

import importlib.util
import json
import os
import xmlrpc.client

import pytest

from xapisim import datacenter
from xapisim.dispatch import eval_where, parse_where, split_method
from xapisim.model import MIB, memory_overhead
from xapisim.spec import DT, I4, Spec, XapiError, parse_type
from xapisim.state import World
from xapisim.wire import xml_response, xml_value

SPEC_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "xapisim", "spec")
REDUCE_PY = os.path.join(SPEC_DIR, "reduce.py")
SPEC = Spec()


def _reduce_module():
    loader = importlib.util.spec_from_file_location("xapisim_reduce", REDUCE_PY)
    module = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(module)
    return module


def test_committed_reduced_spec_matches_its_lock():
    """datamodel.json is what reduce.py wrote (datamodel.lock.json), with the shape reduce.py gives.

    Runs in every clone. With XENPOOL_FULL_DATAMODEL naming the full extract it also re-runs the
    reduction and compares byte for byte (and the extract with the one the lock names)."""
    reduce = _reduce_module()
    with open(os.path.join(SPEC_DIR, reduce.LOCK_NAME), encoding="utf-8") as handle:
        lock = json.load(handle)
    with open(os.path.join(SPEC_DIR, lock["reduced"]["file"]), "rb") as handle:
        committed = handle.read()
    assert reduce.sha256(committed) == lock["reduced"]["sha256"], \
        "datamodel.json changed without reduce.py: regenerate it (tests/simulator/README.md, 'Regenerating the spec')"
    raw = json.loads(committed)
    assert raw == SPEC.raw and raw["api_version"] == lock["full_extract"]["api_version"]
    assert tuple(sorted(raw)) == tuple(sorted(reduce.TOP_KEYS))
    assert {c["name"] for c in raw["classes"]} == set(reduce.SERVED_CLASSES), "reduce.py's served classes differ from datamodel.json"
    for cls in raw["classes"]:
        assert all(set(f) <= set(reduce.FIELD_KEYS) | {"state"} for f in cls["fields"]), cls["name"]
        assert all(set(m) <= set(reduce.MESSAGE_KEYS) | {"state"} for m in cls["messages"]), cls["name"]
    served = set(reduce.SERVED_CLASSES)
    assert all(side.split(".")[0] in served for pair in raw["relations"] for side in pair)
    assert "generated_by" not in json.dumps(raw["source"])
    full_path = os.environ.get("XENPOOL_FULL_DATAMODEL")
    if full_path:
        with open(full_path, "rb") as handle:
            full_raw = handle.read()
        assert reduce.sha256(full_raw) == lock["full_extract"]["sha256"], "not the extract datamodel.json was made from"
        assert reduce.render(reduce.reduce_model(json.loads(full_raw))) == committed


def test_reduce_keeps_served_classes_and_flattens_lifecycle():
    reduce = _reduce_module()
    life = {"state": "Published_s", "transitions": [["Published", "rel_rio", ""]]}
    full = {
        "source": {"datamodel": {"repo": "github:xapi-project/xen-api", "commit": "abc"}, "generated_by": "someone"},
        "api_version": {"major": 2, "minor": 23}, "wire_conventions": {"x": 1}, "enums": [], "errors": [],
        "errors_undeclared": [], "errors_patterns": [], "sm_backend_error_codes": {}, "runtime_facts": {},
        "releases": ["dropped"], "alert_message_types": ["dropped"],
        "relations": [["VM.VBDs", "VBD.VM"], ["VM.VTPMs", "VTPM.VM"]],
        "classes": [
            {"name": "VM", "lifecycle": life, "in_database": True, "gen_constructor_destructor": True, "gen_events": True,
             "record_fields": ["uuid"], "roles": ["pool-admin"],
             "fields": [{"name": "uuid", "type": "string", "qualifier": "DynamicRO", "lifecycle": life, "doc": "x"}],
             "messages": [{"name": "start", "kind": "Custom", "params": [], "lifecycle": life, "roles": ["vm-op"]}]},
            {"name": "VTPM", "lifecycle": life, "in_database": True, "gen_constructor_destructor": True, "gen_events": True,
             "record_fields": [], "fields": [], "messages": []},
        ],
    }
    out = reduce.reduce_model(full)
    assert tuple(sorted(out)) == tuple(sorted(reduce.TOP_KEYS))
    assert [c["name"] for c in out["classes"]] == ["VM"]
    assert out["classes"][0]["fields"] == [{"name": "uuid", "type": "string", "qualifier": "DynamicRO", "state": "Published_s"}]
    assert out["classes"][0]["messages"] == [{"name": "start", "kind": "Custom", "params": [], "state": "Published_s"}]
    assert out["relations"] == [["VM.VBDs", "VBD.VM"]]
    assert out["declared_classes"] == [{"name": "VM", "state": "Published_s", "messages": 1},
                                       {"name": "VTPM", "state": "Published_s", "messages": 0}]
    assert out["source"]["upstream"] == {"datamodel": {"repo": "github:xapi-project/xen-api", "commit": "abc"}}


def test_parse_type():
    assert parse_type("(string -> enum vm_operations) map") == ("map", ("string",), ("enum", "vm_operations"))
    assert parse_type("VBD ref set") == ("set", ("ref", "VBD"))
    assert parse_type("(int -> string set) map") == ("map", ("int",), ("set", ("string",)))
    assert parse_type("datetime") == ("datetime",)


def test_coercion_is_lenient_like_xapi():
    assert SPEC.coerce("2147483648", ("int",), "x") == 2147483648
    assert SPEC.coerce("halted", ("enum", "vm_power_state"), "x") == "Halted"
    assert SPEC.coerce(3, ("float",), "x") == 3.0
    with pytest.raises(XapiError) as info:
        SPEC.coerce("many", ("int",), "value")
    assert info.value.description == ["FIELD_TYPE_ERROR", "value"]


def test_xml_encoding_matches_xapi():
    text = xml_value({"a": 5, "b": True, "c": 1.5, "d": DT("20240101T12:00:00Z"), "e": ["x"], "f": I4(3), "g": ""})
    assert text == ("<value><struct><member><name>a</name><value>5</value></member>"
                    "<member><name>b</name><value><boolean>1</boolean></value></member>"
                    "<member><name>c</name><value><double>1.5</double></value></member>"
                    "<member><name>d</name><value><dateTime.iso8601>20240101T12:00:00Z</dateTime.iso8601></value></member>"
                    "<member><name>e</name><value><array><data><value>x</value></data></array></value></member>"
                    "<member><name>f</name><value><i4>3</i4></value></member>"
                    "<member><name>g</name><value></value></member></struct></value>")
    parsed = xmlrpc.client.loads(xml_response({"Status": "Success", "Value": 7}))[0][0]
    assert parsed == {"Status": "Success", "Value": "7"}


def test_where_expressions():
    rec = {"name_label": "web 1", "power_state": "Running", "is_a_template": False}
    assert eval_where(parse_where('field "name__label" = "web 1"'), rec)
    assert eval_where(parse_where('power_state="Running" and is_a_template="false"'), rec)
    assert not eval_where(parse_where('power_state="Halted" or (name_label="x")'), rec)
    assert eval_where(parse_where('not power_state="Halted"'), rec)
    assert eval_where(parse_where(""), rec)
    with pytest.raises(XapiError):
        parse_where('field "x" =')


def test_split_method_forms():
    world = World(SPEC, 1.0)
    try:
        assert split_method(world, "VM.start") == (False, "VM", "start")
        assert split_method(world, "Async.VM.start") == (True, "VM", "start")
        assert split_method(world, "VM_metrics_get_record") == (False, "VM_metrics", "get_record")
        assert split_method(world, "host_get_all") == (False, "host", "get_all")
    finally:
        world.scheduler.stop()


def test_memory_overhead_worked_example():
    rec = {"memory_static_max": 4096 * MIB, "VCPUs_max": 2, "domain_type": "hvm", "HVM_shadow_multiplier": 1.0}
    assert memory_overhead(rec) == 37 * MIB


def test_datacenter_guards_and_generation():
    world = World(SPEC, 1.0)
    try:
        with pytest.raises(ValueError):
            datacenter.build(world, {"host_groups": [{"count": 1}]}, "10.0.0.1")
        conf = datacenter.generated("hosts=3,vms=5")
        assert conf["pools"][0]["members"] == ["gen-host-02", "gen-host-03"]
        with world.lock:
            datacenter.build(world, conf)
        assert len(world.dbs) == 1 and len(world.hosts) == 3
        db = world.dbs[0]
        vms = [r for r in db.tables["VM"].values() if not r["is_a_template"] and not r["is_control_domain"]]
        assert len(vms) == 5 and all(r["power_state"] == "Running" for r in vms)
    finally:
        world.scheduler.stop()
