# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reads and no-ops at 1, 90 and 2,000 VMs, and the simulator under that load (prints figures; not a timed test).

For each size xapisim --generate builds a pool (1 host / 1 VM, 4 hosts / 90 VMs, 64 hosts / 2,000 VMs; the VMs
with disks, VIFs and guest metrics), then:

* G1 reads: `vdc.xenpool.pool_info` and a no-op of `vdc.xenpool.vms` (every VM declared as it is), each in a
  process of its own: XenAPI calls from the simulator's call log, rrd_updates requests, wall, CPU, peak RSS, and
  the simulator's CPU seconds for the run. The promise: the calls do not grow with the number of VMs.
* G4 scale (2,000 VMs): pool_info <= 3 s, the no-op converge <= 10 s, module peak RSS <= 150 MB.
* G5 the simulator (2,000 VMs): start-up <= 3 s; /rrd_updates of every host at once, first and repeated within
  the step (answers are kept per step); resident memory after 50 full reads (every pool class's
  get_all_records and every host's rrd_updates) <= 300 MB.

    cd <repo> && .venv/bin/python tests/bench/bench_scale.py [--sizes 1,90,2000] [--reads 50]
"""

from __future__ import annotations

import argparse
import concurrent.futures
import http.client
import ssl
import sys
import time
import xmlrpc.client
from urllib.parse import urlencode, urlsplit

from benchkit import Row, Sim, fmt, print_table, run_module  # noqa: E402 pylint: disable=import-error

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import POOL_CLASSES  # noqa: E402

HOSTS = {1: 1, 90: 4, 2000: 64}
LIMITS = {"calls": 4, "pool_info_s": 3.0, "noop_s": 10.0, "rss_mib": 150.0, "sim_startup_s": 3.0, "sim_rss_mib": 300.0}


class RawReader:
    """Reads the way a client does, without parsing the answers: what the simulator pays for a full read."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.context = ssl.create_default_context(cafile=sim.ready["ca_cert"])
        url = urlsplit(sim.ready["hosts"][0]["url_https"])
        self.host, self.port = url.hostname, url.port
        proxy = xmlrpc.client.ServerProxy(sim.ready["hosts"][0]["url_https"], context=self.context)
        login = proxy.session.login_with_password(sim.ready.get("username", "root"), sim.password, "1.0", "bench")
        self.session = login["Value"]

    def _connection(self, host: str | None = None) -> http.client.HTTPSConnection:
        return http.client.HTTPSConnection(host or self.host, self.port, timeout=600, context=self.context)

    def records(self) -> int:
        """Every pool class's get_all_records over one keep-alive connection; bytes received."""
        conn, size = self._connection(), 0
        try:
            for cls in POOL_CLASSES:
                body = xmlrpc.client.dumps((self.session,), "%s.get_all_records" % cls).encode("utf-8")
                conn.request("POST", "/", body, {"Content-Type": "text/xml"})
                size += len(conn.getresponse().read())
        finally:
            conn.close()
        return size

    def rrd(self, start: int) -> float:
        """Every host's /rrd_updates at once (as pool_info sends them): wall seconds until the last answer."""
        def one(address: str) -> int:
            conn = self._connection(address)
            try:
                query = {"session_id": self.session, "start": start, "interval": 60, "cf": "AVERAGE", "host": "true"}
                conn.request("GET", "/rrd_updates?" + urlencode(query))
                return len(conn.getresponse().read())
            finally:
                conn.close()
        addresses = [h["address"] for h in self.sim.ready["hosts"]]
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(16, len(addresses))) as pool:
            list(pool.map(one, addresses))
        return time.monotonic() - started


def declared_as_they_are(overview: dict) -> list[dict]:
    """The generated VMs exactly as pool_info reports them: a no-op for vdc.xenpool.vms."""
    return [{"name": vm["name"], "vcpus": vm["vcpus"], "memory_mib": vm["memory_mib"], "power_state": "running"}
            for vm in overview.get("vms", []) if vm["name"].startswith("bench-vm-")]


def measure(size: int, reads: int) -> dict:
    with Sim("xapisim", ["--generate", "hosts=%d,vms=%d" % (HOSTS.get(size, 64), size), "--time-scale", "0.01"]) as sim:
        out = {"vms": size, "hosts": HOSTS.get(size, 64), "sim_startup_s": sim.startup_s, "sim_startup_cpu_s": sim.startup_cpu_s,
               "sim_rss_start": sim.rss_mib()}
        out["pool_info"] = run_module("pool_info", sim.connection(), sim)
        declared = declared_as_they_are(out["pool_info"]["result"])
        out["noop"] = run_module("vms", dict(sim.connection(), vms=declared), sim)
        out["noop"]["declared"] = len(declared)
        out["noop"]["writes"] = int(sim.control.calls().get("writes") or 0)
        if reads:
            reader = RawReader(sim)
            now = int(time.time())
            out["rrd_first_s"] = reader.rrd(now - 900)  # a window pool_info did not ask for: computed afresh
            out["rrd_again_s"] = reader.rrd(now - 900)
            cpu = sim.cpu_s()
            for _read in range(reads):
                reader.records()
                reader.rrd(now - 600)
            out["reads"] = reads
            out["sim_cpu_per_read_s"] = (sim.cpu_s() - cpu) / reads
            out["sim_rss_after_reads"] = sim.rss_mib()
    return out


