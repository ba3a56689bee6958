# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The layer rule of docs/architecture.md, enforced: imports only point down.

    plugins/modules, plugins/inventory      (top: entry points)
      plugins/module_utils/_base            module base and runner
        plugins/module_utils/_xen, _ontap   platform services and transports (never each other)
          plugins/module_utils/_common      pure helpers: import nothing of ours

Modules use services, never transports (a XenAPI session or an ONTAP connection is opened only by
the module base), and nobody imports another file's private (underscore) names.
"""

from __future__ import annotations

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
PREFIX = "ansible_collections.vdc.xenpool.plugins."
TRANSPORTS = {"module_utils._xen.client", "module_utils._xen.transport", "module_utils._ontap.client", "module_utils._ontap.rest", "module_utils._ontap.zapi"}

# The layers each package may import (besides itself).
ALLOWED = {
    "module_utils._common": set(),
    "module_utils._xen": {"module_utils._common"},
    "module_utils._ontap": {"module_utils._common"},
    "module_utils._base": {"module_utils._common", "module_utils._xen", "module_utils._ontap"},
    "modules": {"module_utils._base", "module_utils._common", "module_utils._xen", "module_utils._ontap"},
    "inventory": {"module_utils._common", "module_utils._xen"},
    "doc_fragments": set(),
}


def package_of(dotted: str) -> str:
    parts = dotted.split(".")
    return ".".join(parts[:2]) if parts[0] == "module_utils" else parts[0]


def our_imports(path: pathlib.Path) -> list[tuple[int, str, list[str]]]:
    """(line, imported module relative to plugins/, imported names) for every import of ours."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            target = node.module[len(PREFIX):]
            names = [a.name for a in node.names]
            if target in {"module_utils._common", "module_utils._xen", "module_utils._ontap", "module_utils._base"}:
                # `from ..._xen import network as netsvc`: the names are submodules.
                for name in names:
                    found.append((node.lineno, "%s.%s" % (target, name), []))
            else:
                found.append((node.lineno, target, names))
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PREFIX):
                    found.append((node.lineno, alias.name[len(PREFIX):], []))
    return found


def violations(path: pathlib.Path, root: pathlib.Path = ROOT) -> list[str]:
    rel = path.relative_to(root / "plugins").with_suffix("")
    dotted = ".".join(rel.parts)
    own = package_of(dotted)
    problems = []
    for line, target, names in our_imports(path):
        where = "plugins/%s.py:%d imports %s" % (rel.as_posix(), line, target)
        layer = package_of(target)
        if layer != own and layer not in ALLOWED.get(own, set()):
            problems.append("%s: %s may not import %s (layers point down only)" % (where, own, layer))
        if own in ("modules",) and target in TRANSPORTS:
            problems.append("%s: a module uses services, never a transport" % where)
        if own == "modules" and layer in ("module_utils._xen", "module_utils._ontap"):
            platform = "module_utils._ontap" if rel.name.startswith("ontap_") else "module_utils._xen"
            if layer != platform:
                problems.append("%s: a %s module may not use %s services" % (where, platform.rsplit("_", maxsplit=1)[-1], layer))
        if {target, dotted} <= {"module_utils._ontap.rest", "module_utils._ontap.zapi"} and target != dotted:
            problems.append("%s: the REST and ZAPI transports are siblings and may not import each other" % where)
        private = [n for n in names if n.startswith("_")]
        if private:
            problems.append("%s: imports private name(s) %s" % (where, ", ".join(private)))
    return problems


def all_violations(root: pathlib.Path = ROOT) -> list[str]:
    problems = []
    for path in sorted((root / "plugins").rglob("*.py")):
        problems.extend(violations(path, root))
    return problems


def test_imports_point_down_only():
    problems = all_violations()
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("package, line", [
    ("module_utils/_common/reconcile.py", "from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState\n"),
    ("module_utils/_xen/state.py", "from ansible_collections.vdc.xenpool.plugins.module_utils._ontap import lun\n"),
    ("module_utils/_ontap/lun.py", "from ansible_collections.vdc.xenpool.plugins.module_utils._base.module import OntapModule\n"),
    ("modules/network.py", "from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient\n"),
    ("modules/network.py", "from ansible_collections.vdc.xenpool.plugins.module_utils._xen.overview import _private\n"),
    ("modules/sr.py", "from ansible_collections.vdc.xenpool.plugins.module_utils._ontap import lun\n"),
])
def test_an_upward_or_sideways_import_is_caught(tmp_path, package, line):
    """The rule is not vacuous: adding one bad import to a copy of a real file makes it fail."""
    source = ROOT / "plugins" / package
    target = tmp_path / "plugins" / package
    target.parent.mkdir(parents=True)
    target.write_text(line + source.read_text(encoding="utf-8"), encoding="utf-8")
    assert violations(target, tmp_path)
