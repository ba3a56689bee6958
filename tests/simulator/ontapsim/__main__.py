# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""python -m ontapsim (with PYTHONPATH=tests/simulator)."""
from __future__ import annotations

import sys

from ontapsim.server import main

sys.exit(main())
