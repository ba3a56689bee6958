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

from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import to_int
from ansible_collections.vdc.xenpool.plugins.module_utils._common.plan import Plan
from ansible_collections.vdc.xenpool.plugins.module_utils._common.reconcile import diff, map_changes
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XapiError, XenPlanError
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.state import PoolState, is_null, read_pool_state
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.validate import check_network

NETWORK_CLASSES = ("host", "network", "PIF", "Bond", "VLAN", "VIF")
OWNER_KEY = "vdc.xenpool.owner"
IP_MODES = {"static": "Static", "dhcp": "DHCP", "none": "None"}


class NetworkError(XenPlanError):
    """A desired network that cannot be reached; nothing was changed."""

    def __init__(self, code: str, message: str, hint: str = "") -> None:
        super().__init__(code, message, hint=hint)


def read(client: t.Any) -> PoolState:
    return read_pool_state(client, NETWORK_CLASSES)


def _host_names(state: PoolState) -> dict[str, str]:
    return {ref: rec.get("name_label", "") for ref, rec in state.all("host").items()}


def physical_pif(state: PoolState, host: str, device: str) -> tuple[str, dict[str, t.Any]] | None:
    for ref, pif in state.all("PIF").items():
        if pif.get("host") == host and pif.get("device") == device and pif.get("physical") and to_int(pif.get("VLAN"), -1) == -1:
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
                if pif.get("device") == device and pif.get("physical") and to_int(pif.get("VLAN"), -1) == -1}
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
        "mtu": to_int(rec.get("MTU"), 1500),
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
            "vlan": to_int(pif.get("VLAN"), -1),
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


NET = "<network>"  # placeholder in a step's args for the ref of a network created by the same plan


class NetworkPlan(Plan):
    """The writes of one network, in order, as Steps whose `call` is (method, args); refused before the first one."""

    def __init__(self, net: str | None, before: dict[str, t.Any]) -> None:
        super().__init__(before=before)
        self.net = net
        self.create: dict[str, t.Any] | None = None
        self.destroy = False
        self.notes: list[str] = []

    def call(self, method: str, args: tuple, obj: str = "", detail: t.Any = None, destructive: bool = False,
             host: str | None = None) -> None:
        self.add(method, obj, detail, destructive=destructive, call=(method, args), host=host)

    @property
    def changed(self) -> bool:
        return bool(self.create is not None or self.steps or self.destroy)


def plan(state: PoolState, desired: dict[str, t.Any], purge_other_config: bool = False, allow_management: bool = False,
         pending_parent: bool = False) -> NetworkPlan:
    """Every write the declaration needs; NetworkError / InputError for anything impossible, before a single write.

    pending_parent: a parent_network that does not exist yet is taken as created by an earlier task of the same
    run (check mode of a play that creates the bond first), so the VLANs on it are predicted instead of refused.
    """
    check_network(desired)
    device = desired.get("device")
    net = find_network(state, desired["name"], device, adopt=desired.get("vlan") is None and desired.get("bond") is None)
    result = NetworkPlan(net, view(state, net))
    if desired.get("state") == "absent":
        if net is not None:
            _plan_destroy(state, net, result)
        result.after = {"state": "absent"}
        return result
    after = _plan_settings(state, net, desired, purge_other_config, result)
    hosts = _host_names(state)
    if desired.get("vlan") is not None:
        _plan_vlan(state, net, desired, hosts, result, after, pending_parent)
    elif desired.get("bond") is not None:
        _plan_bond(state, net, desired["bond"], hosts, result, after, allow_management)
    if desired.get("ip_configuration"):
        _plan_ip(state, net, desired["ip_configuration"], hosts, result, after, allow_management)
    result.after = after
    return result


