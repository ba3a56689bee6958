# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""session, event, task and message: the plumbing every client relies on."""
from __future__ import annotations

import re
import time

from . import sessions
from .dispatch import Context, eval_where, handler, parse_where
from .spec import DT, I4, NULL_REF, XapiError, to_dt
from .state import Database, new_ref

MAX_EVENT_WAIT_S = 300.0
# xapi_event.ml Token.of_string: "" or exactly two integers joined by a comma (what Token.to_string writes)
_TOKEN = re.compile(r"^(\d+),(\d+)$")


# --------------------------------------------------------------------------- session
def _login(ctx: Context, uname: str, pwd: str, originator: str, check_master: bool) -> str:
    world = ctx.world
    with world.lock:
        db, host = world.hosts[ctx.host_address]
        if check_master:
            master = world.master_of(db)
            if master != host:
                raise XapiError("HOST_IS_SLAVE", db.get("host", master)["address"])
    if uname != world.username or pwd != world.password:
        delay = float(world.spec.runtime["session"].get("bad_credentials_delay_seconds", 5))
        world.clock.sleep(delay)
        raise XapiError("SESSION_AUTHENTICATION_FAILED", uname, "Authentication failure")
    with world.lock:
        db, host = world.hosts[ctx.host_address]
        sessions.maybe_gc(world)
        now = world.clock.now_dt()
        ref = db.create("session", {"this_host": host, "last_active": now, "validation_time": now, "pool": False,
                                    "is_local_superuser": True, "originator": originator, "auth_user_name": uname})
        world.sessions[ref] = db
        sessions.touch(world, db, ref)
        return ref


@handler("session", "login_with_password", locked=False)
def session_login(ctx: Context, uname, pwd, _version, originator):
    return _login(ctx, uname, pwd, originator, True)


@handler("session", "slave_local_login_with_password", locked=False)
def session_local_login(ctx: Context, uname, pwd):
    return _login(ctx, uname, pwd, "", False)


@handler("session", "logout")
@handler("session", "local_logout")
def session_logout(ctx: Context):
    if ctx.session in ctx.db.tables["session"]:
        ctx.db.destroy("session", ctx.session)
    ctx.world.sessions.pop(ctx.session, None)


@handler("session", "get_all_subject_identifiers", write=False)
def session_subjects(_ctx: Context):
    return []


@handler("session", "change_password")
def session_change_password(ctx: Context, old_pwd, new_pwd):
    if old_pwd != ctx.world.password:
        raise XapiError("SESSION_AUTHENTICATION_FAILED", ctx.world.username, "Authentication failure")
    ctx.world.password = new_pwd


# --------------------------------------------------------------------------- event
def parse_token(token: str) -> int:
    if token == "":
        return -1
    m = _TOKEN.match(str(token))
    if not m:
        raise XapiError("EVENT_FROM_TOKEN_PARSE_FAILURE", token)
    return int(m.group(1))


def parse_subscriptions(db: Database, classes: list[str]) -> list[tuple[str, str | None]]:
    """xapi_event.ml Subscription.of_string: "*", or a class name in any case, optionally "/<ref>" (split at the first
    slash). Every entry parses: an unknown class, an empty entry or "vm/" subscribe to nothing, without an error."""
    subs: list[tuple[str, str | None]] = []
    lower = db.spec.lower
    for entry in classes:
        if entry == "*":
            subs.append(("*", None))
            continue
        name, sep, ref = str(entry).partition("/")
        subs.append((lower.get(name.lower(), name.lower()), ref if sep else None))
    return subs


def _matches(subs, cls: str, ref: str) -> bool:
    for sub_cls, sub_ref in subs:
        if sub_cls == "*" or (sub_cls == cls and (sub_ref is None or sub_ref == ref)):
            return True
    return False


def _event(db: Database, gen: int, cls: str, ref: str, op: str) -> dict:
    ev = {"id": str(gen), "timestamp": "0.0", "class": cls.lower(), "operation": op, "ref": ref}
    if op != "del" and ref in db.tables[cls]:
        ev["snapshot"] = db.render(cls, ref)
    return ev


