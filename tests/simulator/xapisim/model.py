# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain rules shared by the datacenter builder and the custom handlers.

VM power-state/operation rules follow runtime_facts.vm_lifecycle of the
datamodel; memory accounting follows the xenopsd memory model (semantics 4.4).
"""
from __future__ import annotations

import math
import random
import uuid as uuidlib

from .spec import NULL_REF, XapiError
from .state import Database

MIB = 1024 * 1024
STATES = ("Halted", "Paused", "Running", "Suspended")
# simulated durations in seconds (multiplied by --time-scale)
DURATIONS = {
    "start": 8.0, "clean_shutdown": 6.0, "hard_shutdown": 2.0, "clean_reboot": 10.0, "hard_reboot": 6.0,
    "suspend": 8.0, "resume": 8.0, "pool_migrate": 10.0, "clone": 2.0, "copy": 20.0, "provision": 4.0,
    "pool_join": 15.0, "pool_eject": 10.0, "designate_new_master": 8.0, "vdi_create": 1.0, "guest_boot": 20.0,
    "pause": 1.0, "unpause": 1.0,
}
CONTROL_DOMAIN_OPS = ("changing_dynamic_range", "changing_memory_limits", "changing_static_range", "changing_VCPUs",
                      "changing_VCPUs_live", "snapshot", "metadata_export")


def parse_states(text_list: list[str], control_domain: bool = False) -> list[str]:
    """'Halted (+Running for control domains)' -> ['Halted'] (+['Running'] for dom0)."""
    out: list[str] = []
    for text in text_list:
        if text == "any":
            return list(STATES)
        head = text.split(" (")[0]
        if head in STATES:
            out.append(head)
        if control_domain and "+Running for control domains" in text:
            out.append("Running")
        if "+Suspended if source is a snapshot" in text and control_domain is None:
            out.append("Suspended")
    return out


class VMRules:
    """allowed_operations and operation checks for VMs."""

    def __init__(self, spec) -> None:
        facts = spec.runtime["vm_lifecycle"]
        self.power = facts["allowed_power_states"]
        self.never = set(facts["ops_never_listed_in_allowed_operations"])
        self.template_ops = {t.split(" (")[0]: ("not for default templates" in t) for t in facts["template_allowed_ops"]}
        self.snapshot_ops = set(facts["snapshot_allowed_ops"])
        self.all_ops = spec.enums["vm_operations"]

    def states_for(self, op: str, rec: dict) -> list[str]:
        states = parse_states(self.power.get(op, ["any"]), rec["is_control_domain"])
        if op in ("clone", "copy") and rec["is_a_snapshot"]:
            states.append("Suspended")
        return states

    def problem(self, db: Database, vm: str, op: str, features: bool = True) -> XapiError | None:
        rec = db.get("VM", vm)
        if op in rec["blocked_operations"]:
            return XapiError("OPERATION_BLOCKED", vm, rec["blocked_operations"][op])
        states = self.states_for(op, rec)
        if rec["power_state"] not in states:
            return XapiError("VM_BAD_POWER_STATE", vm, ", ".join(s.lower() for s in states), rec["power_state"].lower())
        for task, running in rec["current_operations"].items():
            if running == op and op in ("clone", "copy", "export", "snapshot", "checkpoint"):
                continue
            if op == "hard_shutdown" and running != "hard_shutdown":
                continue
            return XapiError("OTHER_OPERATION_IN_PROGRESS", "VM", vm, running, task)
        if rec["is_a_template"] and not rec["is_a_snapshot"]:
            if op not in self.template_ops or (self.template_ops[op] and rec["is_default_template"]):
                return XapiError("VM_IS_TEMPLATE", vm, op)
        if rec["is_a_snapshot"] and op not in self.snapshot_ops:
            return XapiError("VM_IS_SNAPSHOT", vm, op)
        if op == "provision" and not rec["is_a_template"]:
            return XapiError("PROVISION_ONLY_ALLOWED_ON_TEMPLATE")
        if op == "revert" and not rec["is_a_snapshot"]:
            return XapiError("REVERT_ONLY_ALLOWED_ON_SNAPSHOT")
        if rec["is_control_domain"] and op not in CONTROL_DOMAIN_OPS:
            return XapiError("OPERATION_NOT_ALLOWED", "This operation is not allowed on the control domain")
        if features and op in ("clean_shutdown", "clean_reboot") and not guest_can_shutdown(db, rec):
            return XapiError("VM_LACKS_FEATURE", vm)
        return None

    def check(self, db: Database, vm: str, op: str) -> None:
        err = self.problem(db, vm, op)
        if err is not None:
            raise err

    def allowed(self, db: Database, vm: str) -> list[str]:
        out = []
        for op in self.all_ops:
            if op in self.never or op not in self.power:
                continue
            if self.problem(db, vm, op) is None:
                out.append(op)
        return out

    def refresh(self, db: Database, vm: str) -> None:
        if vm in db.tables["VM"]:
            db.set("VM", vm, "allowed_operations", self.allowed(db, vm))


def guest_can_shutdown(db: Database, rec: dict) -> bool:
    """PV guests always; HVM ones need PV drivers or feature-shutdown/feature-poweroff."""
    if rec["domain_type"] in ("pv", "pv_in_pvh") or (rec["domain_type"] == "unspecified" and not rec["HVM_boot_policy"]):
        return True
    gm = rec["guest_metrics"]
    if gm == NULL_REF or gm not in db.tables["VM_guest_metrics"]:
        return False
    grec = db.get("VM_guest_metrics", gm)
    other = grec["other"]
    return bool(grec["PV_drivers_version"]) or other.get("feature-shutdown") == "1" or other.get("feature-poweroff") == "1"


def memory_overhead(rec: dict) -> int:
    """VM.memory_overhead in bytes (xenopsd memory model, semantics 4.4)."""
    static_max_mib = int(math.ceil(rec["memory_static_max"] / float(MIB)))
    vcpus = max(1, int(rec["VCPUs_max"]))
    dtype = rec["domain_type"]
    if dtype == "pv":
        extra_int, extra_ext, mult, shim = 0, 1, 1.0, 0
    elif dtype == "pv_in_pvh":
        extra_int, extra_ext, mult, shim = 1, 1, float(rec["HVM_shadow_multiplier"] or 1.0), 23 + static_max_mib // 90
    else:
        extra_int, extra_ext, mult, shim = 1, 1, float(rec["HVM_shadow_multiplier"] or 1.0), 0
    shadow = max(1, int(math.ceil((256 * vcpus + 2 * static_max_mib) / 256.0) * mult))
    overhead = extra_int + extra_ext + shadow + int(math.ceil(38 * vcpus / 256.0)) + shim
    return overhead * MIB


def host_free_memory(db: Database, host: str, exclude_vm: str | None = None) -> int:
    """Free memory = total - host overhead - resident (or scheduled) VMs' footprints."""
    hrec = db.get("host", host)
    metrics = db.tables["host_metrics"].get(hrec["metrics"])
    total = metrics["memory_total"] if metrics else 0
    used = hrec["memory_overhead"]
    for vm, rec in db.tables["VM"].items():
        if vm == exclude_vm:
            continue
        if rec["resident_on"] == host or rec["scheduled_to_be_resident_on"] == host:
            used += rec["memory_dynamic_max"] + rec["memory_overhead"]
    return max(0, total - used)


