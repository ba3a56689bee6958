# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The SAN fabric seen from the hosts: per-LUN data area (control API, not ONTAP API).

A real LUN carries whatever the host wrote on it; for an lvmoiscsi SR that is
the LVM volume group with the SR uuid and the VDI metadata volume. The XenAPI
simulator stores exactly that (one JSON document) here, so a reattach after
SR.forget, or after a restart of the XenAPI simulator, finds the SR and its
VDIs, while SR.create (format) and SR.destroy replace or wipe them. The data
lives in the LUN record, so it is saved with the state and disappears with the
LUN. These routes are control routes: they are not recorded as ONTAP calls.

Routes (under /sim/ontap/; `visible` also lists `targets`, see iscsi_targets):
  GET    luns/<serial>/data   -> {"serial", "lun_path", "size", "scsi_id", "data": <document or null>}
  PUT    luns/<serial>/data   body {"data": <document or null>} (POST is accepted too)
  DELETE luns/<serial>/data   wipe (data becomes null)
  POST   chap   {"svm", "initiator", "user", "password"}: `vserver iscsi security create/modify -auth-type CHAP`
                for that initiator (user "" = back to auth-type none). Only a salted hash is kept.
  POST   login  {"initiator", "target_iqn", "user", "password"} -> {"ok", "chap"}: an iSCSI login's
                authentication, as the target would judge it (the password travels in the body only).
  POST   lifs   {"name" | "address", "enabled"}: take a data LIF down/up (a lost path for the hosts).
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from .model import OntapState, normalise_initiator, scsi_id

CHAP_KEY = "iscsi_chap"  # in the SVM record: {initiator: {"user", "salt", "hash"}}
DATA_KEY = "host_data"  # in the LUN record: the JSON document the hosts wrote


def _digest(salt: str, password: str) -> str:
    return hashlib.sha256((salt + password).encode("utf-8")).hexdigest()


def chap_of(svm: dict, initiator: str) -> dict | None:
    return (svm.get(CHAP_KEY) or {}).get(normalise_initiator(initiator))


def set_chap(state: OntapState, payload: dict) -> dict:
    svm = state.svm_by_name(payload["svm"])
    initiator = normalise_initiator(payload["initiator"])
    table = svm.setdefault(CHAP_KEY, {})
    if not payload.get("user"):
        table.pop(initiator, None)
        return {"ok": True, "svm": svm["name"], "initiator": initiator, "auth_type": "none"}
    salt = secrets.token_hex(8)
    table[initiator] = {"user": str(payload["user"]), "salt": salt, "hash": _digest(salt, str(payload.get("password", "")))}
    return {"ok": True, "svm": svm["name"], "initiator": initiator, "auth_type": "chap"}


def check_login(state: OntapState, payload: dict) -> dict:
    """CHAP is per initiator on the SVM behind the target; initiators without an entry log in with auth-type none."""
    for svm in state.svms.values():
        if state.target_iqn(svm) != payload.get("target_iqn"):
            continue
        entry = chap_of(svm, payload.get("initiator", ""))
        if entry is None:
            return {"ok": True, "chap": False}
        ok = hmac.compare_digest(entry["user"], str(payload.get("user", ""))) and hmac.compare_digest(
            entry["hash"], _digest(entry["salt"], str(payload.get("password", ""))))
        return {"ok": ok, "chap": True}
    return {"ok": False, "chap": False}


def lun_by_serial(state: OntapState, serial: str) -> dict | None:
    for lun in state.luns.values():
        if lun["serial"] == serial:
            return lun
    return None


def iscsi_targets(state: OntapState, initiator: str = "") -> list[dict]:
    """What sendtargets discovery on the data LIFs answers to any initiator: one target per SVM whose
    iSCSI service is enabled, with its enabled iSCSI data LIF portals (LUN masking is per igroup, not here);
    `chap` tells whether this initiator must authenticate (then xapisim asks POST login)."""
    out = []
    for svm in sorted(state.svms.values(), key=lambda s: s["name"]):
        service = state.iscsi.get(svm["uuid"])
        if not service or not service["enabled"]:
            continue
        portals = ["%s:3260" % lif["address"] for lif in state.lifs.values()
                   if lif["svm_uuid"] == svm["uuid"] and lif["enabled"] and "data_iscsi" in lif["services"]]
        if portals:
            out.append({"svm": svm["name"], "target_iqn": state.target_iqn(svm), "portals": sorted(portals),
                        "chap": chap_of(svm, initiator) is not None})
    return out


def set_lif_enabled(state: OntapState, payload: dict) -> tuple[int, dict]:
    """Take a data LIF down or up (a path failure as the hosts see it; ONTAP: network interface modify -status-admin)."""
    for lif in state.lifs.values():
        if lif["name"] == payload.get("name") or lif["address"] == payload.get("address"):
            lif["enabled"] = bool(payload.get("enabled", True))
            return 200, {"ok": True, "name": lif["name"], "address": lif["address"], "enabled": lif["enabled"]}
    return 404, {"error": "no LIF named %s" % (payload.get("name") or payload.get("address"))}


def san_control(state: OntapState, method: str, route: str, payload: dict) -> tuple[int, dict] | None:
    """Answer a fabric route (caller holds state.lock); None when the route is not ours."""
    if route == "chap" and method == "POST":
        return 200, set_chap(state, payload)
    if route == "login" and method == "POST":
        return 200, check_login(state, payload)
    if route == "lifs" and method == "POST":
        return set_lif_enabled(state, payload)
    parts = route.split("/")
    if len(parts) != 3 or parts[0] != "luns" or parts[2] != "data":
        return None
    serial = parts[1]
    lun = lun_by_serial(state, serial)
    if lun is None:
        return 404, {"error": "no LUN with serial %s" % serial}
    if method in ("PUT", "POST"):
        if "data" not in payload:
            return 400, {"error": "body must be {\"data\": <JSON document or null>}"}
        data = payload["data"]
        if data is not None and not isinstance(data, dict):
            return 400, {"error": "data must be a JSON object or null"}
        lun[DATA_KEY] = data
    elif method == "DELETE":
        lun[DATA_KEY] = None
    elif method != "GET":
        return 405, {"error": "method %s not allowed" % method}
    return 200, {"serial": serial, "lun_path": lun["path"], "size": lun["size"], "scsi_id": scsi_id(serial),
                 "data": lun.get(DATA_KEY)}
