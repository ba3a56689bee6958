# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bad-input catalogue: cases/*.yml entries, and the one-task play each of them runs.

An entry (one per bad input; a new module needs only new entries):

    - id: igroup-empty-name              # unique, used as the pytest id
      module: ontap_igroup               # or role: san_storage | pool_build
      args: {svm: svm_xen, name: ""}     # module options (Jinja allowed), or `vars:` for a role
      pool: pool-amd                     # optional: the inventory pool the task runs for (default pool-intel)
      expect: ["svm_xen", [empty, blank]] # fragments the message must hold (case-insensitive; a list = any of)
      shape: false                       # optional: Ansible's own argument-spec message, not ours
      secrets: ["pw-in-url"]             # optional: extra strings that must never be shown
      issue: "1"                         # issue 9 item the case comes from
      fast: true                         # optional: in the subset `make test` runs
      xfail: "issue 9 item 1: ..."       # only while the defect is not fixed (strict: must flip)
"""
from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(HERE, "cases")
# The house message shape: Failed to <verb> <noun> '<name>': <CODE> <details>. <what to do>
SHAPE = re.compile(r"Failed to \S+ [^']*'[^']*': \S+")
TRACEBACK_MARKERS = ("Traceback (most recent call last)", "MODULE FAILURE", "module_stderr")

XEN_DEFAULTS = {
    "hostname": "{{ xenpool_endpoint_overrides[faults_pool.master] }}",
    "username": "{{ xenpool_api_username }}",
    "password": "{{ xenpool_api_password }}",
    "ca_path": "{{ xenpool_api_ca_path }}",
}
ONTAP_DEFAULTS = {
    "hostname": "{{ xenpool_ontap_hostname }}",
    "port": "{{ xenpool_ontap_port }}",
    "username": "{{ xenpool_ontap_username }}",
    "password": "{{ xenpool_ontap_password }}",
    "ca_path": "{{ xenpool_ontap_ca_path }}",
}
ROLE_DEFAULTS = {
    "pool_build": {
        "pool_build_domain": "{{ xenpool_domain }}",
        "pool_build_endpoint_overrides": "{{ xenpool_endpoint_overrides }}",
    },
    "san_storage": {
        "san_storage_xen_connection": dict(XEN_DEFAULTS, hostname="{{ xenpool_api_url }}"),
        "san_storage_ontap_connection": dict(ONTAP_DEFAULTS),
    },
    "rolling_maintenance": {"rolling_maintenance_xen_connection": dict(XEN_DEFAULTS, hostname="{{ xenpool_api_url }}")},
    "vm_provision": {"vm_provision_connection": dict(XEN_DEFAULTS, hostname="{{ xenpool_api_url }}")},
    "ha": {
        "ha_xen_connection": dict(XEN_DEFAULTS, hostname="{{ xenpool_api_url }}"),
        "ha_ontap_connection": dict(ONTAP_DEFAULTS),
    },
}


def load_cases() -> list[dict]:
    cases: list[dict] = []
    for path in sorted(glob.glob(os.path.join(CASES_DIR, "*.yml"))):
        with open(path, encoding="utf-8") as handle:
            for case in yaml.safe_load(handle) or []:
                case["file"] = os.path.basename(path)
                cases.append(case)
    ids = [case["id"] for case in cases]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise ValueError("duplicate case ids: %s" % ", ".join(duplicates))
    return cases


def params() -> list:
    """pytest params: fast ones marked `fast`, open defects marked strict xfail."""
    out = []
    for case in load_cases():
        marks = []
        if case.get("fast"):
            marks.append(pytest.mark.fast)
        if case.get("xfail"):
            marks.append(pytest.mark.xfail(strict=True, reason=case["xfail"]))
        out.append(pytest.param(case, id=case["id"], marks=marks))
    return out


def play_for(case: dict) -> dict:
    """The play of one case: the module (or role) with the bad input, connection defaults set. The block's
    rescue keeps the run going, so one ansible-playbook run can hold many cases (one play each)."""
    if "role" in case:
        task = {"name": "case", "ansible.builtin.include_role": {"name": "vdc.xenpool." + case["role"]},
                "vars": dict(ROLE_DEFAULTS.get(case["role"], {}), **(case.get("vars") or {}))}
    else:
        task = {"name": "case", "vdc.xenpool." + case["module"]: case.get("args") or {}}
    return {
        "name": "bad input " + case["id"],
        "hosts": case.get("pool", "pool-intel"),
        "gather_facts": False,
        "module_defaults": {"group/vdc.xenpool.xen": XEN_DEFAULTS, "group/vdc.xenpool.ontap": ONTAP_DEFAULTS},
        "tasks": [{"name": "case " + case["id"], "block": [task],
                   "rescue": [{"name": "next case", "ansible.builtin.meta": "noop"}]}],
    }
