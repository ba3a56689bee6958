# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Make `ansible_collections.vdc.xenpool` and the simulators importable under plain pytest.

Under ansible-test (or in a checkout at .../ansible_collections/vdc/xenpool) the parent of
`ansible_collections` is put on sys.path. In a bare repo checkout a throw-away tree
<tmp>/ansible_collections/vdc/xenpool -> repo root is created for the session and removed at exit.
Unit tests that need xapi's behaviour run xapisim in-process (xapisim.testing): the simulator package is
installed in .venv, and under ansible-test (whose venv has its dependencies, PyYAML and cryptography, but
not the package) it is imported from tests/simulator of this checkout.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

_REPO = Path(__file__).absolute().parents[2]


def _setup() -> None:
    if _REPO.parent.parent.name == "ansible_collections":
        root = str(_REPO.parent.parent.parent)
        if root not in sys.path:
            sys.path.insert(0, root)
        return
    tmp = tempfile.mkdtemp(prefix="xenpool-units-")
    namespace = Path(tmp, "ansible_collections", "vdc")
    namespace.mkdir(parents=True)
    link = namespace / "xenpool"
    link.symlink_to(_REPO, target_is_directory=True)

    def _cleanup() -> None:
        if link.is_symlink():
            os.unlink(link)
        shutil.rmtree(tmp, ignore_errors=True)

    atexit.register(_cleanup)
    sys.path.insert(0, tmp)


def _simulators() -> None:
    try:
        import xapisim  # noqa: F401  pylint: disable=unused-import,import-outside-toplevel
    except ImportError:
        sys.path.append(str(_REPO / "tests" / "simulator"))


_setup()
_simulators()
