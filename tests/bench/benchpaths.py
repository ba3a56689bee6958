# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where the benchmarks find the collection and the simulators, from a bare checkout or an installed tree.

Importing this module puts `ansible_collections.vdc.xenpool` and the simulators' packages on sys.path.
The benchmarks start their simulators with simcommon.client.SimProcess, which passes --watch-pid: a simulator
stops with the benchmark that started it, however long the benchmark runs.
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).absolute().parents[2]
SIMULATOR = Path(os.environ.get("XENPOOL_SIMULATOR_DIR") or REPO / "tests" / "simulator")


def _collection_root() -> str:
    """The folder holding ansible_collections/vdc/xenpool: the real one, or a temporary link to this checkout."""
    if REPO.parent.parent.name == "ansible_collections":
        return str(REPO.parent.parent.parent)
    tmp = tempfile.mkdtemp(prefix="xenpool-bench-")
    namespace = Path(tmp, "ansible_collections", "vdc")
    namespace.mkdir(parents=True)
    (namespace / "xenpool").symlink_to(REPO, target_is_directory=True)
    atexit.register(shutil.rmtree, tmp, True)
    return tmp


COLLECTIONS_ROOT = _collection_root()
for _path in (COLLECTIONS_ROOT, str(SIMULATOR)):
    if _path not in sys.path:
        sys.path.insert(0, _path)
