# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Domain rules shared by the datacenter builder and the custom handlers.

VM power-state/operation rules follow runtime_facts.vm_lifecycle of the
datamodel; memory accounting follows the xenopsd memory model (xenopsd `memory.ml`).
"""
from __future__ import annotations

import copy
import functools
import hashlib
import math
import uuid as uuidlib
import zlib

from .spec import NULL_REF, XapiError
from .state import Database

MIB = 1024 * 1024
GIB = 1024 * MIB
STATES = ("Halted", "Paused", "Running", "Suspended")
# The time model: simulated seconds (real time = simulated x --time-scale). A datacenter file may override any
# entry with its `time_model:` section (merged key by key, see set_time_model); README "VM model" explains them.
TIME_MODEL = {
    # power operations (xenopsd: domain build + device setup, or teardown)
    "start": 8.0, "clean_shutdown": 6.0, "hard_shutdown": 2.0, "clean_reboot": 10.0, "hard_reboot": 6.0,
    "suspend": 8.0, "resume": 8.0, "pause": 1.0, "unpause": 1.0,
    # live migration (xenopsd VM.migrate via emu-manager): a fixed part (destination domain build, device
    # hand-over, the final stop-and-copy) plus the memory copy, per GiB of memory_dynamic_max, at about 1 Gbit/s
    # on the management network (125 MB/s = 8.6 s per GiB; memory dirtied while copying is sent again)
    "pool_migrate": 4.0, "pool_migrate_per_gib": 9.0,
    "pool_join": 15.0, "pool_eject": 10.0, "designate_new_master": 8.0,
    # a member's toolstack restart after pool.join (xapi_pool.ml join_common: the joiner restarts xapi as a member;
    # dbsync_slave.ml then creates dom0, host_cpu and console records and marks the host enabled and live)
    "toolstack_restart": 6.0,
    # the database side of VM.clone / copy / snapshot / provision / revert (metadata, VBD/VIF records)
    "vm_metadata": 1.0,
    # SM work per VDI, by SR type ("default" for the others); *_per_gib is multiplied by the virtual size
    "vdi_create": {"default": 1.0, "lvm": 1.5, "lvmoiscsi": 2.0, "lvhdoiscsi": 2.0, "nfs": 0.5, "ext": 0.5},
    "vdi_destroy": {"default": 1.0, "lvm": 1.5, "lvmoiscsi": 2.0, "lvhdoiscsi": 2.0, "nfs": 0.5, "ext": 0.5},
    "vdi_clone": {"default": 2.0, "lvm": 6.0, "lvmoiscsi": 7.0, "lvhdoiscsi": 7.0, "nfs": 2.0, "ext": 1.5},
    "vdi_clone_per_gib": {"default": 0.02},
    "vdi_copy_per_gib": {"default": 10.0, "lvm": 9.0, "lvmoiscsi": 9.0, "lvhdoiscsi": 9.0, "nfs": 12.0, "ext": 8.0},
    "vdi_resize": {"default": 1.0, "lvm": 2.0, "lvmoiscsi": 2.0, "lvhdoiscsi": 2.0},
    # storage motion (VDI.pool_migrate, VM.migrate_send): the mirror's copy per GiB of virtual size, by destination SR
    "vdi_mirror_per_gib": {"default": 10.0, "lvm": 9.0, "lvmoiscsi": 9.0, "lvhdoiscsi": 9.0, "nfs": 12.0, "ext": 8.0},
    # guest: from the end of VM.start until the guest agent reports (VM_guest_metrics), by OS family
    "boot_to_agent": {"default": 30.0, "linux": 30.0, "windows": 75.0, "solaris": 60.0},
    # unattended installs, from the start of the install boot until the installer reboots the guest
    "install": {"kickstart": 600.0, "iso": 900.0, "netboot": 1200.0},
}
DURATIONS = TIME_MODEL  # historical name


def set_time_model(world, overrides: dict | None) -> dict:
    """world.time_model = defaults merged with a datacenter file's `time_model:` section (dicts merged per key)."""
    model = copy.deepcopy(TIME_MODEL)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(model.get(key), dict):
            model[key].update({str(k): float(v) for k, v in value.items()})
        elif isinstance(value, dict):
            model[key] = {str(k): float(v) for k, v in value.items()}
        else:
            model[key] = float(value)
    world.time_model = model
    return model


