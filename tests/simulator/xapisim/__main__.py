# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Entry point: `xapisim --datacenter FILE|NAME --state-dir DIR ...` (or `python -m xapisim`)."""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys

from simcommon import add_common_arguments, start_watchdog, write_ready_file
from simcommon.launch import bundled_names, resolve_data_file

from . import datacenter, san
from .app import Simulator, make_ssl_context
from .spec import Spec


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="xapisim", description="Stateful XenAPI (xapi) simulator")
    add_common_arguments(parser)
    parser.add_argument("--datacenter", default=None,
                        help="datacenter description (YAML file, or the name of a bundled one: %s)"
                        % ", ".join(bundled_names("xapisim")))
    parser.add_argument("--generate", default=None, help="synthetic pool, e.g. hosts=64,vms=2000")
    parser.add_argument("--address-base", default="127.0.0.10", help="host i listens on base+i")
    parser.add_argument("--ontap-control", "--san", dest="ontap_control", default="",
                        help="ONTAP simulator control URL (its ready.json 'control'), or the path of that ready.json; "
                             "its visible LUNs join the iSCSI fabric and the SR data written on them lives in the ONTAP "
                             "simulator's per-LUN data area")
    parser.add_argument("--nfs-exports", default="",
                        help="simulated NFS exports SERVER:/path[,SERVER:/path...] (also datacenter 'nfs_exports')")
    return parser.parse_args(argv)


def ontap_control_url(value: str) -> str:
    """--ontap-control takes the URL, or the ready.json of a running ontapsim (read once, at start)."""
    if value and not value.startswith(("http://", "https://")) and os.path.isfile(value):
        with open(value, encoding="utf-8") as handle:
            return str(json.load(handle)["control"])
    return value


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    os.makedirs(args.state_dir, exist_ok=True)
    conf = datacenter.load(resolve_data_file("xapisim", args.datacenter)) if args.datacenter else {}
    if args.generate:
        conf = datacenter.generated(args.generate, conf)
    if not conf.get("host_groups") and not args.load_state:
        sys.stderr.write("xapisim: --datacenter or --generate is required\n")
        return 2
    sim = Simulator(Spec(), time_scale=args.time_scale, latency_ms=args.latency_ms)
    sim.world.ontap_control = ontap_control_url(args.ontap_control)
    with sim.world.lock:
        datacenter.build(sim.world, conf, args.address_base)
        for export in san.parse_exports(args.nfs_exports):
            san.upsert_export(sim.world, export)
        if args.load_state:
            sim.load(args.load_state)
    addresses = sorted(sim.world.hosts, key=lambda a: tuple(int(x) for x in a.split(".")))
    ssl_context, ca_path = make_ssl_context(args.state_dir, addresses)
    port = sim.listen(addresses, args.port, ssl_context)
    password_file = os.path.join(args.state_dir, "xapisim-password")
    fd = os.open(password_file + ".tmp", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(sim.world.password)
    os.chmod(password_file + ".tmp", 0o600)
    os.replace(password_file + ".tmp", password_file)
    hosts = []
    with sim.world.lock:
        for address in addresses:
            db, host = sim.world.hosts[address]
            rec = db.get("host", host)
            hosts.append({"name": rec["name_label"], "address": address, "uuid": rec["uuid"],
                          "cpu_vendor": rec["cpu_info"].get("vendor", ""),
                          "url_http": "http://%s:%d" % (address, port), "url_https": "https://%s:%d" % (address, port)})
    ready = {"pid": os.getpid(), "port": port, "ca_cert": ca_path, "username": sim.world.username,
             "password_file": password_file, "control": "http://%s:%d/sim" % (addresses[0], port), "hosts": hosts}

    def stop(*_args):
        sim.stopped.set()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    watchdog = start_watchdog(args, sim.stopped.set)
    for server in sim.servers:
        server.watchdog = watchdog
    if args.ready_file:
        write_ready_file(args.ready_file, ready)
    try:
        while not sim.stopped.wait(0.5):
            pass
    finally:
        if args.save_state_on_exit:
            sim.save(args.save_state_on_exit)
        sim.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
