# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Object store of the simulator.

One Database per pool: every simulated host starts as a pool of one, so each
has its own database, exactly like separate xapi instances; pool.join moves
the joiner's objects into the coordinator's database. All databases share
one lock (one process, one world) which keeps cross-pool operations simple.
"""
from __future__ import annotations

import copy
import heapq
import itertools
import threading
import time
import uuid as uuidlib

from .spec import DT, I4, NULL_REF, Spec, XapiError

EVENT_LOG_LIMIT = 200000
# db.meta key of the VMs' power-state transitions (read-only record for tests: GET /sim/state shows it)
POWER_HISTORY = "xapisim:power_history"
POWER_HISTORY_LIMIT = 100000


# values a record holds that need no copy: a copy of a record copies its sets and maps only
_ATOMS = frozenset((str, int, float, bool, type(None), DT, I4))


def clone(value):
    """A deep copy of a record's value (copy.deepcopy for anything but atoms, lists and dicts of them)."""
    kind = type(value)
    if kind in _ATOMS:
        return value
    if kind is list:
        return [item if type(item) in _ATOMS else clone(item) for item in value]
    if kind is dict:
        return {key: (item if type(item) in _ATOMS else clone(item)) for key, item in value.items()}
    return copy.deepcopy(value)


def new_ref() -> str:
    return "OpaqueRef:%s" % uuidlib.uuid4()


class Clock:
    """Simulated time: real time scaled by 1/time_scale plus jumps from /sim/time."""

    def __init__(self, time_scale: float) -> None:
        self.scale = max(float(time_scale), 1e-6)
        self.offset = 0.0
        self._t0 = time.monotonic()
        self.cond = threading.Condition()

    def elapsed(self) -> float:
        """Simulated seconds since start; deadlines are expressed on this scale."""
        return (time.monotonic() - self._t0) / self.scale + self.offset

    def wall(self) -> float:
        """Epoch seconds shown in datetimes (wall clock plus explicit jumps)."""
        return time.time() + self.offset

    def now_dt(self) -> DT:
        return DT(time.strftime("%Y%m%dT%H:%M:%SZ", time.gmtime(self.wall())))

    def advance(self, seconds: float) -> None:
        with self.cond:
            self.offset += float(seconds)
            self.cond.notify_all()

    def sleep(self, sim_seconds: float, should_stop=None) -> bool:
        """Sleep a simulated duration; returns False early if should_stop() turns true."""
        return self.sleep_until(self.elapsed() + max(0.0, sim_seconds), should_stop)

    def sleep_until(self, deadline: float, should_stop=None) -> bool:
        """Sleep until the simulated clock reaches deadline (clock jumps wake it up)."""
        with self.cond:
            while True:
                if should_stop is not None and should_stop():
                    return False
                remaining = (deadline - self.elapsed()) * self.scale
                if remaining <= 0:
                    return True
                self.cond.wait(min(remaining, 0.05))


class Scheduler:
    """Runs callbacks at simulated deadlines (guest agent appearing after boot ...)."""

    def __init__(self, clock: Clock, lock: threading.RLock) -> None:
        self.clock = clock
        self.lock = lock
        self._heap: list = []
        self._seq = itertools.count()
        self._stop = threading.Event()
        self._due: float | None = None
        self._thread = threading.Thread(target=self._run, name="xapisim-scheduler", daemon=True)
        self._thread.start()

    def at(self, sim_delay: float, func, *args, base: float | None = None) -> None:
        """Run func(*args) sim_delay simulated seconds after `base` (default: now; from inside a callback: that
        callback's due time, so chains of events keep their spacing when a clock jump runs them late)."""
        with self.clock.cond:
            now = self.clock.elapsed()
            if threading.current_thread() is self._thread and self._due is not None:
                base = self._due
            start = base if base is not None and base <= now else now
            heapq.heappush(self._heap, (start + sim_delay, next(self._seq), func, args))
            self.clock.cond.notify_all()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            due = []
            with self.clock.cond:
                now = self.clock.elapsed()
                while self._heap and self._heap[0][0] <= now:
                    due.append(heapq.heappop(self._heap))
                if not due:
                    wait = 0.05 if not self._heap else min(0.05, max(0.001, (self._heap[0][0] - now) * self.clock.scale))
                    self.clock.cond.wait(wait)
            for deadline, _seq, func, args in due:
                with self.lock:
                    self._due = deadline
                    try:
                        func(*args)
                    except XapiError:
                        pass
                    finally:
                        self._due = None


