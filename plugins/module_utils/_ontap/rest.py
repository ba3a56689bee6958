# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ONTAP REST transport built on ansible's own open_url (no extra dependency).

One seam, RestClient.sender(method, path, params, body) -> (status, body), carries every HTTP
exchange so unit tests can swap in a scripted fake; everything above it (error envelopes, job
polling, paging, call counting) is exercised unchanged by those tests.
"""

from __future__ import annotations

import json
import time
import typing as t
from collections import Counter
from urllib.parse import urlencode, urlsplit, parse_qsl

from ansible.module_utils.urls import open_url

from ansible_collections.vdc.xenpool.plugins.module_utils._common.masking import scrub
from ansible_collections.vdc.xenpool.plugins.module_utils._common.parsing import given
from ansible_collections.vdc.xenpool.plugins.module_utils._common.wait import wait_until
from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import (
    TLS_MARKERS,
    OntapAuthError,
    OntapConnectionError,
    OntapError,
    OntapTLSError,
    auth_hint,
    tls_hint,
)

from urllib.error import HTTPError

Sender = t.Callable[[str, str, t.Optional[dict], t.Optional[dict]], t.Tuple[int, dict]]

TERMINAL_JOB_STATES = ("success", "failure", "cancelled", "expired")


class RestClient:
    """Minimal ONTAP REST client: Basic auth, JSON, error envelopes, job polling and paging."""

    def __init__(self, hostname: str, username: str, password: str, port: int | None = None, https: bool = True,
                 validate_certs: bool = True, ca_path: str | None = None, timeout: int = 60,
                 job_timeout: int = 600, poll_interval: float = 1.0, return_timeout: int = 30,
                 sender: Sender | None = None, sleep: t.Callable[[float], None] = time.sleep) -> None:
        scheme = "https" if https else "http"
        host = "[%s]" % hostname if ":" in hostname and not hostname.startswith("[") else hostname  # IPv6 literal
        netloc = host if port is None else "%s:%s" % (host, port)
        self.base_url = "%s://%s" % (scheme, netloc)
        self.username = username
        self._password = password
        self.validate_certs = validate_certs
        self.ca_path = ca_path
        self.timeout = timeout
        self.job_timeout = job_timeout
        self.poll_interval = poll_interval
        self.return_timeout = return_timeout
        self.sender: Sender = sender or self._http_send
        self.sleep = sleep
        self.calls: Counter = Counter()

    # -- transport -------------------------------------------------------------------------------
    def _http_send(self, method: str, path: str, params: dict | None, body: dict | None) -> tuple[int, dict]:
        """Do one HTTP exchange; HTTP errors come back as (status, body) so callers see the envelope."""
        url = self.base_url + path
        if params:
            url += "?" + urlencode(params, safe=",.*")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        headers = {"Accept": "application/json", "X-Dot-Client-App": "vdc.xenpool"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        try:
            resp = open_url(url, data=data, headers=headers, method=method, validate_certs=self.validate_certs,
                            ca_path=self.ca_path, url_username=self.username, url_password=self._password,
                            force_basic_auth=True, timeout=self.timeout, use_proxy=False, follow_redirects="none")
            status = resp.getcode()
            raw = resp.read()
        except HTTPError as exc:
            status = exc.code
            try:
                raw = exc.read()
            except Exception:  # pylint: disable=broad-except
                raw = b""
        except Exception as exc:  # pylint: disable=broad-except
            detail = scrub(exc, [self._password])
            if any(marker in detail for marker in TLS_MARKERS) or type(exc).__name__ in ("SSLValidationError", "SSLCertVerificationError"):
                raise OntapTLSError("TLS_UNTRUSTED", tls_hint(self.base_url, detail)) from None
            raise OntapConnectionError("CONNECTION", "Cannot reach ONTAP REST API at %s: %s" % (self.base_url, detail)) from None
        try:
            parsed = json.loads(raw.decode("utf-8")) if raw else {}
        except ValueError:
            parsed = {"_raw": raw[:200].decode("utf-8", "replace")}
        return status, parsed if isinstance(parsed, dict) else {"records": parsed}

    def request(self, method: str, path: str, params: dict | None = None, body: dict | None = None) -> tuple[int, dict]:
        """Send one request, count it, and turn an error status into a typed OntapError."""
        self.calls[(method, path.split("?")[0])] += 1
        status, data = self.sender(method, path, params, body)
        if status == 401:
            raise OntapAuthError("401", auth_hint(self.base_url, self.username), status=401)
        if status >= 400:
            err = data.get("error") if isinstance(data, dict) else None
            if isinstance(err, dict):
                raise OntapError(err.get("code", status), err.get("message", ""), err.get("target"), status=status)
            raise OntapError(str(status), "HTTP %s from %s %s" % (status, method, path), status=status)
        return status, data

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    # -- verbs -----------------------------------------------------------------------------------
    def get(self, path: str, params: dict | None = None) -> dict:
        return self.request("GET", path, params)[1]

    def get_records(self, path: str, params: dict | None = None) -> list[dict]:
        """Return every record of a collection, following _links.next so large lists stay complete.

        Filters whose value is unset are left out, so services pass every filter they know of."""
        records: list[dict] = []
        data = self.get(path, given(params))
        while True:
            records.extend(data.get("records") or [])
            nxt = ((data.get("_links") or {}).get("next") or {}).get("href")
            if not nxt:
                return records
            split = urlsplit(nxt)
            next_path = split.path[split.path.index("/api"):] if "/api" in split.path else split.path
            data = self.get(next_path, dict(parse_qsl(split.query, keep_blank_values=True)))

    def get_one(self, path: str, params: dict | None = None, what: str = "record") -> dict | None:
        """None for zero records, the record for one, an error for several (ambiguous filter)."""
        records = self.get_records(path, params)
        if not records:
            return None
        if len(records) > 1:
            raise OntapError("", "expected at most one %s for %s, got %d" % (what, params, len(records)))
        return records[0]

    def _write(self, method: str, path: str, body: dict | None, params: dict | None) -> dict:
        query = dict(params or {})
        if self.return_timeout is not None:
            query.setdefault("return_timeout", self.return_timeout)
        _status, data = self.request(method, path, query, body)
        job = data.get("job")
        if not job and isinstance(data.get("jobs"), list) and len(data["jobs"]) == 1:
            job = data["jobs"][0]
        if job and job.get("uuid"):
            self.wait_job(job["uuid"])
        return data

    def post(self, path: str, body: dict, params: dict | None = None) -> dict:
        return self._write("POST", path, body, params)

    def patch(self, path: str, body: dict, params: dict | None = None) -> dict:
        return self._write("PATCH", path, body, params)

    def delete(self, path: str, params: dict | None = None) -> dict:
        return self._write("DELETE", path, None, params)

    def wait_job(self, uuid: str) -> dict:
        """Poll /api/cluster/jobs/<uuid> through the collection's one wait loop; a failed job becomes an OntapError.

        A job that ends in failure stops the wait at once (it will not recover); one still running at
        job_timeout raises WaitTimeout, like every other wait of the collection.
        """
        def failed(job: dict) -> OntapError | None:
            if job.get("state") in TERMINAL_JOB_STATES and job.get("state") != "success":
                err = job.get("error") or {}
                return OntapError(err.get("code", job.get("code", "")), err.get("message") or job.get("message") or "job %s" % job.get("state"))
            return None

        return wait_until(lambda: self.get("/api/cluster/jobs/%s" % uuid), lambda job: job.get("state") == "success",
                          what="ONTAP job %s" % uuid, timeout=self.job_timeout, interval=self.poll_interval,
                          failed=failed, sleep=self.sleep)