def _plan_settings(state: PoolState, net: str | None, desired: dict[str, t.Any], purge_other_config: bool,
                   result: NetworkPlan) -> dict[str, t.Any]:
    """Create the network or converge its own fields; returns the predicted view."""
    before = result.before
    if net is None:
        result.create = {
            "name_label": desired["name"], "name_description": desired.get("description") or "",
            "MTU": str(desired.get("mtu") or 1500),
            "other_config": dict(desired.get("other_config") or {}, **{OWNER_KEY: "vdc.xenpool"}), "tags": [],
        }
        result.add("create network", desired["name"])
        return {"state": "present", "name": desired["name"], "description": desired.get("description") or "",
                "mtu": desired.get("mtu") or 1500, "other_config": dict(desired.get("other_config") or {}), "hosts": {}}
    current = {k: before.get(k) for k in ("name", "description", "mtu", "other_config")}
    want = {k: desired.get(k) for k in ("name", "description", "mtu", "other_config")}
    changes = diff(current, want, maps=("other_config",), purge={"other_config": purge_other_config})
    after = dict(before, **changes.after)
    after["hosts"] = {k: dict(v) for k, v in (before.get("hosts") or {}).items()}
    if "name" in changes:
        result.call("network.set_name_label", (net, want["name"]), "name", want["name"])
    if "description" in changes:
        result.call("network.set_name_description", (net, want["description"]), "description", want["description"])
    if "mtu" in changes:
        result.call("network.set_MTU", (net, str(want["mtu"])), "mtu", want["mtu"])
    if "other_config" in changes:
        to_set, to_remove = map_changes(current["other_config"], changes.after["other_config"], purge_other_config)
        for key in to_remove + sorted(k for k in to_set if k in current["other_config"]):
            result.call("network.remove_from_other_config", (net, key), "other_config", key)
        for key in sorted(to_set):
            result.call("network.add_to_other_config", (net, key, to_set[key]), "other_config", key)
    return after


def _tagged_pif(state: PoolState, host: str, desired: dict[str, t.Any], pending_parent: bool) -> str | None:
    """The PIF that carries the VLAN on host; None when it will be the interface of a parent network not created yet."""
    hname = state.name_of("host", host)
    if desired.get("parent_network"):
        parent = find_network(state, desired["parent_network"])
        if parent is None and pending_parent:
            return None
        found = pif_on(state, host, parent)
        if not found and pending_parent:
            return None  # a host that joined since the parent was made: the same run gives it the parent's interface first
        if not found:
            raise NetworkError("PIF_NOT_FOUND", "host %s has no interface on network '%s'" % (hname, desired["parent_network"]),
                               hint="Create network '%s' (its bond or NIC) on every host first" % desired["parent_network"])
        return found[0]
    found = physical_pif(state, host, desired["device"])
    if not found:
        raise NetworkError("PIF_NOT_FOUND", "host %s has no physical interface %s" % (hname, desired["device"]),
                           hint="Check the device name; every host of the pool needs it")
    return found[0]


def _plan_vlan(state: PoolState, net: str | None, desired: dict[str, t.Any], hosts: dict[str, str], result: NetworkPlan,
               after: dict, pending_parent: bool) -> None:
    tag = int(desired["vlan"])
    for host, hname in sorted(hosts.items(), key=lambda kv: kv[1]):
        tagged = _tagged_pif(state, host, desired, pending_parent)
        existing = None
        for vlan in state.all("VLAN").values():
            if tagged is not None and vlan.get("tagged_PIF") == tagged and to_int(vlan.get("tag"), -1) == tag:
                existing = state.get("PIF", vlan.get("untagged_PIF")) or {}
        if existing is not None:
            if existing.get("network") != net:
                raise NetworkError("PIF_VLAN_EXISTS", "VLAN %d on host %s already belongs to network '%s'"
                                   % (tag, hname, state.name_of("network", existing.get("network"))),
                                   hint="Use another tag, or manage that network under its own name")
            continue
        device = (state.get("PIF", tagged) or {}).get("device", "") if tagged else "bond"
        result.call("VLAN.create", (tagged, str(tag), NET), hname, "VLAN %d on %s" % (tag, device), host=host)
        after["hosts"][hname] = {"device": device, "vlan": tag, "ip_mode": "none", "ip": "", "netmask": "", "gateway": "",
                                 "management": False}
    if pending_parent and find_network(state, desired.get("parent_network") or "") is None and desired.get("parent_network"):
        result.notes.append("network '%s' does not exist yet; the VLAN is predicted on the interface it will have on every host"
                            % desired["parent_network"])


