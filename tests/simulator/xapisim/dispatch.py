# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Method resolution, argument checking and the implicit (generated) messages.

Custom behaviour lives in handlers.py and registers itself in HANDLERS; any
message without a custom handler is served generically from its datamodel
kind (getter, setter, map add/remove, lookups, constructor, destructor).
"""
from __future__ import annotations

import re
import threading
import time

from . import san, sessions
from .spec import NULL_REF, XapiError, parse_type
from .state import Database, World
from .wire import xml_value

# (class, message) -> (function, options); filled by handlers.register
HANDLERS: dict[tuple[str, str], tuple] = {}
SECRET_WORDS = re.compile(r"pass|pwd|secret", re.IGNORECASE)
READ_PREFIXES = ("get_", "query_", "assert_", "ha_compute_", "ha_failover_plan_exists", "retrieve_", "has_", "check_")
READ_KINDS = ("field_getter", "get_all", "get_all_records", "get_all_where", "get_all_records_where", "get_by_uuid",
              "get_by_name_label", "get_record")
# datamodel.ml no_task_id_for: calls of these classes never get a task of their own
NO_TASK_ID_FOR = ("task", "event")
READ_MESSAGES = {("session", "login_with_password"), ("session", "logout"), ("session", "slave_local_login_with_password"),
                 ("session", "local_logout")}


def handler(cls: str, msg: str, locked: bool = True, write: bool | None = None):
    """Register a custom implementation; locked=False handlers take the world lock themselves."""
    def wrap(func):
        HANDLERS[(cls, msg)] = (func, {"locked": locked, "write": write})
        return func
    return wrap


class Context:
    """What a handler sees: the pool database, the caller's session and host, its task."""

    def __init__(self, world: World, db: Database, host: str, session: str | None, method: str,
                 task: str | None = None, address: str = "") -> None:
        self.world = world
        self.host_address = address
        self.db = db
        self.host = host
        self.session = session
        self.method = method
        self.task = task
        # simulated time at which the previous timed phase of this call ended: consecutive phases follow each
        # other on the simulated clock even when a clock jump (POST /sim/time) wakes the worker late
        self.cursor: float | None = None

    @property
    def spec(self):
        return self.world.spec

    def cancelled(self) -> bool:
        if self.task is None:
            return False
        rec = self.db.tables["task"].get(self.task)
        return bool(rec and "cancel" in rec["current_operations"].values())

    def check_cancel(self) -> None:
        if self.cancelled():
            raise XapiError("TASK_CANCELLED", self.task)

    def progress(self, value: float) -> None:
        if self.task is not None and self.task in self.db.tables["task"]:
            self.db.set("task", self.task, "progress", float(value))

    def work(self, sim_seconds: float, steps: int = 4, span: tuple[float, float] = (0.0, 1.0)) -> None:
        """Spend simulated time WITHOUT holding the world lock; honours task.cancel. The task's progress
        moves through `span` (a part of a longer operation)."""
        clock = self.world.clock
        now = clock.elapsed()
        start = self.cursor if self.cursor is not None and self.cursor <= now else now
        for i in range(steps):
            if not clock.sleep_until(start + sim_seconds * (i + 1) / steps, should_stop=self.cancelled):
                break
            with self.world.lock:
                self.progress(min(0.99, span[0] + (span[1] - span[0]) * (i + 1) / float(steps + 1)))
        with self.world.lock:
            self.check_cancel()
        self.cursor = start + sim_seconds

    def retry_busy(self, func, obj: str = "", max_wait_s: float = 7200.0):
        """Helpers.retry_with_global_lock (with_vm_operation, VDI marking): OTHER_OPERATION_IN_PROGRESS is
        transient, the call waits for the object to change and tries again (Policy.standard gives up after
        2 hours), honouring task.cancel. Called WITHOUT the world lock; func runs holding it. After a wait the
        call's simulated time continues from when the operation it waited for ended (see released)."""
        clock = self.world.clock
        deadline = clock.elapsed() + max_wait_s
        waited = False
        with self.world.lock:
            while True:
                try:
                    result = func()
                    break
                except XapiError as err:
                    if err.code != "OTHER_OPERATION_IN_PROGRESS" or clock.elapsed() > deadline:
                        raise
                    self.check_cancel()
                    waited = True
                    self.world.cond.wait(0.05)
            released = self.world.op_released.get(obj)
            if waited and released is not None and released <= clock.elapsed():
                self.cursor = max(released, self.cursor or released)
        return result

    def released(self, obj: str) -> None:
        """An operation on obj ended now on this call's simulated timeline (world lock held)."""
        self.world.op_released[obj] = self.cursor if self.cursor is not None else self.world.clock.elapsed()

    def sr_work(self, sr_uuid: str, sim_seconds: float, span: tuple[float, float] = (0.0, 1.0)) -> None:
        """Spend simulated time holding the SR's SM lock (sm SRCommand._run_locked takes it for the driver's
        OPS_EXCLUSIVE commands): concurrent exclusive operations on one SR queue behind each other. Waiting
        for the lock honours task.cancel; the world lock is not held."""
        lock = self.world.sr_lock(sr_uuid)
        waited = False
        while not lock.acquire(timeout=0.02):
            waited = True
            with self.world.lock:
                self.check_cancel()
        try:
            released = self.world.sr_released.get(sr_uuid)
            if waited and released is not None:  # our turn began when the previous holder's work ended
                self.cursor = max(released, self.cursor or released)
            self.work(sim_seconds, span=span)
        finally:
            self.world.sr_released[sr_uuid] = self.cursor if self.cursor is not None else self.world.clock.elapsed()
            lock.release()


