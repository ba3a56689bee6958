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

from simcommon.launch import resolve_data_file

from . import datacenter
from .app import DropConnection, Simulator
from .spec import Spec, XapiError
from .state import Database
from .wire import envelope_failure, envelope_success, xml_request, xml_response


class InProcessXapi:
    """A simulated data centre whose hosts answer at their loopback addresses, in this process."""

    def __init__(self, conf: dict | str = "small.yml", address_base: str = "127.0.0.10", time_scale: float = 0.001) -> None:
        """conf: a data centre description, or the name of a file in tests/simulator/datacenters."""
        if isinstance(conf, str):
            conf = datacenter.load(resolve_data_file("xapisim", conf))
        self.sim = Simulator(Spec(), time_scale=time_scale)
        with self.sim.world.lock:
            datacenter.build(self.sim.world, conf, address_base)

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

    # -- the call log -----------------------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[tuple[str, str]]:
        """(address, method) of every call, in order; only `method`'s when given."""
        return [(e["endpoint"], e["method"]) for e in self.sim.calllog.entries() if method is None or e["method"] == method]

    def counters(self) -> collections.Counter:
        return collections.Counter(self.sim.calllog.counters())

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
        if address not in self.xapi.sim.world.hosts:
            raise ConnectionRefusedError(111, "Connection refused")
        method, params = xml_request(request_body)
        try:
            envelope = envelope_success(self.xapi.sim.invoke(address, method, params))
        except XapiError as exc:
            envelope = envelope_failure(exc.description)
        except DropConnection as exc:
            raise ConnectionResetError(104, "Connection reset by peer") from exc
        return xmlrpc.client.loads(xml_response(envelope), use_builtin_types=False)[0]
