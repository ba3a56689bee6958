# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ONTAP REST front end (/api/...): routing, records, fields=, filters, jobs, errors.

Conventions follow the ONTAP REST API reference's general rules: collection
envelope {records, num_records, _links}, empty match = 200 with 0 records,
fields= with dotted paths / object names / * / **, filters with the
documented operators, dotted keys in bodies, 202 + job for asynchronous
operations unless return_timeout covers the job, error envelope with the
per-operation codes.
"""
from __future__ import annotations

import fnmatch
import json
import re
import urllib.parse

from .errors import ERRORS, OntapError
from .model import EFFICIENCY_KEYS, JOB_SECONDS, OntapState, iso, parse_bool, parse_size
from .restfields import FIELDS, PATCH_FIELDS, POST_FIELDS

CONTROL_PARAMS = {"fields", "max_records", "return_records", "return_timeout", "order_by", "start.index",
                  "allow_delete_while_mapped", "force", "is_constituent", "local_delete_only", "sizing_method",
                  "validate_only", "preserve_lun_ids", "data.offset", "data.size"}
# Fields that identify a record; returned when no fields= is given.
DEFAULT_FIELDS = {
    "svms": ["uuid", "name"], "aggregates": ["uuid", "name"], "volumes": ["uuid", "name"], "luns": ["uuid", "name"],
    "igroups": ["uuid", "name"], "igroup_initiators": ["name"], "lun_maps": ["svm", "lun.name", "lun.uuid",
                                                                             "igroup.name", "igroup.uuid"],
    "iscsi_services": ["svm", "target.name"], "ip_interfaces": ["uuid", "name"], "snapshots": ["uuid", "name"],
    "jobs": ["uuid"], "nodes": ["uuid", "name"],
}


class RestResponse:
    """status, headers, JSON body; plus what the call log needs."""

    def __init__(self, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        self.status = status
        self.body = body if body is not None else {}
        self.headers = headers or {}


def expand_body(body: dict) -> dict:
    """Merge dotted keys ({'svm.name': x}) and nested objects into one nested dict."""
    out: dict = {}
    for key, value in body.items():
        if isinstance(value, dict):
            value = expand_body(value)
        parts = key.split(".")
        node = out
        for part in parts[:-1]:
            nxt = node.setdefault(part, {})
            if not isinstance(nxt, dict):
                raise OntapError("invalid_value", "Conflicting values for field \"%s\"." % key, key)
            node = nxt
        last = parts[-1]
        if isinstance(value, dict) and isinstance(node.get(last), dict):
            node[last].update(value)
        else:
            node[last] = value
    return out


def get_values(record, path: list[str]) -> list:
    """All leaf values at a dotted path, flattening lists on the way."""
    if not path:
        if isinstance(record, list):
            return list(record)
        return [record]
    if isinstance(record, list):
        out = []
        for item in record:
            out.extend(get_values(item, path))
        return out
    if not isinstance(record, dict) or path[0] not in record:
        return []
    return get_values(record[path[0]], path[1:])


def _as_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(value, op: str, wanted: str) -> bool:
    text = _as_text(value)
    if op in ("<", ">", "<=", ">="):
        try:
            left, right = float(value), float(wanted)
        except (TypeError, ValueError):
            left, right = text, wanted  # type: ignore[assignment]
        return {"<": left < right, ">": left > right, "<=": left <= right, ">=": left >= right}[op]
    if "*" in wanted:
        return fnmatch.fnmatchcase(text.lower(), wanted.lower())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return float(value) == float(wanted)
        except ValueError:
            return False
    return text == wanted


def match_filter(record: dict, field: str, expr: str) -> bool:
    """ONTAP query semantics: '|' OR, leading !, <, >, <=, >=, * wildcards, null / !null."""
    values = get_values(record, field.split("."))
    if field.endswith("initiators.name"):
        expr = expr.lower()
    for alt in expr.split("|"):
        negate = alt.startswith("!")
        body = alt[1:] if negate else alt
        if body == "null":
            hit = not values
            if hit != negate:
                return True
            continue
        op = ""
        for candidate in ("<=", ">=", "<", ">"):
            if body.startswith(candidate):
                op, body = candidate, body[len(candidate):]
                break
        if not values:
            continue
        hit = any(_compare(v, op, body) for v in values)
        if negate:
            hit = all(not _compare(v, op, body) for v in values)
        if hit:
            return True
    return False


def project(record: dict, paths: list[list[str]]) -> dict:
    """Keep only the listed dotted paths (an object name keeps the whole sub-object)."""
    out: dict = {}
    for path in paths:
        _copy_path(record, out, path)
    return out


def _copy_path(src, dst: dict, path: list[str]) -> None:
    key = path[0]
    if not isinstance(src, dict) or key not in src:
        return
    value = src[key]
    if len(path) == 1:
        dst[key] = json.loads(json.dumps(value))
        return
    if isinstance(value, list):
        items = dst.setdefault(key, [{} for dummy in value])
        for item_src, item_dst in zip(value, items):
            _copy_path(item_src, item_dst, path[1:])
        return
    if isinstance(value, dict):
        _copy_path(value, dst.setdefault(key, {}), path[1:])


def _ref(name: str, uuid: str, href: str) -> dict:
    return {"name": name, "uuid": uuid, "_links": {"self": {"href": href}}}


def _links(href: str) -> dict:
    return {"self": {"href": href}}


class RestApi:
    """Translate REST requests into model operations and model objects into records."""

    def __init__(self, state: OntapState) -> None:
        self.state = state
        table = [
            (r"cluster", {"GET": self.get_cluster}),
            (r"cluster/nodes", {"GET": self.collection("nodes", self.node_records)}),
            (r"cluster/jobs", {"GET": self.collection("jobs", self.job_records)}),
            (r"cluster/jobs/(?P<uuid>[^/]+)", {"GET": self.instance("jobs", self.job_records, "not_found")}),
            (r"svm/svms", {"GET": self.collection("svms", self.svm_records)}),
            (r"svm/svms/(?P<uuid>[^/]+)", {"GET": self.instance("svms", self.svm_records, "svm_not_found")}),
            (r"storage/aggregates", {"GET": self.collection("aggregates", self.aggr_records)}),
            (r"storage/aggregates/(?P<uuid>[^/]+)", {"GET": self.instance("aggregates", self.aggr_records, "not_found")}),
            (r"storage/volumes", {"GET": self.collection("volumes", self.volume_records), "POST": self.post_volume}),
            (r"storage/volumes/(?P<uuid>[^/]+)", {"GET": self.instance("volumes", self.volume_records, "vol_not_found"),
                                                  "PATCH": self.patch_volume, "DELETE": self.delete_volume}),
            (r"storage/volumes/(?P<vol>[^/]+)/snapshots", {"GET": self.get_snapshots, "POST": self.post_snapshot}),
            (r"storage/volumes/(?P<vol>[^/]+)/snapshots/(?P<uuid>[^/]+)",
             {"GET": self.get_snapshot, "PATCH": self.patch_snapshot, "DELETE": self.delete_snapshot}),
            (r"storage/luns", {"GET": self.collection("luns", self.lun_records), "POST": self.post_lun}),
            (r"storage/luns/(?P<uuid>[^/]+)", {"GET": self.instance("luns", self.lun_records, "lun_not_found"),
                                               "PATCH": self.patch_lun, "DELETE": self.delete_lun}),
            (r"protocols/san/igroups", {"GET": self.collection("igroups", self.igroup_records), "POST": self.post_igroup}),
            (r"protocols/san/igroups/(?P<uuid>[^/]+)",
             {"GET": self.instance("igroups", self.igroup_records, "igroup_not_found"), "PATCH": self.patch_igroup,
              "DELETE": self.delete_igroup}),
            (r"protocols/san/igroups/(?P<ig>[^/]+)/initiators", {"GET": self.get_initiators, "POST": self.post_initiators}),
            (r"protocols/san/igroups/(?P<ig>[^/]+)/initiators/(?P<name>[^/]+)",
             {"GET": self.get_initiator, "PATCH": self.patch_initiator, "DELETE": self.delete_initiator}),
            (r"protocols/san/lun-maps", {"GET": self.collection("lun_maps", self.lunmap_records), "POST": self.post_lunmap}),
            (r"protocols/san/lun-maps/(?P<lun>[^/]+)/(?P<ig>[^/]+)",
             {"GET": self.get_lunmap, "PATCH": self.patch_lunmap, "DELETE": self.delete_lunmap}),
            (r"protocols/san/iscsi/services", {"GET": self.collection("iscsi_services", self.iscsi_records),
                                               "POST": self.post_iscsi}),
            (r"protocols/san/iscsi/services/(?P<uuid>[^/]+)",
             {"GET": self.get_iscsi, "PATCH": self.patch_iscsi, "DELETE": self.delete_iscsi}),
            (r"network/ip/interfaces", {"GET": self.collection("ip_interfaces", self.lif_records)}),
            (r"network/ip/interfaces/(?P<uuid>[^/]+)", {"GET": self.instance("ip_interfaces", self.lif_records,
                                                                             "not_found")}),
        ]
        self.routes = [(re.compile("^" + pattern + "$"), methods) for pattern, methods in table]

    # ------------------------------------------------------------ dispatch
    def route_template(self, path: str) -> str:
        """'/api/storage/luns/<uuid>' -> '/api/storage/luns/{uuid}' (for fault matching)."""
        sub = path[len("/api/"):].strip("/")
        for regex, _methods in self.routes:
            match = regex.match(sub)
            if match:
                out = regex.pattern[1:-1]
                for name in match.groupdict():
                    out = re.sub(r"\(\?P<%s>\[\^/\]\+\)" % name, "{%s}" % name, out)
                return "/api/" + out
        return path

    def handle(self, method: str, path: str, query: str, body: bytes) -> RestResponse:
        sub = urllib.parse.unquote(path[len("/api"):]).strip("/")
        params: dict[str, str] = {}
        for key, value in urllib.parse.parse_qsl(query, keep_blank_values=True):
            params[key] = value
        try:
            for regex, methods in self.routes:
                match = regex.match(sub)
                if not match:
                    continue
                handler = methods.get(method)
                if handler is None:
                    return RestResponse(405, {"error": {"message": "The method %s is not supported for %s." % (method, path),
                                                        "code": "3"}})
                payload = {}
                if method in ("POST", "PATCH") and body:
                    try:
                        payload = json.loads(body.decode("utf-8"))
                    except ValueError as exc:
                        raise OntapError("invalid_value", "Invalid JSON input: %s" % exc) from exc
                    if not isinstance(payload, dict):
                        raise OntapError("invalid_value", "The request body must be a JSON object.")
                    payload = expand_body(payload)
                return handler(params=params, body=payload, path=path, **match.groupdict())
            return RestResponse(404, {"error": {"message": "API not found: %s" % path, "code": "3"}})
        except OntapError as exc:
            return RestResponse(exc.http_status, exc.rest_body())

    # -------------------------------------------------------------- fields
    @staticmethod
    def parse_fields(kind: str, params: dict) -> list[list[str]] | None:
        """None means every field (fields=* or **)."""
        text = params.get("fields")
        if text is None:
            return [p.split(".") for p in DEFAULT_FIELDS.get(kind, ["uuid", "name"])] + [["_links"]]
        items = [f.strip() for f in text.split(",") if f.strip()]
        if not items or "*" in items or "**" in items:
            return None
        paths = []
        valid = FIELDS.get(kind)
        for item in items:
            top = item.split(".")[0]
            if valid is not None and top not in valid:
                raise OntapError("bad_field", "The value \"%s\" is invalid for field \"fields\"." % item, "fields")
            paths.append(item.split("."))
        for key in DEFAULT_FIELDS.get(kind, []):
            paths.append(key.split("."))
        paths.append(["_links"])
        return paths

    def check_filters(self, kind: str, params: dict) -> list[tuple[str, str]]:
        filters = []
        valid = FIELDS.get(kind)
        for key, value in params.items():
            if key in CONTROL_PARAMS or key.startswith("start."):
                continue
            if valid is not None and key.split(".")[0] not in valid:
                raise OntapError("unexpected_arg", "Unexpected argument \"%s\"." % key, key)
            filters.append((key, value))
        return filters

    def list_response(self, kind: str, records: list[dict], params: dict, path: str) -> RestResponse:
        filters = self.check_filters(kind, params)
        paths = self.parse_fields(kind, params)
        selected = [r for r in records if all(match_filter(r, f, v) for f, v in filters)]
        if params.get("order_by"):
            for spec in reversed([s.strip() for s in params["order_by"].split(",") if s.strip()]):
                field, _sep, direction = spec.partition(" ")
                selected.sort(key=lambda r, fld=field: [_as_text(v) for v in get_values(r, fld.split("."))],
                              reverse=direction.strip().lower() == "desc")
        start = int(params.get("start.index", "0") or 0)
        total = len(selected)
        try:
            limit = int(params.get("max_records", "10000") or 10000)
        except ValueError as exc:
            raise OntapError("invalid_value", "Invalid value for max_records.", "max_records") from exc
        page = selected[start:start + max(limit, 0)]
        links = {"self": {"href": path + ("?" + urllib.parse.urlencode(params) if params else "")}}
        if start + len(page) < total:
            nxt = dict(params)
            nxt["start.index"] = str(start + len(page))
            links["next"] = {"href": path + "?" + urllib.parse.urlencode(nxt)}
        if not parse_bool(params.get("return_records"), True):
            return RestResponse(200, {"num_records": len(page), "_links": links})
        if paths is not None:
            # ONTAP returns the fields a query filtered on (netapp.ontap relies on it,
            # e.g. na_ontap_lun reads location.volume.name after filtering on it).
            paths = paths + [f.split(".") for f, _v in filters]
        out = [r if paths is None else project(r, paths) for r in page]
        return RestResponse(200, {"records": out, "num_records": len(out), "_links": links})

    def collection(self, kind: str, builder):
        def handler(params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
            name = params.get("name")
            if kind in ("volumes", "luns") and name and not any(c in name for c in "*|!<>"):
                # cheap pre-filter on an exact name; list_response still applies every filter
                return self.list_response(kind, builder(name=name), params, path)
            return self.list_response(kind, builder(), params, path)
        return handler

    def instance(self, kind: str, builder, missing: str):
        def handler(params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
            recs = list(builder(uuid=uuid))
            if not recs:
                raise OntapError(missing, "entry doesn't exist", "uuid")
            return self.single(kind, recs[0], params)
        return handler

    def single(self, kind: str, record: dict, params: dict) -> RestResponse:
        if "fields" not in params:
            return RestResponse(200, record)
        paths = self.parse_fields(kind, params)
        return RestResponse(200, record if paths is None else project(record, paths))

    # ------------------------------------------------------------ records
    def svm_ref(self, svm_uuid: str) -> dict:
        svm = self.state.svms[svm_uuid]
        return _ref(svm["name"], svm["uuid"], "/api/svm/svms/%s" % svm["uuid"])

    def get_cluster(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        c = self.state.cluster
        rec = {"name": c["name"], "uuid": c["uuid"], "version": dict(c["version"]), "location": c["location"],
               "contact": c["contact"], "timezone": {"name": c["timezone"]}, "dns_domains": list(c["dns_domains"]),
               "san_optimized": False, "disaggregated": False,
               "management_interfaces": [{"name": "cluster_mgmt", "ip": {"address": c["management_address"]}}],
               "nodes": [_ref(n["name"], n["uuid"], "/api/cluster/nodes/%s" % n["uuid"]) for n in self.state.nodes],
               "_links": _links("/api/cluster")}
        if "fields" in params:
            paths = self.parse_fields("cluster", params)
            if paths is not None:
                paths = [p for p in paths if p[0] not in ("uuid",) or "uuid" in params["fields"]]
                rec = project(rec, paths)
        return RestResponse(200, rec)

    def node_records(self, uuid: str | None = None) -> list[dict]:
        return [{"uuid": n["uuid"], "name": n["name"], "version": dict(self.state.cluster["version"]), "state": "up",
                 "_links": _links("/api/cluster/nodes/%s" % n["uuid"])}
                for n in self.state.nodes if uuid in (None, n["uuid"])]

    def job_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        for job in self.state.jobs.values():
            if uuid not in (None, job["uuid"]):
                continue
            rec = {"uuid": job["uuid"], "description": job["description"], "state": job["state"],
                   "message": job["message"] or job["state"], "code": job["code"], "start_time": iso(job["start"]),
                   "_links": _links("/api/cluster/jobs/%s" % job["uuid"])}
            if job["end"] is not None:
                rec["end_time"] = iso(job["end"])
            if job["svm_uuid"] in self.state.svms:
                rec["svm"] = self.svm_ref(job["svm_uuid"])
            if job["error"]:
                rec["error"] = dict(job["error"])
            out.append(rec)
        return out

    def svm_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        for svm in self.state.svms.values():
            if uuid not in (None, svm["uuid"]):
                continue
            service = self.state.iscsi.get(svm["uuid"])
            lifs = [lf for lf in self.state.lifs.values() if lf["svm_uuid"] == svm["uuid"]]
            aggrs = [a for a in self.state.aggregates.values() if a["name"] in svm["aggregates"]]
            rec = {"uuid": svm["uuid"], "name": svm["name"], "state": svm["state"], "subtype": svm["subtype"],
                   "language": svm["language"], "ipspace": {"name": svm["ipspace"]},
                   "snapshot_policy": {"name": "default"},
                   "aggregates": [_ref(a["name"], a["uuid"], "/api/storage/aggregates/%s" % a["uuid"]) for a in aggrs],
                   "iscsi": {"allowed": "iscsi" in svm["allowed_protocols"], "enabled": bool(service and service["enabled"])},
                   "nfs": {"allowed": "nfs" in svm["allowed_protocols"], "enabled": False},
                   "fcp": {"allowed": "fcp" in svm["allowed_protocols"], "enabled": False},
                   "cifs": {"allowed": "cifs" in svm["allowed_protocols"], "enabled": False},
                   "nvme": {"allowed": "nvme" in svm["allowed_protocols"], "enabled": False},
                   "ip_interfaces": [{"name": lf["name"], "uuid": lf["uuid"], "ip": {"address": lf["address"]},
                                      "services": list(lf["services"])} for lf in lifs],
                   "_links": _links("/api/svm/svms/%s" % svm["uuid"])}
            if svm["comment"]:
                rec["comment"] = svm["comment"]
            out.append(rec)
        return out

    def aggr_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        nodes = {n["name"]: n for n in self.state.nodes}
        for aggr in self.state.aggregates.values():
            if uuid not in (None, aggr["uuid"]):
                continue
            space = self.state.aggregate_space(aggr)
            node = nodes[aggr["node"]]
            out.append({"uuid": aggr["uuid"], "name": aggr["name"], "state": aggr["state"],
                        "node": _ref(node["name"], node["uuid"], "/api/cluster/nodes/%s" % node["uuid"]),
                        "home_node": _ref(node["name"], node["uuid"], "/api/cluster/nodes/%s" % node["uuid"]),
                        "create_time": iso(aggr["create_time"]),
                        "space": {"block_storage": {"size": space["size"], "available": space["available"],
                                                    "used": space["used"],
                                                    "used_percent": int(100 * space["used"] / space["size"]) if space["size"] else 0}},
                        "volume-count": sum(1 for v in self.state.volumes.values() if v["aggr_uuid"] == aggr["uuid"]),
                        "_links": _links("/api/storage/aggregates/%s" % aggr["uuid"])})
        return out

    def volume_record(self, vol: dict) -> dict:
        st = self.state
        aggr = st.aggregates[vol["aggr_uuid"]]
        space = st.volume_space(vol)
        savings = st.volume_savings(vol)
        eff = vol["efficiency"]
        enabled = any(eff[k] != "none" for k in EFFICIENCY_KEYS)
        rec = {"uuid": vol["uuid"], "name": vol["name"], "svm": self.svm_ref(vol["svm_uuid"]),
               "aggregates": [_ref(aggr["name"], aggr["uuid"], "/api/storage/aggregates/%s" % aggr["uuid"])],
               "size": vol["size"], "state": vol["state"], "type": vol["type"], "style": vol["style"],
               "create_time": iso(vol["create_time"]), "is_svm_root": bool(vol.get("is_svm_root")), "msid": vol["msid"],
               "guarantee": {"type": vol["guarantee"], "honored": True},
               "snapshot_policy": {"name": vol["snapshot_policy"]},
               "snapshot_count": len(st.snapshots_of_volume(vol)),
               "space": {"size": space["size"], "available": space["available"], "used": space["used"],
                         "percent_used": space["percent_used"],
                         "physical_used": space["used"],
                         "snapshot": {"reserve_percent": space["reserve_percent"], "reserve_size": space["reserve_size"],
                                      "used": sum(s["size"] for s in st.snapshots_of_volume(vol))},
                         "logical_space": {"used": savings["logical_used"], "enforcement": False, "reporting": False,
                                           "available": space["available"]}},
               "efficiency": {"dedupe": eff["dedupe"], "compression": eff["compression"], "compaction": eff["compaction"],
                              "cross_volume_dedupe": eff["cross_volume_dedupe"],
                              "policy": {"name": eff.get("policy", "-")},
                              "state": "enabled" if enabled else "disabled", "op_state": "idle",
                              "volume_path": "/vol/%s" % vol["name"], "has_savings": savings["total"] > 0,
                              "space_savings": {"dedupe": savings["dedupe"], "dedupe_percent": savings["dedupe_percent"],
                                                "compression": savings["compression"],
                                                "compression_percent": savings["compression_percent"],
                                                "total": savings["total"], "total_percent": savings["total_percent"]}},
               "_links": _links("/api/storage/volumes/%s" % vol["uuid"])}
        if vol["comment"]:
            rec["comment"] = vol["comment"]
        if vol["junction_path"]:
            rec["nas"] = {"path": vol["junction_path"]}
        return rec

    def volume_records(self, uuid: str | None = None, name: str | None = None) -> list[dict]:
        if uuid is not None:
            vol = self.state.volumes.get(uuid)
            return [self.volume_record(vol)] if vol else []
        return [self.volume_record(v) for v in self.state.volumes.values() if name in (None, v["name"])]

    def lun_record(self, lun: dict) -> dict:
        st = self.state
        vol = st.volumes[lun["vol_uuid"]]
        node = st.aggregates[vol["aggr_uuid"]]["node"]
        maps = st.maps_of_lun(lun)
        online = lun["enabled"] and vol["state"] == "online"
        rec = {"uuid": lun["uuid"], "name": lun["path"], "svm": self.svm_ref(lun["svm_uuid"]),
               "location": {"logical_unit": lun["base"],
                            "volume": _ref(vol["name"], vol["uuid"], "/api/storage/volumes/%s" % vol["uuid"]),
                            "node": {"name": node}},
               "os_type": lun["os_type"], "serial_number": lun["serial"],
               "serial_number_hex": lun["serial"].encode("ascii").hex(), "class": lun["class"], "enabled": lun["enabled"],
               "auto_delete": False, "create_time": iso(lun["create_time"]),
               "space": {"size": lun["size"], "used": lun["written"],
                         "guarantee": {"requested": lun["space_reserve"], "reserved": lun["space_reserve"] and online},
                         "scsi_thin_provisioning_support_enabled": lun["space_allocation"]},
               "status": {"state": "online" if online else "offline", "container_state": vol["state"],
                          "mapped": bool(maps), "read_only": False},
               "_links": _links("/api/storage/luns/%s" % lun["uuid"])}
        if lun["qtree"]:
            rec["location"]["qtree"] = {"name": lun["qtree"]}
        if lun["comment"]:
            rec["comment"] = lun["comment"]
        if maps:
            rec["lun_maps"] = []
            for mapping in maps:
                ig = st.igroups[mapping["igroup_uuid"]]
                rec["lun_maps"].append({"igroup": _ref(ig["name"], ig["uuid"], "/api/protocols/san/igroups/%s" % ig["uuid"]),
                                        "logical_unit_number": mapping["lun_id"]})
        return rec

    def lun_records(self, uuid: str | None = None, name: str | None = None) -> list[dict]:
        if uuid is not None:
            lun = self.state.luns.get(uuid)
            return [self.lun_record(lun)] if lun else []
        return [self.lun_record(lun) for lun in self.state.luns.values() if name in (None, lun["path"])]

    def igroup_record(self, ig: dict) -> dict:
        rec = {"uuid": ig["uuid"], "name": ig["name"], "svm": self.svm_ref(ig["svm_uuid"]), "os_type": ig["os_type"],
               "protocol": ig["protocol"], "delete_on_unmap": False, "supports_igroups": True,
               "_links": _links("/api/protocols/san/igroups/%s" % ig["uuid"])}
        if ig["comment"]:
            rec["comment"] = ig["comment"]
        if ig["initiators"]:
            rec["initiators"] = []
            for init in ig["initiators"]:
                item = {"name": init["name"], "_links": _links("/api/protocols/san/igroups/%s/initiators/%s"
                                                               % (ig["uuid"], init["name"]))}
                if init.get("comment"):
                    item["comment"] = init["comment"]
                rec["initiators"].append(item)
        maps = self.state.maps_of_igroup(ig)
        if maps:
            rec["lun_maps"] = []
            for mapping in maps:
                lun = self.state.luns[mapping["lun_uuid"]]
                rec["lun_maps"].append({"lun": _ref(lun["path"], lun["uuid"], "/api/storage/luns/%s" % lun["uuid"]),
                                        "logical_unit_number": mapping["lun_id"]})
        return rec

    def igroup_records(self, uuid: str | None = None) -> list[dict]:
        return [self.igroup_record(g) for g in self.state.igroups.values() if uuid in (None, g["uuid"])]

    def lunmap_records(self, lun_uuid: str | None = None, ig_uuid: str | None = None) -> list[dict]:
        out = []
        st = self.state
        for mapping in st.lun_maps:
            if lun_uuid not in (None, mapping["lun_uuid"]) or ig_uuid not in (None, mapping["igroup_uuid"]):
                continue
            lun = st.luns[mapping["lun_uuid"]]
            ig = st.igroups[mapping["igroup_uuid"]]
            node = st.aggregates[st.volumes[lun["vol_uuid"]]["aggr_uuid"]]["node"]
            out.append({"svm": self.svm_ref(lun["svm_uuid"]),
                        "lun": dict(_ref(lun["path"], lun["uuid"], "/api/storage/luns/%s" % lun["uuid"]),
                                    node={"name": node}),
                        "igroup": dict(_ref(ig["name"], ig["uuid"], "/api/protocols/san/igroups/%s" % ig["uuid"]),
                                       protocol=ig["protocol"], os_type=ig["os_type"]),
                        "logical_unit_number": mapping["lun_id"],
                        "reporting_nodes": [{"name": n["name"], "uuid": n["uuid"]} for n in st.nodes],
                        "_links": _links("/api/protocols/san/lun-maps/%s/%s" % (lun["uuid"], ig["uuid"]))})
        return out

    def iscsi_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        for svm_uuid, service in self.state.iscsi.items():
            if uuid not in (None, svm_uuid):
                continue
            svm = self.state.svms[svm_uuid]
            out.append({"svm": self.svm_ref(svm_uuid), "enabled": service["enabled"],
                        "target": {"name": self.state.target_iqn(svm), "alias": service["alias"]},
                        "_links": _links("/api/protocols/san/iscsi/services/%s" % svm_uuid)})
        return out

    def lif_records(self, uuid: str | None = None) -> list[dict]:
        out = []
        nodes = {n["name"]: n for n in self.state.nodes}
        for lif in self.state.lifs.values():
            if uuid not in (None, lif["uuid"]):
                continue
            node = nodes[lif["node"]]
            node_ref = _ref(node["name"], node["uuid"], "/api/cluster/nodes/%s" % node["uuid"])
            out.append({"uuid": lif["uuid"], "name": lif["name"], "svm": self.svm_ref(lif["svm_uuid"]),
                        "ip": {"address": lif["address"], "netmask": lif["netmask"], "family": "ipv4"},
                        "enabled": lif["enabled"], "state": "up" if lif["enabled"] else "down", "scope": "svm",
                        "services": list(lif["services"]), "service_policy": {"name": lif["service_policy"]},
                        "ipspace": {"name": "Default"},
                        "location": {"home_node": node_ref, "node": node_ref, "home_port": {"name": lif["port"]},
                                     "port": {"name": lif["port"]}, "is_home": True},
                        "_links": _links("/api/network/ip/interfaces/%s" % lif["uuid"])})
        return out

    def snapshot_record(self, snap: dict) -> dict:
        vol = self.state.volumes[snap["vol_uuid"]]
        rec = {"uuid": snap["uuid"], "name": snap["name"],
               "volume": _ref(vol["name"], vol["uuid"], "/api/storage/volumes/%s" % vol["uuid"]),
               "svm": self.svm_ref(vol["svm_uuid"]), "create_time": iso(snap["create_time"]), "size": snap["size"],
               "state": "valid",
               "_links": _links("/api/storage/volumes/%s/snapshots/%s" % (vol["uuid"], snap["uuid"]))}
        if snap["comment"]:
            rec["comment"] = snap["comment"]
        if snap["snapmirror_label"]:
            rec["snapmirror_label"] = snap["snapmirror_label"]
        return rec

    # ------------------------------------------------------------ helpers
    def body_svm(self, body: dict) -> dict:
        svm = body.get("svm") or {}
        if not isinstance(svm, dict):
            raise OntapError("invalid_value", "Invalid value for field \"svm\".", "svm")
        return self.state.resolve_svm(svm.get("name"), svm.get("uuid"))

    @staticmethod
    def check_body(kind: str, body: dict, allowed: dict) -> None:
        for key in body:
            if key not in allowed[kind]:
                raise OntapError("unexpected_arg", "Unexpected argument \"%s\"." % key, key)

    def run_async(self, description: str, svm: dict | None, op: str, args: dict, params: dict, success_status: int,
                  location: str | None = None, record=None) -> RestResponse:
        """Asynchronous operation: finish now when return_timeout covers the job, else 202 + running job."""
        job = self.state.new_job(description, svm, op, args)
        try:
            timeout = float(params.get("return_timeout", "0") or 0)
        except ValueError as exc:
            raise OntapError("invalid_value", "Invalid value for return_timeout.", "return_timeout") from exc
        if timeout < 0 or timeout > 120:
            raise OntapError("invalid_value", "return_timeout must be between 0 and 120.", "return_timeout")
        job_ref = {"uuid": job["uuid"], "_links": _links("/api/cluster/jobs/%s" % job["uuid"])}
        headers = {"Location": location} if location else {}
        if timeout >= JOB_SECONDS.get(op, 1.0):
            self.state.run_job_now(job)
            if job["state"] == "failure":
                err = job["error"]
                exc = OntapError("not_found", err["message"], err.get("target"))
                exc.rest_code = err["code"]
                exc.http_status = self._status_for(err["code"])
                return RestResponse(exc.http_status, exc.rest_body())
            body: dict = {"job": job_ref}
            if record is not None and parse_bool(params.get("return_records"), False):
                rec = record()
                if rec is not None:
                    body.update({"num_records": 1, "records": [rec]})
            return RestResponse(success_status, body, headers)
        return RestResponse(202, {"job": job_ref}, headers)

    @staticmethod
    def _status_for(code: str) -> int:
        for rest_code, status, _errno in ERRORS.values():
            if rest_code == code:
                return status
        return 400

    def sync_created(self, location: str, params: dict, record) -> RestResponse:
        body: dict = {}
        if parse_bool(params.get("return_records"), False):
            body = {"num_records": 1, "records": [record()]}
        return RestResponse(201, body, {"Location": location})

    # ------------------------------------------------------------ volumes
    def post_volume(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("volumes", body, POST_FIELDS)
        svm = self.body_svm(body)
        if not body.get("name"):
            raise OntapError("missing_arg", "Missing value for required field \"name\".", "name")
        aggrs = body.get("aggregates")
        if not aggrs:
            raise OntapError("aggr_missing", "Either \"aggregates\" or \"style\" must be specified.", "aggregates")
        if not isinstance(aggrs, list) or len(aggrs) != 1:
            raise OntapError("flexvol_one_aggr", "A FlexVol volume must be placed on exactly one aggregate "
                             "(FlexGroup volumes are not simulated).", "aggregates")
        ref = aggrs[0] if isinstance(aggrs[0], dict) else {}
        if ref.get("uuid"):
            aggr = self.state.aggregates.get(ref["uuid"])
            if aggr is None:
                raise OntapError("aggr_not_found", "Aggregate \"%s\" does not exist." % ref["uuid"], "aggregates.uuid")
        else:
            aggr = self.state.aggr_by_name(ref.get("name"))
        size = parse_size(body.get("size", "20MB"), "vol_size_small", "size")
        space = body.get("space") or {}
        eff = {}
        for key in EFFICIENCY_KEYS:
            if key in (body.get("efficiency") or {}):
                eff[key] = body["efficiency"][key]
        if ((body.get("efficiency") or {}).get("policy") or {}).get("name"):
            eff["policy"] = body["efficiency"]["policy"]["name"]
        uuid = self.state.new_uuid()
        args = {"svm_uuid": svm["uuid"], "name": body["name"], "aggr_uuid": aggr["uuid"], "size": size, "uuid": uuid,
                "guarantee": (body.get("guarantee") or {}).get("type", "volume"),
                "snapshot_policy": (body.get("snapshot_policy") or {}).get("name", "default"),
                "snapshot_reserve": int((space.get("snapshot") or {}).get("reserve_percent", 5)),
                "comment": body.get("comment", ""), "state": body.get("state", "online"),
                "junction_path": (body.get("nas") or {}).get("path"), "vol_type": body.get("type", "rw"),
                "efficiency": eff or None}
        return self.run_async("POST /api/storage/volumes", svm, "volume_create", args, params, 201,
                              "/api/storage/volumes/%s" % uuid,
                              lambda: self.volume_record(self.state.volumes[uuid]) if uuid in self.state.volumes else None)

    def volume_changes(self, body: dict) -> dict:
        changes: dict = {}
        for key in ("name", "comment", "state"):
            if key in body:
                changes[key] = body[key]
        if "size" in body:
            changes["size"] = parse_size(body["size"], "vol_size_small", "size")
        if "space" in body:
            space = body["space"]
            if "size" in space:
                changes["size"] = parse_size(space["size"], "vol_size_small", "space.size")
            if "reserve_percent" in (space.get("snapshot") or {}):
                changes["snapshot_reserve"] = int(space["snapshot"]["reserve_percent"])
        if "type" in (body.get("guarantee") or {}):
            changes["guarantee"] = body["guarantee"]["type"]
        if "name" in (body.get("snapshot_policy") or {}):
            changes["snapshot_policy"] = body["snapshot_policy"]["name"]
        if "nas" in body and "path" in body["nas"]:
            changes["junction_path"] = body["nas"]["path"]
        eff_body = body.get("efficiency") or {}
        eff = {k: eff_body[k] for k in EFFICIENCY_KEYS if k in eff_body}
        if (eff_body.get("policy") or {}).get("name"):
            eff["policy"] = eff_body["policy"]["name"]
        if eff:
            changes["efficiency"] = eff
        return changes

    def patch_volume(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        vol = self.state.volumes.get(uuid)
        if vol is None:
            raise OntapError("vol_not_found", "entry doesn't exist", "uuid")
        self.check_body("volumes", body, PATCH_FIELDS)
        changes = self.volume_changes(body)
        if "snapshot_policy" in changes and changes["snapshot_policy"] not in ("default", "none", "default-1weekly"):
            raise OntapError("snap_policy_not_found", "Snapshot policy \"%s\" does not exist."
                             % changes["snapshot_policy"], "snapshot_policy.name")
        return self.run_async("PATCH /api/storage/volumes/%s" % uuid, self.state.svms[vol["svm_uuid"]],
                              "volume_modify", {"uuid": uuid, "changes": changes}, params, 200)

    def delete_volume(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        vol = self.state.volumes.get(uuid)
        if vol is None:
            raise OntapError("vol_not_found", "entry doesn't exist", "uuid")
        if vol.get("is_svm_root"):
            raise OntapError("unsupported", "The SVM root volume cannot be deleted.", "uuid")
        return self.run_async("DELETE /api/storage/volumes/%s" % uuid, self.state.svms[vol["svm_uuid"]],
                              "volume_delete", {"uuid": uuid}, params, 200)

    # ----------------------------------------------------------- snapshots
    def _vol_for_snap(self, vol: str) -> dict:
        found = self.state.volumes.get(vol)
        if found is None:
            raise OntapError("lun_vol_uuid_not_found", "The volume in the URL is not valid.", "volume.uuid")
        return found

    def get_snapshots(self, params: dict, body: dict, path: str, vol: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        recs = [self.snapshot_record(s) for s in self.state.snapshots_of_volume(volume)]
        return self.list_response("snapshots", recs, params, path)

    def get_snapshot(self, params: dict, body: dict, path: str, vol: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        snap = self.state.snapshots.get(uuid)
        if snap is None or snap["vol_uuid"] != volume["uuid"]:
            raise OntapError("snap_not_found", "Snapshot copy does not exist.", "uuid")
        return self.single("snapshots", self.snapshot_record(snap), params)

    def post_snapshot(self, params: dict, body: dict, path: str, vol: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        self.check_body("snapshots", body, POST_FIELDS)
        if not body.get("name"):
            raise OntapError("missing_arg", "Missing value for required field \"name\".", "name")
        if body.get("svm"):
            svm = self.body_svm(body)
            if svm["uuid"] != volume["svm_uuid"]:
                raise OntapError("svm_mismatch", "The volume is not in SVM \"%s\"." % svm["name"], "svm.name")
        uuid = self.state.new_uuid()
        args = {"vol_uuid": volume["uuid"], "name": body["name"], "uuid": uuid, "comment": body.get("comment", ""),
                "snapmirror_label": body.get("snapmirror_label", "")}
        return self.run_async("POST /api/storage/volumes/%s/snapshots" % volume["uuid"],
                              self.state.svms[volume["svm_uuid"]], "snapshot_create", args, params, 201,
                              "/api/storage/volumes/%s/snapshots/%s" % (volume["uuid"], uuid),
                              lambda: self.snapshot_record(self.state.snapshots[uuid]) if uuid in self.state.snapshots else None)

    def patch_snapshot(self, params: dict, body: dict, path: str, vol: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        snap = self.state.snapshots.get(uuid)
        if snap is None or snap["vol_uuid"] != volume["uuid"]:
            raise OntapError("snap_not_found", "Snapshot copy does not exist.", "uuid")
        self.check_body("snapshots", body, PATCH_FIELDS)
        if "name" in body and body["name"] != snap["name"]:
            if any(s["name"] == body["name"] for s in self.state.snapshots_of_volume(volume)):
                raise OntapError("snap_dup", "Snapshot copy \"%s\" already exists." % body["name"], "name")
        for key in ("name", "comment", "snapmirror_label"):
            if key in body:
                snap[key] = body[key]
        return RestResponse(200, {})

    def delete_snapshot(self, params: dict, body: dict, path: str, vol: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        volume = self._vol_for_snap(vol)
        snap = self.state.snapshots.get(uuid)
        if snap is None or snap["vol_uuid"] != volume["uuid"]:
            raise OntapError("snap_not_found", "Snapshot copy does not exist.", "uuid")
        return self.run_async("DELETE /api/storage/volumes/%s/snapshots/%s" % (volume["uuid"], uuid),
                              self.state.svms[volume["svm_uuid"]], "snapshot_delete", {"uuid": uuid}, params, 200)

    # ---------------------------------------------------------------- LUNs
    def post_lun(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("luns", body, POST_FIELDS)
        svm = self.body_svm(body)
        location = body.get("location") or {}
        loc_vol = location.get("volume") or {}
        name = body.get("name")
        if name:
            vol_name, qtree, base = self.state.split_lun_path(name)
            if loc_vol.get("name") and loc_vol["name"] != vol_name:
                raise OntapError("lun_name_vol_mismatch", "The volume in \"name\" differs from \"location.volume\".",
                                 "location.volume.name")
            if location.get("logical_unit") and location["logical_unit"] != base:
                raise OntapError("lun_name_base_mismatch", "The LUN base name in \"name\" differs from "
                                 "\"location.logical_unit\".", "location.logical_unit")
        else:
            if not loc_vol.get("name") and not loc_vol.get("uuid"):
                raise OntapError("lun_no_volume", "No volume was specified for the LUN.", "location.volume")
            if not location.get("logical_unit"):
                raise OntapError("lun_no_name", "No LUN base name was specified.", "location.logical_unit")
            if loc_vol.get("uuid"):
                vol = self.state.volumes.get(loc_vol["uuid"])
                if vol is None:
                    raise OntapError("lun_vol_uuid_not_found", "Volume \"%s\" does not exist." % loc_vol["uuid"],
                                     "location.volume.uuid")
                vol_name = vol["name"]
            else:
                vol_name = loc_vol["name"]
            qtree = (location.get("qtree") or {}).get("name")
            name = "/vol/%s/%s%s" % (vol_name, qtree + "/" if qtree else "", location["logical_unit"])
        space = body.get("space") or {}
        if not body.get("os_type"):
            raise OntapError("lun_missing_prop", "A required property for a new LUN is missing: \"os_type\".", "os_type")
        if space.get("size") in (None, ""):
            raise OntapError("lun_missing_prop", "A required property for a new LUN is missing: \"space.size\".",
                             "space.size")
        size = parse_size(space["size"], "lun_size_invalid", "space.size")
        uuid = self.state.new_uuid()
        args = {"svm_uuid": svm["uuid"], "path": name, "os_type": body["os_type"], "size": size, "uuid": uuid,
                "serial": self.state.new_serial(),
                "space_reserve": parse_bool((space.get("guarantee") or {}).get("requested"), False),
                "space_allocation": parse_bool(space.get("scsi_thin_provisioning_support_enabled"), True),
                "comment": body.get("comment", ""), "exact": False}
        return self.run_async("POST /api/storage/luns", svm, "lun_create", args, params, 201, "/api/storage/luns/%s" % uuid,
                              lambda: self.lun_record(self.state.luns[uuid]) if uuid in self.state.luns else None)

    def patch_lun(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        lun = self.state.luns.get(uuid)
        if lun is None:
            raise OntapError("lun_not_found", "LUN not found.", "uuid")
        self.check_body("luns", body, PATCH_FIELDS)
        changes: dict = {}
        space = body.get("space") or {}
        if "size" in space:
            changes["size"] = self.state.round_lun_size(parse_size(space["size"], "lun_size_invalid", "space.size"))
        if "requested" in (space.get("guarantee") or {}):
            changes["space_reserve"] = parse_bool(space["guarantee"]["requested"])
        if "scsi_thin_provisioning_support_enabled" in space:
            changes["space_allocation"] = parse_bool(space["scsi_thin_provisioning_support_enabled"])
        if "comment" in body:
            changes["comment"] = body["comment"]
        if "enabled" in body:
            changes["enabled"] = parse_bool(body["enabled"])
        if "os_type" in body:
            changes["os_type"] = body["os_type"]
        if "name" in body:
            changes["path"] = body["name"]
        return self.run_async("PATCH /api/storage/luns/%s" % uuid, self.state.svms[lun["svm_uuid"]], "lun_modify",
                              {"uuid": uuid, "changes": changes}, params, 200)

    def delete_lun(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        lun = self.state.luns.get(uuid)
        if lun is None:
            raise OntapError("lun_not_found", "LUN not found.", "uuid")
        allow = parse_bool(params.get("allow_delete_while_mapped"), False)
        return self.run_async("DELETE /api/storage/luns/%s" % uuid, self.state.svms[lun["svm_uuid"]], "lun_delete",
                              {"uuid": uuid, "allow_mapped": allow}, params, 200)

    # ------------------------------------------------------------- igroups
    def post_igroup(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("igroups", body, POST_FIELDS)
        svm = self.body_svm(body)
        if not body.get("name"):
            raise OntapError("missing_arg", "Missing value for required field \"name\".", "name")
        if not body.get("os_type"):
            raise OntapError("missing_arg", "Missing value for required field \"os_type\".", "os_type")
        inits = body.get("initiators") or []
        if inits and body.get("igroups"):
            raise OntapError("invalid_value", "Initiators and child igroups cannot be given together.", "initiators")
        ig = self.state.igroup_create(svm, body["name"], body["os_type"], body.get("protocol", "mixed"),
                                      [i if isinstance(i, dict) else {"name": i} for i in inits], body.get("comment", ""))
        return self.sync_created("/api/protocols/san/igroups/%s" % ig["uuid"], params, lambda: self.igroup_record(ig))

    def _igroup(self, uuid: str) -> dict:
        ig = self.state.igroups.get(uuid)
        if ig is None:
            raise OntapError("igroup_not_found", "The initiator group does not exist.", "uuid")
        return ig

    def patch_igroup(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        ig = self._igroup(uuid)
        self.check_body("igroups", body, PATCH_FIELDS)
        self.state.igroup_modify(ig, {k: body[k] for k in ("name", "os_type", "comment", "protocol") if k in body})
        return RestResponse(200, {})

    def delete_igroup(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        ig = self._igroup(uuid)
        self.state.igroup_delete(ig, parse_bool(params.get("allow_delete_while_mapped"), False))
        return RestResponse(200, {})

    def _initiator_records(self, ig: dict) -> list[dict]:
        out = []
        for init in ig["initiators"]:
            rec = {"name": init["name"], "igroup": {"uuid": ig["uuid"], "name": ig["name"]},
                   "_links": _links("/api/protocols/san/igroups/%s/initiators/%s" % (ig["uuid"], init["name"]))}
            if init.get("comment"):
                rec["comment"] = init["comment"]
            out.append(rec)
        return out

    def get_initiators(self, params: dict, body: dict, path: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        return self.list_response("igroup_initiators", self._initiator_records(self._igroup(ig)), params, path)

    def get_initiator(self, params: dict, body: dict, path: str, ig: str, name: str) -> RestResponse:  # pylint: disable=unused-argument
        recs = [r for r in self._initiator_records(self._igroup(ig)) if r["name"] == name.lower()]
        if not recs:
            raise OntapError("initiator_not_member", "The initiator is not a member of the initiator group.", "name")
        return self.single("igroup_initiators", recs[0], params)

    def post_initiators(self, params: dict, body: dict, path: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        group = self._igroup(ig)
        self.check_body("igroup_initiators", body, POST_FIELDS)
        items = body.get("records") if "records" in body else ([body] if body.get("name") else [])
        if not items:
            raise OntapError("initiator_none", "No initiators were supplied.", "name")
        for item in items:
            self.state.igroup_add_initiator(group, item["name"], item.get("comment", ""))
        return self.sync_created("/api/protocols/san/igroups/%s/initiators/%s" % (group["uuid"], items[-1]["name"].lower()),
                                 params, lambda: self._initiator_records(group)[-1])

    def patch_initiator(self, params: dict, body: dict, path: str, ig: str, name: str) -> RestResponse:  # pylint: disable=unused-argument
        group = self._igroup(ig)
        self.check_body("igroup_initiators", body, PATCH_FIELDS)
        for init in group["initiators"]:
            if init["name"] == name.lower():
                init["comment"] = body.get("comment", init.get("comment", ""))
                return RestResponse(200, {})
        raise OntapError("initiator_not_member", "The initiator is not a member of the initiator group.", "name")

    def delete_initiator(self, params: dict, body: dict, path: str, ig: str, name: str) -> RestResponse:  # pylint: disable=unused-argument
        group = self._igroup(ig)
        allow = parse_bool(params.get("allow_delete_while_mapped"), False)
        norm = name.lower()
        if not any(i["name"] == norm for i in group["initiators"]):
            raise OntapError("initiator_not_member", "Initiator \"%s\" is not a member of initiator group \"%s\"."
                             % (norm, group["name"]), "name")
        if self.state.maps_of_igroup(group) and not allow:
            raise OntapError("igroup_mapped_delete", "The initiator group is mapped; set \"allow_delete_while_mapped\" "
                             "to true to remove initiators from it.", "allow_delete_while_mapped")
        self.state.igroup_remove_initiator(group, norm)
        return RestResponse(200, {})

    # ------------------------------------------------------------ LUN maps
    def post_lunmap(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("lun_maps", body, POST_FIELDS)
        svm = self.body_svm(body)
        lun_ref = body.get("lun") or {}
        ig_ref = body.get("igroup") or {}
        if not lun_ref.get("name") and not lun_ref.get("uuid"):
            raise OntapError("lunmap_no_lun", "Either \"lun.uuid\" or \"lun.name\" must be supplied.", "lun")
        if not ig_ref.get("name") and not ig_ref.get("uuid"):
            raise OntapError("lunmap_no_igroup", "Either \"igroup.uuid\" or \"igroup.name\" must be supplied.", "igroup")
        if lun_ref.get("uuid"):
            lun = self.state.luns.get(lun_ref["uuid"])
            if lun is None or lun["svm_uuid"] != svm["uuid"]:
                raise OntapError("lunmap_lun_missing", "The LUN does not exist.", "lun.uuid")
        else:
            lun = self.state.lun_by_path(svm, lun_ref["name"], key="lunmap_lun_missing")
        if ig_ref.get("uuid"):
            ig = self.state.igroups.get(ig_ref["uuid"])
            if ig is None or ig["svm_uuid"] != svm["uuid"]:
                raise OntapError("lunmap_igroup_missing", "The initiator group does not exist, is not accessible to the "
                                 "caller, or is not in the specified SVM.", "igroup.uuid")
        else:
            ig = self.state.igroup_by_name(svm, ig_ref["name"], key="lunmap_igroup_missing")
        self.state.lun_map(lun, ig, body.get("logical_unit_number"))
        return self.sync_created("/api/protocols/san/lun-maps/%s/%s" % (lun["uuid"], ig["uuid"]), params,
                                 lambda: self.lunmap_records(lun["uuid"], ig["uuid"])[0])

    def _lunmap_parts(self, lun: str, ig: str) -> tuple[dict, dict]:
        lun_obj = self.state.luns.get(lun)
        if lun_obj is None:
            raise OntapError("lun_not_found", "The LUN does not exist or is not accessible to the caller.", "lun.uuid")
        ig_obj = self.state.igroups.get(ig)
        if ig_obj is None:
            raise OntapError("lunmap_igroup_missing", "The initiator group does not exist, is not accessible to the "
                             "caller, or is not in the specified SVM.", "igroup.uuid")
        return lun_obj, ig_obj

    def get_lunmap(self, params: dict, body: dict, path: str, lun: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        lun_obj, ig_obj = self._lunmap_parts(lun, ig)
        recs = self.lunmap_records(lun_obj["uuid"], ig_obj["uuid"])
        if not recs:
            raise OntapError("lunmap_not_found", "The LUN map does not exist.", "lun.uuid")
        return self.single("lun_maps", recs[0], params)

    def patch_lunmap(self, params: dict, body: dict, path: str, lun: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        self._lunmap_parts(lun, ig)
        raise OntapError("lunmap_modify", "Modifying a LUN map is not supported; unmap and map again.")

    def delete_lunmap(self, params: dict, body: dict, path: str, lun: str, ig: str) -> RestResponse:  # pylint: disable=unused-argument
        lun_obj, ig_obj = self._lunmap_parts(lun, ig)
        self.state.lun_unmap(lun_obj, ig_obj)
        return RestResponse(200, {})

    # ------------------------------------------------------- iSCSI service
    def post_iscsi(self, params: dict, body: dict, path: str) -> RestResponse:  # pylint: disable=unused-argument
        self.check_body("iscsi_services", body, POST_FIELDS)
        svm = self.body_svm(body)
        self.state.iscsi_create(svm, parse_bool(body.get("enabled"), True), (body.get("target") or {}).get("alias"))
        return self.sync_created("/api/protocols/san/iscsi/services/%s" % svm["uuid"], params,
                                 lambda: self.iscsi_records(svm["uuid"])[0])

    def _iscsi_svm(self, uuid: str) -> dict:
        svm = self.state.svms.get(uuid)
        if svm is None:
            raise OntapError("svm_not_found", "SVM \"%s\" does not exist." % uuid, "svm.uuid")
        return svm

    def get_iscsi(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        svm = self._iscsi_svm(uuid)
        self.state.iscsi_get(svm)
        return self.single("iscsi_services", self.iscsi_records(uuid)[0], params)

    def patch_iscsi(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        svm = self._iscsi_svm(uuid)
        self.check_body("iscsi_services", body, PATCH_FIELDS)
        changes = {}
        if "enabled" in body:
            changes["enabled"] = parse_bool(body["enabled"])
        if (body.get("target") or {}).get("alias"):
            changes["alias"] = body["target"]["alias"]
        self.state.iscsi_modify(svm, changes)
        return RestResponse(200, {})

    def delete_iscsi(self, params: dict, body: dict, path: str, uuid: str) -> RestResponse:  # pylint: disable=unused-argument
        self.state.iscsi_delete(self._iscsi_svm(uuid))
        return RestResponse(200, {})
