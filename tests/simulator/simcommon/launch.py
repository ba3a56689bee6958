# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How a harness starts a simulator process, and where the bundled data centres and fixtures are.

One place for both starters (simcommon.simctl and simcommon.client.SimProcess): the simulator runs
as ``<python> -m xapisim|ontapsim``. Installed (``pip install tests/simulator``, editable or not) the
packages are importable as they are; run from a source tree that is not installed, the directory
holding the packages is put on the child's PYTHONPATH.
"""
from __future__ import annotations

import os
import sys
import sysconfig

SIMULATORS = ("xapisim", "ontapsim")
# The directory that holds the simcommon, xapisim and ontapsim packages (tests/simulator in a checkout).
PACKAGE_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Bundled data per simulator: (directory inside the installed package, directory in the source tree).
_DATA = {"xapisim": ("datacenters", "datacenters"), "ontapsim": ("fixtures", "ontap_fixtures")}


def _importable_without_help() -> bool:
    """True when PACKAGE_ROOT is a site directory, i.e. a non-editable install."""
    sites = {os.path.realpath(sysconfig.get_paths()[key]) for key in ("purelib", "platlib")}
    return os.path.realpath(PACKAGE_ROOT) in sites


def child_env(base: dict | None = None) -> dict:
    """The environment for a simulator child process: the caller's, plus PYTHONPATH when needed.

    MALLOC_ARENA_MAX=2 (unless the caller set it): every connection is served by a thread of its own, and glibc
    gives threads malloc arenas of their own, up to 8 per core, that keep what large answers (a 5 MB
    VM.get_all_records of 2,000 VMs) left behind. Without the cap a 64-host simulator grew by about 25 MB per full
    read of the pool; with it, it stays flat.
    """
    env = dict(os.environ if base is None else base)
    env.setdefault("MALLOC_ARENA_MAX", "2")
    if not _importable_without_help():
        env["PYTHONPATH"] = PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


def command(module: str, python: str | None = None) -> list[str]:
    """argv that runs simulator `module` (xapisim or ontapsim)."""
    if module not in SIMULATORS:
        raise ValueError("unknown simulator %r (expected one of %s)" % (module, ", ".join(SIMULATORS)))
    return [python or sys.executable, "-m", module]


def data_dir(module: str) -> str:
    """The directory of the data centres (xapisim) or cluster fixtures (ontapsim) that ship with the simulators."""
    installed, source = _DATA[module]
    for candidate in (os.path.join(PACKAGE_ROOT, module, installed), os.path.join(PACKAGE_ROOT, source)):
        if os.path.isdir(candidate):
            return candidate
    raise FileNotFoundError("no bundled data for %s under %s" % (module, PACKAGE_ROOT))


def resolve_data_file(module: str, value: str) -> str:
    """A path as given when it exists, else the bundled file of that name (`reference` or `reference.yml`)."""
    if os.path.exists(value) or os.sep in value:
        return value
    directory = data_dir(module)
    for name in (value, value + ".yml", value + ".yaml", value + ".json"):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return value


def bundled_names(module: str) -> list[str]:
    """Names accepted by resolve_data_file, for --help texts."""
    try:
        directory = data_dir(module)
    except FileNotFoundError:
        return []
    return sorted(os.path.splitext(name)[0] for name in os.listdir(directory) if name.endswith((".yml", ".yaml")))