def rows(results: list[dict]) -> list[Row]:
    """G1, G4 and G5 rows of the table from measure()'s results."""
    out = []
    for name, key in (("pool_info", "pool_info"), ("vms no-op", "noop")):
        counts = [r[key]["calls"] for r in results]
        for r in results:
            run = r[key]
            extra = ", %d rrd_updates" % run["rrd"] if run.get("rrd") else ""
            failed = " FAILED" if run["failed"] else ""
            out.append(Row("G1 reads", "%s XenAPI calls, %d VMs / %d hosts%s" % (name, r["vms"], r["hosts"], extra),
                           "%d%s" % (run["calls"], failed), "<= %d" % LIMITS["calls"], run["calls"] <= LIMITS["calls"] and not run["failed"]))
        out.append(Row("G1 reads", "%s calls constant over %s VMs" % (name, "/".join(str(r["vms"]) for r in results)),
                       "/".join(str(c) for c in counts), "equal", len(set(counts)) == 1, promise=True))
    for r in results:
        noop = r["noop"]
        out.append(Row("G1 reads", "vms no-op at %d VMs: changed, writes" % r["vms"],
                       "%s, %d" % (noop["result"].get("changed"), noop["writes"]), "False, 0",
                       noop["result"].get("changed") is False and noop["writes"] == 0))
        for key, label in (("pool_info", "pool_info"), ("noop", "vms no-op")):
            run = r[key]
            share = run["sim_cpu_s"] / run["wall_s"] if run["wall_s"] else 0.0
            out.append(Row("figures", "%s at %d VMs: wall / module CPU / simulator CPU (share of wall)" % (label, r["vms"]),
                           "%s / %s / %s (%.0f %%)" % (fmt(run["wall_s"], "s"), fmt(run["cpu_s"], "s"), fmt(run["sim_cpu_s"], "s"),
                                                       100 * share)))
    big = [r for r in results if r["vms"] >= 2000]
    for r in big:
        out += [
            Row("G4 scale", "pool_info wall, %d hosts / %d VMs" % (r["hosts"], r["vms"]), fmt(r["pool_info"]["wall_s"], "s"),
                "<= %g s" % LIMITS["pool_info_s"], r["pool_info"]["wall_s"] <= LIMITS["pool_info_s"]),
            Row("G4 scale", "vms no-op converge wall, %d VMs declared" % r["noop"]["declared"], fmt(r["noop"]["wall_s"], "s"),
                "<= %g s" % LIMITS["noop_s"], r["noop"]["wall_s"] <= LIMITS["noop_s"]),
        ]
        for key, label in (("pool_info", "pool_info"), ("noop", "vms no-op")):
            out.append(Row("G4 scale", "%s module peak RSS" % label, fmt(r[key]["rss_mib"], "MiB", 0),
                           "<= %g MB" % LIMITS["rss_mib"], r[key]["rss_mib"] * 1.048576 <= LIMITS["rss_mib"]))
        out += [
            Row("G5 simulator", "start-up wall (its CPU), %d hosts / %d VMs" % (r["hosts"], r["vms"]),
                "%s (%s)" % (fmt(r["sim_startup_s"], "s"), fmt(r["sim_startup_cpu_s"], "s")),
                "<= %g s" % LIMITS["sim_startup_s"], r["sim_startup_s"] <= LIMITS["sim_startup_s"]),
        ]
        if r.get("reads"):
            out += [
                Row("G5 simulator", "rrd_updates of %d hosts at once: new window / same step again" % r["hosts"],
                    "%s / %s" % (fmt(r["rrd_first_s"], "s"), fmt(r["rrd_again_s"], "s")), "cached per step",
                    r["rrd_again_s"] < r["rrd_first_s"]),
                Row("G5 simulator", "simulator CPU per full read (records + rrd of every host)", fmt(r["sim_cpu_per_read_s"], "s")),
                Row("G5 simulator", "simulator RSS at start / after %d full reads" % r["reads"],
                    "%s / %s" % (fmt(r["sim_rss_start"], "MiB", 0), fmt(r["sim_rss_after_reads"], "MiB", 0)),
                    "<= %g MB" % LIMITS["sim_rss_mib"], r["sim_rss_after_reads"] * 1.048576 <= LIMITS["sim_rss_mib"]),
            ]
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--sizes", default="1,90,2000")
    parser.add_argument("--reads", type=int, default=50, help="full reads before the simulator's RSS is read (largest size)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s]
    results = [measure(size, args.reads if size == max(sizes) and size >= 2000 else 0) for size in sizes]
    return 1 if print_table(rows(results)) else 0


if __name__ == "__main__":
    sys.exit(main())