class Database:
    """Tables of records (native Python values) for one pool, with an event log."""

    def __init__(self, world: "World") -> None:
        self.world = world
        self.spec: Spec = world.spec
        self.tables: dict[str, dict[str, dict]] = {c: {} for c in self.spec.classes if c != "event"}
        self.uuids: dict[str, dict[str, str]] = {c: {} for c in self.tables}
        self.meta: dict[str, dict] = {}
        self.gen = 0
        self.log: list[tuple[int, str, str, str]] = []

    # events -------------------------------------------------------------
    def emit(self, cls: str, ref: str, op: str) -> None:
        if not self.spec.classes[cls]["gen_events"]:
            return
        self.gen += 1
        self.log.append((self.gen, cls, ref, op))
        if len(self.log) > EVENT_LOG_LIMIT:
            del self.log[: len(self.log) - EVENT_LOG_LIMIT]
        if self.world.bulk is None:  # nobody waits while the datacenter builder runs (before the listeners start)
            self.world.cond.notify_all()

    # access -------------------------------------------------------------
    def exists(self, cls: str, ref: str) -> bool:
        return ref in self.tables[cls]

    def get(self, cls: str, ref: str) -> dict:
        """The live record (callers must not mutate it; use set/update)."""
        try:
            return self.tables[cls][ref]
        except KeyError:
            raise XapiError("HANDLE_INVALID", cls, ref) from None

    def render(self, cls: str, ref: str) -> dict:
        rec = self.get(cls, ref)
        return {f: (value if type(value) in _ATOMS else clone(value))
                for f, value in ((f, rec[f]) for f in self.spec.classes[cls]["record_fields"])}

    def by_uuid(self, cls: str, value: str) -> str:
        ref = self.uuids[cls].get(value)
        if ref is None:
            raise XapiError("UUID_INVALID", cls, value)
        return ref

    def refs(self, cls: str) -> list[str]:
        return list(self.tables[cls])

    def find(self, cls: str, **criteria) -> list[str]:
        return [r for r, rec in self.tables[cls].items() if all(rec.get(k) == v for k, v in criteria.items())]

    def one(self, cls: str) -> str:
        refs = self.refs(cls)
        return refs[0] if refs else NULL_REF

    # mutation -----------------------------------------------------------
    def _defaults(self, cls: str) -> dict:
        cache = self.world.__dict__.setdefault("_record_defaults", {})
        if cls not in cache:
            cache[cls] = {f: self.spec.default_for(cls, f) for f in self.spec.fields[cls]}
        return cache[cls]

    def _mutable_defaults(self, cls: str) -> list[str]:
        """The fields of `cls` whose default is a set or a map (copied into each new record)."""
        cache = self.world.__dict__.setdefault("_mutable_defaults", {})
        if cls not in cache:
            cache[cls] = [f for f, v in self._defaults(cls).items() if type(v) not in _ATOMS]
        return cache[cls]

    def _relation_fields(self, cls: str) -> list[str]:
        """The fields of `cls` on the ref side of a ref<->set relation (the ones _link keeps in step)."""
        cache = self.world.__dict__.setdefault("_relation_fields", {})
        if cls not in cache:
            cache[cls] = [f for f in self.spec.fields[cls] if (cls, f) in self.spec.relations]
        return cache[cls]

    def create(self, cls: str, values: dict | None = None, ref: str | None = None) -> str:
        ref = ref or new_ref()
        values = values or {}
        defaults = self._defaults(cls)
        rec = dict(defaults)
        for field in self._mutable_defaults(cls):  # a record never shares a set or map with the defaults
            if field not in values:
                rec[field] = clone(defaults[field])
        rec.update(values)
        if not rec.get("uuid") and "uuid" in rec:
            rec["uuid"] = str(uuidlib.uuid4())
        self.tables[cls][ref] = rec
        if "uuid" in rec:
            self.uuids[cls][rec["uuid"]] = ref
        self.emit(cls, ref, "add")
        for field in self._relation_fields(cls):
            self._link(cls, ref, field, None, rec.get(field))
        return ref

    def insert_raw(self, cls: str, ref: str, rec: dict, meta: dict | None = None) -> None:
        """Adopt a record as is (pool join / state load); emits an add event."""
        self.tables[cls][ref] = rec
        if "uuid" in rec:
            self.uuids[cls][rec["uuid"]] = ref
        if meta:
            self.meta[ref] = meta
        self.emit(cls, ref, "add")

    def set(self, cls: str, ref: str, field: str, value) -> None:
        self.update(cls, ref, {field: value})

    def update(self, cls: str, ref: str, values: dict) -> None:
        rec = self.get(cls, ref)
        changed = False
        relations = self.spec.relations
        for field, value in values.items():
            old = rec.get(field)
            if old == value and type(old) is type(value):
                continue
            rec[field] = value
            changed = True
            if (cls, field) in relations:
                self._link(cls, ref, field, old, value)
            if field == "power_state" and cls == "VM":
                self._record_power(rec, old, value)
        if changed:
            self.emit(cls, ref, "mod")

    def _record_power(self, rec: dict, old, new) -> None:
        """Append one VM power-state transition (simulated time, VM uuid and name, from, to) to the pool's history:
        a test proves "no VM ever left Running" from it, not from a before/after snapshot that misses a round trip."""
        history = self.meta.setdefault(POWER_HISTORY, [])
        history.append({"t": round(self.world.clock.elapsed(), 3), "vm": rec.get("uuid", ""), "name": rec.get("name_label", ""),
                        "from": old, "to": new})
        if len(history) > POWER_HISTORY_LIMIT:
            del history[: len(history) - POWER_HISTORY_LIMIT]

    def destroy(self, cls: str, ref: str) -> None:
        rec = self.get(cls, ref)
        for field, value in rec.items():
            self._link(cls, ref, field, value, None)
        del self.tables[cls][ref]
        self.uuids[cls].pop(rec.get("uuid"), None)
        self.meta.pop(ref, None)
        self.emit(cls, ref, "del")

    def _link(self, cls: str, ref: str, field: str, old, new) -> None:
        """Keep the set side of a ref<->set relation in step with the ref side."""
        target = self.spec.relations.get((cls, field))
        if target is None or old == new:
            return
        if cls == "VDI" and field == "SR":  # the VDI set on the storage medium changes (flushed by san.flush_dirty)
            self.world.storage_dirty.update((id(self), sr) for sr in (old, new) if sr and sr != NULL_REF)
        tcls, tfield = target
        if old and old != NULL_REF and old in self.tables[tcls]:
            trec = self.tables[tcls][old]
            if ref in trec[tfield]:
                trec[tfield] = [r for r in trec[tfield] if r != ref]
                self.emit(tcls, old, "mod")
        if new and new != NULL_REF and new in self.tables[tcls]:
            trec = self.tables[tcls][new]
            if ref not in trec[tfield]:
                trec[tfield] = trec[tfield] + [ref]
                self.emit(tcls, new, "mod")

    def token(self) -> str:
        return "%020d,%020d" % (self.gen, 0)

    def dump(self) -> dict:
        return {"gen": self.gen, "tables": self.tables, "meta": self.meta}


