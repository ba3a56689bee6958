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

RestApi is assembled from one mixin per resource (cluster/SVMs/aggregates/LIFs/jobs, volumes,
snapshots, LUNs, igroups, LUN maps, iSCSI services); this module keeps the route table, dispatch,
fields=, filtering and paging, and the job/async helpers they share.
"""
from __future__ import annotations

import json
import re
import urllib.parse

from ..errors import ERRORS, OntapError
from ..model import JOB_SECONDS, OntapState, parse_bool
from ..restfields import FIELDS
from .common import (
    CONTROL_PARAMS, DEFAULT_FIELDS, RestResponse, _as_text, _links, _ref, expand_body, get_values, match_filter,
    project,
)
from .cluster import ClusterMixin
from .volumes import VolumesMixin
from .snapshots import SnapshotsMixin
from .luns import LunsMixin
from .igroups import IgroupsMixin
from .lunmaps import LunMapsMixin
from .iscsi import IscsiMixin

__all__ = [
    "CONTROL_PARAMS", "DEFAULT_FIELDS", "RestApi", "RestResponse", "expand_body", "get_values", "match_filter",
    "project",
]


class RestApi(ClusterMixin, VolumesMixin, SnapshotsMixin, LunsMixin, IgroupsMixin, LunMapsMixin, IscsiMixin):
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

    def svm_ref(self, svm_uuid: str) -> dict:
        svm = self.state.svms[svm_uuid]
        return _ref(svm["name"], svm["uuid"], "/api/svm/svms/%s" % svm["uuid"])

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