def duration(world, key: str, variant: str = "") -> float:
    """Simulated seconds for `key` (for per-SR-type / per-family tables: `variant`, else the "default")."""
    model = getattr(world, "time_model", None) or TIME_MODEL
    value = model.get(key, TIME_MODEL.get(key, 0.0))
    if isinstance(value, dict):
        return float(value.get(variant, value.get("default", 0.0)))
    return float(value)


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
        self._states: dict = {}

    def states_for(self, op: str, rec: dict) -> list[str]:
        key = (op, rec["is_control_domain"], rec["is_a_snapshot"])
        states = self._states.get(key)
        if states is None:
            states = parse_states(self.power.get(op, ["any"]), rec["is_control_domain"])
            if op in ("clone", "copy") and rec["is_a_snapshot"]:
                states.append("Suspended")
            self._states[key] = states
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
        if features:
            return feature_problem(db, vm, rec, op)
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
        bulk = getattr(db.world, "bulk", None)
        if bulk is not None:
            bulk.setdefault("vms", set()).add((id(db), vm))
            return
        if vm in db.tables["VM"]:
            db.set("VM", vm, "allowed_operations", self.allowed(db, vm))


def _guest_metrics(db: Database, rec: dict) -> dict | None:
    return db.tables["VM_guest_metrics"].get(rec["guest_metrics"])


def feature_problem(db: Database, vm: str, rec: dict, op: str) -> XapiError | None:
    """xapi_vm_lifecycle.ml check_op_for_feature (strict, as every API entry point uses it): a live guest that
    has not definitely booted PV and has no PV drivers must advertise the feature flag the operation needs."""
    live = rec["power_state"] in ("Running", "Paused")
    metrics = db.tables["VM_metrics"].get(rec["metrics"])
    gm = _guest_metrics(db, rec)
    other = gm["other"] if gm else {}
    implicit = (not live or (metrics is not None and metrics["current_domain_type"] in ("pv", "pvh", "pv_in_pvh"))
                or bool(gm and gm["PV_drivers_version"]))

    def lacks(feature: str) -> bool:
        return other.get(feature) != "1"
    if op in ("suspend", "checkpoint", "pool_migrate", "migrate_send") and live:
        if "data-cant-suspend-reason" in other:
            return XapiError("VM_NON_SUSPENDABLE", vm, other["data-cant-suspend-reason"])
        if not implicit and lacks("feature-suspend"):
            return XapiError("VM_LACKS_FEATURE", vm)
        return None
    if implicit:
        return None
    if op == "clean_shutdown" and lacks("feature-shutdown") and lacks("feature-poweroff"):
        return XapiError("VM_LACKS_FEATURE", vm)
    if op == "clean_reboot" and lacks("feature-shutdown") and lacks("feature-reboot"):
        return XapiError("VM_LACKS_FEATURE", vm)
    if op == "changing_VCPUs_live" and lacks("feature-vcpu-hotplug"):
        return XapiError("VM_LACKS_FEATURE", vm)
    return None


def guest_can_shutdown(db: Database, rec: dict) -> bool:
    return feature_problem(db, "", rec, "clean_shutdown") is None


def has_pv_drivers(db: Database, rec: dict) -> bool:
    """Xapi_pv_driver_version.has_pv_drivers: the guest agent reported a PV drivers version."""
    gm = _guest_metrics(db, rec)
    return bool(gm and gm["PV_drivers_version"])


def memory_overhead(rec: dict) -> int:
    """VM.memory_overhead in bytes (xenopsd memory model, `memory.ml`)."""
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


def vm_start_memory(rec: dict) -> int:
    """Memory_check.vm_compute_start_memory (policy Dynamic_min; Static_max for pv_in_pvh), as
    xapi_vm_helpers.ml assert_enough_memory_available uses it: the target rounded up to MiB plus the overhead."""
    target = rec["memory_static_max"] if rec["domain_type"] == "pv_in_pvh" else rec["memory_dynamic_min"]
    return int(math.ceil(target / float(MIB))) * MIB + memory_overhead(rec)


def host_compute_free_memory(db: Database, host: str, ignore_scheduled_vm: str | None = None) -> int:
    """Memory_check.host_compute_free_memory_with_maximum_compression (host.compute_free_memory, start/migrate
    checks): total - host overhead - (dynamic_min + overhead) of every VM resident on or scheduled to the host."""
    hrec = db.get("host", host)
    metrics = db.tables["host_metrics"].get(hrec["metrics"])
    available = (metrics["memory_total"] if metrics else 0) - hrec["memory_overhead"]
    for vm, rec in db.tables["VM"].items():
        if rec["resident_on"] == host or (rec["scheduled_to_be_resident_on"] == host and vm != ignore_scheduled_vm):
            available -= rec["memory_dynamic_min"] + rec["memory_overhead"]
    return max(0, available)


def host_free_memory(db: Database, host: str, exclude_vm: str | None = None) -> int:
    """Memory actually free (host_metrics.memory_free): guests balloon up to dynamic_max when there is room."""
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
    bulk = getattr(db.world, "bulk", None)
    if bulk is not None:
        bulk["hosts"].add((id(db), host))
        return
    hrec = db.get("host", host)
    if hrec["metrics"] in db.tables["host_metrics"]:
        db.set("host_metrics", hrec["metrics"], "memory_free", host_free_memory(db, host))


