#!/usr/bin/env bash
# `make bench`: the benchmark scripts under tests/bench. Each starts its own simulators, prints call
# counts, wall time and memory, and exits non-zero when a constant-call-count promise is broken.
# Figures, not timed tests: wall times on a shared machine are noisy, call counts are not.
set -euo pipefail
# shellcheck source=.ci/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

STATE="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-bench.XXXXXX")"
trap 'rm -rf "$STATE"' EXIT
mkdir -p "$STATE/collections/ansible_collections/vdc"
ln -s "$REPO" "$STATE/collections/ansible_collections/vdc/xenpool"
export ANSIBLE_COLLECTIONS_PATH="$STATE/collections"
export PYTHONPATH="$STATE/collections${PYTHONPATH:+:$PYTHONPATH}"

failed=0
for bench in "$REPO"/tests/bench/bench_*.py; do
    echo "===== $(basename "$bench")"
    "$PY" "$bench" || failed=$((failed + 1))
done
echo
echo "benchmarks with a broken promise: $failed"
[ "$failed" -eq 0 ]
