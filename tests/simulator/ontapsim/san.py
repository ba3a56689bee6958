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
"""
from __future__ import annotations

from .model import OntapState, scsi_id

DATA_KEY = "host_data"


def lun_by_serial(state: OntapState, serial: str) -> dict | None:
    for lun in state.luns.values():
        if lun["serial"] == serial:
            return lun
    return None


def iscsi_targets(state: OntapState) -> list[dict]:
    """What sendtargets discovery on the data LIFs answers to any initiator: one target per SVM whose
    iSCSI service is enabled, with its enabled iSCSI data LIF portals (LUN masking is per igroup, not here)."""
    out = []
    for svm in sorted(state.svms.values(), key=lambda s: s["name"]):
        service = state.iscsi.get(svm["uuid"])
        if not service or not service["enabled"]:
            continue
        portals = ["%s:3260" % lif["address"] for lif in state.lifs.values()
                   if lif["svm_uuid"] == svm["uuid"] and lif["enabled"] and "data_iscsi" in lif["services"]]
        if portals:
            out.append({"svm": svm["name"], "target_iqn": state.target_iqn(svm), "portals": sorted(portals)})
    return out


def san_control(state: OntapState, method: str, route: str, payload: dict) -> tuple[int, dict] | None:
    """Answer a luns/<serial>/data route (caller holds state.lock); None when the route is not ours."""
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