def collect_events(db: Database, subs, since: int) -> list[dict]:
    """Changes after generation `since`, one event per object (latest state), like xapi."""
    if since < 0:
        out = []
        for cls, table in db.tables.items():
            if not db.spec.classes[cls]["gen_events"]:
                continue
            whole = any(sub_cls == "*" or (sub_cls == cls and sub_ref is None) for sub_cls, sub_ref in subs)
            for ref in table:
                if whole or _matches(subs, cls, ref):
                    out.append(_event(db, db.gen, cls, ref, "add"))
        return out
    latest: dict[tuple[str, str], tuple[int, str, bool]] = {}
    for gen, cls, ref, op in db.log:
        if gen <= since or not _matches(subs, cls, ref):
            continue
        key = (cls, ref)
        prev = latest.get(key)
        created = op == "add" or (prev is not None and prev[2])
        latest[key] = (gen, op, created)
    out = []
    for (cls, ref), (gen, op, created) in sorted(latest.items(), key=lambda kv: kv[1][0]):
        if op == "del" and created:
            continue
        if op == "mod" and created:
            op = "add"
        out.append(_event(db, gen, cls, ref, op))
    return out


def valid_ref_counts(db: Database) -> dict:
    """xapi_event.ml from_inner: the row count of every database table, whatever the subscription."""
    return {cls.lower(): I4(len(table)) for cls, table in db.tables.items() if db.spec.classes[cls].get("in_database", True)}


@handler("event", "from", locked=False)
def event_from(ctx: Context, classes, token, timeout):
    world = ctx.world
    since = parse_token(token)
    deadline = time.monotonic() + max(0.0, min(float(timeout), MAX_EVENT_WAIT_S))
    with world.lock:
        db = ctx.db
        subs = parse_subscriptions(db, classes)
        while True:
            events = collect_events(db, subs, since)
            remaining = deadline - time.monotonic()
            if events or remaining <= 0:
                return {"events": events, "valid_ref_counts": valid_ref_counts(db), "token": db.token()}
            world.cond.wait(min(0.5, remaining))


@handler("event", "inject")
def event_inject(ctx: Context, cls, ref):
    real = ctx.spec.lower.get(str(cls).lower())
    if real is None or ref not in ctx.db.tables.get(real, {}):
        raise XapiError("HANDLE_INVALID", cls, ref)
    ctx.db.emit(real, ref, "mod")
    return ctx.db.token()


@handler("event", "get_current_id")
def event_current_id(ctx: Context):
    return ctx.db.gen


@handler("event", "register")
def event_register(ctx: Context, classes):
    meta = ctx.db.meta.setdefault(ctx.session, {})
    meta["event_classes"] = sorted(set(meta.get("event_classes", [])) | set(classes))
    meta.setdefault("event_gen", ctx.db.gen)


@handler("event", "unregister")
def event_unregister(ctx: Context, classes):
    meta = ctx.db.meta.setdefault(ctx.session, {})
    meta["event_classes"] = [c for c in meta.get("event_classes", []) if c not in classes]


@handler("event", "next", locked=False)
def event_next(ctx: Context):
    world = ctx.world
    deadline = time.monotonic() + 30.0
    with world.lock:
        meta = ctx.db.meta.get(ctx.session, {})
        if not meta.get("event_classes"):
            raise XapiError("SESSION_NOT_REGISTERED", ctx.session)
        subs = parse_subscriptions(ctx.db, meta["event_classes"])
        while True:
            events = collect_events(ctx.db, subs, meta["event_gen"])
            if events or time.monotonic() >= deadline:
                meta["event_gen"] = ctx.db.gen
                for ev in events:
                    snap = ev.get("snapshot") or {}
                    ev["obj_uuid"] = snap.get("uuid", "")
                    ev["timestamp"] = world.clock.now_dt()
                return events
            world.cond.wait(0.5)


# --------------------------------------------------------------------------- task
@handler("task", "create")
def task_create(ctx: Context, label, description):
    return ctx.db.create("task", {"name_label": label, "name_description": description, "status": "pending", "type": "<none/>",
                                  "created": ctx.world.clock.now_dt(), "resident_on": ctx.host,
                                  "session": ctx.session or NULL_REF})


@handler("task", "destroy")
def task_destroy(ctx: Context, task):
    ctx.db.destroy("task", task)