def gen_mac(seed: str, device: int) -> str:
    """xapi_vif_helpers.ml gen_mac: MD5 hash chain over the VM's mac_seed (2*device + 1 rounds), bytes 0-3 of that
    and 1-2 of its MD5, made locally administered and unicast (record_util.ml mac_from_int_array)."""
    digest = seed.encode("utf-8")
    for _round in range(2 * int(device) + 1):
        digest = hashlib.md5(digest).digest()  # nosec - the same MAC derivation as xapi, not a security use
    second = hashlib.md5(digest).digest()  # nosec
    octets = [digest[0], digest[1], digest[2], digest[3], second[1], second[2]]
    octets[0] = (octets[0] | 0x2) & ~0x1
    return ":".join("%02x" % o for o in octets)


def mac_for(seed: str, device: str) -> str:
    return gen_mac(seed, int(device))


def valid_mac(mac: str) -> bool:
    """helpers.ml is_valid_MAC: six ':'-separated pairs of hex digits (either case)."""
    parts = mac.split(":")
    return len(parts) == 6 and all(len(p) == 2 and all(c in "0123456789abcdefABCDEF" for c in p) for p in parts)


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


def refresh_memory(db: Database, *hosts: str) -> None:
    for host in hosts:
        if host != NULL_REF and host in db.tables["host"]:
            refresh_host_memory(db, host)


# --------------------------------------------------------------------------- placement (xapi_vm_helpers.ml)
def validation_problem(vm: str, rec: dict) -> XapiError | None:
    """validate_basic_parameters: validate_vcpus, validate_memory, validate_shadow_multiplier, actions_after_crash."""
    if rec["VCPUs_max"] < 1:
        return XapiError("INVALID_VALUE", "VCPUs_max", rec["VCPUs_max"])
    if rec["VCPUs_at_startup"] < 1:
        return XapiError("INVALID_VALUE", "VCPUs-at-startup", rec["VCPUs_at_startup"])
    if rec["VCPUs_at_startup"] > rec["VCPUs_max"]:
        return XapiError("VALUE_NOT_SUPPORTED", "VCPUs-at-startup", rec["VCPUs_at_startup"], "value greater than VCPUs-max")
    if rec["memory_static_max"] < rec["memory_static_min"] or rec["memory_dynamic_max"] < rec["memory_dynamic_min"]:
        return XapiError("MEMORY_CONSTRAINT_VIOLATION")
    if rec["HVM_shadow_multiplier"] < 1.0:
        return XapiError("INVALID_VALUE", "HVM_shadow_multiplier", repr(float(rec["HVM_shadow_multiplier"])))
    crash = rec["actions_after_crash"]
    if crash == "rename_restart":
        return XapiError("VALUE_NOT_SUPPORTED", "VM.actions_after_crash", "rename_restart",
                         "option would leak a domain; VMs and not domains are managed by this API")
    if crash in ("coredump_and_destroy", "coredump_and_restart") and rec["domain_type"] != "pv":
        return XapiError("VALUE_NOT_SUPPORTED", "VM.actions_after_crash", crash,
                         "cannot invoke a coredump of an HVM, PVH or PV-in-PVH domain")
    del vm
    return None


def cpu_problem(db: Database, vm: str, host: str) -> XapiError | None:
    """cpuid_helpers.ml assert_vm_is_compatible (a VM that is not Halted): the vendor of the CPU it last booted on
    must be the host's. The feature-subset half is not simulated: a simulated VM records its host's features at
    boot, where xapi records the pool's levelled set, so a subset check here would refuse what xapi allows."""
    rec = db.get("VM", vm)
    if rec["power_state"] == "Halted":
        return None
    vendor = rec["last_boot_CPU_flags"].get("vendor")
    hvendor = db.get("host", host)["cpu_info"].get("vendor")
    if vendor and hvendor and vendor != hvendor:
        return XapiError("VM_INCOMPATIBLE_WITH_THIS_HOST", vm, host,
                         "VM last booted on a host which had a CPU from a different vendor.")
    return None


def sr_problem(db: Database, vm: str, host: str, srs: list[str] | None = None) -> XapiError | None:
    """xapi_vm_helpers.ml assert_can_see_SRs: the SR of every non-empty VBD's VDI (and of the suspend image of a
    Suspended VM), or the given `srs`, has a currently attached PBD on the host -> else VM_REQUIRES_SR [vm, sr]."""
    if srs is None:
        rec = db.get("VM", vm)
        vdis = [db.get("VBD", v)["VDI"] for v in rec["VBDs"] if not db.get("VBD", v)["empty"]]
        if rec["power_state"] == "Suspended":
            vdis.append(rec["suspend_VDI"])
        srs = [db.get("VDI", v)["SR"] for v in vdis if v in db.tables["VDI"]]
    for sr in srs:
        if not any(db.get("PBD", p)["host"] == host and db.get("PBD", p)["currently_attached"] for p in db.get("SR", sr)["PBDs"]):
            return XapiError("VM_REQUIRES_SR", vm, sr)
    return None