def _bond_pifs(state: PoolState, host: str, hname: str, members: list[str], allow_management: bool) -> list[str]:
    pifs = []
    for device in members:
        found = physical_pif(state, host, device)
        if not found:
            raise NetworkError("PIF_NOT_FOUND", "host %s has no physical interface %s" % (hname, device),
                               hint="Bond only NICs that exist on every host of the pool")
        if not is_null(found[1].get("bond_slave_of")):
            raise NetworkError("PIF_ALREADY_BONDED", "interface %s on host %s is already in another bond" % (device, hname),
                               hint="Destroy that bond first, or bond other NICs")
        if found[1].get("management") and not allow_management:
            raise NetworkError("PIF_IS_MANAGEMENT_INTERFACE", "interface %s on host %s is the management interface" % (device, hname),
                               hint="Set allow_management_interface: true to move management onto the bond")
        pifs.append(found[0])
    return pifs


def _plan_bond(state: PoolState, net: str | None, bond: dict[str, t.Any], hosts: dict[str, str], result: NetworkPlan,
               after: dict, allow_management: bool) -> None:
    members = sorted(bond["members"])
    mode = bond.get("mode") or "balance-slb"
    for host, hname in sorted(hosts.items(), key=lambda kv: kv[1]):
        existing = _bond_of_network(state, host, net)
        if existing:
            have = sorted((state.get("PIF", s) or {}).get("device", "") for s in existing[1].get("slaves") or [])
            if have != members:
                raise NetworkError("BOND_MEMBERS_DIFFER", "bond on host %s has members %s, not %s"
                                   % (hname, ",".join(have), ",".join(members)),
                                   hint="Destroy the network (state: absent) and declare it again to change members")
            if existing[1].get("mode") != mode:
                result.call("Bond.set_mode", (existing[0], mode), hname, "bond mode %s" % mode, host=host)
                after["hosts"][hname]["bond"] = {"mode": mode, "members": members}
            continue
        pifs = _bond_pifs(state, host, hname, members, allow_management)
        result.call("Bond.create", (NET, pifs, "", mode, {}), hname, "bond %s (%s)" % (",".join(members), mode), host=host)
        after["hosts"][hname] = {"device": "bond", "vlan": -1, "ip_mode": "none", "ip": "", "netmask": "", "gateway": "",
                                 "management": False, "bond": {"mode": mode, "members": members}}


def _plan_ip(state: PoolState, net: str | None, configs: list[dict[str, t.Any]], hosts: dict[str, str], result: NetworkPlan,
             after: dict, allow_management: bool) -> None:
    by_name = {name: ref for ref, name in hosts.items()}
    missing = sorted(conf["host"] for conf in configs if conf["host"] not in by_name)
    if missing:
        raise NetworkError("HOST_NOT_FOUND", "no host %s in the pool" % ", ".join("'%s'" % m for m in missing),
                           hint="Remove those hosts from ip_configuration, or join them to the pool first")
    for conf in configs:
        host = by_name[conf["host"]]
        mode = conf.get("mode") or "static"
        want = {"ip_mode": mode, "ip": conf.get("ip") or "", "netmask": conf.get("netmask") or "", "gateway": conf.get("gateway") or ""}
        entry = after["hosts"].setdefault(conf["host"], {})
        have = {k: entry.get(k, "") for k in want}
        if mode != "static":
            have = {"ip_mode": have["ip_mode"]}
            want = {"ip_mode": mode}
        if have == want:
            continue
        if entry.get("management") and not allow_management:
            raise NetworkError("PIF_IS_MANAGEMENT_INTERFACE", "the interface of network '%s' on host %s is the management interface"
                               % (state.name_of("network", net), conf["host"]),
                               hint="Set allow_management_interface: true to reconfigure it")
        found = pif_on(state, host, net)
        args = (found[0] if found else None, IP_MODES[mode], conf.get("ip") or "", conf.get("netmask") or "",
                conf.get("gateway") or "", conf.get("dns") or "")
        result.call("PIF.reconfigure_ip", args, conf["host"], "%s %s" % (mode, conf.get("ip") or ""), host=host)
        entry.update(want)


