# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of the pool_info read path against the XenAPI simulator (prints figures; not a timed test).

Runs the same code pool_info runs (XenClient + read_pool_state + read_io_figures + pool_overview) on a
1-host/1-VM datacenter and on a generated 64-host/2,000-VM pool, and prints for each: XenAPI calls
counted by the client and by the simulator's own call log, rrd_updates requests (one per live host,
io_metrics), wall time, peak Python memory (tracemalloc) and process max RSS, and whether the XenAPI
call counts are equal between the two sizes and the rrd requests equal the live hosts.

    cd <repo> && .venv/bin/python tests/bench/bench_pool_info.py [--hosts 64 --vms 2000] [--playbook]

XENPOOL_SIMULATOR_DIR points at another copy of tests/simulator if needed.

With --playbook it also runs vdc.xenpool.pool_info through ansible-playbook against each simulator and
reports the simulator-side call count of that run.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from benchpaths import COLLECTIONS_ROOT, SIMULATOR  # noqa: E402 pylint: disable=wrong-import-position,import-error

# pylint: disable=wrong-import-position
from simcommon.client import SimProcess  # noqa: E402

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient  # noqa: E402
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import (  # noqa: E402
    live_host_addresses,
    pool_overview,
    read_io_figures,
)
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import POOL_CLASSES, read_pool_state  # noqa: E402

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - vdc.xenpool.pool_info:
        hostname: "{{ xen_url }}"
        password: "{{ xen_password }}"
        ca_path: "{{ xen_ca }}"
      register: overview
    - ansible.builtin.debug:
        msg: "{{ overview.vms | length }} VMs"
"""


def _sim_counters(control) -> collections.Counter:
    calls = control.calls()
    return collections.Counter(calls.get("counters") or {})


def _api_only(counter: collections.Counter) -> dict:
    """XenAPI calls other than login/logout: a HOST_IS_SLAVE redirect adds a login without being a read.

    rrd_updates is an HTTP request per host, not a XenAPI call: it is counted on its own.
    """
    return {k: v for k, v in sorted(counter.items()) if not k.startswith("session.") and k != "rrd_updates"}


def read_everything(client) -> tuple[dict, int, int, list[str]]:
    """What pool_info does with io_metrics on: (overview, rrd requests sent, live hosts, warnings)."""
    state = read_pool_state(client, POOL_CLASSES)
    figures, warnings, requests = read_io_figures(client, state)
    return pool_overview(state, figures=figures), requests, len(live_host_addresses(state)), warnings


def run_case(label: str, sim_args: list[str], playbook: bool) -> dict:
    state_dir = tempfile.mkdtemp(prefix="xenpool-bench-%s-" % label)
    try:
        started = time.monotonic()
        with SimProcess("xapisim", sim_args + ["--time-scale", "0.01"], state_dir, ready_timeout=300) as sim:
            startup = time.monotonic() - started
            ready = sim.ready
            password = Path(ready["password_file"]).read_text(encoding="utf-8").strip()
            url = ready["hosts"][0]["url_https"]
            sim.control.reset_calls()
            t0 = time.perf_counter()
            with XenClient(url, ready.get("username", "root"), password, ca_path=ready["ca_cert"], timeout=120) as client:
                overview, rrd_requests, live_hosts, warnings = read_everything(client)
            wall = time.perf_counter() - t0
            sim_calls = _sim_counters(sim.control)
            # second, untimed pass for memory: tracemalloc slows allocation-heavy parsing down
            tracemalloc.start()
            with XenClient(url, ready.get("username", "root"), password, ca_path=ready["ca_cert"], timeout=120) as again:
                read_everything(again)
            _current, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            result = {
                "label": label,
                "sim_startup_s": round(startup, 2),
                "hosts": len(overview["hosts"]),
                "vms": len(overview["vms"]),
                "client_calls": client.call_count,
                "sim_calls": sum(sim_calls.values()) - sim_calls.get("rrd_updates", 0),
                "rrd_requests": rrd_requests,
                "sim_rrd_requests": sim_calls.get("rrd_updates", 0),
                "live_hosts": live_hosts,
                "rrd_warnings": len(warnings),
                "vms_with_io": sum(1 for vm in overview["vms"] if vm["net_kib_s"] is not None or vm["disk_kib_s"] is not None),
                "client_api_calls": _api_only(collections.Counter(client.calls)),
                "sim_api_calls": _api_only(sim_calls),
                "wall_s": round(wall, 3),
                "peak_python_mib": round(peak / 1048576, 1),
                "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
                "result_json_kib": round(len(json.dumps(overview)) / 1024, 1),
            }
            if playbook:
                result.update(_run_playbook(sim, url, password, ready["ca_cert"], state_dir))
            return result
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)


def _run_playbook(sim, url: str, password: str, ca_cert: str, state_dir: str) -> dict:
    play = Path(state_dir, "bench.yml")
    play.write_text(PLAYBOOK, encoding="utf-8")
    extra = Path(state_dir, "vars.json")
    extra.write_text(json.dumps({"xen_url": url, "xen_password": password, "xen_ca": ca_cert}), encoding="utf-8")
    os.chmod(extra, 0o600)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1")
    sim.control.reset_calls()
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play), "-e", "@%s" % extra,
         "-e", "ansible_python_interpreter=%s" % sys.executable],
        env=env, capture_output=True, text=True, check=False, timeout=900,
    )
    wall = time.perf_counter() - t0
    if proc.returncode:
        print("ansible-playbook failed (rc %d):\n%s" % (proc.returncode, (proc.stdout + proc.stderr)[-2000:]), file=sys.stderr)
    return {
        "playbook_rc": proc.returncode,
        "playbook_wall_s": round(wall, 2),
        "playbook_sim_calls": sum(_sim_counters(sim.control).values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=64)
    parser.add_argument("--vms", type=int, default=2000)
    parser.add_argument("--playbook", action="store_true", help="also run the module through ansible-playbook")
    parser.add_argument("--json", action="store_true", help="print the raw figures as JSON")
    args = parser.parse_args()

    cases = [
        run_case("small", ["--datacenter", str(SIMULATOR / "datacenters" / "small.yml")], args.playbook),
        run_case("generated", ["--generate", "hosts=%d,vms=%d" % (args.hosts, args.vms)], args.playbook),
    ]
    if args.json:
        print(json.dumps(cases, indent=2))
    columns = ["label", "hosts", "vms", "client_calls", "sim_calls", "rrd_requests", "sim_rrd_requests", "live_hosts", "vms_with_io",
               "wall_s", "peak_python_mib", "max_rss_mib", "result_json_kib", "sim_startup_s"]
    if args.playbook:
        columns += ["playbook_rc", "playbook_wall_s", "playbook_sim_calls"]
    print(" | ".join(columns))
    for case in cases:
        print(" | ".join(str(case[c]) for c in columns))
    small, big = cases
    same_client = small["client_api_calls"] == big["client_api_calls"]
    same_sim = small["sim_api_calls"] == big["sim_api_calls"]
    print("API calls per method (client):", json.dumps(big["client_api_calls"]))
    print("client counts equal between sizes:", same_client)
    print("simulator counts equal between sizes:", same_sim)
    print("client and simulator agree:", all(c["client_calls"] == c["sim_calls"] for c in cases))
    rrd_ok = all(c["rrd_requests"] == c["sim_rrd_requests"] == c["live_hosts"] and not c["rrd_warnings"] for c in cases)
    print("rrd_updates requests = live hosts (1 per host, none per VM):", rrd_ok)
    return 0 if same_client and same_sim and rrd_ok else 1


if __name__ == "__main__":
    sys.exit(main())