def host_problem(db: Database, vm: str, host: str, memory: bool = True, cpu: bool = False,
                 srs: list[str] | None = None) -> XapiError | None:
    """assert_can_boot_here in xapi's check order (runtime_facts.host.start_checks_order); `cpu` is its
    do_cpuid_check (migrations and evacuations), `srs` replaces the VM's own SRs (storage motion: where the
    disks will be)."""
    hrec = db.get("host", host)
    rec = db.get("VM", vm)
    err = validation_problem(vm, rec)
    if err is not None:
        return err
    metrics = db.tables["host_metrics"].get(hrec["metrics"])
    if metrics is None or not metrics["live"]:
        return XapiError("HOST_NOT_LIVE")
    if rec["is_control_domain"] and rec["affinity"] not in (NULL_REF, host):
        return XapiError("OPERATION_NOT_ALLOWED", "Cannot boot a control domain on a host different from its affinity")
    local_migration = rec["power_state"] == "Running" and rec["resident_on"] == host
    if not hrec["enabled"] and not rec["is_control_domain"] and not local_migration:
        return XapiError("HOST_DISABLED", host)
    err = (cpu_problem(db, vm, host) if cpu else None) or sr_problem(db, vm, host, srs)
    if err is not None:
        return err
    for vif in rec["VIFs"]:
        net = db.get("VIF", vif)["network"]
        pifs = db.get("network", net)["PIFs"] if net in db.tables["network"] else []
        if pifs and not any(db.get("PIF", p)["host"] == host for p in pifs):
            return XapiError("VM_REQUIRES_NETWORK", vm, net)
    if rec["domain_type"] in ("hvm", "pvh", "pv_in_pvh") and not any(c.startswith("hvm") for c in hrec["capabilities"]):
        return XapiError("VM_HVM_REQUIRED", vm)
    if memory:
        needed = vm_start_memory(rec)
        available = host_compute_free_memory(db, host, ignore_scheduled_vm=vm)
        if available < needed:
            return XapiError("HOST_NOT_ENOUGH_FREE_MEMORY", needed, available)
    pcpus = int(hrec["cpu_info"].get("cpu_count", len(hrec["host_CPUs"])) or len(hrec["host_CPUs"]))
    if rec["VCPUs_max"] > pcpus and rec["platform"].get("vcpu-unrestricted") not in ("true", "1"):
        return XapiError("HOST_NOT_ENOUGH_PCPUS", rec["VCPUs_max"], pcpus)
    return None


def choose_host(db: Database, vm: str) -> tuple[str, bool]:
    """choose_host_for_vm_no_wlb: the affinity host first, then by free memory; if no host passes every check,
    again without the memory check (xapi then lets xenopsd fail the reservation). Returns (host, memory_ok)."""
    rec = db.get("VM", vm)
    candidates = sorted(db.refs("host"), key=lambda h: (-host_compute_free_memory(db, h, vm), db.get("host", h)["uuid"]))
    if rec["affinity"] in candidates:
        candidates.remove(rec["affinity"])
        candidates.insert(0, rec["affinity"])
    for memory in (True, False):
        for host in candidates:
            if host_problem(db, vm, host, memory=memory) is None:
                return host, memory
    raise XapiError("NO_HOSTS_AVAILABLE")


# --------------------------------------------------------------------------- data sources
FIGURE_PERIOD_S = 300.0


@functools.lru_cache(maxsize=65536)
def figure_phase(key: str) -> float:
    """The phase of figure `key`: fixed by the key, so each object's figure moves on its own."""
    return (zlib.crc32(key.encode("utf-8")) % 1000) / 1000.0 * 2 * math.pi


def figure_angle(elapsed: float, period_s: float = FIGURE_PERIOD_S) -> float:
    """Where simulated instant `elapsed` is on a figure's period (the same for every figure of that period)."""
    return elapsed * 2 * math.pi / period_s


def figure_values(angle: float, figures: list[tuple[float, float, float]]) -> list[float]:
    """The figures (base, amplitude, phase) at `angle` (figure_angle): the one formula of every figure."""
    return [max(0.0, base + amplitude * math.sin(angle + phase)) for base, amplitude, phase in figures]


def sources_list(values: dict) -> list[dict]:
    return [{"name_label": name, "name_description": name, "enabled": True, "standard": True, "min": 0.0,
             "max": 0.0, "units": "", "value": float(v)} for name, v in sorted(values.items())]


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
