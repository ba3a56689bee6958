# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The network service: pool-wide networks, VLANs, bonds and PIF IP configuration (private to vdc.xenpool).

A pool network is one `network` object plus one PIF per host. xapi creates VLANs and bonds host by
host, so "a VLAN across the pool" is a VLAN.create per host that lacks it; the plan lists those hosts,
which is what check mode and --diff show. The management PIF is never reconfigured unless the caller
explicitly allows it: a wrong address there cuts the pool off from its master.
"""

from __future__ import annotations

import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.reconcile import diff, map_changes
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenPlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, is_null, read_pool_state

NETWORK_CLASSES = ("host", "network", "PIF", "Bond", "VLAN", "VIF")
OWNER_KEY = "vdc.xenpool.owner"
IP_MODES = {"static": "Static", "dhcp": "DHCP", "none": "None"}
BOND_MODES = ("balance-slb", "active-backup", "lacp")


class NetworkError(XenPlanError):
    """A desired network that cannot be reached; nothing was changed."""


def read(client: t.Any) -> PoolState:
    return read_pool_state(client, NETWORK_CLASSES)


def _int(value: t.Any, default: int = -1) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _host_names(state: PoolState) -> dict[str, str]:
    return {ref: rec.get("name_label", "") for ref, rec in state.all("host").items()}


def physical_pif(state: PoolState, host: str, device: str) -> tuple[str, dict[str, t.Any]] | None:
    for ref, pif in state.all("PIF").items():
        if pif.get("host") == host and pif.get("device") == device and pif.get("physical") and _int(pif.get("VLAN")) == -1:
            return ref, pif
    return None


def pif_on(state: PoolState, host: str, network: str | None) -> tuple[str, dict[str, t.Any]] | None:
    if network is None:
        return None
    for ref, pif in state.all("PIF").items():
        if pif.get("host") == host and pif.get("network") == network:
            return ref, pif
    return None


def find_network(state: PoolState, name: str, device: str | None = None, adopt: bool = False) -> str | None:
    """By name; failing that, with adopt, the network that carries the physical NIC `device` on the master-side hosts."""
    named = state.by_name("network", name)
    if len(named) > 1:
        raise NetworkError("NETWORK_NAME_AMBIGUOUS", "%d networks are named '%s'" % (len(named), name))
    if named:
        return named[0][0]
    if adopt and device:
        nets = {pif.get("network") for ref, pif in state.all("PIF").items()
                if pif.get("device") == device and pif.get("physical") and _int(pif.get("VLAN")) == -1}
        nets.discard(None)
        if len(nets) == 1:
            return nets.pop()
    return None


def _bond_of_network(state: PoolState, host: str, network: str | None) -> tuple[str, dict[str, t.Any]] | None:
    found = pif_on(state, host, network)
    if not found:
        return None
    for ref, bond in state.all("Bond").items():
        if bond.get("master") == found[0]:
            return ref, bond
    return None


def view(state: PoolState, net: str | None) -> dict[str, t.Any]:
    rec = state.get("network", net) if net else None
    if rec is None:
        return {"state": "absent"}
    hosts = _host_names(state)
    out: dict[str, t.Any] = {
        "state": "present",
        "name": rec.get("name_label", ""),
        "description": rec.get("name_description", ""),
        "mtu": _int(rec.get("MTU"), 1500),
        "other_config": {k: v for k, v in (rec.get("other_config") or {}).items() if k != OWNER_KEY},
        "hosts": {},
    }
    for host, hname in sorted(hosts.items(), key=lambda kv: kv[1]):
        found = pif_on(state, host, net)
        if not found:
            continue
        pif = found[1]
        entry: dict[str, t.Any] = {
            "device": pif.get("device", ""),
            "vlan": _int(pif.get("VLAN")),
            "ip_mode": str(pif.get("ip_configuration_mode", "None")).lower(),
            "ip": pif.get("IP", ""),
            "netmask": pif.get("netmask", ""),
            "gateway": pif.get("gateway", ""),
            "management": bool(pif.get("management")),
        }
        bond = _bond_of_network(state, host, net)
        if bond:
            slaves = [state.get("PIF", s) or {} for s in bond[1].get("slaves") or []]
            entry["bond"] = {"mode": bond[1].get("mode", ""), "members": sorted(s.get("device", "") for s in slaves)}
        out["hosts"][hname] = entry
    return out


class NetworkPlan:
    """Every write the desired network needs, as (method, args, description) steps in order."""

    def __init__(self) -> None:
        self.create: dict[str, t.Any] | None = None
        self.steps: list[tuple[str, tuple, str]] = []
        self.per_host: list[tuple[str, str, tuple]] = []  # (method, host ref, extra args) needing the network ref
        self.destroy = False
        self.after: dict[str, t.Any] = {}

    @property
    def changed(self) -> bool:
        return bool(self.create is not None or self.steps or self.per_host or self.destroy)


def plan(state: PoolState, desired: dict[str, t.Any], purge_other_config: bool = False, allow_management: bool = False) -> tuple[str | None, NetworkPlan]:
    """Compute the writes; raise NetworkError for anything impossible before a single write."""
    result = NetworkPlan()
    device = desired.get("device")
    net = find_network(state, desired["name"], device, adopt=desired.get("vlan") is None and desired.get("bond") is None)
    before = view(state, net)
    hosts = _host_names(state)
    if desired.get("state") == "absent":
        if net is None:
            result.after = before
            return net, result
        _plan_destroy(state, net, result)
        result.after = {"state": "absent"}
        return net, result
    current = {
        "name": before.get("name"),
        "description": before.get("description"),
        "mtu": before.get("mtu"),
        "other_config": before.get("other_config"),
    }
    want = {k: desired.get(k) for k in ("name", "description", "mtu", "other_config")}
    after = dict(before) if net else {"state": "present", "name": desired["name"], "description": desired.get("description") or "",
                                      "mtu": desired.get("mtu") or 1500, "other_config": dict(desired.get("other_config") or {}), "hosts": {}}
    if net is None:
        result.create = {
            "name_label": desired["name"], "name_description": desired.get("description") or "",
            "MTU": str(desired.get("mtu") or 1500),
            "other_config": dict(desired.get("other_config") or {}, **{OWNER_KEY: "vdc.xenpool"}), "tags": [],
        }
    else:
        changes = diff(current, want, maps=("other_config",), purge={"other_config": purge_other_config})
        after.update(changes.after)
        if "name" in changes:
            result.steps.append(("network.set_name_label", (net, want["name"]), "rename"))
        if "description" in changes:
            result.steps.append(("network.set_name_description", (net, want["description"]), "description"))
        if "mtu" in changes:
            result.steps.append(("network.set_MTU", (net, str(want["mtu"])), "mtu"))
        if "other_config" in changes:
            to_set, to_remove = map_changes(current["other_config"], changes.after["other_config"], purge_other_config)
            for key in to_remove + sorted(k for k in to_set if k in current["other_config"]):
                result.steps.append(("network.remove_from_other_config", (net, key), "other_config"))
            for key in sorted(to_set):
                result.steps.append(("network.add_to_other_config", (net, key, to_set[key]), "other_config"))
    after["hosts"] = {k: dict(v) for k, v in (after.get("hosts") or {}).items()}
    if desired.get("vlan") is not None:
        _plan_vlan(state, net, desired, hosts, result, after)
    elif desired.get("bond") is not None:
        _plan_bond(state, net, desired["bond"], hosts, result, after)
    if desired.get("ip_configuration"):
        _plan_ip(state, net, desired["ip_configuration"], hosts, result, after, allow_management)
    result.after = after
    return net, result


def _tagged_pif(state: PoolState, host: str, desired: dict[str, t.Any]) -> str:
    hname = state.name_of("host", host)
    if desired.get("parent_network"):
        parent = find_network(state, desired["parent_network"])
        found = pif_on(state, host, parent)
        if not found:
            raise NetworkError("PIF_NOT_FOUND", "host %s has no interface on network '%s'" % (hname, desired["parent_network"]))
        return found[0]
    if not desired.get("device"):
        raise NetworkError("INVALID_VALUE", "a VLAN needs device or parent_network")
    found = physical_pif(state, host, desired["device"])
    if not found:
        raise NetworkError("PIF_NOT_FOUND", "host %s has no physical interface %s" % (hname, desired["device"]))
    return found[0]


def _plan_vlan(state: PoolState, net: str | None, desired: dict[str, t.Any], hosts: dict[str, str], result: NetworkPlan, after: dict) -> None:
    tag = int(desired["vlan"])
    for host, hname in sorted(hosts.items(), key=lambda kv: kv[1]):
        tagged = _tagged_pif(state, host, desired)
        existing = None
        for vlan in state.all("VLAN").values():
            if vlan.get("tagged_PIF") == tagged and _int(vlan.get("tag")) == tag:
                existing = state.get("PIF", vlan.get("untagged_PIF")) or {}
        if existing is not None:
            if existing.get("network") != net:
                raise NetworkError("PIF_VLAN_EXISTS", "VLAN %d on host %s already belongs to network '%s'"
                                   % (tag, hname, state.name_of("network", existing.get("network"))))
            continue
        result.per_host.append(("VLAN.create", host, (tagged, str(tag))))
        after["hosts"][hname] = {"device": (state.get("PIF", tagged) or {}).get("device", ""), "vlan": tag, "ip_mode": "none",
                                 "ip": "", "netmask": "", "gateway": "", "management": False}


def _plan_bond(state: PoolState, net: str | None, bond: dict[str, t.Any], hosts: dict[str, str], result: NetworkPlan, after: dict) -> None:
    members = sorted(bond["members"])
    mode = bond.get("mode") or "balance-slb"
    for host, hname in sorted(hosts.items(), key=lambda kv: kv[1]):
        existing = _bond_of_network(state, host, net)
        if existing:
            have = sorted((state.get("PIF", s) or {}).get("device", "") for s in existing[1].get("slaves") or [])
            if have != members:
                raise NetworkError("BOND_MEMBERS_DIFFER", "bond on host %s has members %s, not %s; destroy and recreate it to change members"
                                   % (hname, ",".join(have), ",".join(members)))
            if existing[1].get("mode") != mode:
                result.steps.append(("Bond.set_mode", (existing[0], mode), "bond mode on %s" % hname))
                after["hosts"][hname]["bond"] = {"mode": mode, "members": members}
            continue
        pifs = []
        for device in members:
            found = physical_pif(state, host, device)
            if not found:
                raise NetworkError("PIF_NOT_FOUND", "host %s has no physical interface %s" % (hname, device))
            if not is_null(found[1].get("bond_slave_of")):
                raise NetworkError("PIF_ALREADY_BONDED", "interface %s on host %s is already in another bond" % (device, hname))
            if found[1].get("management") and len(members) < 2:
                raise NetworkError("PIF_IS_MANAGEMENT_INTERFACE", "interface %s on host %s is the management interface" % (device, hname))
            pifs.append(found[0])
        result.per_host.append(("Bond.create", host, (pifs, "", mode, {})))
        after["hosts"][hname] = {"device": "bond", "vlan": -1, "ip_mode": "none", "ip": "", "netmask": "", "gateway": "",
                                 "management": False, "bond": {"mode": mode, "members": members}}


def _plan_ip(state: PoolState, net: str | None, configs: list[dict[str, t.Any]], hosts: dict[str, str], result: NetworkPlan,
             after: dict, allow_management: bool) -> None:
    by_name = {name: ref for ref, name in hosts.items()}
    for conf in configs:
        host = by_name.get(conf["host"])
        if host is None:
            raise NetworkError("HOST_NOT_FOUND", "no host '%s' in the pool" % conf["host"])
        mode = conf.get("mode") or "static"
        want = {"ip_mode": mode, "ip": conf.get("ip") or "", "netmask": conf.get("netmask") or "", "gateway": conf.get("gateway") or ""}
        if mode == "static" and not (want["ip"] and want["netmask"]):
            raise NetworkError("INVALID_VALUE", "static IP configuration of host %s needs ip and netmask" % conf["host"])
        found = pif_on(state, host, net)
        entry = after["hosts"].setdefault(conf["host"], {})
        have = {k: entry.get(k, "") for k in want}
        if mode != "static":
            have = {"ip_mode": have["ip_mode"]}
            want = {"ip_mode": mode}
        if have == want:
            continue
        if entry.get("management") and not allow_management:
            raise NetworkError("PIF_IS_MANAGEMENT_INTERFACE", "the interface of network '%s' on host %s is the management interface; "
                               "set allow_management_interface to reconfigure it" % (state.name_of("network", net), conf["host"]))
        pif = found[0] if found else None
        result.per_host.append(("PIF.reconfigure_ip", host, (pif, IP_MODES[mode], conf.get("ip") or "", conf.get("netmask") or "",
                                                             conf.get("gateway") or "", conf.get("dns") or "")))
        entry.update(want)


def _plan_destroy(state: PoolState, net: str, result: NetworkPlan) -> None:
    for pif_ref, pif in state.all("PIF").items():
        if pif.get("network") != net:
            continue
        if pif.get("management"):
            raise NetworkError("PIF_IS_MANAGEMENT_INTERFACE", "network '%s' carries the management interface of host %s"
                               % (state.name_of("network", net), state.name_of("host", pif.get("host"))))
        if pif.get("physical"):
            raise NetworkError("OPERATION_NOT_ALLOWED", "network '%s' is on the physical interface %s; it cannot be destroyed"
                               % (state.name_of("network", net), pif.get("device")))
        if not is_null(pif.get("VLAN_master_of")):
            result.steps.append(("VLAN.destroy", (pif["VLAN_master_of"],), "VLAN"))
        for bond_ref, bond in state.all("Bond").items():
            if bond.get("master") == pif_ref:
                result.steps.append(("Bond.destroy", (bond_ref,), "bond"))
    vifs = [v for v in state.all("VIF").values() if v.get("network") == net]
    if vifs:
        raise NetworkError("NETWORK_CONTAINS_VIF", "network '%s' has %d virtual interfaces" % (state.name_of("network", net), len(vifs)))
    result.steps.append(("network.destroy", (net,), "destroy"))
    result.destroy = True


def apply(client: t.Any, net: str | None, result: NetworkPlan) -> str | None:
    if result.create is not None:
        net = client.call("network.create", result.create)
    for method, args, _why in result.steps:
        client.call(method, *args)
    for method, host, args in result.per_host:
        if method == "VLAN.create":
            client.call("VLAN.create", args[0], args[1], net)
        elif method == "Bond.create":
            client.call("Bond.create", net, *args)
        elif method == "PIF.reconfigure_ip":
            pif = args[0]
            if pif is None:
                pif = next((ref for ref, rec in client.call("PIF.get_all_records").items()
                            if rec.get("host") == host and rec.get("network") == net), None)
            if pif is None:
                raise NetworkError("PIF_NOT_FOUND", "no interface of the network on host %s" % host)
            client.call("PIF.reconfigure_ip", pif, *args[1:])
    return net
