# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Session garbage collection as xapi's database GC does it, on the simulated clock.

xen-api `ocaml/xapi/db_gc.ml` runs a GC pass every `db_GC_TIMER` (30 s); its `timeout_sessions`
(`ocaml/xapi/db_gc_util.ml`) groups the sessions of a pool (root logins by originator, other users by
user name, root logins without originator as "external", pool logins as "internal"), keeps only the
*unused* ones as candidates (no unfinished task, recursively through `parent`), destroys those inactive
for longer than `inactive_session_timeout` (86400 s, `ocaml/xapi/xapi_globs.ml`) and, when a group still
holds more than its limit (`max_sessions_per_originator` = `max_sessions_per_user_name` = 500,
`max_sessions` = 2 × `max_tasks` = 400 for the external and internal groups), the least recently
active beyond the limit.

The simulator runs the same pass lazily: before a login or a session check, when at least 30 simulated
seconds have passed since the previous pass (so a clock jump of N s is followed by the pass xapi would
have run). Activity is kept on the simulated clock with a sequence number, because `last_active` has
one-second resolution and hundreds of logins share a second.
"""
from __future__ import annotations

import itertools

from .spec import NULL_REF
from .state import Database, World

GC_INTERVAL_S = 30.0  # db_gc.ml db_GC_TIMER
INACTIVE_SESSION_TIMEOUT_S = 86400.0  # xapi_globs.ml inactive_session_timeout
MAX_SESSIONS_PER_ORIGINATOR = 500  # xapi_globs.ml
MAX_SESSIONS_PER_USER_NAME = 500  # xapi_globs.ml
MAX_SESSIONS = 2 * 200  # xapi_globs.ml max_sessions = max_tasks * 2
_SEQ = itertools.count()


def touch(world: World, db: Database, session: str) -> None:
    """The session was used now (session_check.ml updates last_active)."""
    db.tables["session"][session]["last_active"] = world.clock.now_dt()
    _activity(world)[session] = (world.clock.elapsed(), next(_SEQ))


def _activity(world: World) -> dict:
    return world.__dict__.setdefault("session_activity", {})


def maybe_gc(world: World) -> None:
    """Run a GC pass if one is due (world lock held)."""
    now = world.clock.elapsed()
    last = world.__dict__.get("session_gc_at")
    if last is None:
        world.session_gc_at = now
        return
    if now - last >= GC_INTERVAL_S:
        world.session_gc_at = now
        for db in list(world.dbs):
            gc_sessions(world, db, now)


def _unused(db: Database, session: str, busy: set, seen: set | None = None) -> bool:
    """No unfinished task of the session or of its parents (db_gc_util.ml is_session_unused)."""
    seen = seen or set()
    if session == NULL_REF or session in seen or session not in db.tables["session"]:
        return True
    if session in busy:
        return False
    seen.add(session)
    return _unused(db, db.tables["session"][session].get("parent", NULL_REF), busy, seen)


def _group(rec: dict) -> tuple[str, int]:
    root = rec.get("auth_user_name", "") in ("", "root")
    if rec.get("pool"):
        return "internal", MAX_SESSIONS
    if root and rec.get("originator", "") == "":
        return "external", MAX_SESSIONS
    if root:
        return "originator:" + rec["originator"], MAX_SESSIONS_PER_ORIGINATOR
    return "username:" + rec["auth_user_name"], MAX_SESSIONS_PER_USER_NAME


def gc_sessions(world: World, db: Database, now: float) -> list[str]:
    """db_gc_util.ml timeout_sessions for one pool database; returns the destroyed session refs."""
    activity = _activity(world)
    groups: dict[str, tuple[int, list]] = {}
    busy = {rec.get("session") for rec in db.tables["task"].values() if rec.get("status") in ("pending", "cancelling")}
    for ref, rec in db.tables["session"].items():
        if ref not in activity:  # e.g. loaded from a saved state: counts as active now
            activity[ref] = (now, next(_SEQ))
        if not _unused(db, ref, busy):
            continue
        name, limit = _group(rec)
        groups.setdefault(name, (limit, []))[1].append(ref)
    doomed = []
    for limit, refs in groups.values():
        young = [r for r in refs if activity[r][0] > now - INACTIVE_SESSION_TIMEOUT_S]
        doomed += [r for r in refs if activity[r][0] <= now - INACTIVE_SESSION_TIMEOUT_S]
        young.sort(key=lambda r: activity[r], reverse=True)
        doomed += young[limit:]
    for ref in doomed:
        db.destroy("session", ref)
        world.sessions.pop(ref, None)
        activity.pop(ref, None)
    return doomed