def is_write(cls: str, msg: str, spec_msg: dict | None) -> bool:
    if cls in ("system", "event"):
        return False
    if (cls, msg) in READ_MESSAGES:
        return False
    custom = HANDLERS.get((cls, msg))
    if custom is not None and custom[1]["write"] is not None:
        return custom[1]["write"]
    if spec_msg is not None and spec_msg["kind"] in READ_KINDS:
        return False
    if cls == "message" and msg.startswith("get"):
        return False
    return not msg.startswith(READ_PREFIXES)


def split_method(world: World, method: str) -> tuple[bool, str, str]:
    """Return (is_async, class, message); accepts Class.msg and Class_msg."""
    is_async = False
    name = method
    if name.startswith("Async."):
        is_async, name = True, name[6:]
    if "." in name:
        cls, _sep, msg = name.partition(".")
        return is_async, cls, msg
    best = ""
    for cls in world.spec.classes:
        if name.startswith(cls + "_") and len(cls) > len(best):
            best = cls
    if best:
        return is_async, best, name[len(best) + 1:]
    return is_async, "", name


def summarize(spec_msg: dict | None, args: list, cls: str = "") -> str:
    """A short, secret-free description of the arguments for the call log."""
    names = [p["name"] for p in spec_msg["params"]] if spec_msg else []
    parts = []
    for i, value in enumerate(args):
        name = names[i] if i < len(names) else "arg%d" % i
        if cls == "secret" and name != "self":
            parts.append("%s=***" % name)
            continue
        parts.append("%s=%s" % (name, _redact(name, value)))
    text = ", ".join(parts)
    return text if len(text) <= 300 else text[:297] + "..."


def _redact(name: str, value):
    if SECRET_WORDS.search(name):
        return "***"
    if isinstance(value, dict):
        return {k: ("***" if SECRET_WORDS.search(str(k)) else _redact(str(k), v)) for k, v in value.items()}
    if isinstance(value, str) and len(value) > 80:
        return value[:77] + "..."
    return value


# ---------------------------------------------------------------------------
# where-expressions (get_all_records_where)
_TOKEN = re.compile(r'\s*(field\s+"(?P<qf>[^"]+)"|(?P<f>[A-Za-z_][A-Za-z0-9_]*)|"(?P<s>(?:[^"\\]|\\.)*)"|(?P<op>=|\(|\)))')


