# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Strict scripted fakes for both ONTAP transports, shared by service and module tests.

Each expectation is consumed once; an unexpected call fails at once and assert_done fails on
expectations left over, so a test proves both what was called and that nothing else was.
"""

from __future__ import annotations

import copy
import typing as t

from ansible_collections.vdc.xenpool.plugins.module_utils._ontap.errors import OntapError

READ_SUFFIXES = ("-get-iter", "-get", "-list-info", "system-get-version")


class UnexpectedCall(AssertionError):
    pass


class FakeRest:
    """Scripted REST responder keyed by (verb, path, params); usable as RestClient.sender."""

    def __init__(self) -> None:
        self.expected: list[dict] = []
        self.log: list[tuple] = []

    def expect(self, verb: str, path: str, params: dict | None = None, response: dict | None = None, status: int = 200,
               body: t.Any = None) -> "FakeRest":
        self.expected.append({"key": (verb, path, tuple(sorted((params or {}).items()))), "status": status,
                              "response": response if response is not None else {}, "body": body})
        return self

    def error(self, verb: str, path: str, params: dict | None, code: str, message: str, status: int = 400) -> "FakeRest":
        return self.expect(verb, path, params, {"error": {"code": code, "message": message}}, status)

    def __call__(self, method: str, path: str, params: dict | None, body: dict | None) -> tuple[int, dict]:
        key = (method, path, tuple(sorted((params or {}).items())))
        self.log.append((method, path, dict(params or {}), copy.deepcopy(body)))
        for i, exp in enumerate(self.expected):
            if exp["key"] == key:
                if exp["body"] is not None and exp["body"] != body:
                    raise UnexpectedCall("body mismatch for %s %s: expected %r, got %r" % (method, path, exp["body"], body))
                self.expected.pop(i)
                return exp["status"], copy.deepcopy(exp["response"])
        raise UnexpectedCall("unexpected REST call %s %s %r body=%r; still expected: %r"
                             % (method, path, params, body, [e["key"] for e in self.expected]))

    def writes(self) -> list[tuple]:
        return [c for c in self.log if c[0] != "GET"]

    def assert_done(self) -> None:
        assert not self.expected, "expected REST calls not made: %r" % [e["key"] for e in self.expected]


class FakeZapi:
    """Scripted ZAPI responder keyed by API name; usable as ZapiClient's invoker."""

    def __init__(self) -> None:
        self.expected: list[dict] = []
        self.log: list[tuple] = []

    def expect(self, api: str, args: dict | None = None, response: dict | None = None, vserver: t.Any = "any",
               error: tuple[str, str] | None = None) -> "FakeZapi":
        self.expected.append({"api": api, "args": args, "response": response or {}, "vserver": vserver, "error": error})
        return self

    def __call__(self, api: str, args: dict | None, vserver: str | None) -> dict:
        self.log.append((api, copy.deepcopy(args), vserver))
        for i, exp in enumerate(self.expected):
            if exp["api"] != api:
                continue
            if exp["args"] is not None and exp["args"] != args:
                raise UnexpectedCall("args mismatch for %s: expected %r, got %r" % (api, exp["args"], args))
            if exp["vserver"] != "any" and exp["vserver"] != vserver:
                raise UnexpectedCall("vserver mismatch for %s: expected %r, got %r" % (api, exp["vserver"], vserver))
            self.expected.pop(i)
            if exp["error"]:
                raise OntapError(exp["error"][0], exp["error"][1])
            return copy.deepcopy(exp["response"])
        raise UnexpectedCall("unexpected ZAPI call %s %r (vserver %r); still expected: %r"
                             % (api, args, vserver, [e["api"] for e in self.expected]))

    def writes(self) -> list[tuple]:
        return [c for c in self.log if not c[0].endswith(READ_SUFFIXES)]

    def assert_done(self) -> None:
        assert not self.expected, "expected ZAPI calls not made: %r" % [e["api"] for e in self.expected]


def iter_result(container: str, records: list[dict], next_tag: str | None = None) -> dict:
    """A *-get-iter result as the dict layer sees it (one record parses as a dict, several as a list)."""
    result: dict = {"num-records": str(len(records))}
    if records:
        result["attributes-list"] = {container: records[0] if len(records) == 1 else records}
    if next_tag:
        result["next-tag"] = next_tag
    return result


CLUSTER_PROBE = ("GET", "/api/cluster", {"fields": "version,name,uuid"})
CLUSTER_REPLY = {"name": "cluster1", "uuid": "c-1", "version": {"full": "NetApp Release 9.14.1", "generation": 9, "major": 14, "minor": 1}}
ZAPI_VERSION_REPLY = {"version": "NetApp Release 9.14.1", "version-tuple": {"system-version-tuple": {"generation": "9", "major": "14", "minor": "1"}}}
