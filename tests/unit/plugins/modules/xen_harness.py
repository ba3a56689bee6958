# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a XenAPI module's main() against xapisim in-process (xapisim.testing.InProcessXapi), shared by module tests."""

from __future__ import annotations

import functools

import pytest
from ansible.module_utils.testing import patch_module_args
from xapisim.testing import InProcessXapi

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient


class Exited(Exception):
    pass


class Failed(Exception):
    pass


def attach(monkeypatch, xapi, *modules) -> None:
    """Route every XenClient the modules open to `xapi`, and turn exit_json / fail_json into exceptions."""
    del modules  # every client is opened by the module base, so patching it routes them all
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory))

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    def fail_json(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)


def start(monkeypatch, conf) -> InProcessXapi:
    """xapisim in-process built from `conf` (a data-centre dict or file name), every client of the modules routed to it,
    its call log emptied of the building; the caller closes it."""
    xapi = InProcessXapi(conf)
    xapi.reset_calls()
    attach(monkeypatch, xapi)
    return xapi


def run_module(module, hostname, xapi, args, expect=Exited, check=False, diff=False):
    """main() of `module` with the connection options, check and diff mode; returns the result or failure dict."""
    base = {"hostname": hostname, "password": xapi.password, "_ansible_check_mode": check, "_ansible_diff": diff}
    with patch_module_args(dict(base, **args)):
        with pytest.raises(expect) as info:
            module.main()
    return info.value.args[0]
