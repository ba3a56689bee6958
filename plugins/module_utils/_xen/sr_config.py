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


def build_device_config(sr_type: str, options: t.Mapping[str, t.Any]) -> dict[str, str]:
    """device_config for one SR type from the module's typed options; unknown keys are never invented.

    Values missing in --check (a target IQN or SCSIid that only exists after the ONTAP tasks ran) are
    simply left out; callers decide whether the absence is fatal.
    """
    extra = {str(k): str(v) for k, v in (options.get("device_config") or {}).items()}
    config: dict[str, str] = {}
    if sr_type in ISCSI_TYPES:
        if options.get("target"):
            target, port = split_portals(options["target"], options.get("port"))
            config["target"] = target
            config["port"] = str(port)
        if options.get("target_iqn"):
            config["targetIQN"] = options["target_iqn"]
        if options.get("scsi_id"):
            config["SCSIid"] = options["scsi_id"]
        if options.get("chap_user"):
            config["chapuser"] = options["chap_user"]
        if options.get("chap_password"):
            config["chappassword"] = options["chap_password"]
        if options.get("multipath"):
            config["multihomed"] = "true"
    elif sr_type == "nfs":
        if options.get("server"):
            config["server"] = options["server"]
        if options.get("server_path"):
            config["serverpath"] = options["server_path"]
        if options.get("nfs_version"):
            config["nfsversion"] = options["nfs_version"]
    elif sr_type == "iso":
        if options.get("location"):
            config["location"] = options["location"]
        if options.get("cifs_user"):
            config["type"] = "cifs"
            config["username"] = options["cifs_user"]
        if options.get("cifs_password"):
            config["cifspassword"] = options["cifs_password"]
    elif sr_type in LOCAL_TYPES:
        if options.get("device"):
            config["device"] = options["device"]
    config.update(extra)
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


def _parse(xml_text: str, what: str) -> ET.Element:
    try:
        return ET.fromstring(xml_text.strip())
    except ET.ParseError as exc:
        raise SrConfigError("unreadable %s from SR.probe: %s" % (what, exc)) from None


def parse_sr_list(xml_text: str | None) -> list[dict[str, t.Any]]:
    """`<SRlist><SR><UUID/><Devlist/><size/></SR>...</SRlist>`: the SRs found on the probed storage."""
    if not xml_text or not xml_text.strip():
        return []
    root = _parse(xml_text, "SR list")
    result = []
    for item in root.iter("SR"):
        uuid = _text(item, "UUID")
        if uuid:
            size = _text(item, "size")
            result.append({"uuid": uuid, "devlist": _text(item, "Devlist"), "size_bytes": int(size) if size.isdigit() else None})
    return result


def parse_luns(xml_text: str | None) -> list[dict[str, t.Any]]:
    """`<iscsi-target><LUN><vendor/><serial/><LUNid/><size/><SCSIid/></LUN>...`: what stage 2 lists."""
    if not xml_text or not xml_text.strip():
        return []
    root = _parse(xml_text, "LUN list")
    luns = []
    for item in root.iter("LUN"):
        size = _text(item, "size")
        luns.append({
            "vendor": _text(item, "vendor"),
            "serial": _text(item, "serial"),
            "lun_id": _text(item, "LUNid"),
            "size_bytes": int(size) if size.isdigit() else None,
            "scsi_id": _text(item, "SCSIid"),
        })
    return luns


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