def _plan_destroy(state: PoolState, net: str, result: NetworkPlan) -> None:
    name = state.name_of("network", net)
    for pif_ref, pif in state.all("PIF").items():
        if pif.get("network") != net:
            continue
        if pif.get("management"):
            raise NetworkError("PIF_IS_MANAGEMENT_INTERFACE", "network '%s' carries the management interface of host %s"
                               % (name, state.name_of("host", pif.get("host"))), hint="Move the management interface first")
        if pif.get("physical"):
            raise NetworkError("OPERATION_NOT_ALLOWED", "network '%s' is on the physical interface %s; it cannot be destroyed"
                               % (name, pif.get("device")), hint="Physical networks stay; rename them instead")
        hname = state.name_of("host", pif.get("host"))
        if not is_null(pif.get("VLAN_master_of")):
            result.call("VLAN.destroy", (pif["VLAN_master_of"],), hname, "VLAN", destructive=True)
        for bond_ref, bond in state.all("Bond").items():
            if bond.get("master") == pif_ref:
                result.call("Bond.destroy", (bond_ref,), hname, "bond", destructive=True)
    vifs = [v for v in state.all("VIF").values() if v.get("network") == net]
    if vifs:
        raise NetworkError("NETWORK_CONTAINS_VIF", "network '%s' has %d virtual interfaces" % (name, len(vifs)),
                           hint="Move or remove the VMs' interfaces first")
    result.call("network.destroy", (net,), name, destructive=True)
    result.destroy = True


def apply(client: t.Any, result: NetworkPlan) -> str | None:
    """Run the plan's calls in order; NET in a call's args is the network created by the plan (or found by it)."""
    net = result.net
    if result.create is not None:
        net = client.call("network.create", result.create)
    for step in result.steps:
        if "call" not in step:
            continue
        method, args = step["call"]
        args = tuple(net if a == NET else a for a in args)
        if method == "VLAN.create" and args[0] is None:
            raise NetworkError("PIF_NOT_FOUND", "the parent network of the VLAN does not exist on host %s" % step["object"],
                               hint="Create the parent network first")
        if method == "PIF.reconfigure_ip" and args[0] is None:
            args = (_pif_of(client, step["host"], net),) + args[1:]
        try:
            client.call(method, *args)
        except XapiError as err:
            # xapi names neither the host nor the value ('INVALID_IP_ADDRESS_SPECIFIED [ip]'): say which step it was
            done = [("%s %s" % (s["action"], s["object"])).strip() for s in result.steps[:result.steps.index(step)]]
            raise NetworkError(err.code, "%s on %s (%s) failed: %s; done before it: %s"
                               % (method, step["object"] or "the pool", step["detail"], err, ", ".join(done) or "nothing"),
                               hint=err.hint or "Correct the option for that host and run again; the steps done stay") from None
    return net


def _pif_of(client: t.Any, host: str, net: str | None) -> str:
    """The PIF a VLAN or bond created earlier in this run gave the network on host (not in the plan's state)."""
    pif = next((ref for ref, rec in client.call("PIF.get_all_records").items() if rec.get("host") == host and rec.get("network") == net), None)
    if pif is None:
        raise NetworkError("PIF_NOT_FOUND", "no interface of the network on host %s" % host)
    return pif
