# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bulk read of a pool (private to vdc.xenpool).

Everything that needs a picture of the pool reads it here, in a number of calls that does not depend on
the size of the pool: one call per object would take minutes on 2,000 VMs and load the master.

The read is one `event.from(classes, "", timeout)`: with an empty token xapi reports every current
object of the subscribed classes as an `add` event whose `snapshot` is the object's record, the same
record `get_record` and `get_all_records` return (xen-api `ocaml/xapi/xapi_event.ml`, `from` and
`collect_events`; the snapshot comes from `Eventgen.find_get_record`). That is one request however many
classes are asked for, and one consistent picture, taken under the database lock, instead of one per class.
Servers without `event.from` are read with one `<Class>.get_all_records` per class; the client remembers
that after the first refusal, so a module run asks at most once.
"""

from __future__ import annotations

import contextlib
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError

NULL_REF = "OpaqueRef:NULL"

# Classes the pool overview needs; callers may ask for fewer.
POOL_CLASSES: tuple[str, ...] = (
    "pool",
    "host",
    "host_metrics",
    "host_cpu",
    "SR",
    "PBD",
    "network",
    "PIF",
    "VM",
    "VM_metrics",
    "VM_guest_metrics",
    "VBD",
    "VDI",
    "VIF",
)


# Classes xapi never reports through event.from (datamodel `gen_events` false; messages are not database rows
# and have their own event stream): always read with get_all_records.
NO_EVENT_CLASSES = frozenset(("session", "auth", "event", "sr_stat", "probe_result", "user", "data_source", "secret",
                              "vdi_nbd_server_info", "diagnostics", "message"))
# What a server without event.from (or with another signature of it) answers: read per class instead.
NO_EVENT_FROM_CODES = frozenset(("MESSAGE_METHOD_UNKNOWN", "MESSAGE_PARAMETER_COUNT_MISMATCH", "NOT_IMPLEMENTED",
                                 "SESSION_NOT_REGISTERED"))
# Seconds xapi may wait for a first event. Only matters when no object of the classes exists at all (there is
# always a pool and a host): with an empty token every existing object is an event and the answer is immediate.
EVENT_FROM_TIMEOUT = 0.0


def is_null(ref: t.Any) -> bool:
    return not ref or ref == NULL_REF


class PoolState:
    """Records of a pool indexed by class and ref, with ref -> uuid/name resolution."""

    def __init__(self, records: dict[str, dict[str, dict[str, t.Any]]]) -> None:
        self.records = records
        # Check mode of a whole site: objects that earlier steps of the same run create (an SR, a network) are
        # missing from this read. When this is a list, planners note such names here instead of refusing them.
        self.predicted: list[str] | None = None

    def all(self, cls: str) -> dict[str, dict[str, t.Any]]:
        """ref -> record for one class (empty when the class was not read)."""
        return self.records.get(cls, {})

    def get(self, cls: str, ref: t.Any) -> dict[str, t.Any] | None:
        if is_null(ref):
            return None
        return self.records.get(cls, {}).get(ref)

    def uuid_of(self, cls: str, ref: t.Any) -> str | None:
        record = self.get(cls, ref)
        return record.get("uuid") if record else None

    def name_of(self, cls: str, ref: t.Any) -> str | None:
        record = self.get(cls, ref)
        return record.get("name_label") if record else None

    def by_uuid(self, cls: str, uuid: str) -> tuple[str, dict[str, t.Any]] | None:
        for ref, record in self.all(cls).items():
            if record.get("uuid") == uuid:
                return ref, record
        return None

    def by_name(self, cls: str, name: str) -> list[tuple[str, dict[str, t.Any]]]:
        """Every object with that name_label: names are not unique in XenAPI."""
        return [(ref, rec) for ref, rec in self.all(cls).items() if rec.get("name_label") == name]

    @property
    def pool_ref(self) -> str | None:
        return next(iter(self.all("pool")), None)

    @property
    def pool(self) -> dict[str, t.Any] | None:
        ref = self.pool_ref
        return self.all("pool")[ref] if ref else None

    @property
    def master_ref(self) -> str | None:
        pool = self.pool
        return pool.get("master") if pool else None


def read_pool_state(client: t.Any, classes: t.Iterable[str] = POOL_CLASSES, watch: t.Callable[[dict[str, t.Any]], None] | None = None) -> PoolState:
    """The records of the classes asked for, in one event.from (else one get_all_records per class), never a call per object.

    `watch`, when the client can (XenClient.watching), sees each event of the event.from as soon as it is read,
    before the whole answer is: a head start for work that needs only a few records (pool_info's rrd_updates).
    """
    wanted = list(dict.fromkeys(classes))
    records: dict[str, dict[str, dict[str, t.Any]]] = {cls: {} for cls in wanted}
    per_class = [cls for cls in wanted if cls.lower() in NO_EVENT_CLASSES]
    evented = [cls for cls in wanted if cls.lower() not in NO_EVENT_CLASSES]
    if evented and not _read_by_events(client, evented, records, watch):
        per_class = wanted
    for cls in per_class:
        records[cls] = client.call("%s.get_all_records" % cls) or {}
    return PoolState(records)


def _read_by_events(client: t.Any, classes: list[str], records: dict[str, dict[str, dict[str, t.Any]]],
                    watch: t.Callable[[dict[str, t.Any]], None] | None = None) -> bool:
    """Fill records from one event.from with an empty token; False when the server has no usable event.from.

    Event class names are lower case (`vm_guest_metrics`), so they are mapped back to the names asked for.
    XenClient says whether the server has it (`supports_event_from`: None until asked, then True or False), so
    the refusal of an old server is remembered and every later read of the run goes per class. A client without
    that attribute (a scripted test double) is read per class.
    """
    if getattr(client, "supports_event_from", False) is False:
        return False
    watching = getattr(client, "watching", None) if watch is not None else None
    try:
        with watching(watch) if watching is not None else contextlib.nullcontext():
            answer = client.call("event.from", classes, "", EVENT_FROM_TIMEOUT)
    except XapiError as err:
        if err.code not in NO_EVENT_FROM_CODES:
            raise
        client.supports_event_from = False
        return False
    client.supports_event_from = True
    names = {cls.lower(): cls for cls in classes}
    for event in (answer or {}).get("events") or []:
        cls = names.get(str(event.get("class", "")).lower())
        if cls is not None and event.get("operation") != "del" and isinstance(event.get("snapshot"), dict):
            records[cls][event["ref"]] = event["snapshot"]
    return True
