# -*- coding: utf-8 -*-
# Copyright: contributors to the vdc.xenpool collection
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Checks of the site_plan target on the text of a playbook run (the simulators' call logs are read by the shared
helper ../../setup_simulators/files/simstate.py: --reset, --read-only LABEL).

    check_run.py output LABEL FILE [--expect TEXT]... [--forbid TEXT]... [--changed any|0] [--min-changed N]

`output` reads the output of ansible-playbook with whitespace collapsed (the YAML callback folds long messages and
diffs indent), so TEXT is written with single spaces: "+ - xen-site-05" matches a diff line adding xen-site-05. It
fails on a failed or unreachable host in the recap, on a missing --expect, a present --forbid, and on the recap's
changed count (--changed 0: nothing changed; --min-changed N: at least N tasks predicted or made a change).
"""

from __future__ import annotations

import argparse
import re
import sys


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