@handler("task", "cancel")
def task_cancel(ctx: Context, task):
    rec = ctx.db.get("task", task)
    if rec["status"] != "pending":
        return None
    if "cancel" not in rec["allowed_operations"]:
        raise XapiError("OPERATION_NOT_ALLOWED", "task %s cannot be cancelled now" % task)
    ops = dict(rec["current_operations"])
    ops[new_ref().split(":", 1)[1]] = "cancel"
    ctx.db.update("task", task, {"current_operations": ops, "status": "cancelling"})
    if ctx.db.meta.get(task, {}).get("method") is None:
        # a client-created task has no worker: it is cancelled at once
        ctx.db.update("task", task, {"status": "cancelled", "finished": ctx.world.clock.now_dt(),
                                     "error_info": ["TASK_CANCELLED", task], "current_operations": {}})
    return None


@handler("task", "set_status")
def task_set_status(ctx: Context, task, value):
    ctx.db.set("task", task, "status", value)


@handler("task", "set_progress")
def task_set_progress(ctx: Context, task, value):
    ctx.db.set("task", task, "progress", value)


@handler("task", "set_result")
def task_set_result(ctx: Context, task, value):
    ctx.db.set("task", task, "result", value)


@handler("task", "set_error_info")
def task_set_error_info(ctx: Context, task, value):
    ctx.db.set("task", task, "error_info", value)


@handler("task", "set_other_config")
def task_set_other_config(ctx: Context, task, value):
    ctx.db.set("task", task, "other_config", value)


@handler("task", "add_to_other_config")
def task_add_other_config(ctx: Context, task, key, value):
    current = ctx.db.get("task", task)["other_config"]
    if key in current:
        raise XapiError("MAP_DUPLICATE_KEY", "task", "other_config", task, key)
    ctx.db.set("task", task, "other_config", dict(current, **{key: value}))


@handler("task", "remove_from_other_config")
def task_remove_other_config(ctx: Context, task, key):
    current = ctx.db.get("task", task)["other_config"]
    ctx.db.set("task", task, "other_config", {k: v for k, v in current.items() if k != key})


# --------------------------------------------------------------------------- message
@handler("message", "create")
def message_create(ctx: Context, name, priority, cls, obj_uuid, body):
    return ctx.db.create("message", {"name": name, "priority": priority, "cls": cls, "obj_uuid": obj_uuid,
                                     "timestamp": ctx.world.clock.now_dt(), "body": body})


@handler("message", "destroy")
def message_destroy(ctx: Context, ref):
    ctx.db.destroy("message", ref)


@handler("message", "destroy_many")
def message_destroy_many(ctx: Context, refs):
    for ref in refs:
        if ref in ctx.db.tables["message"]:
            ctx.db.destroy("message", ref)


@handler("message", "destroy_all")
def message_destroy_all(ctx: Context, _filters):
    for ref in ctx.db.refs("message"):
        ctx.db.destroy("message", ref)


@handler("message", "get_all", write=False)
def message_get_all(ctx: Context):
    return ctx.db.refs("message")


@handler("message", "get_all_records", write=False)
def message_get_all_records(ctx: Context):
    return {ref: ctx.db.render("message", ref) for ref in ctx.db.refs("message")}


@handler("message", "get_all_records_where", write=False)
def message_get_all_records_where(ctx: Context, expr):
    tree = parse_where(expr)
    return {r: ctx.db.render("message", r) for r in ctx.db.refs("message") if eval_where(tree, ctx.db.get("message", r))}


@handler("message", "get_record", write=False)
def message_get_record(ctx: Context, ref):
    return ctx.db.render("message", ref)


@handler("message", "get_by_uuid", write=False)
def message_get_by_uuid(ctx: Context, value):
    return ctx.db.by_uuid("message", value)


def _since(value) -> DT:
    return to_dt(value) if value else DT("19700101T00:00:00Z")


@handler("message", "get_since", write=False)
def message_get_since(ctx: Context, since):
    cutoff = _since(since)
    return {r: ctx.db.render("message", r) for r, rec in ctx.db.tables["message"].items() if rec["timestamp"] > cutoff}


@handler("message", "get", write=False)
def message_get(ctx: Context, cls, obj_uuid, since):
    cutoff = _since(since)
    return {r: ctx.db.render("message", r) for r, rec in ctx.db.tables["message"].items()
            if rec["cls"] == cls and rec["obj_uuid"] == obj_uuid and rec["timestamp"] > cutoff}