def refresh_host_memory(db: Database, host: str) -> None:
    hrec = db.get("host", host)
    if hrec["metrics"] in db.tables["host_metrics"]:
        db.set("host_metrics", hrec["metrics"], "memory_free", host_free_memory(db, host))


def mac_for(seed: str, device: str) -> str:
    """Deterministic MAC from mac_seed and device like xapi (locally administered, unicast)."""
    rnd = random.Random("%s/%s" % (seed, device))
    octets = [(rnd.randint(0, 255) & 0xFC) | 0x02] + [rnd.randint(0, 255) for _octet in range(5)]
    return ":".join("%02x" % o for o in octets)


def create_vm(db: Database, values: dict, now) -> str:
    """VM plus its VM_metrics, as VM.create does (mac_seed added, domain_type resolved)."""
    metrics = db.create("VM_metrics", {"memory_actual": 0, "VCPUs_number": 0, "last_updated": now,
                                       "start_time": db.spec.zero(("datetime",)), "install_time": now})
    vals = dict(values)
    other = dict(vals.get("other_config", {}))
    other.setdefault("mac_seed", str(uuidlib.uuid4()))
    vals["other_config"] = other
    if vals.get("domain_type", "unspecified") == "unspecified":
        vals["domain_type"] = "hvm" if vals.get("HVM_boot_policy") else "pv"
    vals["metrics"] = metrics
    vm = db.create("VM", vals)
    rec = db.get("VM", vm)
    db.update("VM", vm, {"memory_overhead": memory_overhead(rec), "memory_target": rec["memory_dynamic_min"]})
    return vm


def recompute_pool_cpu_info(db: Database) -> None:
    """pool.cpu_info: vendor of the coordinator, counts summed, feature sets intersected."""
    pool = db.one("pool")
    if pool == NULL_REF:
        return
    hosts = [db.get("host", h) for h in db.refs("host")]
    if not hosts:
        return
    master = db.tables["host"].get(db.get("pool", pool)["master"]) or hosts[0]
    info = {"vendor": master["cpu_info"].get("vendor", ""),
            "cpu_count": str(sum(int(h["cpu_info"].get("cpu_count", "0")) for h in hosts)),
            "socket_count": str(sum(int(h["cpu_info"].get("socket_count", "0")) for h in hosts))}
    for key in ("features_pv_host", "features_hvm_host"):
        values = [h["cpu_info"].get(key, "") for h in hosts]
        info[key] = _intersect_features(values)
    db.set("pool", pool, "cpu_info", info)


def _intersect_features(values: list[str]) -> str:
    words = None
    for value in values:
        parts = [int(p, 16) for p in value.split("-") if p] if value else []
        words = parts if words is None else [a & b for a, b in zip(words, parts)]
    return "-".join("%08x" % w for w in (words or []))
