# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read one VM back with the official XenAPI package (not the collection's client), as JSON.

    readback.py READY_FILE VM_NAME
"""

from __future__ import annotations

import json
import ssl
import sys
import xmlrpc.client

import XenAPI


def main(ready_path: str, name: str) -> None:
    with open(ready_path, encoding="utf-8") as handle:
        ready = json.load(handle)
    with open(ready["password_file"], encoding="utf-8") as handle:
        password = handle.read().strip()
    context = ssl.create_default_context(cafile=ready["ca_cert"])
    session = XenAPI.Session(ready["hosts"][0]["url_https"], transport=xmlrpc.client.SafeTransport(context=context))
    session.xenapi.login_with_password(ready["username"], password, "1.0", "vms-target")
    try:
        (ref,) = session.xenapi.VM.get_by_name_label(name)
        vm = session.xenapi.VM.get_record(ref)
        disks = []
        for vbd_ref in vm["VBDs"]:
            vbd = session.xenapi.VBD.get_record(vbd_ref)
            if vbd["type"] == "Disk":
                disks.append({"userdevice": vbd["userdevice"], "virtual_size": session.xenapi.VDI.get_virtual_size(vbd["VDI"])})
        vifs = [{"MAC": session.xenapi.VIF.get_MAC(v),
                 "network": session.xenapi.network.get_name_label(session.xenapi.VIF.get_network(v))} for v in vm["VIFs"]]
        out = {k: vm[k] for k in ("name_label", "VCPUs_at_startup", "VCPUs_max", "memory_static_max", "power_state")}
        out.update(disks=sorted(disks, key=lambda d: d["userdevice"]), vifs=vifs)
        print(json.dumps(out))
    finally:
        session.xenapi.session.logout()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
