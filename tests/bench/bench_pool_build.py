# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Benchmark of a no-op run of the pool_build role against the XenAPI simulator (prints figures; not a timed test).

For each size (default 4 and 64 hosts with 4 NICs each, already one pool in the simulator) the role converges the
pool once (name, one bond, two VLANs, settings of every host), then runs again; the second run must
change nothing. It prints the XenAPI calls of that no-op run from the simulator's own call log, its
writes (must be 0), wall time, and calls per host. The per-host cost is one host-module run (a constant
handful of bulk reads, whatever the number of fields managed), never a call per field or per object.

    cd <repo> && .venv/bin/python tests/bench/bench_pool_build.py [--sizes 4,64] [--json]
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from benchpaths import COLLECTIONS_ROOT, SIMULATOR  # noqa: E402 pylint: disable=wrong-import-position,import-error

# pylint: disable=wrong-import-position
from simcommon.client import SimProcess  # noqa: E402

PLAYBOOK = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Converge the pool
      ansible.builtin.include_role:
        name: vdc.xenpool.pool_build
"""


def _vars(ready: dict, password: str) -> dict:
    names = [h["name"] for h in ready["hosts"]]
    return {
        "pool_build_pool": {
            "name": "bench-pool",
            "master": names[0],
            "members": names,
            "bonds": [{"name": "bench-bond", "members": ["eth2", "eth3"], "mode": "active-backup"}],
            "vlans": [{"name": "bench-storage", "tag": 120, "device": "eth1", "mtu": 9000},
                      {"name": "bench-vms", "tag": 200, "parent_network": "bench-bond"}],
            "hosts": {n: {"description": "bench host", "iscsi_iqn": "iqn.2026-01.org.example:%s" % n, "other_config": {"rack": "r1"}}
                      for n in names},
        },
        "pool_build_endpoint_overrides": {h["name"]: h["url_https"] for h in ready["hosts"]},
        "pool_build_connection": {"username": ready["username"], "password": password, "ca_path": ready["ca_cert"]},
    }


def _play(state_dir: str, extra: Path) -> tuple[int, float, str]:
    play = Path(state_dir, "bench.yml")
    play.write_text(PLAYBOOK, encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1")
    t0 = time.perf_counter()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(play), "-e", "@%s" % extra,
         "-e", "ansible_python_interpreter=%s" % sys.executable],
        env=env, capture_output=True, text=True, check=False, timeout=1800,
    )
    wall = time.perf_counter() - t0
    if proc.returncode:
        print("ansible-playbook failed (rc %d):\n%s" % (proc.returncode, (proc.stdout + proc.stderr)[-2000:]), file=sys.stderr)
    return proc.returncode, wall, proc.stdout


def _changed(stdout: str) -> int:
    for line in stdout.splitlines():
        if line.startswith("localhost") and "changed=" in line:
            return int(line.split("changed=")[1].split()[0])
    return -1


def _datacenter(state_dir: str, hosts: int) -> str:
    """One pool of `hosts` Intel hosts with 4 NICs each (the --generate pool has only 2 NICs, too few for a bond)."""
    with open(SIMULATOR / "datacenters" / "reference.yml", encoding="utf-8") as handle:
        conf = yaml.safe_load(handle)
    group = dict(conf["host_groups"][0], name_prefix="bench-host-", count=hosts, nics=4)
    conf.update(name="bench", host_groups=[group], vms=[],
                pools=[{"name_label": "bench-pool", "master": "bench-host-01", "members": ["bench-host-%02d" % i for i in range(2, hosts + 1)]}])
    path = os.path.join(state_dir, "datacenter.yml")
    with open(path, "w", encoding="utf-8") as handle:
        yaml.safe_dump(conf, handle)
    return path


def run_case(hosts: int) -> dict:
    state_dir = tempfile.mkdtemp(prefix="xenpool-bench-build-")
    try:
        datacenter = _datacenter(state_dir, hosts)
        with SimProcess("xapisim", ["--datacenter", datacenter, "--time-scale", "0.01"],
                        os.path.join(state_dir, "sim"), ready_timeout=300) as sim:
            with open(sim.ready["password_file"], encoding="utf-8") as handle:
                password = handle.read().strip()
            extra = Path(state_dir, "vars.json")
            fd = os.open(extra, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(_vars(sim.ready, password), handle)
            rc1, wall1, out1 = _play(state_dir, extra)
            sim.control.reset_calls()
            rc2, wall2, out2 = _play(state_dir, extra)
            log = sim.control.calls()
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)
    counters = collections.Counter(log.get("counters") or {})
    total = sum(counters.values())
    return {
        "hosts": hosts,
        "converge_rc": rc1,
        "converge_changed": _changed(out1),
        "converge_wall_s": round(wall1, 2),
        "noop_rc": rc2,
        "noop_changed": _changed(out2),
        "noop_wall_s": round(wall2, 2),
        "noop_calls": total,
        "noop_writes": int(log.get("writes") or 0),
        "noop_calls_per_host": round(total / hosts, 1),
        "by_method": dict(counters.most_common()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="4,64", help="comma-separated host counts")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    cases = [run_case(int(n)) for n in args.sizes.split(",")]
    if args.json:
        print(json.dumps(cases, indent=2))
    columns = ["hosts", "converge_rc", "converge_changed", "converge_wall_s", "noop_rc", "noop_changed", "noop_wall_s",
               "noop_calls", "noop_writes", "noop_calls_per_host"]
    print(" | ".join(columns))
    for case in cases:
        print(" | ".join(str(case[c]) for c in columns))
    for case in cases:
        print("\n%d hosts, no-op calls by method:" % case["hosts"])
        for method, count in case["by_method"].items():
            print("  %6d  %s" % (count, method))
    if len(cases) >= 2:
        small, big = cases[0], cases[-1]
        extra_hosts = big["hosts"] - small["hosts"]
        if extra_hosts:
            print("\nmarginal no-op cost: %.1f calls per extra host" % ((big["noop_calls"] - small["noop_calls"]) / extra_hosts))
    return 0 if all(c["noop_rc"] == 0 and c["noop_changed"] == 0 and c["noop_writes"] == 0 for c in cases) else 1


if __name__ == "__main__":
    sys.exit(main())
