# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The console overview of a pool, built from one bulk read (private to vdc.xenpool).

Pure functions over a PoolState: no XenAPI call happens here, which is what keeps pool_info at a
constant number of calls whatever the size of the pool. Output is plain JSON-friendly dicts that
carry uuids (never OpaqueRefs) and units in their key names.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from ansible_collections.vdc.xenpool.plugins.module_utils._xen.ha import LABELS as HA_LABELS
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.ha import agility_check
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.rrd import Getter, PoolFigures, read_pool_figures
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import POOL_CLASSES, PoolState, is_null, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.vm import is_listed

MIB = 1024 * 1024
GIB = 1024 * MIB

# I/O figures added to hosts and VMs, each {"avg": KiB/s, "max": KiB/s} over the rrd window or None
IO_FIGURES: tuple[str, ...] = ("disk_read_kib_s", "disk_write_kib_s", "disk_kib_s", "net_rx_kib_s", "net_tx_kib_s", "net_kib_s")


def _int(value: t.Any, default: int = 0) -> int:
    """XenAPI sends 64-bit ints as decimal strings over XML-RPC."""
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _float(value: t.Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _gib(value: t.Any) -> float:
    return round(_int(value) / GIB, 2)


def _percent(part: float, whole: float) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def _cpu_percent(figures: dict[str, dict[str, t.Any]] | None, uuid: str, fallback: list[float], running: bool = True) -> float | None:
    """CPU use over the rrd window: the `cpu_avg` / `cpuN` data sources xapi's rrdd publishes.

    `host_cpu.utilisation` and `VM_metrics.VCPUs_utilisation` are removed or deprecated in the datamodel and read 0
    on current xapi, so they are only a fallback when the rrd figures were not read (io_metrics: false).
    """
    if not running:
        return None
    entry = ((figures or {}).get(uuid) or {}).get("cpu_percent")
    if isinstance(entry, dict) and entry.get("avg") is not None:
        return round(float(entry["avg"]), 1)
    return round(100.0 * sum(fallback) / len(fallback), 1) if fallback else None


def _protection(vm: dict[str, t.Any], agility_of: t.Callable[[dict[str, t.Any]], list[str]]) -> dict[str, t.Any]:
    """The HA screen's columns for one VM: its protection level and whether it could restart elsewhere (agility.ml)."""
    priority = vm.get("ha_restart_priority") or ""
    reasons = agility_of(vm)
    return {"ha_restart_priority": priority, "ha_protection": HA_LABELS.get(priority, priority), "agile": not reasons,
            "not_agile_because": reasons}


def _io(figures: dict[str, dict[str, t.Any]] | None, uuid: str, running: bool = True) -> dict[str, t.Any]:
    """The I/O keys of one host or VM; None when the figures were not read or the object has none."""
    entry = (figures or {}).get(uuid) if running else None
    return {key: (entry or {}).get(key) for key in IO_FIGURES}


def _pool(state: PoolState) -> dict[str, t.Any]:
    pool = state.pool or {}
    master = state.master_ref
    default_sr = pool.get("default_SR")
    return {
        "name": pool.get("name_label", ""),
        "uuid": pool.get("uuid", ""),
        "master": state.name_of("host", master),
        "master_uuid": state.uuid_of("host", master),
        "ha_enabled": bool(pool.get("ha_enabled", False)),
        "ha_host_failures_to_tolerate": _int(pool.get("ha_host_failures_to_tolerate")),
        "ha_plan_exists_for": _int(pool.get("ha_plan_exists_for")),
        "default_sr": state.name_of("SR", default_sr),
        "default_sr_uuid": state.uuid_of("SR", default_sr),
    }


def _vm_memory_actual(state: PoolState, vm: dict[str, t.Any]) -> int:
    metrics = state.get("VM_metrics", vm.get("metrics"))
    return _int(metrics.get("memory_actual")) if metrics else 0


def _host(
    state: PoolState, ref: str, host: dict[str, t.Any], guests: list[dict[str, t.Any]], figures: dict[str, dict[str, t.Any]] | None = None
) -> dict[str, t.Any]:
    cpus = [cpu for cpu in state.all("host_cpu").values() if cpu.get("host") == ref]
    cpu_info = host.get("cpu_info") or {}
    first_cpu = cpus[0] if cpus else {}
    usage = [u for u in (_float(cpu.get("utilisation")) for cpu in cpus) if u is not None]
    metrics = state.get("host_metrics", host.get("metrics")) or {}
    total = _int(metrics.get("memory_total"))
    free = _int(metrics.get("memory_free"))
    if not free and total:
        # memory_free is no longer maintained by recent xapi: estimate it from what runs on the host.
        resident = [state.get("VM", vm_ref) or {} for vm_ref in host.get("resident_VMs") or []]
        used = _int(host.get("memory_overhead")) + sum(_vm_memory_actual(state, vm) for vm in resident)
        free = max(total - used, 0)
    software = host.get("software_version") or {}
    return {
        "name": host.get("name_label", ""),
        "uuid": host.get("uuid", ""),
        "address": host.get("address", ""),
        "hostname": host.get("hostname", ""),
        "enabled": bool(host.get("enabled", False)),
        "is_master": ref == state.master_ref,
        "live": bool(metrics.get("live", False)),
        "cpu_count": len(cpus) or _int(cpu_info.get("cpu_count")),
        "cpu_vendor": first_cpu.get("vendor") or cpu_info.get("vendor", ""),
        "cpu_model": first_cpu.get("modelname") or cpu_info.get("modelname", ""),
        "cpu_speed_mhz": _int(first_cpu.get("speed") or cpu_info.get("speed")),
        "cpu_usage_percent": _cpu_percent(figures, host.get("uuid", ""), usage),
        "memory_total_mib": total // MIB,
        "memory_free_mib": free // MIB,
        "product_brand": software.get("product_brand", ""),
        "software_version": software.get("product_version", ""),
        "platform_version": software.get("platform_version", ""),
        "resident_vms": sorted(vm.get("name_label", "") for vm in guests),
        "resident_vm_count": len(guests),
        **_io(figures, host.get("uuid", "")),
    }


def _sr(state: PoolState, sr: dict[str, t.Any]) -> dict[str, t.Any]:
    size = _int(sr.get("physical_size"))
    used = _int(sr.get("physical_utilisation"))
    hosts = sorted(
        state.name_of("host", pbd.get("host")) or ""
        for pbd in (state.get("PBD", ref) or {} for ref in sr.get("PBDs") or [])
        if pbd.get("currently_attached")
    )
    return {
        "name": sr.get("name_label", ""),
        "uuid": sr.get("uuid", ""),
        "type": sr.get("type", ""),
        "content_type": sr.get("content_type", ""),
        "shared": bool(sr.get("shared", False)),
        "physical_size_gib": _gib(size),
        "physical_utilisation_gib": _gib(used),
        "virtual_allocation_gib": _gib(sr.get("virtual_allocation")),
        "utilisation_percent": _percent(used, size),
        "attached_hosts": hosts,
        "role": sr_role(sr),
    }


def sr_role(sr: dict[str, t.Any]) -> str:
    """What an SR is for, so that overviews can leave out on purpose what every host has from installation.

    A fresh XenServer / XCP-ng host has udev SRs for removable storage and DVD drives (sm `storage-init`) and the
    guest-tools ISO SR (xapi `dbsync_master.ml`); none of them holds VM disks.
    """
    if sr.get("type") == "udev":
        return "dvd" if sr.get("content_type") == "iso" else "removable"
    if sr.get("is_tools_sr"):
        return "tools"
    if sr.get("content_type") == "iso":
        return "iso"
    return "vm-storage"


def _network(net: dict[str, t.Any]) -> dict[str, t.Any]:
    return {
        "name": net.get("name_label", ""),
        "uuid": net.get("uuid", ""),
        "bridge": net.get("bridge", ""),
        "mtu": _int(net.get("MTU"), 1500),
        "pif_count": len(net.get("PIFs") or []),
    }


def _disks(state: PoolState, vm: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    disks = []
    for vbd in (state.get("VBD", ref) for ref in vm.get("VBDs") or []):
        if not vbd or vbd.get("type") != "Disk":
            continue
        vdi = state.get("VDI", vbd.get("VDI"))
        if not vdi:
            continue
        disks.append({
            "device": vbd.get("userdevice", ""),
            "name": vdi.get("name_label", ""),
            "uuid": vdi.get("uuid", ""),
            "size_gib": _gib(vdi.get("virtual_size")),
            "sr": state.name_of("SR", vdi.get("SR")),
            "sr_uuid": state.uuid_of("SR", vdi.get("SR")),
        })
    return sorted(disks, key=lambda d: (_int(d["device"], 99), d["uuid"]))


def _nics(state: PoolState, vm: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    nics = []
    for vif in (state.get("VIF", ref) for ref in vm.get("VIFs") or []):
        if not vif:
            continue
        nics.append({
            "device": vif.get("device", ""),
            "mac": vif.get("MAC", ""),
            "network": state.name_of("network", vif.get("network")),
            "network_uuid": state.uuid_of("network", vif.get("network")),
        })
    return sorted(nics, key=lambda n: (_int(n["device"], 99), n["mac"]))


def guest_addresses(networks: dict[str, t.Any]) -> list[str]:
    """Guest agent keys look like `0/ip`, `0/ipv4/0`, `0/ipv6/0`; keep the distinct addresses in device order."""
    found: list[str] = []
    for key in sorted(networks, key=lambda k: [_int(p, 0) if p.isdigit() else p for p in k.split("/")]):
        value = networks[key]
        if value and value not in found:
            found.append(value)
    return found


def _vm(state: PoolState, vm: dict[str, t.Any], figures: dict[str, dict[str, t.Any]] | None,
        agility_of: t.Callable[[dict[str, t.Any]], list[str]]) -> dict[str, t.Any]:
    metrics = state.get("VM_metrics", vm.get("metrics")) or {}
    guest = state.get("VM_guest_metrics", vm.get("guest_metrics")) or {}
    networks = guest.get("networks") or {}
    ips = guest_addresses(networks)
    primary = next((networks[k] for k in sorted(networks) if k.endswith("/ip") and networks[k]), ips[0] if ips else None)
    running = vm.get("power_state") == "Running"
    usage = [u for u in (_float(v) for v in (metrics.get("VCPUs_utilisation") or {}).values()) if u is not None]
    return {
        "name": vm.get("name_label", ""),
        "uuid": vm.get("uuid", ""),
        "power_state": vm.get("power_state", ""),
        "is_template": bool(vm.get("is_a_template", False)),
        "host": state.name_of("host", vm.get("resident_on")),
        "host_uuid": state.uuid_of("host", vm.get("resident_on")),
        "vcpus": _int(vm.get("VCPUs_at_startup")),
        "memory_mib": _int(vm.get("memory_static_max")) // MIB,
        "memory_actual_mib": _int(metrics.get("memory_actual")) // MIB if running else 0,
        "cpu_usage_percent": _cpu_percent(figures, vm.get("uuid", ""), usage, running),
        "disks": _disks(state, vm),
        "nics": _nics(state, vm),
        "ip": primary,
        "ips": ips,
        "os_name": (guest.get("os_version") or {}).get("name"),
        "pv_drivers_detected": bool(guest.get("PV_drivers_detected", False)),
        "tags": sorted(vm.get("tags") or []),
        **_protection(vm, agility_of),
        **_io(figures, vm.get("uuid", ""), running),
    }


def pool_overview(
    state: PoolState,
    include_templates: bool = False,
    vms: t.Iterable[str] | None = None,
    figures: dict[str, dict[str, t.Any]] | None = None,
) -> dict[str, t.Any]:
    """Build the overview; `vms` keeps only VMs whose name or uuid is listed (None keeps all).

    Which records are VMs is vm.is_listed: templates with include_templates, never snapshots or dom0.

    `figures` ({uuid: {figure: {"avg", "max"}}}, see rrd.summarize) fills the I/O keys of hosts and
    running VMs; without it they are None.
    """
    wanted = set(vms) if vms is not None else None
    guests_by_host: dict[str, list[dict[str, t.Any]]] = {}
    vm_list = []
    agility_of = agility_check(state)
    for vm in state.all("VM").values():
        if is_listed(vm) and not is_null(vm.get("resident_on")):
            guests_by_host.setdefault(vm["resident_on"], []).append(vm)
        if is_listed(vm, include_templates) and (wanted is None or vm.get("name_label") in wanted or vm.get("uuid") in wanted):
            vm_list.append(_vm(state, vm, figures, agility_of))
    hosts = [_host(state, ref, rec, guests_by_host.get(ref, []), figures) for ref, rec in state.all("host").items()]
    return {
        "pool": _pool(state),
        "hosts": sorted(hosts, key=lambda h: (h["name"], h["uuid"])),
        "srs": sorted((_sr(state, sr) for sr in state.all("SR").values()), key=lambda s: (s["name"], s["uuid"])),
        "networks": sorted((_network(net) for net in state.all("network").values()), key=lambda n: (n["name"], n["uuid"])),
        "vms": sorted(vm_list, key=lambda v: (v["name"], v["uuid"])),
    }


def _connected_host(client: t.Any) -> str | None:
    """The host name the user connected with (its certificate is known to match it): the master's rrd address."""
    return urlsplit(str(getattr(client, "url", ""))).hostname


def live_host_addresses(state: PoolState, master_host: str | None = None) -> dict[str, str]:
    """Management address -> host name of every live host: the hosts that can serve rrd_updates.

    `master_host` replaces the master's address: the name the user connected with is the one its
    certificate is known to match.
    """
    out = {}
    for ref, host in state.all("host").items():
        metrics = state.get("host_metrics", host.get("metrics")) or {}
        if metrics.get("live") and host.get("address"):
            address = master_host if master_host and ref == state.master_ref else host["address"]
            out[address] = host.get("name_label", "")
    return out


class LiveHostWatch:
    """Sees the events of the pool's event.from as they are read (state.read_pool_state's watch) and starts the
    rrd_updates of each live host as soon as the pool, the host and its metrics have been read: the hosts' own
    work on their figures then overlaps the reading of the rest (2,000 VMs' records). Which hosts, and under
    which address, is live_host_addresses' rule, applied to the records read so far."""

    def __init__(self, figures: PoolFigures, master_host: str | None) -> None:
        self.figures = figures
        self.master_host = master_host
        self.master: t.Any = None
        self.hosts: dict[t.Any, tuple[t.Any, t.Any]] = {}  # metrics ref -> (host ref, address), not started yet
        self.live: set[t.Any] = set()  # refs of live host_metrics

    def __call__(self, event: dict[str, t.Any]) -> None:
        kind, record = str(event.get("class", "")).lower(), event.get("snapshot")
        if event.get("operation") == "del" or not isinstance(record, dict):
            return
        if kind == "pool":
            self.master = record.get("master")
        elif kind == "host" and record.get("address"):
            self.hosts[record.get("metrics")] = (event.get("ref"), record["address"])
        elif kind == "host_metrics" and record.get("live"):
            self.live.add(event.get("ref"))
        else:
            return
        for metrics in [m for m in self.hosts if m in self.live and self.master is not None]:
            ref, address = self.hosts.pop(metrics)
            self.figures.start(self.master_host if self.master_host and ref == self.master else address)


def read_io_figures(
    client: t.Any, state: PoolState, getter: Getter | None = None, started: PoolFigures | None = None
) -> tuple[dict[str, dict[str, t.Any]], list[str], int]:
    """One rrd_updates request per live host, in parallel: (figures by uuid, warnings, requests sent).

    A host that does not answer costs a warning and null figures for it and its VMs, not a failure:
    the rest of the overview is still worth having. `started`: the requests LiveHostWatch already sent.
    """
    hosts = live_host_addresses(state, _connected_host(client))
    figures, errors, requests = read_pool_figures(client, hosts, getter=getter, started=started)
    warnings = [
        "Host %s (%s) did not give its performance figures, its disk and network figures and those of its VMs are null: %s"
        % (hosts[address], address, errors[address])
        for address in sorted(errors)
    ]
    return figures, warnings, requests


def read_overview(
    client: t.Any,
    include_templates: bool = False,
    vms: t.Iterable[str] | None = None,
    io_metrics: bool = False,
    warn: t.Callable[[str], None] | None = None,
    getter: Getter | None = None,
) -> dict[str, t.Any]:
    """Read the pool in one call per class (see state.read_pool_state) and build the overview.

    With io_metrics, add one rrd_updates request per live host (read_io_figures), each started while the
    pool is still being read (LiveHostWatch); each warning goes to `warn`.
    """
    started = PoolFigures(client, getter=getter) if io_metrics else None
    try:
        state = read_pool_state(client, POOL_CLASSES, watch=LiveHostWatch(started, _connected_host(client)) if started else None)
    except BaseException:
        if started is not None:
            started.close()
        raise
    figures = None
    if io_metrics:
        figures, warnings, _requests = read_io_figures(client, state, getter, started)
        for message in warnings:
            if warn is not None:
                warn(message)
    return pool_overview(state, include_templates, vms, figures)
