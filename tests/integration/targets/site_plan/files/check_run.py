# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of the site_plan target, on the simulators' own call logs and on the text of a playbook run.

    check_run.py reset READY_FILE...                 clear the simulators' call logs
    check_run.py writes LABEL READY_FILE...          fail unless no simulator logged a write call since the reset
    check_run.py output LABEL FILE [--expect TEXT]... [--forbid TEXT]... [--changed any|0] [--min-changed N]

`output` reads the output of ansible-playbook with whitespace collapsed (the YAML callback folds long messages and
diffs indent), so TEXT is written with single spaces: "+ - xen-site-05" matches a diff line adding xen-site-05. It
fails on a failed or unreachable host in the recap, on a missing --expect, a present --forbid, and on the recap's
changed count (--changed 0: nothing changed; --min-changed N: at least N tasks predicted or made a change).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.request


def _control(ready_file: str) -> str:
    with open(ready_file, encoding="utf-8") as handle:
        return json.load(handle)["control"]


def _open(url: str, post: bool = False) -> dict:
    request = urllib.request.Request(url, data=b"{}" if post else None, method="POST" if post else "GET",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as answer:  # nosec - simulators on 127.0.0.x only
        body = answer.read()
    return json.loads(body) if body.strip() else {}


def reset(ready_files: list[str]) -> int:
    for ready in ready_files:
        _open(_control(ready) + "/calls/reset", post=True)
    return 0


def writes(label: str, ready_files: list[str]) -> int:
    failed = False
    for ready in ready_files:
        log = _open(_control(ready) + "/calls")
        written = [call.get("summary") or call.get("method") for call in log.get("calls", []) if call.get("write")]
        print("site_plan: %s: %s: %d calls, %d writes" % (label, ready, len(log.get("calls", [])), len(written)))
        if not log.get("calls") or written or log.get("writes"):
            print("site_plan: %s: expected reads and no write, got %d calls and writes %s"
                  % (label, len(log.get("calls", [])), written[:20]), file=sys.stderr)
            failed = True
    return 1 if failed else 0


def output(args: argparse.Namespace) -> int:
    with open(args.file, encoding="utf-8") as handle:
        raw = handle.read()
    text = " ".join(raw.split())
    problems = ["missing: %s" % want for want in args.expect if want not in text]
    problems += ["present but must not be: %s" % unwanted for unwanted in args.forbid if unwanted in text]
    recap = re.findall(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", raw, re.M)
    if not recap:
        problems.append("no PLAY RECAP")
    for host, _ok, changed, unreachable, failed in recap:
        if int(unreachable) or int(failed):
            problems.append("%s: unreachable=%s failed=%s" % (host, unreachable, failed))
        if args.changed == "0" and int(changed):
            problems.append("%s: changed=%s, expected nothing left to change" % (host, changed))
        if int(changed) < args.min_changed:
            problems.append("%s: changed=%s, expected at least %d" % (host, changed, args.min_changed))
    for problem in problems:
        print("site_plan: %s: %s" % (args.label, problem), file=sys.stderr)
    print("site_plan: %s: %d expectations, %d problems (%s)" % (args.label, len(args.expect) + len(args.forbid),
                                                                len(problems), args.file))
    return 1 if problems else 0


def main(argv: list[str]) -> int:
    if argv[:1] == ["reset"]:
        return reset(argv[1:])
    if argv[:1] == ["writes"] and len(argv) > 2:
        return writes(argv[1], argv[2:])
    parser = argparse.ArgumentParser(prog="check_run.py output")
    parser.add_argument("label")
    parser.add_argument("file")
    parser.add_argument("--expect", action="append", default=[])
    parser.add_argument("--forbid", action="append", default=[])
    parser.add_argument("--changed", choices=["any", "0"], default="any")
    parser.add_argument("--min-changed", type=int, default=0)
    if argv[:1] != ["output"]:
        sys.exit(__doc__)
    return output(parser.parse_args(argv[1:]))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