def parse_where(expr: str):
    """Support `field "x"="v"`, `x="v"`, `and`, `or`, `not`, `true`, `false`, parentheses."""
    tokens = []
    pos = 0
    expr = expr.strip()
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise XapiError("INVALID_VALUE", "expr", expr)
        pos = m.end()
        if m.group("qf"):
            tokens.append(("field", m.group("qf")))
        elif m.group("f"):
            word = m.group("f")
            tokens.append(("kw", word.lower()) if word.lower() in ("and", "or", "not", "true", "false") else ("field", word))
        elif m.group("s") is not None:
            tokens.append(("str", m.group("s").replace('\\"', '"')))
        else:
            tokens.append(("op", m.group("op")))
        while pos < len(expr) and expr[pos].isspace():
            pos += 1
    items = tokens

    def primary(i):
        if i >= len(items):
            raise XapiError("INVALID_VALUE", "expr", expr)
        tok = items[i]
        if tok == ("op", "("):
            node, i = disj(i + 1)
            return node, i + 1
        if tok == ("kw", "not"):
            node, i = primary(i + 1)
            return ("not", node), i
        if tok in (("kw", "true"), ("kw", "false")):
            return ("const", tok[1] == "true"), i + 1
        if tok[0] in ("field", "str") and i + 2 < len(items) + 0 and items[i + 1] == ("op", "="):
            left, right = tok, items[i + 2]
            field = left[1] if left[0] == "field" else right[1]
            value = right[1] if left[0] == "field" else left[1]
            return ("eq", field.replace("__", "_"), value), i + 3
        raise XapiError("INVALID_VALUE", "expr", expr)

    def conj(i):
        node, i = primary(i)
        while i < len(items) and items[i] == ("kw", "and"):
            rhs, i = primary(i + 1)
            node = ("and", node, rhs)
        return node, i

    def disj(i):
        node, i = conj(i)
        while i < len(items) and items[i] == ("kw", "or"):
            rhs, i = conj(i + 1)
            node = ("or", node, rhs)
        return node, i

    if not items:
        return ("const", True)
    tree, end = disj(0)
    if end != len(items):
        raise XapiError("INVALID_VALUE", "expr", expr)
    return tree


def eval_where(tree, rec: dict) -> bool:
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind == "not":
        return not eval_where(tree[1], rec)
    if kind == "and":
        return eval_where(tree[1], rec) and eval_where(tree[2], rec)
    if kind == "or":
        return eval_where(tree[1], rec) or eval_where(tree[2], rec)
    value = rec.get(tree[1])
    if isinstance(value, bool):
        value = "true" if value else "false"
    return str(value) == tree[2]


# ---------------------------------------------------------------------------
# generic implementations of implicit messages

def generic(ctx: Context, cls: str, spec_msg: dict, args: list):
    db = ctx.db
    kind = spec_msg["kind"]
    field = spec_msg.get("field")
    if kind == "field_getter":
        return db.render(cls, args[0])[field] if field in ctx.spec.classes[cls]["record_fields"] else db.get(cls, args[0])[field]
    if kind == "field_setter":
        db.get(cls, args[0])
        db.set(cls, args[0], field, args[1])
        return None
    if kind == "field_add":
        rec = db.get(cls, args[0])
        current = rec[field]
        if isinstance(current, dict):
            key, value = args[1], args[2]
            if key in current:
                raise XapiError("MAP_DUPLICATE_KEY", cls, field, args[0], key)
            db.set(cls, args[0], field, dict(current, **{key: value}))
        elif args[1] not in current:
            db.set(cls, args[0], field, current + [args[1]])
        return None
    if kind == "field_remove":
        rec = db.get(cls, args[0])
        current = rec[field]
        if isinstance(current, dict):
            if args[1] in current:
                db.set(cls, args[0], field, {k: v for k, v in current.items() if k != args[1]})
        elif args[1] in current:
            db.set(cls, args[0], field, [x for x in current if x != args[1]])
        return None
    if kind == "get_all":
        return db.refs(cls)
    if kind == "get_all_records":
        return {ref: db.render(cls, ref) for ref in db.refs(cls)}
    if kind in ("get_all_where", "get_all_records_where"):
        tree = parse_where(args[0])
        refs = [ref for ref in db.refs(cls) if eval_where(tree, db.get(cls, ref))]
        return refs if kind == "get_all_where" else {ref: db.render(cls, ref) for ref in refs}
    if kind == "get_by_uuid":
        return db.by_uuid(cls, args[0])
    if kind == "get_by_name_label":
        return [ref for ref in db.refs(cls) if db.get(cls, ref).get("name_label") == args[0]]
    if kind == "get_record":
        return db.render(cls, args[0])
    if kind == "constructor":
        return db.create(cls, constructor_values(ctx, cls, spec_msg, args[0]))
    if kind == "destructor":
        db.get(cls, args[0])
        db.destroy(cls, args[0])
        return None
    raise XapiError("NOT_IMPLEMENTED", "%s.%s" % (cls, spec_msg["name"]))


def constructor_values(ctx: Context, cls: str, spec_msg: dict, record: dict) -> dict:
    """Validate a constructor struct against constructor_fields (missing -> INTERNAL_ERROR)."""
    if not isinstance(record, dict):
        raise XapiError("FIELD_TYPE_ERROR", "args")
    values = {}
    for cf in spec_msg.get("constructor_fields", []):
        name = cf["name"]
        if name in record:
            values[name] = ctx.spec.coerce(record[name], ctx.spec.field_types[cls][name], name)
        elif cf.get("required", True):
            raise XapiError("INTERNAL_ERROR", 'Server_helpers.Dispatcher_FieldNotFound("%s")' % name)
    return values


