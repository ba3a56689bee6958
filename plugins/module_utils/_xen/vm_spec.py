# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""A declared VM: its options, normalised, and checked against the pool before any write (private to vdc.xenpool).

The `vm` module takes these options at the top level and `vms` takes a list of them, so the spec
lives here once. Every check that can be made from the declaration and one bulk read of the pool is
made here, so that bad input is refused with one clear message and nothing written.
"""

from __future__ import annotations

import re
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.argspec import OTHER_CONFIG_SPEC, TAGS_SPEC
from ansible_collections.vdc.xenpool.plugins.module_utils._common.errors import PlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import index, largest_host_memory_mib

MAC_RE = re.compile(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$")
POWER_STATES = ("running", "halted", "suspended", "restarted")
INSTALL_METHODS = ("kickstart", "iso", "netboot")

_DISK = {"position": {"type": "str"}, "name": {"type": "str"}, "size_gib": {"type": "float"}, "sr": {"type": "str"}}
_NIC = {"network": {"type": "str", "required": True}, "mac": {"type": "str"}, "position": {"type": "str"}}
_INSTALL = {
    "method": {"type": "str", "required": True, "choices": list(INSTALL_METHODS)},
    "repository": {"type": "str"}, "kickstart_url": {"type": "str"}, "iso": {"type": "str"},
    "kernel_args": {"type": "str"},
}

# The options of one VM (vm module: top level; vms module: each element of `vms`).
VM_SPEC: dict[str, dict[str, t.Any]] = {
    "name": {"type": "str", "required": True, "aliases": ["name_label"]},
    "uuid": {"type": "str"},
    "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    "power_state": {"type": "str", "choices": list(POWER_STATES)},
    "description": {"type": "str"},
    "template": {"type": "str"},
    "snapshot": {"type": "str"},
    "source_vm": {"type": "str"},
    "sr": {"type": "str"},
    "vcpus": {"type": "int"},
    "vcpus_max": {"type": "int"},
    "memory_mib": {"type": "int"},
    "memory_static_min_mib": {"type": "int"},
    "memory_dynamic_min_mib": {"type": "int"},
    "memory_dynamic_max_mib": {"type": "int"},
    "domain_type": {"type": "str", "choices": ["pv", "hvm", "pvh"]},
    "boot_order": {"type": "str"},
    "pv_args": {"type": "str"},
    "install": {"type": "dict", "options": _INSTALL},
    "disks": {"type": "list", "elements": "dict", "options": _DISK},
    "purge_disks": {"type": "bool", "default": False},
    "destroy_disks": {"type": "bool", "default": False},
    "nics": {"type": "list", "elements": "dict", "options": _NIC},
    "purge_nics": {"type": "bool", "default": False},
    "cdrom": {"type": "dict", "options": {"iso": {"type": "str", "required": True}}},
    "affinity": {"type": "str"},
    "resident_on": {"type": "str"},
    **TAGS_SPEC,
    **OTHER_CONFIG_SPEC,
    "xenstore_data": {"type": "dict"},
    "purge_xenstore_data": {"type": "bool", "default": False},
    "ha_restart_priority": {"type": "str", "choices": ["restart", "best-effort", ""]},
    "order": {"type": "int"},
    "start_delay": {"type": "int"},
    "allow_restart": {"type": "bool", "default": False},
    "wait_for_ip": {"type": "bool", "default": False},
}
SOURCES = ("template", "snapshot", "source_vm")


def _bad(code: str, message: str, hint: str) -> PlanError:
    return PlanError(code, message, hint)


def normalise(params: dict[str, t.Any]) -> dict[str, t.Any]:
    """Validated module parameters -> the desired VM (None = not managed), with the checks that need no pool."""
    want = {k: params.get(k) for k in VM_SPEC}
    if not str(want["name"] or "").strip():
        raise _bad("NAME_EMPTY", "a VM needs a name", "Set name")
    given = [k for k in SOURCES if want.get(k)]
    if len(given) > 1:
        raise _bad("SOURCE_AMBIGUOUS", "%s are mutually exclusive" % " and ".join(given), "Keep one source to create from")
    want["source"] = (given[0], want[given[0]]) if given else None
    _memory(want)
    for field in ("vcpus", "vcpus_max"):
        if want.get(field) is not None and want[field] < 1:
            raise _bad("VCPUS_INVALID", "%s %d: a VM needs at least one vCPU" % (field, want[field]), "Set %s to 1 or more" % field)
    if want["vcpus"] is not None and want["vcpus_max"] is not None and want["vcpus"] > want["vcpus_max"]:
        raise _bad("VCPUS_INVALID", "vcpus %d is above vcpus_max %d" % (want["vcpus"], want["vcpus_max"]),
                   "Raise vcpus_max or lower vcpus")
    want["disks"] = _positions(want["disks"], "disk") if want["disks"] is not None else None
    want["nics"] = _positions(want["nics"], "nic") if want["nics"] is not None else None
    for nic in want["nics"] or []:
        if nic.get("mac"):
            nic["mac"] = nic["mac"].lower().replace("-", ":")
            if not MAC_RE.match(nic["mac"]):
                raise _bad("MAC_INVALID", "NIC %s: '%s' is not a MAC address" % (nic["position"], nic["mac"]),
                           "Write it as six hex pairs, e.g. 02:16:3e:00:00:01")
    for disk in want["disks"] or []:
        if disk.get("size_gib") is not None and disk["size_gib"] <= 0:
            raise _bad("DISK_SIZE_INVALID", "disk %s: size_gib must be positive" % disk["position"], "Fix size_gib")
    _install(want)
    return want


def _memory(want: dict[str, t.Any]) -> None:
    """xapi's order: static_min <= dynamic_min <= dynamic_max <= static_max (MEMORY_CONSTRAINT_VIOLATION_ORDER)."""
    if want["memory_mib"] is not None:
        want["memory_dynamic_max_mib"] = want["memory_dynamic_max_mib"] or want["memory_mib"]
        want["memory_dynamic_min_mib"] = want["memory_dynamic_min_mib"] or want["memory_dynamic_max_mib"]
    order = [("memory_static_min_mib", want["memory_static_min_mib"]), ("memory_dynamic_min_mib", want["memory_dynamic_min_mib"]),
             ("memory_dynamic_max_mib", want["memory_dynamic_max_mib"]), ("memory_mib", want["memory_mib"])]
    known = [(k, v) for k, v in order if v is not None]
    for (k1, v1), (k2, v2) in zip(known, known[1:]):
        if v1 > v2:
            raise _bad("MEMORY_CONSTRAINT_VIOLATION_ORDER", "%s %d MiB is above %s %d MiB" % (k1, v1, k2, v2),
                       "xapi needs static_min <= dynamic_min <= dynamic_max <= static_max (memory_mib)")
    if any(v is not None and v <= 0 for _k, v in known):
        raise _bad("MEMORY_INVALID", "memory sizes must be positive", "Fix the memory options")


