# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a read-only or no-op module run costs in XenAPI calls on a current server: login, one event.from, logout,
the same for 1 VM as for 300 (issue 14). Counted by the XenClient of the run, as a server's call log would."""

from __future__ import annotations

import functools

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.vdc.xenpool.plugins.module_utils._base import module as module_mod
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.client import XenClient
from ansible_collections.vdc.xenpool.plugins.modules import network, pool_info, vm_info, vms
from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.events_fake import EventFake

READ = ["session.login_with_password", "event.from", "session.logout"]


class Exited(Exception):
    pass


def calls_of(monkeypatch, module, vm_count, args):
    """The methods one run of module sent, in order, against a pool of 4 hosts and vm_count VMs."""
    xapi = EventFake()
    xapi.seed_pool(hosts=4, vms=vm_count)
    monkeypatch.setattr(module_mod, "XenClient", functools.partial(XenClient, transport_factory=xapi.transport_factory))

    def exit_json(_self, **kwargs):
        raise Exited(kwargs)

    monkeypatch.setattr("ansible.module_utils.basic.AnsibleModule.exit_json", exit_json)
    with patch_module_args(dict({"hostname": "127.0.0.10", "password": xapi.password}, **args)):
        with pytest.raises(Exited) as info:
            module.main()
    assert info.value.args[0]["changed"] is False
    return [c[1] for c in xapi.log]


def declared_vms(count):
    return {"vms": [{"name": "vm-%04d" % i, "power_state": "running"} for i in range(count)]}


@pytest.mark.parametrize("module, args", [
    (pool_info, lambda n: {"io_metrics": False}),
    (vm_info, lambda n: {}),
    (vms, declared_vms),
    (network, lambda n: {"networks": [{"name": "Pool-wide network associated with eth0"}]}),
], ids=["pool_info", "vm_info", "vms", "network"])
def test_one_read_whatever_the_number_of_vms(monkeypatch, module, args):
    small = calls_of(monkeypatch, module, 1, args(1))
    big = calls_of(monkeypatch, module, 300, args(300))
    assert small == big == READ
