#!/usr/bin/env bash
# Integration test of vdc.xenpool.pool against the XenAPI simulator (tests/simulator/xapisim).
# Starts the simulator on 127.0.0.x with its own state dir, stops it on exit, runs the target playbook.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3 || command -v python)}"

# The simulator lives in the repo's tests/simulator. Under ansible-test the target may run from a
# copy of tests/integration, so also look in every collection root ansible-test puts on the path.
find_simulator() {
    local candidate root
    for candidate in "${XENPOOL_SIMULATOR_DIR:-}" "${TARGET_DIR}/../../../simulator"; do
        if [ -n "${candidate}" ] && [ -d "${candidate}/xapisim" ]; then
            (cd "${candidate}" && pwd)
            return 0
        fi
    done
    local IFS=:
    for root in ${ANSIBLE_COLLECTIONS_PATH:-} ${ANSIBLE_COLLECTIONS_PATHS:-}; do
        candidate="${root}/ansible_collections/vdc/xenpool/tests/simulator"
        if [ -d "${candidate}/xapisim" ]; then
            (cd "${candidate}" && pwd)
            return 0
        fi
    done
    return 1
}

SIM_DIR="$(find_simulator)" || { echo "cannot find tests/simulator (set XENPOOL_SIMULATOR_DIR)" >&2; exit 1; }
STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-pool.XXXXXX")"
SIM_PID=""

cleanup() {
    if [ -n "${SIM_PID}" ] && kill -0 "${SIM_PID}" 2>/dev/null; then
        kill "${SIM_PID}" 2>/dev/null || true
        for _ in $(seq 1 50); do kill -0 "${SIM_PID}" 2>/dev/null || break; sleep 0.1; done
        kill -9 "${SIM_PID}" 2>/dev/null || true
    fi
    rm -rf "${STATE_DIR}"
}
trap cleanup EXIT

PYTHONPATH="${SIM_DIR}${PYTHONPATH:+:${PYTHONPATH}}" "${PYTHON}" -m xapisim \
    --datacenter "${SIM_DIR}/datacenters/reference.yml" \
    --state-dir "${STATE_DIR}" --ready-file "${STATE_DIR}/ready.json" \
    --time-scale 0.01 --lifetime 900 >"${STATE_DIR}/xapisim.log" 2>&1 &
SIM_PID=$!

for _ in $(seq 1 600); do
    [ -s "${STATE_DIR}/ready.json" ] && break
    if ! kill -0 "${SIM_PID}" 2>/dev/null; then
        echo "simulator exited early:" >&2
        tail -n 30 "${STATE_DIR}/xapisim.log" >&2
        exit 1
    fi
    sleep 0.1
done
[ -s "${STATE_DIR}/ready.json" ] || { echo "simulator not ready after 60 s" >&2; exit 1; }

# Variables for the play: the password goes into a 0600 file, never onto a command line or the output.
umask 077
"${PYTHON}" - "${STATE_DIR}/ready.json" "${STATE_DIR}/sim_vars.json" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as handle:
    ready = json.load(handle)
with open(ready["password_file"], encoding="utf-8") as handle:
    password = handle.read().strip()
data = {
    "sim_hosts": ready["hosts"],
    "sim_ca_cert": ready["ca_cert"],
    "sim_username": ready.get("username", "root"),
    "sim_password": password,
    "sim_control": ready["control"],
    "sim_port": ready["port"],
}
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump(data, handle)
PY

ANSIBLE_PYTHON_INTERPRETER="${PYTHON}" ansible-playbook "${TARGET_DIR}/pool.yml" \
    -i localhost, -c local -e "@${STATE_DIR}/sim_vars.json" -e "ansible_python_interpreter=${PYTHON}" "$@"
