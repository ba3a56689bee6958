# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fake XenAPI of fake_xenapi.py as a current server: with event.from (the plain FakeXapi is an old server)."""

from __future__ import annotations

from ansible_collections.vdc.xenpool.tests.unit.plugins.module_utils._xen.fake_xenapi import FakeXapi, success


class EventFake(FakeXapi):
    """FakeXapi plus event.from as xapi answers an empty token (xapi_event.ml `from`): every object of the subscribed
    classes as an `add` whose snapshot is its record, class names in lower case; other classes and tokens are refused."""

    def handle(self, address, method, params):
        faulty = any(f["method"] == method and f["times"] > 0 for f in self.faults)
        if method != "event.from" or faulty or not params or params[0] not in self.sessions:
            return super().handle(address, method, params)
        self.log.append((address, method, tuple(params[1:])))
        classes, token, _timeout = params[1:]
        assert token == ""
        wanted = {c.lower() for c in classes}
        events = [{"id": "1", "timestamp": "0.0", "class": cls.lower(), "operation": "add", "ref": ref, "snapshot": rec}
                  for cls, table in self.objects.items() if cls.lower() in wanted for ref, rec in table.items()]
        return success({"events": events, "valid_ref_counts": {}, "token": "%020d,%020d" % (1, 0)})
