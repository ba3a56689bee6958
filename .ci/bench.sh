#!/usr/bin/env bash
# `make bench`: tests/bench/bench_report.py runs every benchmark (each starts its own simulators) and prints one
# table: XenAPI calls, wall time, CPU, peak RSS and ratios for 1 / 90 / 2,000 VMs, the site.yml no-op, the
# comparison with community.general, provisioning and the simulator's own figures, each beside its target
# (docs/performance.md). It exits non-zero only when a constant-call-count promise is broken: wall times on a
# shared machine are noisy, call counts are not.
#   make bench                 everything (8 minutes on an idle 2-core machine, more when it is busy)
#   BENCH_QUICK=1 make bench   the fast subset (under a minute on an idle machine)
#   BENCH_ONLY=scale,site make bench   the sections named (scale, community, site, provision, ontap)
set -euo pipefail
# shellcheck source=.ci/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

STATE="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-bench.XXXXXX")"
trap 'rm -rf "$STATE"' EXIT
mkdir -p "$STATE/collections/ansible_collections/vdc"
ln -s "$REPO" "$STATE/collections/ansible_collections/vdc/xenpool"
export ANSIBLE_COLLECTIONS_PATH="$STATE/collections"
export PYTHONPATH="$STATE/collections${PYTHONPATH:+:$PYTHONPATH}"

"$PY" "$REPO/tests/bench/bench_report.py"