# ---------------------------------------------------------------------------

class Dispatcher:
    """Turns (endpoint, method, params) into a result or a XapiError."""

    def __init__(self, world: World) -> None:
        self.world = world

    def list_methods(self) -> list[str]:
        out = ["system.listMethods", "system.isAlive"]
        for cls, msgs in self.world.spec.messages.items():
            for name, msg in msgs.items():
                out.append("%s.%s" % (cls, name))
                if msg.get("async"):
                    out.append("Async.%s.%s" % (cls, name))
        return out

    def resolve(self, method: str):
        """(is_async, cls, msg, spec message or None)."""
        is_async, cls, msg = split_method(self.world, method)
        spec_msg = self.world.spec.messages.get(cls, {}).get(msg)
        return is_async, cls, msg, spec_msg

    def call(self, address: str, method: str, params: list):
        world = self.world
        if method == "system.listMethods":
            return self.list_methods()
        if method.startswith("system.isAlive"):
            return params[0] if params else ""
        is_async, cls, msg, spec_msg = self.resolve(method)
        with world.lock:
            if address in getattr(world, "down", ()):
                # a crashed host (failure.crash) does not answer: the connection closes without a reply
                raise ConnectionResetError("simulated host %s is down" % address)
            if address not in world.hosts:
                raise XapiError("INTERNAL_ERROR", "no simulated host listens on %s" % address)
            db, host = world.db_for_address(address)
        if spec_msg is None or spec_msg["state"] == "Removed_s":
            # gen_server.ml: a removed message checks its session, then answers MESSAGE_REMOVED; an unknown
            # name with arguments takes the first one as a session (Session_check.check, as for a host
            # extension) before xapi_extensions.ml find_extension answers MESSAGE_METHOD_UNKNOWN [name]
            if params:
                self.check_session(db, params[0])
            if spec_msg is None:
                raise XapiError("MESSAGE_METHOD_UNKNOWN", method)
            raise XapiError("MESSAGE_REMOVED")
        if is_async and not spec_msg.get("async"):
            raise XapiError("Fault", "No async mode for this operation (rpc: %s)" % method)
        session = None
        args = list(params)
        if spec_msg["session"]:
            if not args:
                raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", method, spec_msg_required(spec_msg), 0)
            session = args.pop(0)
            db = self.check_session(db, session)
        args = self.check_args(db, method, spec_msg, args)
        ctx = Context(world, db, host, session, method, address=address)
        if is_async:
            return self.start_task(ctx, cls, msg, spec_msg, args)
        if spec_msg.get("async") and cls not in NO_TASK_ID_FOR:
            return self.run_with_task(ctx, cls, msg, spec_msg, args)
        return self.run(ctx, cls, msg, spec_msg, args)

    def check_session(self, db: Database, session) -> Database:
        """session_check.ml: SESSION_INVALID [ref] for an unknown, destroyed, expired or foreign session (sessions
        are pool-local); the garbage collector's pass (sessions.gc_sessions) runs first when one is due."""
        world = self.world
        with world.lock:
            sessions.maybe_gc(world)
            sdb = world.sessions.get(session) if isinstance(session, str) else None
            if sdb is None or sdb is not db or session not in sdb.tables["session"]:
                raise XapiError("SESSION_INVALID", session)
            sessions.touch(world, sdb, session)
            return sdb

    def check_args(self, db: Database, method: str, spec_msg: dict, args: list) -> list:
        """Arity (defaults fill trailing params), lenient coercion, HANDLE_INVALID on bad refs."""
        declared = spec_msg["params"]
        required = spec_msg_required(spec_msg)
        if len(args) < required or len(args) > len(declared):
            raise XapiError("MESSAGE_PARAMETER_COUNT_MISMATCH", method, required, len(args))
        spec = self.world.spec
        out = []
        for i, param in enumerate(declared):
            ptype = parse_type(param["type"])
            if i < len(args):
                out.append(args[i] if ptype[0] == "record" else spec.coerce(args[i], ptype, param["name"]))
            elif param.get("default") is not None:
                out.append(spec.coerce(param["default"], ptype, param["name"]))
            else:
                out.append(spec.zero(ptype))
        with self.world.lock:
            for param, value in zip(declared, out):
                ptype = parse_type(param["type"])
                if ptype[0] != "ref" or ptype[1] not in db.tables or ptype[1] == "session":
                    continue
                if value == NULL_REF and param["name"] != "self":
                    continue
                if value not in db.tables[ptype[1]]:
                    raise XapiError("HANDLE_INVALID", ptype[1], value)
        return out

    def run(self, ctx: Context, cls: str, msg: str, spec_msg: dict, args: list):
        try:
            return self._run(ctx, cls, msg, spec_msg, args)
        finally:
            if self.world.storage_dirty:
                san.flush_dirty(self.world)

    def _run(self, ctx: Context, cls: str, msg: str, spec_msg: dict, args: list):
        custom = HANDLERS.get((cls, msg))
        if custom is not None:
            func, opts = custom
            if opts["locked"]:
                with self.world.lock:
                    return func(ctx, *args)
            return func(ctx, *args)
        if spec_msg["kind"] == "custom":
            implied = implied_field_message(self.world.spec, cls, msg)
            if implied is None:
                raise XapiError("NOT_IMPLEMENTED", "%s.%s" % (cls, msg))
            spec_msg = implied
        with self.world.lock:
            result = generic(ctx, cls, spec_msg, args)
            if cls == "VM" and spec_msg["kind"].startswith("field_") and spec_msg["kind"] != "field_getter" \
                    and args and args[0] in ctx.db.tables["VM"]:
                self.world.rules.refresh(ctx.db, args[0])
            return result

    def new_task(self, ctx: Context, label: str, cls: str, msg: str) -> str:
        world = self.world
        with world.lock:
            db = ctx.db
            task = db.create("task", {
                "name_label": label, "name_description": "", "status": "pending",
                "created": world.clock.now_dt(), "resident_on": ctx.host, "progress": 0.0,
                "session": ctx.session or NULL_REF, "allowed_operations": ["cancel"], "type": "<none/>",
            })
            db.meta[task] = {"method": "%s.%s" % (cls, msg)}
        ctx.task = task
        return task

    def run_with_task(self, ctx: Context, cls: str, msg: str, spec_msg: dict, args: list):
        """A synchronous call of a message that has an async form runs in a task of its own, destroyed when the
        call returns (context.ml of_http_req: generate_task_for && supports_async -> a task in the database;
        server_helpers.ml do_dispatch sync: Context.finally_destroy_context). Clients watching task events see
        it come and go; it is no API call, so the call log is unchanged."""
        task = self.new_task(ctx, "%s.%s" % (cls, msg), cls, msg)
        try:
            return self.run(ctx, cls, msg, spec_msg, args)
        finally:
            with self.world.lock:
                if task in ctx.db.tables["task"]:
                    ctx.db.destroy("task", task)

    def start_task(self, ctx: Context, cls: str, msg: str, spec_msg: dict, args: list) -> str:
        world = self.world
        task = self.new_task(ctx, "Async.%s.%s" % (cls, msg), cls, msg)

        def body():
            status, result, error = "success", "", []
            try:
                value = self.run(ctx, cls, msg, spec_msg, args)
                result = xml_value("" if value is None else value)
            except XapiError as exc:
                error = exc.description
                status = "cancelled" if exc.code == "TASK_CANCELLED" else "failure"
            except Exception as exc:  # pylint: disable=broad-exception-caught
                # any simulator bug must still finish the task like xapi does
                error = ["INTERNAL_ERROR", "%s: %s" % (type(exc).__name__, exc)]
                status = "failure"
            with world.lock:
                if task in ctx.db.tables["task"]:
                    ctx.db.update("task", task, {"status": status, "progress": 1.0, "result": result,
                                                 "error_info": error, "finished": world.clock.now_dt(),
                                                 "allowed_operations": [], "current_operations": {}})
        thread = threading.Thread(target=body, name="xapisim-task", daemon=True)
        thread.start()
        time.sleep(0)
        return task


def implied_field_message(spec, cls: str, msg: str) -> dict | None:
    """Custom set_/add_to_/remove_from_/add_/remove_ messages on fields behave like the implicit ones
    (e.g. VM.add_to_other_config on the StaticRO VM.other_config)."""
    fields = spec.fields[cls]
    for prefix, kind in (("add_to_", "field_add"), ("remove_from_", "field_remove"), ("set_", "field_setter"),
                         ("add_", "field_add"), ("remove_", "field_remove")):
        if msg.startswith(prefix) and msg[len(prefix):] in fields:
            field = msg[len(prefix):]
            if msg not in fields[field].get("writable_via", []):
                continue
            return {"name": msg, "kind": kind, "field": field}
    return None


def spec_msg_required(spec_msg: dict) -> int:
    return sum(1 for p in spec_msg["params"] if p.get("required", True))
