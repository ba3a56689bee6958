#!/usr/bin/env bash
# Integration test of vdc.xenpool.sr (and sr_info) against both simulators: ontapsim serves the LUN,
# xapisim (a pool of two hosts plus one standalone host) sees it through --san.
# check -> apply -> check -> apply, forget + reattach keeping a VDI, LUN growth, a joining host whose
# IQN is missing from the igroup, destroy. Verified through the simulators' own state and call logs.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3 || command -v python)}"

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
STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-sr.XXXXXX")"

cleanup() {
    "${PYTHON}" "${SIM_DIR}/simctl.py" stop --state-dir "${STATE_DIR}/xapi" >/dev/null 2>&1 || true
    "${PYTHON}" "${SIM_DIR}/simctl.py" stop --state-dir "${STATE_DIR}/ontap" >/dev/null 2>&1 || true
    rm -rf "${STATE_DIR}"
}
trap cleanup EXIT

"${PYTHON}" "${SIM_DIR}/simctl.py" start ontapsim --state-dir "${STATE_DIR}/ontap" -- \
    --fixture "${SIM_DIR}/ontap_fixtures/reference.yml" --time-scale 0.01 --lifetime 900 >/dev/null
ONTAP_CONTROL="$("${PYTHON}" -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "${STATE_DIR}/ontap/ready.json")"
"${PYTHON}" "${SIM_DIR}/simctl.py" start xapisim --state-dir "${STATE_DIR}/xapi" -- \
    --datacenter "${TARGET_DIR}/files/datacenter.yml" --ontap-control "${ONTAP_CONTROL}" --time-scale 0.01 --lifetime 900 >/dev/null

ANSIBLE_PYTHON_INTERPRETER="${PYTHON}" ansible-playbook "${TARGET_DIR}/sr.yml" -i localhost, -c local \
    -e "xapi_ready_file=${STATE_DIR}/xapi/ready.json" -e "ontap_ready_file=${STATE_DIR}/ontap/ready.json" \
    -e "ansible_python_interpreter=${PYTHON}" "$@"
