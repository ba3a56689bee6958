# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""xapisim in-process, for unit tests: a XenAPI client talks to the simulator without sockets.

A unit test that needs xapi's behaviour (records as get_all_records returns them, login and HOST_IS_SLAVE,
error codes, event.from, the call log) gets it from the same model the integration tests and the demo
run against, instead of from a fake that models xapi a second time. The official XenAPI.Session (and
so the collection's XenClient) sends real XML-RPC bodies through `transport_factory`; they are decoded,
dispatched and encoded by xapisim's own wire code, exactly as its HTTP listener does. Nothing listens
on a port and no thread but xapisim's scheduler runs, so a test stays fast on a loaded machine.

    xapi = InProcessXapi("small.yml")                  # a data centre of tests/simulator/datacenters
    client = XenClient(hostname=xapi.master, password=xapi.password, transport_factory=xapi.transport_factory)
    ...
    assert xapi.writes() == []                         # check mode: no write call reached the pool
    xapi.close()
"""
from __future__ import annotations

import collections
import xmlrpc.client
from urllib.parse import urlsplit

from simcommon.launch import resolve_data_file

from . import datacenter, rrd, san
from .app import DropConnection, Simulator
from .handlers_storage import upsert_target
from .spec import Spec, XapiError
from .state import Database
from .wire import envelope_failure, envelope_success, xml_request, xml_response


def pool_datacenter(hosts: int = 2, vms: int = 2, power_state: str = "Running", password: str = "xapisim-unit-not-a-secret") -> dict:
    """The data centre most unit tests need, as a dict for InProcessXapi: pool `pool-a` of `hosts` hosts xen-01..
    (4 cores, 64 GiB, one NIC; xen-01 is the master, at 127.0.0.11 with the default address base) on a shared
    lvmoiscsi SR `iSCSI` (1000 GiB), and `vms` VMs vm-0001.. of template 'Debian Bookworm 12' (2 vCPUs, 2 GiB,
    a 20 GiB disk on that SR, a NIC on eth0's network), spread round-robin over the hosts when Running."""
    return {
        "name": "unit", "credentials": {"username": "root", "password": password},
        "host_groups": [{"name_prefix": "xen-", "count": hosts, "memory_gib": 64, "nics": 1,
                         "cpu": {"vendor": "GenuineIntel", "model": "Xeon", "cores": 4, "speed_mhz": 2400}}],
        "pools": [{"name_label": "pool-a", "master": "xen-01", "members": ["xen-%02d" % i for i in range(2, hosts + 1)],
                   "shared_sr": {"name_label": "iSCSI", "type": "lvmoiscsi", "size_gib": 1000}}],
        "templates": [{"name_label": "Debian Bookworm 12", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]}],
        "vms": [{"pool": "pool-a", "count": vms, "name_prefix": "vm-", "template": "Debian Bookworm 12",
                 "power_state": power_state, "vcpus": 2, "memory_mib": 2048, "disk_gib": 20}] if vms else [],
    }


AMD_CPU = {"vendor": "AuthenticAMD", "model": "AMD EPYC 7302P 16-Core Processor", "cores": 8, "speed_mhz": 3000, "family": 23,
           "model_number": 49, "stepping": 0,
           "features": "178bfbff-f6f83203-2e500800-040001f3-0000000f-219c91a9-00400004-00000000-00000000-00000000"}


def hosts_datacenter(*groups: tuple[str, int, str], nics: int = 4, password: str = "xapisim-unit-not-a-secret", **extra: object) -> dict:
    """Standalone hosts as after a fresh install, each its own pool of one (what pool.join starts from), as a dict for
    InProcessXapi: one host group per (name prefix, count, CPU vendor "GenuineIntel" or "AuthenticAMD"), 16 GiB and
    `nics` NICs each, at 127.0.0.11, .12, ... in the order given; the one template 'Debian Bookworm 12'. `extra`
    adds data-centre keys as a file has them (pools, vms, iscsi_targets)."""
    cpus = {"GenuineIntel": datacenter.DEFAULT_CPU, "AuthenticAMD": AMD_CPU}
    return dict({
        "name": "unit-hosts", "credentials": {"username": "root", "password": password},
        "host_groups": [{"name_prefix": prefix, "count": count, "memory_gib": 16, "nics": nics, "cpu": dict(cpus[vendor])}
                        for prefix, count, vendor in groups],
        "templates": [{"name_label": "Debian Bookworm 12", "base": "hvm-linux", "min_memory_mib": 1024, "disks_gib": [10]}],
    }, **extra)


class InProcessXapi:
    """A simulated data centre whose hosts answer at their loopback addresses, in this process."""

    def __init__(self, conf: dict | str = "small.yml", address_base: str = "127.0.0.10", time_scale: float = 0.001) -> None:
        """conf: a data centre description, or the name of a file in tests/simulator/datacenters."""
        if isinstance(conf, str):
            conf = datacenter.load(resolve_data_file("xapisim", conf))
        self.sim = Simulator(Spec(), time_scale=time_scale)
        with self.sim.world.lock:
            datacenter.build(self.sim.world, conf, address_base)
        # calls of each method that reached the simulator, as its fault plan counts them (fail() arms the next one)
        self.method_calls: collections.Counter = collections.Counter()
        self.network_errors: dict[str, BaseException] = {}

    # -- what a client needs --------------------------------------------------------------------
    @property
    def username(self) -> str:
        return self.sim.world.username

    @property
    def password(self) -> str:
        return self.sim.world.password

    @property
    def addresses(self) -> list[str]:
        return sorted(self.sim.world.hosts, key=lambda a: tuple(int(x) for x in a.split(".")))

    @property
    def master(self) -> str:
        """The address of the first pool master (or standalone host)."""
        world = self.sim.world
        with world.lock:
            db = world.db_for_address(self.addresses[0])[0]
            return world.address_of(db, world.master_of(db))

    def transport_factory(self, scheme: str, context: object, timeout: float) -> xmlrpc.client.Transport:  # pylint: disable=unused-argument
        return _Transport(self)

    def rrd_get(self, url: str, tls: object, timeout: float) -> tuple[int, bytes]:  # pylint: disable=unused-argument
        """GET /rrd_updates as xapisim's listener answers it (the collection's rrd Getter, for rrd.http_get)."""
        parts = urlsplit(url)
        self._reach(parts.hostname or "")
        answer = rrd.answer(self.sim, parts.hostname or "", "%s?%s" % (parts.path, parts.query))
        if answer is None:
            raise ConnectionResetError(104, "Connection reset by peer")
        return answer[0], answer[1]

    def break_network(self, address: str, error: BaseException | None) -> None:
        """Every connection to `address` fails with `error` (below XML-RPC: an ssl.SSLCertVerificationError, a
        socket.timeout, a ConnectionRefusedError), API calls and rrd_updates alike; None mends the network."""
        if error is None:
            self.network_errors.pop(address, None)
        else:
            self.network_errors[address] = error

    def _reach(self, address: str) -> None:
        error = self.network_errors.get(address)
        if error is not None:
            raise error

    # -- faults and time, as the control API arms them (POST /sim/faults, POST /sim/time) -------------------------
    def add_fault(self, method: str, nth: int = 1, action: str = "error", error: list | None = None, delay_s: float = 0.0,
                  repeat: int = 1, when: str = "before") -> dict:
        """Arm a fault on calls nth..nth+repeat-1 of `method`, counted since the faults were last cleared (simcommon.faults)."""
        return self.sim.faults.add(method, nth=nth, action=action, error=error, delay_s=delay_s, repeat=repeat, when=when)

    def clear_faults(self) -> None:
        self.sim.faults.clear()

    def advance(self, seconds: float) -> None:
        """Jump the simulated clock: running operations, session expiry and scheduled events see it at once."""
        self.sim.world.clock.advance(seconds)

    # -- the call log -----------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[tuple[str, str]]:
        """(address, method) of every call, in order; only `method`'s when given."""
        return [(e["endpoint"], e["method"]) for e in self.sim.calllog.entries() if method is None or e["method"] == method]

    def counters(self) -> collections.Counter:
        return collections.Counter(self.sim.calllog.counters())

    def summaries(self, method: str) -> list[str]:
        """The logged arguments of every call of `method`, in order (secrets redacted, as GET /sim/calls shows them)."""
        return [e["summary"] for e in self.sim.calllog.entries() if e["method"] == method]

    def writes(self) -> list[str]:
        """The methods of the write calls, in order (xapisim decides what a write is, from the datamodel)."""
        return [e["method"] for e in self.sim.calllog.entries() if e["write"]]

    def reset_calls(self) -> None:
        self.sim.calllog.reset()

    def open_sessions(self) -> int:
        with self.sim.world.lock:
            return sum(len(db.tables["session"]) for db in self.sim.world.dbs)

    # -- the model, for arranging a case and for checking the outcome ------------------------------------
    def db(self, address: str | None = None) -> Database:
        """The database of the pool that the host at `address` (default: the master) belongs to."""
        return self.sim.world.db_for_address(address or self.master)[0]

    def records(self, cls: str, address: str | None = None) -> dict[str, dict]:
        with self.sim.world.lock:
            return {ref: dict(rec) for ref, rec in self.db(address).tables[cls].items()}

    def find(self, cls: str, address: str | None = None, **fields: object) -> str:
        """The ref of the one record of cls with these field values."""
        refs = [ref for ref, rec in self.records(cls, address).items() if all(rec.get(k) == v for k, v in fields.items())]
        if len(refs) != 1:
            raise LookupError("%d %s records match %s" % (len(refs), cls, fields))
        return refs[0]

    def add(self, cls: str, address: str | None = None, **fields: object) -> str:
        """A new record with the datamodel's defaults for every field not given (links kept both ways)."""
        with self.sim.world.lock:
            return self.db(address).create(cls, dict(fields))

    def update(self, cls: str, ref: str, address: str | None = None, **fields: object) -> None:
        with self.sim.world.lock:
            self.db(address).update(cls, ref, dict(fields))

    def host_names(self, address: str | None = None) -> list[str]:
        """The name labels of the hosts in the pool of the host at `address` (default: the master), sorted."""
        return sorted(rec["name_label"] for rec in self.records("host", address).values())

    # -- faults and storage the test arranges --------------------------------------------------------------
    def add_address(self, address: str, of: str) -> None:
        """`address` answers as the host at `of` does (a DNS alias or a second IP of its management interface)."""
        with self.sim.world.lock:
            self.sim.world.hosts[address] = self.sim.world.hosts[of]

    def fail(self, method: str, error: list[str] | None = None, times: int = 1, action: str = "error", when: str = "before") -> None:
        """Make the next `times` calls of `method` (as sent: "Async.pool.join" is not "pool.join") fail with `error`
        (xapi's ErrorDescription list), or lose their answer (action "drop": when "before" the call never ran, when
        "after" it took effect), through xapisim's fault plan, the one POST /sim/faults arms."""
        self.sim.faults.add(method, nth=self.method_calls[method] + 1, action=action, error=error, repeat=times, when=when)

    def iscsi_target(self, conf: dict) -> dict:
        """Add or replace a static iSCSI target of the fabric the lvmoiscsi driver sees (as POST /sim/iscsi/targets):
        {"address", "port", "iqn", "chap_user", "chap_password", "luns": [{"scsi_id", "size", "serial", "initiators"}]};
        an empty initiators list lets every host see the LUN. Posting it again with other sizes or initiators
        grows a LUN or changes its masking."""
        return upsert_target(self.sim.world, conf)

    def lun_sr_uuid(self, scsi_id: str) -> str:
        """The uuid of the SR written on a LUN ("" when none is): what SR.forget keeps and SR.destroy wipes."""
        with self.sim.world.lock:
            return san.lun_sr_uuid(self.sim.world, scsi_id)

    def close(self) -> None:
        """Stop the scheduler thread (guest agents, HA timers); the model stays readable."""
        self.sim.world.scheduler.stop()


class _Transport(xmlrpc.client.Transport):
    """One XML-RPC exchange, handled by the simulator as its HTTP listener would (without HTTP)."""

    def __init__(self, xapi: InProcessXapi) -> None:
        super().__init__()
        self.xapi = xapi

    def request(self, host, handler, request_body, verbose=False):
        address = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        self.xapi._reach(address)  # pylint: disable=protected-access
        if address not in self.xapi.sim.world.hosts:
            raise ConnectionRefusedError(111, "Connection refused")
        method, params = xml_request(request_body)
        self.xapi.method_calls[method] += 1
        try:
            envelope = envelope_success(self.xapi.sim.invoke(address, method, params))
        except XapiError as exc:
            envelope = envelope_failure(exc.description)
        except DropConnection as exc:
            raise ConnectionResetError(104, "Connection reset by peer") from exc
        return xmlrpc.client.loads(xml_response(envelope), use_builtin_types=False)[0]