class World:
    """Everything one simulator process holds: spec, clock, pools, sessions."""

    def __init__(self, spec: Spec, time_scale: float = 1.0) -> None:
        self.spec = spec
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.clock = Clock(time_scale)
        self.scheduler = Scheduler(self.clock, self.lock)
        self.dbs: list[Database] = []
        # address -> (Database, host ref); the listener of each simulated host
        self.hosts: dict[str, tuple[Database, str]] = {}
        self.host_info: dict[str, dict] = {}
        self.sessions: dict[str, Database] = {}
        self.username = "root"
        self.password = ""
        self.latency_ms = 0.0
        # simulated iSCSI fabric seen by the lvmoiscsi driver (see handlers_storage)
        self.iscsi: list[dict] = []
        self.lun_sr: dict[str, str] = {}  # legacy saved states only (see app.load)
        # what is written on static-fabric LUNs and NFS exports (see san.py)
        self.lun_data: dict[str, dict] = {}
        self.nfs_exports: dict[str, dict] = {}
        self.lun_sizes: dict[str, int] = {}  # last size seen in the ONTAP fabric view, by SCSIid
        self.storage_dirty: set[tuple[int, str]] = set()  # (id(Database), SR ref) whose VDI set changed
        self.ontap_control = ""
        self.rules = None
        self.time_model: dict = {}  # see model.set_time_model; empty = model.TIME_MODEL
        # SM's per-SR lock (sm SRCommand._run_locked, lock.py): exclusive VDI operations on one SR run one at a time
        self.sr_locks: dict[str, threading.Lock] = {}
        self.sr_released: dict[str, float] = {}  # simulated time each SR lock was last released at
        self.op_released: dict[str, float] = {}  # simulated time the last operation on an object ended at
        self.next_domid = 0
        # while the datacenter builder runs: SR usage and host memory are computed once at the end
        self.bulk: dict | None = None

    def sr_lock(self, sr_uuid: str) -> threading.Lock:
        with self.lock:
            return self.sr_locks.setdefault(sr_uuid, threading.Lock())

    def new_db(self) -> Database:
        db = Database(self)
        self.dbs.append(db)
        return db

    def db_for_address(self, address: str) -> tuple[Database, str]:
        return self.hosts[address]

    def address_of(self, db: Database, host_ref: str) -> str:
        return db.get("host", host_ref)["address"]

    def master_of(self, db: Database) -> str:
        pool = db.one("pool")
        return db.get("pool", pool)["master"]
