# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Open an HTML report of vdc.xenpool.pool_report in headless Chromium and check what the browser rendered.

The expectations come from the pool_info results the report was made from (one JSON file per pool), not from the
report: every host and every VM must be in the DOM after the scripts ran, each running VM in the rows under the
host it runs on, the charts drawn (body[data-charts-drawn] = 2 per pool + 1 per host, each canvas really painted),
no script error, console message or blocked request, and a screenshot taken. Exits 1 with every problem listed.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from html.parser import HTMLParser

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                 "--enable-logging=stderr", "--v=0", "--virtual-time-budget=5000"]
# a console message in Chromium's log: "[...:INFO:CONSOLE:12] "text", source: file:///... (12)" (older: CONSOLE(12))
CONSOLE_LINE = re.compile(r":CONSOLE[:(]")
TIMEOUT_S = 240


class Dom(HTMLParser):
    """The few things of the rendered DOM that the checks need, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.body: dict[str, str] = {}
        self.rows: list[dict] = []       # overview rows: {"kind": host|vm|group, "attrs": ..., "text": ...}
        self.ha_rows: dict[str, str] = {}
        self.canvases = 0
        self.elements: dict[str, int] = {}
        self.errors_text = ""
        self._row: dict | None = None
        self._ha: tuple[str, list[str]] | None = None
        self._in_errors = False
        self._pool = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attr = {k: (v or "") for k, v in attrs}
        self.elements[tag] = self.elements.get(tag, 0) + 1
        if tag == "body":
            self.body = attr
        elif tag == "canvas" and "data-chart" in attr:
            self.canvases += 1
        elif tag == "pre" and attr.get("id") == "report-errors":
            self._in_errors = True
        elif tag == "section" and "data-pool" in attr:
            self._pool = attr["data-pool"]
        elif tag == "tr":
            classes = attr.get("class", "").split()
            kind = next((c for c in ("host", "vm", "group") if c in classes), None)
            self._row = {"kind": kind, "attrs": attr, "text": [], "pool": self._pool} if kind else None
            self._ha = (attr["data-ha-vm"], []) if "data-ha-vm" in attr else None

    def handle_endtag(self, tag: str) -> None:
        if tag == "pre":
            self._in_errors = False
        elif tag == "tr":
            if self._row is not None:
                self._row["text"] = " ".join("".join(self._row["text"]).split())
                self.rows.append(self._row)
            if self._ha is not None:
                self.ha_rows[self._ha[0]] = " ".join("".join(self._ha[1]).split())
            self._row, self._ha = None, None

    def handle_data(self, data: str) -> None:
        if self._in_errors:
            self.errors_text += data
        if self._row is not None:
            self._row["text"].append(data)
        if self._ha is not None:
            self._ha[1].append(data)


def chromium(binary: str, profile: str, extra: list[str], url: str) -> tuple[str, str]:
    """Run Chromium once (bounded); stdout and stderr. A hung browser is killed and retried once."""
    for attempt in (1, 2):
        try:
            done = subprocess.run([binary] + CHROMIUM_ARGS + ["--user-data-dir=" + profile] + extra + [url],
                                  capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            if attempt == 2:
                raise
            continue
        return done.stdout, done.stderr
    raise AssertionError("unreachable")


def png_problems(path: str, width: int) -> list[str]:
    """A real screenshot: a PNG of the requested width whose pixels are not all alike."""
    if not os.path.isfile(path):
        return ["no screenshot at %s" % path]
    with open(path, "rb") as handle:
        data = handle.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        return ["%s is not a PNG" % path]
    got_width = struct.unpack(">I", data[16:20])[0]
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    distinct = len(set(zlib.decompress(idat)[:2_000_000]))
    problems = []
    if got_width != width:
        problems.append("screenshot is %d px wide, expected %d" % (got_width, width))
    if distinct < 16:
        problems.append("screenshot looks blank (%d distinct byte values)" % distinct)
    return problems


def expectations(pool_files: list[str]) -> tuple[dict[str, str | None], list[str], int]:
    """VM name -> host name it runs on (None when not running); host names; charts expected."""
    vms: dict[str, str | None] = {}
    hosts: list[str] = []
    for path in pool_files:
        with open(path, encoding="utf-8") as handle:
            result = json.load(handle)
        hosts += [h["name"] for h in result["hosts"]]
        for vm in result["vms"]:
            if not vm.get("is_template"):
                vms[vm["name"]] = vm["host"] if vm["power_state"] == "Running" else None
    return vms, hosts, 2 * len(pool_files) + len(hosts)


def order_problems(rows: list[dict]) -> list[str]:
    """Hosts sorted by name within their pool, and VMs sorted by name within their host or group."""
    groups: dict[tuple[str, str, str], list[str]] = {}
    group: tuple[str, str, str] = ("", "", "")
    for row in rows:
        if row["kind"] == "host":
            groups.setdefault((row["pool"], "hosts", ""), []).append(row["attrs"].get("data-host", ""))
            group = (row["pool"], "vms", row["attrs"].get("data-host", ""))
        elif row["kind"] == "group":
            group = (row["pool"], "vms", "not running")
        elif row["kind"] == "vm":
            groups.setdefault(group, []).append(row["attrs"].get("data-vm", ""))
    return ["%s of %r (%s) not sorted: %s" % (what, pool, where or "pool", names)
            for (pool, what, where), names in sorted(groups.items()) if names != sorted(names)]


def dom_problems(dom: Dom, vms: dict[str, str | None], hosts: list[str], charts: int, protection: dict[str, str]) -> list[str]:
    problems = []
    host_rows = [r for r in dom.rows if r["kind"] == "host"]
    seen_hosts = sorted(r["attrs"].get("data-host", "") for r in host_rows)
    if seen_hosts != sorted(hosts):
        problems.append("host rows %s, expected %s" % (seen_hosts, sorted(hosts)))
    for row in host_rows:
        if row["attrs"].get("data-host", "") not in row["text"]:
            problems.append("host row %r does not show its name" % row["attrs"].get("data-host"))
    under: str | None = None
    placed: dict[str, str | None] = {}
    for row in dom.rows:
        if row["kind"] == "host":
            under = row["attrs"].get("data-host")
        elif row["kind"] == "group":
            under = None
        elif row["kind"] == "vm":
            name = row["attrs"].get("data-vm", "")
            placed[name] = under
            if not row["text"].startswith(name):
                problems.append("VM row %r does not show its name first: %r" % (name, row["text"][:80]))
    for name, host in sorted(vms.items()):
        if name not in placed:
            problems.append("VM %r is missing" % name)
        elif placed[name] != host:
            problems.append("VM %r is under %r, expected %r" % (name, placed[name], host))
    problems += order_problems(dom.rows)
    extra = sorted(set(placed) - set(vms))
    if extra:
        problems.append("unexpected VM rows %s" % extra)
    drawn = dom.body.get("data-charts-drawn")
    if drawn != str(charts) or dom.canvases != charts:
        problems.append("charts drawn %s of %d canvases, expected %d" % (drawn, dom.canvases, charts))
    if dom.body.get("data-js-errors") != "0" or dom.errors_text.strip():
        problems.append("script errors in the page: %s %r" % (dom.body.get("data-js-errors"), dom.errors_text.strip()))
    for name, level in sorted(protection.items()):
        if level not in dom.ha_rows.get(name, ""):
            problems.append("HA row of %r is %r, expected %r" % (name, dom.ha_rows.get(name), level))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", required=True)
    parser.add_argument("--pool-info", action="append", required=True, help="a pool_info result (JSON), once per pool")
    parser.add_argument("--screenshot", required=True)
    parser.add_argument("--protection", action="append", default=[], help="VM=level expected in the HA table")
    parser.add_argument("--forbid-element", action="append", default=[], help="a tag that must not be in the DOM")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()

    vms, hosts, charts = expectations(args.pool_info)
    protection = dict(item.split("=", 1) for item in args.protection)
    url = "file://" + os.path.abspath(args.report)
    width, height = 1280, min(16000, 1400 + 60 * (3 * len(hosts) + len(vms) + len(protection)))
    profile = tempfile.mkdtemp(prefix="pool-report-chromium-")
    try:
        html, log_dom = chromium(args.chromium, profile, ["--dump-dom"], url)
        os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
        if os.path.exists(args.screenshot):
            os.unlink(args.screenshot)
        shot_args = ["--window-size=%d,%d" % (width, height), "--screenshot=" + os.path.abspath(args.screenshot)]
        log_shot = chromium(args.chromium, profile, shot_args, url)[1]
    finally:
        shutil.rmtree(profile, ignore_errors=True)

    dom = Dom()
    dom.feed(html)
    problems = [] if dom.body else ["no <body> in Chromium's DOM dump (%d bytes)" % len(html)]
    problems += dom_problems(dom, vms, hosts, charts, protection)
    problems += ["console: " + line.strip() for line in (log_dom + log_shot).splitlines() if CONSOLE_LINE.search(line)]
    problems += ["<%s> element in the DOM (%d)" % (tag, dom.elements[tag]) for tag in args.forbid_element if dom.elements.get(tag)]
    problems += png_problems(args.screenshot, width)

    summary = "%s: %d host(s), %d VM(s), %s/%d charts drawn, %s script error(s), screenshot %s" % (
        args.report, len(hosts), len(vms), dom.body.get("data-charts-drawn"), charts, dom.body.get("data-js-errors"),
        args.screenshot)
    if problems:
        print("FAIL " + summary)
        for problem in problems:
            print("  - " + problem)
        return 1
    print("OK " + summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
