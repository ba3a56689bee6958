# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Side effects the sr target needs and no module of the collection performs, done with the official XenAPI client.

    xapi_helper.py READY vdi-create SR_UUID NAME SIZE_BYTES    a VDI on the SR (data that a reattach must keep)
    xapi_helper.py READY join HOST_NAME MASTER_NAME            the standalone host joins the master's pool
    xapi_helper.py READY unplug SR_UUID HOST_NAME              unplug that host's PBD (as after a failed boot-time plug)
    xapi_helper.py READY vdi-destroy-all SR_UUID                destroy every VDI of the SR
    xapi_helper.py READY forget SR_UUID                         unplug every PBD and forget the SR (data stays on the LUN)
    xapi_helper.py READY set-other-config SR_UUID KEY VALUE     set one other_config key of the SR
"""

from __future__ import annotations

import json
import ssl
import sys
import time
import xmlrpc.client

import XenAPI


def _session(url: str, ready: dict, password: str) -> XenAPI.Session:
    context = ssl.create_default_context(cafile=ready["ca_cert"])
    session = XenAPI.Session(url, transport=xmlrpc.client.SafeTransport(context=context))
    session.xenapi.login_with_password(ready["username"], password, "1.0", "sr-target")
    return session


def _host(ready: dict, name: str) -> dict:
    return next(h for h in ready["hosts"] if h["name"] == name)


def main(ready_path: str, action: str, *args: str) -> None:
    with open(ready_path, encoding="utf-8") as handle:
        ready = json.load(handle)
    with open(ready["password_file"], encoding="utf-8") as handle:
        password = handle.read().strip()
    master = ready["hosts"][0]
    if action == "join":
        joiner, master = _host(ready, args[0]), _host(ready, args[1])
        session = _session(joiner["url_https"], ready, password)
        # The joiner's xapi restarts as a pool member: its session dies, so watch the join from the master, until
        # the member is enabled (xapi creates its record disabled, Host.create; the restarted member enables it).
        session.xenapi.pool.join(master["address"], ready["username"], password)
        watcher = _session(master["url_https"], ready, password)
        try:
            for _attempt in range(600):
                hosts = watcher.xenapi.host.get_all_records()
                if any(rec["name_label"] == args[0] and rec["enabled"] for rec in hosts.values()):
                    return
                time.sleep(0.1)
            raise SystemExit("%s did not become an enabled member of the pool" % args[0])
        finally:
            watcher.xenapi.session.logout()
    session = _session(master["url_https"], ready, password)
    try:
        sr = session.xenapi.SR.get_by_uuid(args[0])
        if action == "vdi-create":
            session.xenapi.VDI.create({"SR": sr, "name_label": args[1], "name_description": "", "virtual_size": args[2],
                                       "type": "user", "sharable": False, "read_only": False, "other_config": {}})
        elif action == "forget":
            for pbd in session.xenapi.SR.get_PBDs(sr):
                session.xenapi.PBD.unplug(pbd)
            session.xenapi.SR.forget(sr)
        elif action == "vdi-destroy-all":
            for vdi in session.xenapi.SR.get_VDIs(sr):
                session.xenapi.VDI.destroy(vdi)
        elif action == "set-other-config":
            session.xenapi.SR.remove_from_other_config(sr, args[1])
            session.xenapi.SR.add_to_other_config(sr, args[1], args[2])
        elif action == "unplug":
            for pbd in session.xenapi.SR.get_PBDs(sr):
                host = session.xenapi.PBD.get_host(pbd)
                if session.xenapi.host.get_name_label(host) == args[1]:
                    session.xenapi.PBD.unplug(pbd)
        else:
            raise SystemExit(__doc__)
    finally:
        session.xenapi.session.logout()


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__)
    main(*sys.argv[1:])
