# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Drift a built pool by hand, straight through the simulator's XenAPI (JSON-RPC), not through the collection.

The pool_build scenario's side_effect needs a pool that someone changed behind Ansible's back: the check run
that follows must report exactly these changes. Doing the drift with the collection's own modules would let a
bug in them hide itself, so this speaks plain JSON-RPC 2.0 with the standard library only.

Usage: drift.py READY_JSON --master NAME --new-name LABEL --vlan-host NAME --vlan-tag N --eject NAME
Prints one JSON document saying what was changed (never the password).
"""

from __future__ import annotations

import argparse
import json
import ssl
import sys
import typing as t
import urllib.request


class XapiFailure(Exception):
    """A JSON-RPC error answer; the error description says which xapi error it was."""


class Session:
    """Minimal JSON-RPC 2.0 XenAPI session: enough calls to drift a pool, nothing more."""

    def __init__(self, url: str, ca_cert: str) -> None:
        self.url = url.rstrip("/") + "/jsonrpc"
        self.context = ssl.create_default_context(cafile=ca_cert)
        self.ref = ""
        self.counter = 0

    def call(self, method: str, *params: t.Any) -> t.Any:
        """Call METHOD with the session ref first (except for the login itself)."""
        self.counter += 1
        args = list(params) if method == "session.login_with_password" else [self.ref, *params]
        body = json.dumps({"jsonrpc": "2.0", "method": method, "params": args, "id": self.counter}).encode("utf-8")
        request = urllib.request.Request(self.url, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, context=self.context, timeout=60) as answer:
            reply = json.loads(answer.read().decode("utf-8"))
        if reply.get("error"):
            err = reply["error"]
            raise XapiFailure("%s failed: %s %s" % (method, err.get("message"), err.get("data")))
        return reply["result"]

    def login(self, username: str, password: str) -> None:
        self.ref = self.call("session.login_with_password", username, password, "1.0", "molecule-drift")

    def logout(self) -> None:
        if self.ref:
            self.call("session.logout")
            self.ref = ""


def host_named(session: Session, name: str) -> str:
    refs = session.call("host.get_by_name_label", name)
    if len(refs) != 1:
        raise XapiFailure("expected one host named %s in the pool, found %d" % (name, len(refs)))
    return refs[0]


def destroy_vlan(session: Session, host: str, tag: int) -> dict[str, str]:
    """Destroy the VLAN with TAG on HOST only: VLAN.destroy removes the VLAN object and its untagged PIF, as xapi does."""
    for pif in session.call("host.get_PIFs", host):
        rec = session.call("PIF.get_record", pif)
        if int(rec["VLAN"]) == tag and rec["VLAN_master_of"] not in ("", "OpaqueRef:NULL"):
            network = session.call("network.get_name_label", rec["network"])
            session.call("VLAN.destroy", rec["VLAN_master_of"])
            return {"pif": pif, "device": rec["device"], "network": network}
    raise XapiFailure("no VLAN %d on that host" % tag)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ready")
    parser.add_argument("--master", required=True)
    parser.add_argument("--new-name", required=True)
    parser.add_argument("--vlan-host", required=True)
    parser.add_argument("--vlan-tag", type=int, required=True)
    parser.add_argument("--eject", required=True)
    args = parser.parse_args(argv)

    with open(args.ready, encoding="utf-8") as handle:
        ready = json.load(handle)
    with open(ready["password_file"], encoding="utf-8") as handle:
        password = handle.read().strip()
    master = next(h for h in ready["hosts"] if h["name"] == args.master)

    session = Session(master["url_https"], ready["ca_cert"])
    session.login(ready["username"], password)
    try:
        pool = session.call("pool.get_all")[0]
        old_name = session.call("pool.get_name_label", pool)
        session.call("pool.set_name_label", pool, args.new_name)
        vlan = destroy_vlan(session, host_named(session, args.vlan_host), args.vlan_tag)
        session.call("pool.eject", host_named(session, args.eject))
        members = sorted(session.call("host.get_name_label", h) for h in session.call("host.get_all"))
    finally:
        session.logout()
    json.dump({"old_name": old_name, "new_name": args.new_name, "vlan_host": args.vlan_host, "vlan_tag": args.vlan_tag,
               "vlan_network": vlan["network"], "vlan_device": vlan["device"], "ejected": args.eject, "members": members},
              sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
