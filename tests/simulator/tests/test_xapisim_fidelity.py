# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where xapisim follows xapi more closely than before (issue 15), each test naming its upstream source.

Sources: xapi-project/xen-api at e2ee48d6 (ocaml/xapi/*.ml, ocaml/idl/*) and xapi-project/sm at 471cf7ed
(libs/sm/core/XE_SR_ERRORCODES.xml, libs/sm/xs_errors.py).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import xmlrpc.client

import pytest

from conftest import SIM_ROOT, connect, password, start_sim

REPO_ROOT = os.path.dirname(os.path.dirname(SIM_ROOT))


def details(func, *args) -> list:
    try:
        func(*args)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        return list(getattr(exc, "details", [repr(exc)]))
    raise AssertionError("the call succeeded")


def raw_call(sim, method: str, *params) -> dict:
    """One XML-RPC request without the XenAPI client (which would log in again on SESSION_INVALID)."""
    proxy = xmlrpc.client.ServerProxy(sim.ready["hosts"][0]["url_http"], allow_none=True)
    return getattr(proxy, method)(*params)


def login(sim, originator: str = "pytest") -> str:
    answer = raw_call(sim, "session.login_with_password", sim.ready["username"], password(sim), "1.0", originator)
    assert answer["Status"] == "Success", answer
    return answer["Value"]


def pool_of(sim, session: str) -> dict:
    return raw_call(sim, "pool.get_all", session)


@pytest.fixture(scope="module", name="sim")
def sim_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "fidelity", "small.yml")
    yield sim
    sim.stop()


# --------------------------------------------------------------------------- 1. sessions
def test_500_sessions_per_originator_the_oldest_go(sim):
    """db_gc_util.ml timeout_sessions: more than max_sessions_per_originator (500, xapi_globs.ml) unused sessions
    of one originator -> the GC pass (every db_GC_TIMER = 30 s, db_gc.ml) destroys the least recently active."""
    refs = [login(sim, "fidelity-600") for _i in range(600)]
    other = login(sim, "someone-else")
    sim.control.advance(31)
    states = [pool_of(sim, ref)["Status"] for ref in refs]
    assert states[:100] == ["Failure"] * 100
    assert pool_of(sim, refs[0])["ErrorDescription"] == ["SESSION_INVALID", refs[0]]
    assert states[100:] == ["Success"] * 500
    assert pool_of(sim, other)["Status"] == "Success", "another originator's group has its own limit"
    for ref in refs[100:]:
        raw_call(sim, "session.logout", ref)


def test_idle_session_expires_after_24_hours(sim):
    """db_gc_util.ml: an unused session inactive for inactive_session_timeout (86400 s, xapi_globs.ml) is
    destroyed; one used in between lives on."""
    idle, busy = login(sim), login(sim)
    sim.control.advance(50000)
    assert pool_of(sim, busy)["Status"] == "Success"
    sim.control.advance(40000)
    assert pool_of(sim, idle)["ErrorDescription"] == ["SESSION_INVALID", idle]
    assert pool_of(sim, busy)["Status"] == "Success"
    rrd = login(sim)
    url = "%s/rrd_updates?session_id=%s&start=0&host=true" % (sim.ready["hosts"][0]["url_http"], rrd)
    with urllib.request.urlopen(url, timeout=10) as resp:  # nosec - the simulator on loopback
        assert resp.status == 200
    sim.control.advance(90000)
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(url, timeout=10)  # pylint: disable=consider-using-with  # nosec
    assert info.value.code == 401, "the HTTP handlers see the expired session gone too"
    raw_call(sim, "session.logout", busy)


def test_session_with_an_unfinished_task_is_kept(sim):
    """db_gc_util.ml timeout_sessions_common: only unused sessions (every task finished) are candidates."""
    busy = login(sim, "fidelity-busy")
    task = raw_call(sim, "task.create", busy, "long job", "")["Value"]
    sim.control.advance(90000)
    assert pool_of(sim, busy)["Status"] == "Success"
    raw_call(sim, "task.destroy", busy, task)
    sim.control.advance(90000)
    assert pool_of(sim, busy)["ErrorDescription"] == ["SESSION_INVALID", busy]


def _run_module(sim, tmp_path, name: str, args: dict) -> dict:
    """Run one of the collection's modules as Ansible would (a fresh process, one login), against the sim."""
    tree = tmp_path / "collections" / "ansible_collections" / "vdc"
    tree.mkdir(parents=True)
    os.symlink(REPO_ROOT, str(tree / "xenpool"))
    entry = sim.ready["hosts"][0]
    params = dict(args, hostname=entry["url_https"], username=sim.ready["username"], password=password(sim),
                  ca_path=sim.ready["ca_cert"])
    argfile = tmp_path / "args.json"
    argfile.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": params}), encoding="utf-8")
    env = dict(os.environ, PYTHONPATH=str(tmp_path / "collections"))
    proc = subprocess.run([sys.executable, "-m", "ansible_collections.vdc.xenpool.plugins.modules.%s" % name, str(argfile)],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    return json.loads(proc.stdout)


def test_collection_survives_session_gc(sim, tmp_path):
    """plugins/module_utils/_xen/client.py logs in once per module run (originator vdc.xenpool) and logs out:
    a module run after the clock passed the session timeout, and after the originator's group overflowed,
    works because it logs in anew."""
    pytest.importorskip("ansible")
    before = _run_module(sim, tmp_path / "a", "pool_info", {})
    assert not before.get("failed"), before
    stale = [login(sim, "vdc.xenpool") for _i in range(510)]  # a leaking client of the same originator
    sim.control.advance(90000)
    after = _run_module(sim, tmp_path / "b", "pool_info", {})
    assert not after.get("failed"), after
    assert after["pool"]["uuid"] == before["pool"]["uuid"]
    assert pool_of(sim, stale[-1])["ErrorDescription"][0] == "SESSION_INVALID"


# --------------------------------------------------------------------------- 2. check order
def test_session_is_checked_before_the_method(sim):
    """gen_server.ml: a removed message checks the session, then answers MESSAGE_REMOVED; an unknown name with
    arguments checks its first one as a session (the host-extension path) before xapi_extensions.ml answers
    MESSAGE_METHOD_UNKNOWN [name]."""
    bad = "OpaqueRef:00000000-0000-0000-0000-000000000bad"
    assert raw_call(sim, "VM.no_such_call", bad)["ErrorDescription"] == ["SESSION_INVALID", bad]
    assert raw_call(sim, "host_metrics.get_memory_free", bad, "OpaqueRef:x")["ErrorDescription"] == ["SESSION_INVALID", bad]
    good = login(sim)
    assert raw_call(sim, "VM.no_such_call", good)["ErrorDescription"] == ["MESSAGE_METHOD_UNKNOWN", "VM.no_such_call"]
    metrics = raw_call(sim, "host_metrics.get_all", good)["Value"][0]
    assert raw_call(sim, "host_metrics.get_memory_free", good, metrics)["ErrorDescription"] == ["MESSAGE_REMOVED"]
    assert raw_call(sim, "VM.no_such_call")["ErrorDescription"] == ["MESSAGE_METHOD_UNKNOWN", "VM.no_such_call"]
    raw_call(sim, "session.logout", good)


# --------------------------------------------------------------------------- 3. SR backend texts
def test_backend_errors_carry_sm_descriptions(sim):
    """sm xs_errors.XenError: the text is the description from XE_SR_ERRORCODES.xml (plus ' [opterr=...]'), and
    xapi (sm_exec.ml) passes it on as the 2nd parameter of SR_BACKEND_FAILURE_<n>."""
    x = connect(sim).xenapi
    host = x.host.get_all()[0]
    assert details(x.SR.probe, host, {}, "lvmoiscsi", {})[:3] == \
        ["SR_BACKEND_FAILURE_95", "", "The request is missing the target parameter"]
    assert details(x.SR.probe, host, {}, "nfs", {})[:3] == \
        ["SR_BACKEND_FAILURE_102", "", "The request is missing the server parameter"]
    err = details(x.SR.probe, host, {"server": "127.0.0.99", "serverpath": "/x"}, "nfs", {})
    assert err[:2] == ["SR_BACKEND_FAILURE_108", ""] and err[2].startswith("Unable to detect an NFS service on this target.")
    x.session.logout()


def test_every_code_the_simulator_raises_has_its_description():
    """The committed table (xapisim/sm_errorcodes.py, generated from sm's XML) covers every SM key the source
    names, with the numbers datamodel.json's sm_backend_error_codes holds."""
    sys.path.insert(0, SIM_ROOT)
    from xapisim import sm_errorcodes  # pylint: disable=import-outside-toplevel
    from xapisim.spec import Spec  # pylint: disable=import-outside-toplevel
    names = set()
    folder = os.path.join(SIM_ROOT, "xapisim")
    for filename in os.listdir(folder):
        if filename.endswith(".py"):
            with open(os.path.join(folder, filename), encoding="utf-8") as handle:
                names |= set(re.findall(r'sm_(?:error|failure)\([a-z_.]+, "([A-Za-z]+)"', handle.read()))
    assert len(names) >= 15 and names <= set(sm_errorcodes.SM_ERRORS), names - set(sm_errorcodes.SM_ERRORS)
    codes = Spec().raw["sm_backend_error_codes"]["codes"]
    assert {n: v for n, (v, _d) in sm_errorcodes.SM_ERRORS.items()} == {n: codes[n] for n in sm_errorcodes.SM_ERRORS}
    assert sm_errorcodes.SM_ERRORS["ConfigSCSIid"][1] == "The SCSIid parameter is missing or incorrect"


# --------------------------------------------------------------------------- 4. SR.probe_ext
def test_probe_ext_runs_the_probe_first(sim):
    """xapi_sr.ml probe_ext = call_probe: the SM probe runs first (an incomplete config fails like SR.probe);
    an SMAPIv1 driver's answer is Raw (storage_smapiv1.ml), which probe_ext refuses: SR_OPERATION_NOT_SUPPORTED
    [] -- for lvmoiscsi, nfs and iso alike."""
    x = connect(sim).xenapi
    host = x.host.get_all()[0]
    assert details(x.SR.probe_ext, host, {}, "lvmoiscsi", {})[:3] == \
        ["SR_BACKEND_FAILURE_95", "", "The request is missing the target parameter"]
    assert details(x.SR.probe_ext, host, {"target": "127.0.0.200"}, "lvmoiscsi", {})[0] == "SR_BACKEND_FAILURE_141"
    assert details(x.SR.probe_ext, host, {}, "nfs", {})[:3] == \
        ["SR_BACKEND_FAILURE_102", "", "The request is missing the server parameter"]
    assert details(x.SR.probe_ext, host, {"location": "/opt/xensource/packages/iso"}, "iso", {}) == \
        ["SR_OPERATION_NOT_SUPPORTED"]
    assert details(x.SR.probe_ext, host, {}, "no-such-type", {})[0] == "SR_UNKNOWN_DRIVER"
    x.session.logout()


# --------------------------------------------------------------------------- 5. tasks of synchronous calls
def test_sync_call_runs_in_a_task(sim):
    """context.ml of_http_req: a synchronous call of a message with an async form gets a task in the database
    (generate_task_for && supports_async), destroyed when the call returns (server_helpers.ml do_dispatch,
    Context.finally_destroy_context); no task for calls without an async form. The call log counts API calls."""
    x = connect(sim).xenapi
    vm = next(r for r, rec in x.VM.get_all_records().items() if not rec["is_a_template"] and not rec["is_control_domain"])
    token = getattr(x.event, "from")(["task"], "", 0.0)["token"]
    seen: list = []

    def watch():
        tok = token
        for _i in range(20):
            answer = getattr(x.event, "from")(["task"], tok, 5.0)
            tok = answer["token"]
            seen.extend(answer["events"])
            if any(e["operation"] == "del" for e in seen):
                return

    sim.control.reset_calls()
    watcher = threading.Thread(target=watch)
    watcher.start()
    x2 = connect(sim).xenapi
    x2.VM.start(vm, False, False)
    watcher.join(30)
    labels = [(e["operation"], (e.get("snapshot") or {}).get("name_label")) for e in seen]
    assert ("add", "VM.start") in labels, labels
    assert any(e["operation"] == "del" for e in seen)
    assert x2.task.get_all() == [], "the task is gone when the call has returned"
    x2.VM.get_record(vm)
    calls = [c for c in sim.control.calls()["calls"] if not c["method"].startswith(("event.", "session."))]
    assert [(c["method"], c["write"]) for c in calls] == [("VM.start", True), ("task.get_all", False), ("VM.get_record", False)]
    x2.VM.hard_shutdown(vm)
    x2.session.logout()
    x.session.logout()


# --------------------------------------------------------------------------- 6. classes
EMPTY_CLASSES = ["VM_appliance", "VMSS", "DR_task", "host_crashdump", "tunnel", "network_sriov", "PCI", "PGPU", "GPU_group",
                 "VGPU", "VGPU_type", "PUSB", "USB_group", "VUSB", "PVS_site", "PVS_server", "PVS_proxy",
                 "PVS_cache_storage", "SDN_controller", "Cluster", "Cluster_host", "pool_update", "Repository", "subject",
                 "blob"]


def test_pool_classes_are_served(sim):
    """Published classes of the datamodel (ocaml/idl/datamodel*.ml) a pool shows: empty without hardware or
    configuration, records with exactly the datamodel's fields once created; SM lists the drivers
    (xapi_sm.ml create_from_query_result, from sm's DRIVER_INFO/CAPABILITIES). Removed classes stay unknown."""
    sys.path.insert(0, SIM_ROOT)
    from xapisim.spec import Spec  # pylint: disable=import-outside-toplevel
    spec = Spec()
    x = connect(sim).xenapi
    for cls in EMPTY_CLASSES:
        api = getattr(x, cls)
        assert api.get_all_records() == {} and api.get_all() == [], cls
    sms = x.SM.get_all_records()
    assert sorted(r["type"] for r in sms.values()) == ["ext", "file", "iso", "lvm", "lvmoiscsi", "nfs", "udev"]
    iscsi = next(r for r in sms.values() if r["type"] == "lvmoiscsi")
    assert sorted(iscsi) == sorted(spec.classes["SM"]["record_fields"])
    assert iscsi["name_label"] == "LVHD over iSCSI" and iscsi["driver_filename"] == "/opt/xensource/sm/LVMoISCSISR"
    assert iscsi["features"]["VDI_RESET_ON_BOOT"] == "2" and "VDI_RESET_ON_BOOT" in iscsi["capabilities"]
    assert "SCSIid" in iscsi["configuration"]
    app = x.VM_appliance.create({"name_label": "web tier", "name_description": ""})
    assert sorted(x.VM_appliance.get_record(app)) == sorted(spec.classes["VM_appliance"]["record_fields"])
    vm = next(r for r, rec in x.VM.get_all_records().items() if not rec["is_a_template"] and not rec["is_control_domain"])
    x.VM.set_appliance(vm, app)
    assert x.VM_appliance.get_VMs(app) == [vm]
    x.VM.set_appliance(vm, "OpaqueRef:NULL")
    x.VM_appliance.destroy(app)
    assert details(x.VBD_metrics.get_all)[0] == "MESSAGE_METHOD_UNKNOWN", "removed in tampa: still unknown"
    x.session.logout()


# --------------------------------------------------------------------------- 7. a fresh host's SRs
def test_fresh_host_has_udev_and_tools_srs(sim):
    """sm scripts/storage-init create_udev_srs ("Removable storage", "DVD drives") and xen-api dbsync_master.ml
    create_tools_sr (xapi_globs.ml tools_sr_name / tools_sr_pbd_device_config; sm ISOSR.py tools_iso_name)."""
    x = connect(sim).xenapi
    srs = {r["name_label"]: (ref, r) for ref, r in x.SR.get_all_records().items()}
    _ref, dvd = srs["DVD drives"]
    assert (dvd["type"], dvd["content_type"], dvd["shared"], dvd["sm_config"]) == ("udev", "iso", False, {"type": "cd"})
    assert dvd["name_description"] == "Physical DVD drives" and dvd["other_config"]["i18n-key"] == "local-hotplug-cd"
    _ref, removable = srs["Removable storage"]
    assert (removable["type"], removable["content_type"], removable["sm_config"]) == ("udev", "disk", {"type": "block"})
    pbd_configs = {x.PBD.get_record(p)["device_config"]["location"] for p in dvd["PBDs"] + removable["PBDs"]}
    assert pbd_configs == {"/dev/xapi/cd", "/dev/xapi/block"}
    tools_ref, tools = srs["XCP-ng Tools"]
    assert tools["is_tools_sr"] and tools["shared"] and tools["type"] == "iso" and tools["name_description"] == "XCP-ng Tools ISOs"
    assert tools["other_config"]["xenserver_tools_sr"] == "true"
    pbd = x.PBD.get_record(tools["PBDs"][0])
    assert pbd["device_config"] == {"path": "/opt/xensource/packages/iso", "location": "/opt/xensource/packages/iso",
                                    "legacy_mode": "true"} and pbd["currently_attached"]
    iso = x.VDI.get_record(x.SR.get_VDIs(tools_ref)[0])
    assert iso["name_label"] == "guest-tools.iso" and iso["read_only"] and iso["sm_config"]["xs-tools"] == "true"
    x.PBD.unplug(tools["PBDs"][0])
    x.PBD.plug(tools["PBDs"][0])  # a dom0 directory: no mount, the plug works
    # sm drivers/udevSR.py CAPABILITIES has no VDI_CREATE: xapi refuses before calling the driver
    removable_ref = srs["Removable storage"][0]
    assert details(x.VDI.create, {"name_label": "x", "name_description": "", "SR": removable_ref, "virtual_size": "1048576",
                                  "type": "user", "sharable": False, "read_only": False, "other_config": {}}) == \
        ["SR_OPERATION_NOT_SUPPORTED", removable_ref]
    x.session.logout()


@pytest.fixture(scope="module", name="two_hosts")
def two_hosts_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "fidelity-ref", "reference.yml")
    yield sim
    sim.stop()


def test_join_keeps_one_tools_sr(two_hosts):
    """xapi_pool.ml assert_no_shared_srs_on_me ignores the Tools SR, so a fresh host can join; the pool keeps
    its one Tools SR with a PBD per host, each host keeps its own udev SRs."""
    master = connect(two_hosts, 0)
    joiner = connect(two_hosts, 1)
    joiner.xenapi.pool.join(two_hosts.ready["hosts"][0]["address"], two_hosts.ready["username"], password(two_hosts))
    x = master.xenapi
    srs = x.SR.get_all_records()
    tools = [(ref, r) for ref, r in srs.items() if r["is_tools_sr"]]
    assert len(tools) == 1
    hosts = {x.PBD.get_host(p) for p in tools[0][1]["PBDs"] if x.PBD.get_currently_attached(p)}
    assert hosts == set(x.host.get_all()) and len(hosts) == 2
    assert sorted(r["name_label"] for r in srs.values() if r["type"] == "udev") == \
        ["DVD drives", "DVD drives", "Removable storage", "Removable storage"]
    assert len(x.SM.get_all()) == 7, "the pool's SM table, not one per member"
    master.xenapi.session.logout()


# --------------------------------------------------------------------------- 8. the README's table
def test_readme_table_of_served_classes_is_current():
    """tests/simulator/README.md carries xapisim.fidelity.table() between its markers (regenerate with
    `python -m xapisim.fidelity --write README.md` from tests/simulator)."""
    sys.path.insert(0, SIM_ROOT)
    from xapisim import fidelity  # pylint: disable=import-outside-toplevel
    with open(os.path.join(SIM_ROOT, "README.md"), encoding="utf-8") as handle:
        text = handle.read()
    assert fidelity.replace_in(text, fidelity.table()) == text, "README table out of date: run python -m xapisim.fidelity --write README.md"
    assert "| `SM` | yes | 25 / 25 |" in text
