# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every benchmark measures the same way: a simulator's start-up, CPU and memory, a module run, a playbook run,
and the table `make bench` prints.

A module is run the way Ansible runs it on the target, minus the AnsiballZ wrapper: `python -m
ansible_collections.vdc.xenpool.plugins.modules.<name> ARGS.json`, in a process of its own, so that its wall time,
its CPU time and its peak RSS (os.wait4's rusage of that one child) are the module's alone. The XenAPI calls are
the simulator's own call log for the run, not the client's count. The simulator's CPU time comes from
/proc/<pid>/stat before and after, so a reader can tell client cost from simulator cost.

Figures are not assertions: wall times on a shared machine are noisy. Only a broken constant-call-count promise
makes a benchmark fail (Row.promise).
"""

from __future__ import annotations

import collections
import dataclasses
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchpaths import COLLECTIONS_ROOT  # noqa: E402 pylint: disable=wrong-import-position,import-error

# pylint: disable=wrong-import-position
from simcommon.client import SimProcess  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
MODULES = "ansible_collections.vdc.xenpool.plugins.modules"


@dataclasses.dataclass
class Row:
    """One line of the table: a figure beside its target; met None = a figure without a target."""

    goal: str
    figure: str
    value: str
    target: str = ""
    met: bool | None = None
    promise: bool = False  # a constant-call-count promise: NOT MET fails `make bench`


def fmt(value: float | None, unit: str = "", digits: int = 2) -> str:
    if value is None:
        return "n/a"
    return ("%.*f" % (digits, value)) + (" " + unit if unit else "")


def print_table(rows: list[Row], out=sys.stdout) -> int:
    """The table, then the number of broken promises (the exit status of `make bench`)."""
    headers = ("goal", "figure", "measured", "target", "")
    cells = [(r.goal, r.figure, r.value, r.target, "" if r.met is None else ("met" if r.met else "NOT MET")) for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join("%-*s" % (w, h) for w, h in zip(widths, headers))
    out.write(line.rstrip() + "\n" + "  ".join("-" * w for w in widths) + "\n")
    for cell in cells:
        out.write("  ".join("%-*s" % (w, c) for w, c in zip(widths, cell)).rstrip() + "\n")
    broken = [r for r in rows if r.promise and r.met is False]
    targets = [r for r in rows if r.met is not None]
    out.write("\n%d of %d targets met; constant-call-count promises broken: %d\n"
              % (sum(1 for r in targets if r.met), len(targets), len(broken)))
    out.flush()
    return len(broken)


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (/proc/<pid>/stat utime + stime)."""
    try:
        with open("/proc/%d/stat" % pid, encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / float(CLK_TCK)
    except (OSError, IndexError, ValueError):
        return float("nan")


def proc_rss_mib(pid: int, key: str = "VmRSS") -> float:
    """Resident memory (VmRSS, or VmHWM for the peak) of a process in MiB."""
    try:
        with open("/proc/%d/status" % pid, encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        pass
    return float("nan")


class Sim:
    """A running simulator with what the benchmarks read from it: start-up time, password, call counts, CPU."""

    def __init__(self, module: str, args: list[str], ready_timeout: float = 600.0) -> None:
        self.workdir = tempfile.mkdtemp(prefix="xenpool-bench-%s-" % module)
        started = time.monotonic()
        self.process = SimProcess(module, args, os.path.join(self.workdir, "sim"), ready_timeout=ready_timeout).start()
        self.startup_s = time.monotonic() - started
        self.ready = self.process.ready
        self.control = self.process.control
        self.pid = self.process.proc.pid
        self.startup_cpu_s = proc_cpu_s(self.pid)  # what start-up cost the simulator itself, however busy the machine
        self.password = Path(self.ready["password_file"]).read_text(encoding="utf-8").strip()

    def connection(self, host: int = 0) -> dict:
        """The module options that point at host `host` of this simulator."""
        return {"hostname": self.ready["hosts"][host]["url_https"], "username": self.ready.get("username", "root"),
                "password": self.password, "ca_path": self.ready["ca_cert"]}

    def counters(self) -> collections.Counter:
        return collections.Counter((self.control.calls().get("counters") or {}))

    def cpu_s(self) -> float:
        return proc_cpu_s(self.pid)

    def rss_mib(self) -> float:
        return proc_rss_mib(self.pid)

    def stop(self) -> None:
        self.process.stop()
        subprocess.run(["rm", "-rf", self.workdir], check=False)

    def __enter__(self) -> "Sim":
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def api_calls(counters: collections.Counter) -> int:
    """XenAPI calls in a call log: everything but rrd_updates (an HTTP GET per host, counted on its own)."""
    return sum(v for k, v in counters.items() if k != "rrd_updates")


def collection_env(**extra: str) -> dict:
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS_ROOT, ANSIBLE_NOCOLOR="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (COLLECTIONS_ROOT, env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def run_module(name: str, params: dict, sim: Sim | None = None) -> dict:
    """Run one collection module in a process of its own: its result, wall s, CPU s, peak RSS MiB, and (with sim)
    the simulator's XenAPI calls and CPU seconds spent for it."""
    # mode 0600 from creation (mkstemp): the arguments hold the simulator's password
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False, encoding="utf-8") as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": params}, handle)
    try:
        if sim is not None:
            sim.control.reset_calls()
            sim_cpu = sim.cpu_s()
        started = time.monotonic()
        with tempfile.TemporaryFile() as errfile, subprocess.Popen(
                [sys.executable, "-m", "%s.%s" % (MODULES, name), handle.name], env=collection_env(),
                stdout=subprocess.PIPE, stderr=errfile) as proc:
            # read to the end before waiting, so a large result cannot fill the pipe; wait4 then gives this child's rusage
            output = proc.stdout.read()
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            errfile.seek(0)
            errors = errfile.read()
        wall = time.monotonic() - started
    finally:
        os.unlink(handle.name)
    try:
        result = json.loads(output.decode("utf-8"))
    except ValueError:
        result = {"failed": True, "msg": (output + errors).decode("utf-8", "replace")[-2000:]}
    figures = {"result": result, "failed": bool(result.get("failed")), "wall_s": wall,
               "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024.0}
    if sim is not None:
        counters = sim.counters()
        figures.update(calls=api_calls(counters), rrd=counters.get("rrd_updates", 0), sim_cpu_s=sim.cpu_s() - sim_cpu,
                       by_method=dict(counters))
    if figures["failed"]:
        sys.stderr.write("module %s failed: %s\n" % (name, str(result.get("msg"))[:2000]))
    return figures


def run_playbook(playbook: str, args: list[str], cwd: str, extra_env: dict | None = None,
                 timeout: float = 3600) -> tuple[int, float, str]:
    """(rc, wall s, output) of one ansible-playbook run with this checkout as the collection."""
    env = collection_env(ANSIBLE_FORCE_COLOR="0", ANSIBLE_DEPRECATION_WARNINGS="false", **(extra_env or {}))
    started = time.monotonic()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), playbook,
                           "-e", "ansible_python_interpreter=%s" % sys.executable] + args,
                          env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=timeout)
    wall = time.monotonic() - started
    output = proc.stdout + proc.stderr
    if proc.returncode:
        sys.stderr.write("ansible-playbook %s failed (rc %d):\n%s\n" % (playbook, proc.returncode, output[-3000:]))
    return proc.returncode, wall, output


def write_private(path: str, data) -> str:
    """A JSON/YAML-compatible vars file only its owner can read (it holds the simulator's password)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle)
    return path


def changed_count(output: str) -> int:
    """The sum of changed= over the PLAY RECAP lines of an ansible-playbook output."""
    total = 0
    for line in output.splitlines():
        if " : ok=" in line and "changed=" in line:
            total += int(line.split("changed=")[1].split()[0])
    return total