def _positions(items: list[dict[str, t.Any]], what: str) -> list[dict[str, t.Any]]:
    """Give each disk/NIC a position (its index unless named or placed); duplicates are an error."""
    out, seen = [], set()
    for index, item in enumerate(items):
        item = dict(item)
        if item.get("position") is None and not (what == "disk" and item.get("name")):
            item["position"] = str(index)
        key = item.get("position") if item.get("position") is not None else "name:%s" % item.get("name")
        if key in seen:
            raise _bad("DEVICE_DUPLICATE", "two %ss at %s" % (what, key), "Give each %s its own position or name" % what)
        seen.add(key)
        out.append(item)
    return out


def _install(want: dict[str, t.Any]) -> None:
    install = want.get("install")
    if not install:
        return
    method = install["method"]
    needed = {"kickstart": ("repository",), "iso": ("iso",), "netboot": ()}[method]
    missing = [k for k in needed if not install.get(k)]
    if missing:
        raise _bad("INSTALL_INVALID", "install method %s needs %s" % (method, ", ".join(missing)),
                   "See the install option in the module documentation")


def missing(state: PoolState, cls: str, name: str, code: str, message: str, hint: str) -> None:
    """Refuse a name that matches nothing, or, while a whole site is predicted (check mode), note it."""
    if state.predicted is None:
        raise _bad(code, message, hint)
    note = "%s '%s' does not exist yet: an earlier step of this run creates it, or the run will stop here" % (cls, name)
    if note not in state.predicted:
        state.predicted.append(note)


