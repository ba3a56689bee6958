# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A pool join is not instant (xapisim/pooling.py merge_host_into / member_started, handlers_pool.py _join).

xen-api `ocaml/xapi/xapi_pool.ml` `update_non_vm_metadata` -> `create_or_get_host_on_master` calls `Host.create`
on the coordinator, and `xapi_host.ml` `create` makes the host record with enabled=false and a new host_metrics
with live=false and memory_total 0. Only when the joiner's toolstack has restarted as a member does the pool
see the rest: `xapi_pool.ml` `hello` marks it live, `dbsync_slave.ml` `update_env` creates its host_cpu records
and (`create_misc.ml` `ensure_domain_zero_records`) dom0 with its console, `create_storage.ml` plugs its PBDs and
`xapi_host_helpers.ml` `consider_enabling_host` enables it. The simulator puts that restart `toolstack_restart`
(6) simulated seconds after the join.
"""
from __future__ import annotations

import time

import pytest

from conftest import connect, password, start_sim
from test_xapisim_host_failure import wait_for  # the suite's polling helper

NULL = "OpaqueRef:NULL"


@pytest.fixture(name="slow_ref")
def slow_ref_fixture(tmp_path_factory):
    """reference.yml at 10 x real time: the window lasts a minute of real time unless the clock is advanced."""
    sim = start_sim(tmp_path_factory, "join-window", "reference.yml", ["--time-scale", "10"])
    yield sim
    sim.stop()


def index_of(sim, name):
    return [h["name"] for h in sim.ready["hosts"]].index(name)


def host_view(x, host):
    """What a client of the coordinator sees of a member: its record, metrics, dom0, CPUs and console."""
    rec = x.host.get_record(host)
    metrics = x.host_metrics.get_record(rec["metrics"])
    dom0 = [v for v, r in x.VM.get_all_records().items() if r["is_control_domain"] and r["resident_on"] == host]
    cpus = [c for c, r in x.host_cpu.get_all_records().items() if r["host"] == host]
    consoles = [c for d in dom0 for c in x.VM.get_consoles(d)]
    return {"enabled": rec["enabled"], "live": metrics["live"], "memory_total": int(metrics["memory_total"]),
            "dom0": dom0, "host_CPUs": rec["host_CPUs"], "cpus": cpus, "consoles": consoles,
            "attached_pbds": [p for p in rec["PBDs"] if x.PBD.get_currently_attached(p)]}


def test_joined_host_is_disabled_and_not_live_until_its_toolstack_restarts(slow_ref):
    """The coordinator's client sees the joiner first as xapi_host.ml create made it (enabled false, live false,
    no memory, no dom0, host_cpu or console), then, after the member's start-up, the complete host."""
    master_name, joiner_name = "xen-intel-05", "xen-intel-06"
    x = connect(slow_ref, index_of(slow_ref, master_name)).xenapi
    joiner = connect(slow_ref, index_of(slow_ref, joiner_name)).xenapi
    task = joiner.Async.pool.join(slow_ref.ready["hosts"][index_of(slow_ref, master_name)]["address"], "root",
                                  password(slow_ref))
    assert task.startswith("OpaqueRef:")
    # pool_join takes 15 simulated seconds: move the clock a second at a time until the host record is there, so
    # the 6 s window after it is still ahead however late the join's worker went to sleep
    new = None
    for _step in range(120):
        new = next(iter(x.host.get_by_name_label(joiner_name)), None)
        if new:
            break
        slow_ref.control.advance(1)
        time.sleep(0.05)
    assert new, "the join did not finish in 120 simulated seconds"
    window = host_view(x, new)
    assert window["enabled"] is False and window["live"] is False and window["memory_total"] == 0
    assert window["dom0"] == [] and window["host_CPUs"] == [] and window["cpus"] == [] and window["consoles"] == []
    assert x.host.get_address(new) == slow_ref.ready["hosts"][index_of(slow_ref, joiner_name)]["address"]
    slow_ref.control.advance(7)  # toolstack_restart: 6 simulated seconds
    wait_for(lambda: host_view(x, new)["enabled"], timeout=60)
    done = host_view(x, new)
    assert done["live"] is True and done["memory_total"] == 16 * 1024 ** 3
    assert len(done["dom0"]) == 1 and len(done["consoles"]) == 1
    assert sorted(done["host_CPUs"]) == sorted(done["cpus"]) and len(done["cpus"]) == 8
    assert done["attached_pbds"], "the member's PBDs (its local SRs, the pool's Tools SR) are plugged"
    assert x.VM.get_power_state(done["dom0"][0]) == "Running"
