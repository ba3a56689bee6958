# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fault suite's data centre: both simulators, the collection as Ansible sees it, and playbook runs.

A session builds the two pools and their SAN storage once with the repository's own playbooks and
saves both simulators' state as the baseline; a case that changed anything gets a fresh baseline
(both simulators restarted from the saved files), so cases never see each other's damage.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile

import yaml

from simulators import REPO, SIM_ROOT, Simulator

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = os.path.join(HERE, "files")
INVENTORY = os.path.join(FILES, "inventory")
# The roles of the declared data centre, in build order, and the repository playbook that runs each.
ROLE_PLAYBOOKS = {"pool_build": "pool_build.yml", "san_storage": "storage.yml"}
# A bound, not a lifetime: only a hung run ever gets near it, even on a loaded machine.
PLAYBOOK_TIMEOUT_S = 1800


class PlayResult:
    """One ansible-playbook run: exit code, the ansible.posix.json document, and the raw output."""

    def __init__(self, returncode: int, stdout: str, stderr: str) -> None:
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        try:
            self.document = json.loads(stdout[stdout.index("{"):]) if "{" in stdout else {}
        except ValueError:
            self.document = {}

    def plays(self) -> list[dict]:
        return self.document.get("plays", [])

    def results(self, play: int | None = None) -> list[tuple[str, dict]]:
        """(task name, host result) of every task of every play (or of play number `play`), in order."""
        plays = self.plays() if play is None else self.plays()[play:play + 1]
        out = []
        for doc in plays:
            for task in doc.get("tasks", []):
                for result in task.get("hosts", {}).values():
                    out.append((task["task"]["name"], result))
        return out

    def failures(self, play: int | None = None) -> list[dict]:
        return [result for _name, result in self.results(play) if result.get("failed") and not result.get("skipped")]

    def failure_text(self, play: int | None = None) -> str:
        """Every failure message as an operator reads it, with the messages of a loop's failed items."""
        lines = []
        for result in self.failures(play):
            lines.append(str(result.get("msg", "")))
            lines += [str(item["msg"]) for item in result.get("results", []) if isinstance(item, dict) and "msg" in item]
        return "\n".join(lines)

    def changed(self) -> bool:
        return any(result.get("changed") for _name, result in self.results())


