# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's XenClient on xapisim in-process, for the service tests."""

from __future__ import annotations

from xapisim.testing import InProcessXapi

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient


def client(xapi: InProcessXapi, address: str | None = None, username: str = "root", password: str | None = None) -> XenClient:
    """A client of the host at `address` (default: the master; a URL is kept as given). Plain http unless a URL says
    otherwise: the in-process transport has no TLS, and a verifying TLS context costs some 20 ms a client to build."""
    address = address or xapi.master
    url = address if "://" in address else "http://" + address
    return XenClient(url, username, xapi.password if password is None else password, transport_factory=xapi.transport_factory)
