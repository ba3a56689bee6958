# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""Input checks of the Xen modules, run before the first call (private to vdc.xenpool).

xapi accepts much that it should not (an MTU <= 0 becomes 1500 in Xapi_network.create, an IQN is any
non-empty string in Xapi_host.set_iscsi_iqn) or refuses late, after earlier writes of the same run
(PIF.reconfigure_ip after network.create and VLAN.create). Every option is checked here, and every
problem is reported at once, so a refusal is never a partial change.
"""

from __future__ import annotations

import ipaddress
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._common.san import iscsi_name_problem
from ansible_collections.vdc.xenpool.plugins.module_utils._xen.errors import XenPlanError

# 68 is the smallest MTU an IPv4 interface must accept and 65535 the largest IPv4 datagram (RFC 791). xapi does
# not bound it: Xapi_network.create only turns an MTU <= 0 into 1500, and a bad value fails when the PIF is plugged.
MTU_RANGE = (68, 65535)
VLAN_RANGE = (0, 4094)
BOND_MODES = ("balance-slb", "active-backup", "lacp")


class InputError(XenPlanError):
    """One or more options cannot be right; nothing was read or written because of them."""


def iqn_problem(value: t.Any, what: str = "iscsi_iqn") -> str | None:
    """Why value is not an iSCSI name (RFC 3720/3980: the collection's one rule, shared with the ONTAP side), or None."""
    problem = iscsi_name_problem(value)
    if problem is None:
        return None
    if problem == "empty":
        return "%s is empty" % what
    return "%s %r is not an iSCSI name (%s)" % (what, str(value), problem)


def name_problem(value: t.Any, what: str = "name") -> str | None:
    """A name that is given must say something: xapi would store '' or blanks and nobody could find the object again."""
    if value is not None and not str(value).strip():
        return "%s is empty" % what
    return None


def raise_if(problems: t.Iterable[str | None], code: str, hint: str) -> None:
    """Raise one InputError naming every problem, or return when there is none."""
    found = [p for p in problems if p]
    if found:
        raise InputError(code, "; ".join(found), hint=hint)


def _address_problem(value: str, what: str) -> tuple[str | None, t.Any]:
    try:
        return None, ipaddress.ip_address(value)
    except ValueError:
        return "%s %r is not an IPv4 or IPv6 address" % (what, value), None


def _netmask_problem(netmask: str, version: int, host: str) -> str | None:
    text = str(netmask).strip()
    if text.isdigit():
        return None if int(text) <= (32 if version == 4 else 128) else "netmask /%s of host %s is out of range" % (text, host)
    if version != 4:
        return "netmask %r of host %s: give an IPv6 prefix length" % (text, host)
    try:
        ipaddress.IPv4Network("0.0.0.0/%s" % text)
    except ValueError:
        return "netmask %r of host %s is not a contiguous IPv4 netmask" % (text, host)
    return None


def ip_problems(conf: dict[str, t.Any]) -> list[str]:
    """Problems of one ip_configuration entry; static needs a valid address and netmask, the gateway in that subnet."""
    host = conf.get("host") or ""
    problems = [name_problem(conf.get("host"), "ip_configuration host")]
    if (conf.get("mode") or "static") != "static":
        return [p for p in problems if p]
    if not conf.get("ip") or not conf.get("netmask"):
        return [p for p in problems if p] + ["static IP configuration of host %s needs ip and netmask" % host]
    problem, ip = _address_problem(str(conf["ip"]).strip(), "ip of host %s:" % host)
    problems.append(problem)
    if ip is not None:
        problems.append(_netmask_problem(conf["netmask"], ip.version, host))
    if conf.get("gateway"):
        problem, gateway = _address_problem(str(conf["gateway"]).strip(), "gateway of host %s:" % host)
        problems.append(problem)
        if ip is not None and gateway is not None and gateway.version != ip.version:
            problems.append("gateway %s of host %s is not of the address family of %s" % (gateway, host, ip))
    for dns in [d.strip() for d in str(conf.get("dns") or "").split(",") if d.strip()]:
        problems.append(_address_problem(dns, "dns server of host %s:" % host)[0])
    return [p for p in problems if p]


def network_problems(desired: dict[str, t.Any]) -> list[str]:
    """Every problem of a network declaration that can be seen without reading the pool."""
    problems = [name_problem(desired.get("name"), "name")]
    for key in ("device", "parent_network"):
        problems.append(name_problem(desired.get(key), key))
    mtu = desired.get("mtu")
    if mtu is not None and not MTU_RANGE[0] <= mtu <= MTU_RANGE[1]:
        problems.append("mtu %s is outside %d-%d" % (mtu, MTU_RANGE[0], MTU_RANGE[1]))
    vlan = desired.get("vlan")
    if vlan is not None:
        if not VLAN_RANGE[0] <= vlan <= VLAN_RANGE[1]:
            problems.append("vlan %s is outside %d-%d" % (vlan, VLAN_RANGE[0], VLAN_RANGE[1]))
        if not desired.get("device") and not desired.get("parent_network"):
            problems.append("a VLAN needs device or parent_network")
    bond = desired.get("bond")
    if bond is not None:
        members = [str(m).strip() for m in bond.get("members") or []]
        if len(set(members)) < 2 or len(set(members)) != len(members) or not all(members):
            problems.append("bond members %s: a bond needs at least 2 distinct NICs" % (bond.get("members") or []))
        if (bond.get("mode") or "balance-slb") not in BOND_MODES:
            problems.append("bond mode %r is not one of %s" % (bond.get("mode"), ", ".join(BOND_MODES)))
    seen: set[str] = set()
    for conf in desired.get("ip_configuration") or []:
        problems += ip_problems(conf)
        if conf.get("host") in seen:
            problems.append("host %s has two ip_configuration entries" % conf.get("host"))
        seen.add(conf.get("host"))
    return [p for p in problems if p]


def check_network(desired: dict[str, t.Any]) -> None:
    raise_if(network_problems(desired), "INVALID_VALUE", "Correct these options; nothing was changed")
