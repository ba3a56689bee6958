# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Bulk read of a pool (private to vdc.xenpool).

A pool of 64 hosts and 2,000 VMs answers one `<Class>.get_all_records` per class in well under a
second, while one call per object would take minutes and load the master. Everything that needs a
picture of the pool reads it here, in a number of calls that depends only on the classes asked for.
"""

from __future__ import annotations

import typing as t

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


def read_pool_state(client: t.Any, classes: t.Iterable[str] = POOL_CLASSES) -> PoolState:
    """One `<Class>.get_all_records` per class, never a call per object."""
    records: dict[str, dict[str, dict[str, t.Any]]] = {}
    for cls in dict.fromkeys(classes):
        records[cls] = client.call("%s.get_all_records" % cls) or {}
    return PoolState(records)
