# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Fixtures starting real simulator processes (stopped by the fixture; they also stop when pytest is gone)."""
from __future__ import annotations

import os
import ssl
import sys
import xmlrpc.client

import pytest

SIM_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if SIM_ROOT not in sys.path:
    # the checkout's packages win over an installed copy, so the tests test this tree
    sys.path.insert(0, SIM_ROOT)

from simcommon.client import SimProcess  # noqa: E402  pylint: disable=wrong-import-position
from simcommon.launch import data_dir  # noqa: E402  pylint: disable=wrong-import-position

DATACENTERS = data_dir("xapisim")
# SimProcess adds --watch-pid <pytest's pid>: a simulator never outlives the test run.
FAST = ["--time-scale", "0.01"]


def start_sim(tmp_path_factory, name: str, datacenter: str | None = None, extra: list[str] | None = None) -> SimProcess:
    state_dir = str(tmp_path_factory.mktemp(name))
    args = list(FAST)
    if datacenter:
        args += ["--datacenter", os.path.join(DATACENTERS, datacenter)]
    args += extra or []
    return SimProcess("xapisim", args, state_dir).start()


def password(sim: SimProcess) -> str:
    with open(sim.ready["password_file"], encoding="utf-8") as handle:
        return handle.read()


def connect(sim: SimProcess, host: int = 0, https: bool = True, login: bool = True):
    """A logged-in official XenAPI.Session to host number `host` (0-based)."""
    import XenAPI  # pylint: disable=import-outside-toplevel
    entry = sim.ready["hosts"][host]
    if https:
        context = ssl.create_default_context(cafile=sim.ready["ca_cert"])
        session = XenAPI.Session(entry["url_https"], transport=xmlrpc.client.SafeTransport(context=context))
    else:
        session = XenAPI.Session(entry["url_http"])
    if login:
        session.xenapi.login_with_password(sim.ready["username"], password(sim), "1.0", "pytest")
    return session


@pytest.fixture(scope="module", name="small_sim")
def small_sim_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "small", "small.yml")
    yield sim
    sim.stop()


@pytest.fixture(scope="module", name="ref_sim")
def ref_sim_fixture(tmp_path_factory):
    sim = start_sim(tmp_path_factory, "reference", "reference.yml")
    yield sim
    sim.stop()


@pytest.fixture
def xs(small_sim):
    """Logged-in session on the small datacenter's only host; logged out afterwards."""
    session = connect(small_sim)
    yield session.xenapi
    try:
        session.xenapi.session.logout()
    except Exception:  # pylint: disable=broad-exception-caught
        pass
