# shellcheck shell=bash
# Shell library for the ontap_* integration targets: start the ONTAP simulator
# (tests/simulator/ontapsim) on 127.0.0.x with its own state dir, wait for its ready file
# (bounded), and stop it again. Source it from runme.sh; call ontapsim_start / ontapsim_stop.

ONTAPSIM_PID=""
ONTAPSIM_STATE=""
ONTAPSIM_PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3 || command -v python)}"

ontapsim_dir() {
    local here candidate root
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    for candidate in "${XENPOOL_SIMULATOR_DIR:-}" "${here}/../../../simulator"; do
        if [ -n "${candidate}" ] && [ -d "${candidate}/ontapsim" ]; then
            (cd "${candidate}" && pwd)
            return 0
        fi
    done
    local IFS=:
    for root in ${ANSIBLE_COLLECTIONS_PATH:-} ${ANSIBLE_COLLECTIONS_PATHS:-}; do
        candidate="${root}/ansible_collections/vdc/xenpool/tests/simulator"
        if [ -d "${candidate}/ontapsim" ]; then
            (cd "${candidate}" && pwd)
            return 0
        fi
    done
    return 1
}

# ontapsim_start [extra simulator args...]; exports ONTAPSIM_READY (path of ready.json)
ontapsim_start() {
    local sim_dir
    sim_dir="$(ontapsim_dir)" || { echo "cannot find tests/simulator (set XENPOOL_SIMULATOR_DIR)" >&2; return 1; }
    ONTAPSIM_STATE="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-ontapsim.XXXXXX")"
    PYTHONPATH="${sim_dir}${PYTHONPATH:+:${PYTHONPATH}}" "${ONTAPSIM_PYTHON}" -m ontapsim \
        --fixture "${sim_dir}/ontap_fixtures/reference.yml" \
        --state-dir "${ONTAPSIM_STATE}" --ready-file "${ONTAPSIM_STATE}/ready.json" \
        --time-scale 0.01 --lifetime 900 "$@" >"${ONTAPSIM_STATE}/ontapsim.log" 2>&1 &
    ONTAPSIM_PID=$!
    local _
    for _ in $(seq 1 600); do
        [ -s "${ONTAPSIM_STATE}/ready.json" ] && break
        if ! kill -0 "${ONTAPSIM_PID}" 2>/dev/null; then
            echo "ontapsim exited early:" >&2
            tail -n 30 "${ONTAPSIM_STATE}/ontapsim.log" >&2
            return 1
        fi
        sleep 0.1
    done
    [ -s "${ONTAPSIM_STATE}/ready.json" ] || { echo "ontapsim not ready after 60 s" >&2; return 1; }
    export ONTAPSIM_READY="${ONTAPSIM_STATE}/ready.json"
}

ontapsim_stop() {
    if [ -n "${ONTAPSIM_PID}" ] && kill -0 "${ONTAPSIM_PID}" 2>/dev/null; then
        kill "${ONTAPSIM_PID}" 2>/dev/null || true
        local _
        for _ in $(seq 1 50); do kill -0 "${ONTAPSIM_PID}" 2>/dev/null || break; sleep 0.1; done
        kill -9 "${ONTAPSIM_PID}" 2>/dev/null || true
    fi
    ONTAPSIM_PID=""
    if [ -n "${ONTAPSIM_STATE}" ]; then
        rm -rf "${ONTAPSIM_STATE}"
        ONTAPSIM_STATE=""
    fi
}
