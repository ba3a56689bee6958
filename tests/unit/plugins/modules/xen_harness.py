# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Running a XenAPI module's main() against the in-memory World of test_pool_world, shared by module tests."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod


class Exited(Exception):
    pass


class Failed(Exception):
    pass


def client_factory(world):
    """A XenClient stand-in that hands out the World's client for the address in `hostname`."""
    def make(hostname, username="root", password=None, **_kwargs):
        address = urlsplit(hostname if "://" in hostname else "https://" + hostname).hostname
        return world.client(address, username, password or "")
    return make


def attach(monkeypatch, world, *modules) -> None:
    """Route every XenClient the modules open to `world`, and turn exit_json / fail_json into exceptions."""
    del modules  # every client is opened by the module base, so patching it routes them all
    monkeypatch.setattr(module_mod, "XenClient", client_factory(world))

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    def fail_json(_self, msg, **kwargs):
        kwargs["msg"] = msg
        raise Failed(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.fail_json", fail_json)


def run_module(module, hostname, world, args, expect=Exited, check=False, diff=False):
    """main() of `module` with the connection options, check and diff mode; returns the result or failure dict."""
    base = {"hostname": hostname, "password": world.password, "_ansible_check_mode": check, "_ansible_diff": diff}
    with patch_module_args(dict(base, **args)):
        with pytest.raises(expect) as info:
            module.main()
    return info.value.args[0]
