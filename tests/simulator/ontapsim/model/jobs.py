# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Asynchronous jobs: creation, running, the simulated clock's tick."""
from __future__ import annotations

from ..errors import OntapError
from .common import JOB_SECONDS


class JobsMixin:
    """Jobs that run now or when the simulated clock reaches them."""

    def new_job(self, description: str, svm: dict | None, op: str, args: dict) -> dict:
        start = self.now()
        job = {"uuid": self.new_uuid(), "description": description, "state": "running", "message": "",
               "code": 0, "svm_uuid": svm["uuid"] if svm else None, "start": start,
               "due": start + JOB_SECONDS.get(op, 1.0), "end": None, "op": op, "args": args, "error": None}
        self.jobs[job["uuid"]] = job
        return job

    def run_job_now(self, job: dict) -> None:
        """Execute the job's operation; the outcome lands in the job record."""
        try:
            getattr(self, job["op"])(**job["args"])
            job["state"] = "success"
            job["message"] = "success"
            job["code"] = 0
        except OntapError as exc:
            job["state"] = "failure"
            job["message"] = exc.message
            job["code"] = int(exc.rest_code)
            job["error"] = {"code": exc.rest_code, "message": exc.message}
            if exc.target:
                job["error"]["target"] = exc.target
        job["end"] = max(self.now(), job["start"])

    def tick(self) -> None:
        """Finish every job whose simulated duration has passed (lazy: called on each request)."""
        now = self.now()
        for job in sorted(self.jobs.values(), key=lambda j: j["due"]):
            if job["state"] in ("queued", "running") and job["due"] <= now:
                self.run_job_now(job)

    def finish_all_jobs(self) -> None:
        for job in sorted(self.jobs.values(), key=lambda j: j["due"]):
            if job["state"] in ("queued", "running"):
                self.run_job_now(job)
