# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Harness helpers for tests and benchmarks: start ontapsim, talk REST with urllib only."""
from __future__ import annotations

import base64
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from simcommon.client import SimProcess
from simcommon.launch import data_dir

REFERENCE_FIXTURE = os.path.join(data_dir("ontapsim"), "reference.yml")


def ontapsim_process(state_dir: str, extra: list[str] | None = None, fixture: str | None = REFERENCE_FIXTURE,
                     time_scale: float = 0.01, lifetime: float | None = None) -> SimProcess:
    """An unstarted simulator process: use it as a context manager (it starts on enter, stops on exit).

    It stops with this process too (SimProcess passes --watch-pid); lifetime adds an absolute cap."""
    args = ["--time-scale", str(time_scale)]
    if lifetime:
        args += ["--lifetime", str(lifetime)]
    if fixture:
        args = ["--fixture", fixture] + args
    return SimProcess("ontapsim", args + list(extra or []), state_dir)


def start_ontapsim(state_dir: str, extra: list[str] | None = None, fixture: str | None = REFERENCE_FIXTURE,
                   time_scale: float = 0.01, lifetime: float | None = None) -> SimProcess:
    """A started simulator; the caller must call .stop() (do not also use it in a with block)."""
    return ontapsim_process(state_dir, extra, fixture, time_scale, lifetime).start()


def read_password(ready: dict) -> str:
    with open(ready["password_file"], encoding="utf-8") as handle:
        return handle.read().strip()


class RestClient:
    """Minimal ONTAP REST client: Basic auth sent up front, JSON in and out, errors returned not raised."""

    def __init__(self, ready: dict, password: str | None = None, username: str | None = None,
                 scheme: str = "https", timeout: float = 30.0) -> None:
        self.base = ready["url_https"] if scheme == "https" else ready["url_http"]
        self.username = username if username is not None else ready["username"]
        self.password = password if password is not None else read_password(ready)
        self.context = ssl.create_default_context(cafile=ready["ca_cert"])
        self.timeout = timeout

    def request(self, method: str, path: str, body: dict | None = None, params: dict | None = None,
                auth: bool = True) -> tuple[int, dict, dict]:
        url = self.base + (path if path.startswith("/api") else "/api/" + path.lstrip("/"))
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(url, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if auth:
            token = base64.b64encode(("%s:%s" % (self.username, self.password)).encode("utf-8")).decode("ascii")
            req.add_header("Authorization", "Basic " + token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self.context) as resp:
                raw = resp.read()
                return resp.status, (json.loads(raw) if raw else {}), dict(resp.headers)
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                payload = json.loads(raw) if raw else {}
            except ValueError:
                payload = {"raw": raw.decode("utf-8", "replace")}
            return exc.code, payload, dict(exc.headers)

    def get(self, path: str, **params) -> tuple[int, dict, dict]:
        return self.request("GET", path, params=params or None)

    def wait_job(self, job_uuid: str, timeout: float = 10.0) -> dict:
        """Poll /api/cluster/jobs/<uuid> like netapp.ontap does until the job leaves queued/running."""
        deadline = time.monotonic() + timeout
        while True:
            status, job, _headers = self.get("/api/cluster/jobs/%s" % job_uuid)
            if status != 200:
                raise AssertionError("job poll failed: %s %s" % (status, job))
            if job["state"] not in ("queued", "running", "paused"):
                return job
            if time.monotonic() > deadline:
                raise AssertionError("job %s still %s" % (job_uuid, job["state"]))
            time.sleep(0.02)

    def control(self, method: str, route: str, body: dict | None = None) -> dict:
        """The simulator's /sim/ control API (plain http, no auth)."""
        base = self.base.replace("https://", "http://")
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request(base + "/sim/" + route.lstrip("/"), data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=self.timeout) as resp:
            return json.loads(resp.read() or b"{}")