class World:
    """Both simulators and everything needed to run a play against them."""

    def __init__(self, root: str | None = None) -> None:
        self.root = root or tempfile.mkdtemp(prefix="xenpool-faults.", dir=os.environ.get("TMPDIR"))
        collections = os.path.join(self.root, "collections", "ansible_collections", "vdc")
        os.makedirs(collections, exist_ok=True)
        link = os.path.join(collections, "xenpool")
        if not os.path.islink(link):
            os.symlink(REPO, link)
        self.collections = os.path.join(self.root, "collections")
        self.ontap = Simulator("ontapsim", os.path.join(self.root, "ontap"),
                               ["--fixture", os.path.join(SIM_ROOT, "ontap_fixtures", "reference.yml")])
        self.xapi = Simulator("xapisim", os.path.join(self.root, "xapi"),
                              ["--datacenter", os.path.join(FILES, "datacenter.yml")])
        self.vars_file = os.path.join(self.root, "sim-vars.yml")
        self.runs = 0
        self.reference_writes: dict[str, dict[str, list[str]]] = {}
        self.dirty = False  # True once something left the simulators away from the baseline

    # --- simulators --------------------------------------------------------------------------------
    def start(self) -> None:
        self.ontap.start()
        self.xapi.args += ["--san", self.ontap.ready["control"]]
        self.xapi.start()
        self._write_vars()

    def stop(self) -> None:
        self.xapi.stop()
        self.ontap.stop()

    def remove(self) -> None:
        """Drop the session's directory (state files, vars with passwords) unless FAULTS_KEEP=1."""
        if os.environ.get("FAULTS_KEEP") != "1":
            shutil.rmtree(self.root, ignore_errors=True)

    def snapshot_path(self, name: str, simulator: str) -> str:
        return os.path.join(self.root, "snapshot-%s-%s.json" % (name, simulator))

    def save_snapshot(self, name: str) -> None:
        self.ontap.save(self.snapshot_path(name, "ontap"))
        self.xapi.save(self.snapshot_path(name, "xapi"))

    def restore(self, name: str = "baseline") -> None:
        """Both simulators back to a saved snapshot, on the same ports (xapisim's SAN link stays valid)."""
        self.xapi.stop()
        self.ontap.restart(self.snapshot_path(name, "ontap"))
        self.xapi.start(self.snapshot_path(name, "xapi"))
        self._write_vars()
        self.dirty = name != "baseline"

    def ensure_baseline(self) -> None:
        if self.dirty:
            self.restore()

    def saved_state(self, simulator: str) -> dict:
        """A simulator's own full state document (its /sim/save), to verify without the modules."""
        path = os.path.join(self.root, "inspect-%s.json" % simulator)
        getattr(self, simulator).save(path)
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)

    def write_counts(self) -> dict[str, int]:
        return {"xapi": self.xapi.write_count(), "ontap": self.ontap.write_count()}

    def secrets(self) -> list[str]:
        return [self.xapi.password, self.ontap.password]

    def _write_vars(self) -> None:
        """Extra vars for every play: endpoints, CAs and passwords (mode 0600, never on a command line)."""
        hosts = {host["name"]: host for host in self.xapi.ready["hosts"]}
        data = {
            "xenpool_endpoint_overrides": {name: host["url_https"] for name, host in hosts.items()},
            "xenpool_api_username": self.xapi.ready.get("username", "root"),
            "xenpool_api_password": self.xapi.password,
            "xenpool_api_ca_path": self.xapi.ready["ca_cert"],
            "xenpool_ontap_hostname": self.ontap.ready["address"],
            "xenpool_ontap_port": int(self.ontap.ready["port"]),
            "xenpool_ontap_username": self.ontap.ready.get("username", "admin"),
            "xenpool_ontap_password": self.ontap.password,
            "xenpool_ontap_ca_path": self.ontap.ready["ca_cert"],
            "faults_hosts": hosts,
            "faults_xapi_port": int(self.xapi.ready["port"]),
        }
        fd = os.open(self.vars_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yaml.safe_dump(data, handle, sort_keys=False)

    # --- plays -------------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update({
            "ANSIBLE_COLLECTIONS_PATH": self.collections,
            "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_HOME": os.path.join(self.root, "ansible-home"),
            "ANSIBLE_LOCAL_TEMP": os.path.join(self.root, "ansible-tmp"),
            "PYTHONWARNINGS": "ignore",
        })
        env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
        return env

    def playbook_command(self, playbooks: list[str], inventory: str | None = None, extra: list[str] | None = None) -> list[str]:
        argv = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook")]
        argv += ["-i", inventory or INVENTORY, "-e", "@" + self.vars_file,
                 "-e", "ansible_python_interpreter=" + sys.executable]
        return argv + list(extra or []) + playbooks

    def run_playbook(self, playbooks: list[str], inventory: str | None = None, extra: list[str] | None = None,
                     env: dict[str, str] | None = None) -> PlayResult:
        self.runs += 1
        proc = subprocess.run(self.playbook_command(playbooks, inventory, extra), capture_output=True, text=True,
                              env=dict(self.env(), **(env or {})), cwd=self.root, timeout=PLAYBOOK_TIMEOUT_S,
                              check=False)
        return PlayResult(proc.returncode, proc.stdout, proc.stderr)

    def converge(self, role: str, extra: list[str] | None = None) -> PlayResult:
        """The repository's own playbook of a role (ROLE_PLAYBOOKS) over the suite's inventory."""
        return self.run_playbook([os.path.join(REPO, "playbooks", ROLE_PLAYBOOKS[role])], extra=extra)

    def build(self) -> None:
        """The declared data centre, one role at a time, each from a clean call log and with one fork
        (a deterministic call order): snapshot `<role>` after each, the last one is `baseline`.
        Each role's write calls are kept in `reference_writes` to aim the crash-resume faults."""
        for role in ROLE_PLAYBOOKS:
            self.xapi.reset_calls()
            self.ontap.reset_calls()
            result = self.converge(role, ["--forks", "1"])
            if result.returncode != 0:
                raise RuntimeError("building the suite's data centre failed at %s:\n%s\n%s"
                                   % (role, result.failure_text(), result.stderr[-3000:]))
            self.reference_writes[role] = {"xapi": [c["method"] for c in self.xapi.writes()],
                                           "ontap": [c["method"] for c in self.ontap.writes()]}
            self.save_snapshot(role)
        self.save_snapshot("baseline")
