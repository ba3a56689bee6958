# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""SR device_config building and SR.probe answer parsing (private to vdc.xenpool).

Kept apart from the SR service because it is pure: the same code builds what the module sends, what
--check predicts and what the unit tests compare, and none of it needs a XenAPI session. The probe
answers are the SM driver's XML, sometimes delivered inside an error (xapi `xapi_sr.ml` `probe`, sm `SRCommand.py`).
"""

from __future__ import annotations

import typing as t
import xml.etree.ElementTree as ET

from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import MASK

DEFAULT_ISCSI_PORT = 3260

# SR types this collection manages, with what xapi needs to know about each.
ISCSI_TYPES = ("lvmoiscsi", "lvhdoiscsi")
LOCAL_TYPES = ("lvm", "ext")
TYPES = ISCSI_TYPES + ("nfs", "iso") + LOCAL_TYPES


class SrConfigError(ValueError):
    """The options cannot describe a usable device_config; raised before any call is made."""


def is_secret_key(key: str) -> bool:
    """xapi moves keys ending in `password` into secrets and stores `<key>_secret` instead (§3.2)."""
    return key.endswith("password") or key.endswith("password_secret")


def mask(device_config: t.Mapping[str, t.Any] | None) -> dict[str, t.Any]:
    """device_config fit for results and diffs: every password or secret reference masked."""
    return {k: (MASK if is_secret_key(k) else v) for k, v in sorted((device_config or {}).items())}


def split_portals(portals: t.Sequence[str], port: int | None) -> tuple[str, int]:
    """`target` is a comma list of addresses with one shared `port`; accept `addr` or `addr:port` entries."""
    addresses: list[str] = []
    ports: set[int] = set()
    for portal in portals:
        text = str(portal).strip()
        if not text:
            continue
        if text.startswith("["):  # [IPv6]:port
            host, _sep, rest = text[1:].partition("]")
            if rest.startswith(":") and rest[1:].isdigit():
                ports.add(int(rest[1:]))
            text = host
        elif text.count(":") == 1:
            host, _sep, rest = text.partition(":")
            if not rest.isdigit():
                raise SrConfigError("portal %r: the port after ':' must be a number" % portal)
            ports.add(int(rest))
            text = host
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise SrConfigError("target needs at least one portal address")
    if port is not None:
        ports.add(port)
    if len(ports) > 1:
        raise SrConfigError("the portals use different ports %s; XenServer takes one port per SR" % sorted(ports))
    chosen = ports.pop() if ports else DEFAULT_ISCSI_PORT
    if not 1 <= chosen <= 65535:
        raise SrConfigError("port %d is outside 1-65535" % chosen)
    return ",".join(addresses), chosen


# The device_config key each typed option becomes, per SR type family (the keys the SM drivers read:
# sm `ISCSISR.py`, `NFSSR.py`, `ISOSR.py`, `LVMSR.py`); options not listed here are handled below.
_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "iscsi": (("target_iqn", "targetIQN"), ("scsi_id", "SCSIid"), ("chap_user", "chapuser"), ("chap_password", "chappassword")),
    "nfs": (("server", "server"), ("server_path", "serverpath"), ("nfs_version", "nfsversion")),
    "iso": (("location", "location"), ("cifs_user", "username"), ("cifs_password", "cifspassword")),
    "local": (("device", "device"),),
}


def _family(sr_type: str) -> str:
    if sr_type in ISCSI_TYPES:
        return "iscsi"
    return "local" if sr_type in LOCAL_TYPES else sr_type


def build_device_config(sr_type: str, options: t.Mapping[str, t.Any]) -> dict[str, str]:
    """device_config for one SR type from the module's typed options; unknown keys are never invented.

    Values missing in --check (a target IQN or SCSIid that only exists after the ONTAP tasks ran) are
    simply left out; callers decide whether the absence is fatal.
    """
    family = _family(sr_type)
    config: dict[str, str] = {}
    if family == "iscsi" and options.get("target"):
        target, port = split_portals(options["target"], options.get("port"))
        config.update(target=target, port=str(port))
    config.update((key, options[option]) for option, key in _KEYS.get(family, ()) if options.get(option))
    if family == "iscsi" and options.get("multipath"):
        config["multihomed"] = "true"
    if family == "iso" and options.get("cifs_user"):
        config["type"] = "cifs"
    config.update({str(k): str(v) for k, v in (options.get("device_config") or {}).items()})
    return config


def identity_keys(sr_type: str) -> tuple[str, ...]:
    """device_config keys that name the storage itself; equal keys mean the same SR whatever its name."""
    if sr_type in ISCSI_TYPES:
        return ("SCSIid",)
    if sr_type == "nfs":
        return ("server", "serverpath")
    if sr_type == "iso":
        return ("location",)
    return ("device",)


def same_family(a: str, b: str) -> bool:
    """lvmoiscsi and lvhdoiscsi are the same driver (§3.2)."""
    return a == b or (a in ISCSI_TYPES and b in ISCSI_TYPES)


def matches(sr_type: str, wanted: t.Mapping[str, str], have: t.Mapping[str, str] | None) -> bool:
    keys = identity_keys(sr_type)
    if not have or any(not wanted.get(k) for k in keys):
        return False
    return all(str(have.get(k, "")) == str(wanted[k]) for k in keys)


def identity_complete(sr_type: str, device_config: t.Mapping[str, str]) -> bool:
    return all(device_config.get(k) for k in identity_keys(sr_type))


def drift(desired: t.Mapping[str, str], current: t.Mapping[str, str] | None) -> list[str]:
    """device_config keys whose value differs on an existing PBD; secrets are never compared (§3.2)."""
    current = current or {}
    return sorted(k for k, v in desired.items() if not is_secret_key(k) and k != "multihomelist" and str(current.get(k, "")) != str(v))


def _text(element: ET.Element, tag: str) -> str:
    child = element.find(tag)
    return (child.text or "").strip() if child is not None else ""


def _elements(xml_text: str | None, what: str, tag: str) -> list[ET.Element]:
    """The `<tag>` elements of a probe answer; an empty answer (nothing found) is no error, unreadable XML is."""
    if not xml_text or not xml_text.strip():
        return []
    try:
        root = ET.fromstring(xml_text.strip())
    except ET.ParseError as exc:
        raise SrConfigError("unreadable %s from SR.probe: %s" % (what, exc)) from None
    return list(root.iter(tag))


def _size(element: ET.Element) -> int | None:
    """SM writes `<size>` in bytes; anything else (blank, a unit) is unknown rather than a guess."""
    size = _text(element, "size")
    return int(size) if size.isdigit() else None


def parse_sr_list(xml_text: str | None) -> list[dict[str, t.Any]]:
    """`<SRlist><SR><UUID/><Devlist/><size/></SR>...</SRlist>`: the SRs found on the probed storage."""
    return [{"uuid": _text(item, "UUID"), "devlist": _text(item, "Devlist"), "size_bytes": _size(item)}
            for item in _elements(xml_text, "SR list", "SR") if _text(item, "UUID")]


def parse_luns(xml_text: str | None) -> list[dict[str, t.Any]]:
    """`<iscsi-target><LUN><vendor/><serial/><LUNid/><size/><SCSIid/></LUN>...`: what stage 2 lists."""
    return [{"vendor": _text(item, "vendor"), "serial": _text(item, "serial"), "lun_id": _text(item, "LUNid"),
             "size_bytes": _size(item), "scsi_id": _text(item, "SCSIid")}
            for item in _elements(xml_text, "LUN list", "LUN")]


def probe_payload(params: t.Sequence[str]) -> str:
    """The driver's XML travels as the last parameter of SR_BACKEND_FAILURE_<n> ['', text, stderr]."""
    for value in reversed(list(params)):
        if value and value.lstrip().startswith("<"):
            return value
    return ""


def parse_mpath(value: t.Any) -> tuple[int | None, int | None]:
    """PBD other_config `mpath-<SCSIid>` is written by SM as `[active, total]`."""
    text = str(value or "").strip().strip("[]")
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2 or not all(p.isdigit() for p in parts):
        return None, None
    return int(parts[0]), int(parts[1])