def check_against_pool(state: PoolState, want: dict[str, t.Any], vm_ref: str | None) -> None:
    """Names that must exist, sizes that must fit, MACs that must be free: refused before any write."""
    for sr in [want.get("sr")] + [d.get("sr") for d in want.get("disks") or []]:
        if sr and not find_ref(state, "SR", sr):
            missing(state, "SR", sr, "SR_NOT_FOUND", "no SR named '%s' in the pool" % sr, "Check the SR name or create it first")
    for nic in want.get("nics") or []:
        if not find_ref(state, "network", nic["network"]):
            missing(state, "network", nic["network"], "NETWORK_NOT_FOUND", "no network named '%s' in the pool" % nic["network"],
                    "Check the network name")
        if nic.get("mac"):
            _mac_free(state, nic, vm_ref)
    if want.get("affinity") and not find_ref(state, "host", want["affinity"]):
        raise _bad("HOST_NOT_FOUND", "no host named '%s' in the pool" % want["affinity"], "Check the affinity host")
    largest = largest_host_memory_mib(state)
    if want.get("memory_mib") and largest and want["memory_mib"] > largest:
        raise _bad("MEMORY_TOO_LARGE", "memory_mib %d is above the largest host's %d MiB" % (want["memory_mib"], largest),
                   "No host of this pool could start it; lower memory_mib")
    for iso in [(want.get("cdrom") or {}).get("iso"), (want.get("install") or {}).get("iso")]:
        if iso:
            find_iso(state, iso)


def find_ref(state: PoolState, cls: str, name: str) -> str | None:
    """Ref of the object of that name or uuid, None when there is none (names are matched exactly)."""
    for ref, rec in state.all(cls).items():
        if name in (rec.get("name_label"), rec.get("uuid")):
            return ref
    return None


def lookup(state: PoolState, cls: str, name: str) -> str:
    """Ref of the object of that name or uuid (the checks above made sure it exists)."""
    ref = find_ref(state, cls, name)
    if ref is None and state.predicted is not None and cls in ("SR", "network"):
        return "OpaqueRef:NULL"  # noted by check_against_pool; only a prediction is built on it
    if ref is None:
        raise _bad("%s_NOT_FOUND" % cls.upper(), "no %s named '%s' in the pool" % (cls, name), "Check the name")
    return ref


def _mac_free(state: PoolState, nic: dict[str, t.Any], vm_ref: str | None) -> None:
    for vif_ref in index(state, "mac").get(nic["mac"], []):
        vif = state.all("VIF")[vif_ref]
        if vif.get("VM") == vm_ref and str(vif.get("device")) == nic["position"]:
            continue
        owner = state.name_of("VM", vif.get("VM")) or "?"
        raise _bad("MAC_IN_USE", "MAC %s is already used by VM '%s'" % (nic["mac"], owner), "Give this NIC another MAC")


def find_iso(state: PoolState, name: str) -> str:
    """An ISO is a VDI on an SR whose content type is iso; anything else is refused.

    Hosts often each have a local ISO library with the same files: prefer a shared ISO SR, then the
    copy on the master's library (a VM whose CD is on one host's local SR can only start there).
    """
    candidates = [(ref, vdi) for ref, vdi in state.all("VDI").items() if name in (vdi.get("name_label"), vdi.get("uuid"))]
    isos = [(ref, state.get("SR", vdi.get("SR")) or {}) for ref, vdi in candidates]
    isos = [(ref, sr) for ref, sr in isos if sr.get("content_type") == "iso"]
    if not isos:
        where = " (it is on a non-ISO SR)" if candidates else ""
        raise _bad("ISO_NOT_FOUND", "no ISO named '%s' in an ISO SR%s" % (name, where),
                   "Upload the ISO to an ISO library SR and scan it, or check the name")

    def rank(item: tuple[str, dict[str, t.Any]]) -> int:
        _ref, sr = item
        if sr.get("shared"):
            return 0
        hosts = {(state.get("PBD", p) or {}).get("host") for p in sr.get("PBDs") or []}
        return 1 if state.master_ref in hosts else 2
    return sorted(isos, key=rank)[0][0]
