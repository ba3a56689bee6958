# shellcheck shell=bash
# Shared by the integration targets (source it from runme.sh): starts the collection's simulators with
# simctl in a private state directory on 127.0.0.x, and stops them again.
#
#   source "${TARGET_DIR}/../setup_simulators/sim.sh"
#   trap sim_stop_all EXIT
#   sim_start xapi xapisim --datacenter "${SIM_DIR}/datacenters/reference.yml"
#   sim_vars xapi "${SIM_STATE}/sim_vars.json"      # endpoints + password for -e @file (mode 0600)
#
# simctl is, in this order: $XENPOOL_SIMCTL (a command line, for a direct run of runme.sh: ansible-test
# passes no other variables through), `simctl` on PATH (`pip install [-e] tests/simulator`; make test puts
# .venv/bin on PATH and ansible-test keeps PATH; that python has the simulators' dependencies), or
# `python -m simcommon.simctl`. Whichever it is, the simulator code is the collection's own tests/simulator
# when it is found (PYTHONPATH), else the installed package's. Each simulator watches this script's shell
# (--watch-pid $$): if the target is killed without its EXIT trap, the simulators stop by themselves; they
# also stop after 30 minutes without a request.

SIM_PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3 || command -v python)}"

sim_find_dir() {
    local here candidate root
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    for candidate in "${XENPOOL_SIMULATOR_DIR:-}" "${here}/../../../simulator"; do
        if [ -n "${candidate}" ] && [ -f "${candidate}/simcommon/simctl.py" ]; then
            (cd "${candidate}" && pwd)
            return 0
        fi
    done
    local IFS=:
    # ansible-test runs a copy of the target: find the collection through the collection path it sets
    for root in ${ANSIBLE_COLLECTIONS_PATH:-} ${ANSIBLE_COLLECTIONS_PATHS:-}; do
        candidate="${root}/ansible_collections/vdc/xenpool/tests/simulator"
        if [ -f "${candidate}/simcommon/simctl.py" ]; then
            (cd "${candidate}" && pwd)
            return 0
        fi
    done
    return 1
}

SIM_STATE="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-it.XXXXXX")"
SIM_DIR="$(sim_find_dir)" || SIM_DIR=""
SIMCTL=()
if [ -n "${XENPOOL_SIMCTL:-}" ]; then
    read -r -a SIMCTL <<< "${XENPOOL_SIMCTL}"
elif command -v simctl >/dev/null 2>&1; then
    SIMCTL=("$(command -v simctl)")
elif [ -n "${SIM_DIR}" ]; then
    SIMCTL=("${SIM_PYTHON}" -m simcommon.simctl)
else
    echo "sim.sh: no simctl: install the simulators (pip install tests/simulator) or set XENPOOL_SIMCTL" >&2
    exit 1
fi
if [ -n "${SIM_DIR}" ]; then
    # whichever simctl runs: the simulators are those of the collection under test (PYTHONPATH wins over an
    # installed or editable copy, and simctl passes it on to the simulator)
    SIMCTL=(env "PYTHONPATH=${SIM_DIR}${PYTHONPATH:+:${PYTHONPATH}}" "${SIMCTL[@]}")
else
    # an installed simulator package: lay its bundled data out as in tests/simulator
    SIM_DIR="${SIM_STATE}/simdata"
    mkdir -p "${SIM_DIR}"
    ln -s "$("${SIMCTL[@]}" data-dir xapisim)" "${SIM_DIR}/datacenters"
    ln -s "$("${SIMCTL[@]}" data-dir ontapsim)" "${SIM_DIR}/ontap_fixtures"
fi
echo "sim.sh: simctl: ${SIMCTL[*]}; data: ${SIM_DIR}; python for playbooks: ${SIM_PYTHON}" >&2
export SIM_DIR SIM_STATE

# sim_start NAME MODULE [simulator args...]: ready file at ${SIM_STATE}/NAME/ready.json
sim_start() {
    local name="$1" module="$2"
    shift 2
    "${SIMCTL[@]}" start "${module}" --state-dir "${SIM_STATE}/${name}" --watch-pid "$$" -- \
        --time-scale 0.01 "$@" >/dev/null
}

sim_stop() {
    "${SIMCTL[@]}" stop --state-dir "${SIM_STATE}/$1" >/dev/null 2>&1 || true
    rm -rf "${SIM_STATE:?}/$1"
}

sim_stop_all() {
    local dir
    for dir in "${SIM_STATE}"/*/; do
        if [ -f "${dir}/ready.json" ]; then sim_stop "$(basename "${dir}")"; fi
    done
    rm -rf "${SIM_STATE}"
}

# sim_vars NAME OUT: the play's view of a simulator (hosts, CA, credentials, control URL), mode 0600,
# so the password never travels on a command line or through the output.
sim_vars() {
    (umask 077 && "${SIM_PYTHON}" - "${SIM_STATE}/$1/ready.json" "$2" <<'PY'
import json
import sys

with open(sys.argv[1], encoding="utf-8") as handle:
    ready = json.load(handle)
with open(ready["password_file"], encoding="utf-8") as handle:
    password = handle.read().strip()
data = {
    "sim_hosts": ready.get("hosts", []),
    "sim_ca_cert": ready["ca_cert"],
    "sim_username": ready.get("username", "root"),
    "sim_password": password,
    "sim_control": ready["control"],
    "sim_port": ready["port"],
}
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump(data, handle)
PY
    )
}
