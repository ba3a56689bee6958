# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""vdc.xenpool beside community.general on the same 90 VMs, at 0, 5 and 20 ms of network latency (prints figures).

Both run the way a user runs them, through ansible-playbook against the same simulator (xapisim --generate
hosts=4,vms=90 --latency-ms L: every request, and every TCP and TLS handshake, pays L):

* no-op: `vdc.xenpool.vms` with the 90 VMs declared as they are, against a `community.general.xenserver_guest`
  loop over the same 90 VMs with the same name, vCPUs and memory (target: ours >= 20x faster);
* read: `vdc.xenpool.pool_info` against a `community.general.xenserver_guest_info` loop over the 90 VMs.

Each run's wall time (ansible-playbook start to end, both pay Ansible's start-up once) and its XenAPI calls from
the simulator's call log are printed, and the ratio. A community.general loop costs about 1-2 s per VM on a
2-core machine, so to keep `make bench` within 15 minutes a loop may run over a sample (every k-th of the 90 VMs,
which covers every VM shape) and be extrapolated: 90 x (sample wall - the same play over no VM) / sample + the
play over no VM; its calls 90 x sample calls / sample. The table says which figures are extrapolated. community.general's modules need the XenAPI Python module
(installed in .venv); they get the simulator's CA through SSL_CERT_FILE, as they have no CA option.

    cd <repo> && .venv/bin/python tests/bench/bench_community.py [--latencies 0,5,20] [--vms 90]
"""

from __future__ import annotations

import argparse
import os
import sys

from benchkit import Row, Sim, api_calls, print_table, run_module, run_playbook, write_private  # noqa: E402 pylint: disable=import-error
from bench_scale import declared_as_they_are  # noqa: E402 pylint: disable=import-error

TARGET_RATIO = 20.0
HEAD = """\
- hosts: localhost
  gather_facts: false
  tasks:
    - name: {title}
      {module}:
        hostname: "{{{{ conn.hostname }}}}"
        username: "{{{{ conn.username }}}}"
        password: "{{{{ conn.password }}}}"
"""
TAIL = """\
      register: out
    - ansible.builtin.assert:
        that: [out is not changed]
"""
# ours: one task over every VM; theirs: one task per VM (a loop), without a CA option (SSL_CERT_FILE instead)
OURS = HEAD + '        ca_path: "{{{{ conn.ca_path }}}}"\n{options}' + TAIL
THEIRS = (HEAD + '        name: "{{{{ item.name }}}}"\n{options}      loop: "{{{{ sample }}}}"\n'
          '      loop_control: {{label: "{{{{ item.name }}}}"}}\n' + TAIL)
PLAYS = {
    "ours_noop": OURS.format(title="vdc.xenpool.vms no-op", module="vdc.xenpool.vms",
                             options='        vms: "{{ declared }}"\n'),
    "theirs_noop": THEIRS.format(title="community.general.xenserver_guest loop", module="community.general.xenserver_guest",
                                 options='        state: present\n        hardware: {num_cpus: "{{ item.vcpus }}", '
                                         'memory_mb: "{{ item.memory_mib }}"}\n'),
    "ours_read": OURS.format(title="vdc.xenpool.pool_info", module="vdc.xenpool.pool_info", options=""),
    "theirs_read": THEIRS.format(title="community.general.xenserver_guest_info loop",
                                 module="community.general.xenserver_guest_info", options=""),
}


def measure(latency_ms: float, vms: int, noop_sample: int | None = None, read_sample: int | None = None) -> dict:
    """Ours on every VM, theirs on every VM or on a sample of them (extrapolated to every VM)."""
    with Sim("xapisim", ["--generate", "hosts=4,vms=%d" % vms, "--time-scale", "0.01", "--latency-ms", str(latency_ms)]) as sim:
        conn = sim.connection()
        declared = declared_as_they_are(run_module("pool_info", dict(conn, io_metrics=False))["result"])
        out = {"latency_ms": latency_ms, "vms": len(declared)}
        samples = {"noop": noop_sample or len(declared), "read": read_sample or len(declared)}
        for name, text in PLAYS.items():
            play = os.path.join(sim.workdir, name + ".yml")
            with open(play, "w", encoding="utf-8") as handle:
                handle.write(text)
            kind = name.split("_")[1]
            sample = declared[::max(1, len(declared) // samples[kind])][:samples[kind]]
            run = _play(sim, play, conn, declared, sample)
            if name.startswith("theirs") and len(sample) < len(declared):
                empty = _play(sim, play, conn, declared, [])
                run = {"rc": run["rc"], "sample": len(sample), "sample_wall_s": run["wall_s"], "empty_wall_s": empty["wall_s"],
                       "wall_s": empty["wall_s"] + len(declared) * (run["wall_s"] - empty["wall_s"]) / len(sample),
                       "calls": round(run["calls"] * len(declared) / len(sample))}
            out[name] = run
    return out


def _play(sim: Sim, play: str, conn: dict, declared: list[dict], sample: list[dict]) -> dict:
    extra = write_private(os.path.join(sim.workdir, "vars.json"), {"conn": conn, "declared": declared, "sample": sample})
    sim.control.reset_calls()
    rc, wall, _output = run_playbook(play, ["-i", "localhost,", "-c", "local", "-e", "@" + extra], sim.workdir,
                                     {"SSL_CERT_FILE": conn["ca_path"]})
    return {"rc": rc, "wall_s": wall, "calls": api_calls(sim.counters())}


def rows(results: list[dict]) -> list[Row]:
    out = []
    for r in results:
        # the 20x target is for the 90 VMs of the goal; a smaller run (BENCH_QUICK) only prints its ratio
        for kind, label, target in (("noop", "no-op", TARGET_RATIO if r["vms"] >= 90 else None), ("read", "read", None)):
            ours, theirs = r["ours_" + kind], r["theirs_" + kind]
            ok = ours["rc"] == 0 and theirs["rc"] == 0
            ratio = theirs["wall_s"] / ours["wall_s"] if ours["wall_s"] else 0.0
            ours_name = "vms" if kind == "noop" else "pool_info"
            theirs_name = "xenserver_guest" if kind == "noop" else "xenserver_guest_info"
            sampled = " (loop run on %d, extrapolated)" % theirs["sample"] if "sample" in theirs else ""
            out.append(Row("G3 vs community.general",
                           "%s of %d VMs at %g ms: %s vs %s loop%s (wall s, XenAPI calls)"
                           % (label, r["vms"], r["latency_ms"], ours_name, theirs_name, sampled),
                           "%.1f s, %d vs %.1f s, %d: %.1fx%s" % (ours["wall_s"], ours["calls"], theirs["wall_s"], theirs["calls"],
                                                                  ratio, "" if ok else " (a run FAILED)"),
                           ">= %gx" % target if target else "", (ok and ratio >= target) if target else None))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--latencies", default="0,5,20")
    parser.add_argument("--vms", type=int, default=90)
    parser.add_argument("--sample", type=int, default=None, help="run community.general's loops on this many VMs only")
    args = parser.parse_args()
    results = [measure(float(ms), args.vms, args.sample, args.sample) for ms in args.latencies.split(",") if ms]
    return 1 if print_table(rows(results)) else 0


if __name__ == "__main__":
    sys.exit(main())
