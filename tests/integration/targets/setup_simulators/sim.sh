# shellcheck shell=bash
# Shared by the integration targets (source it from runme.sh): finds the collection's simulators,
# starts them through tests/simulator/simctl.py in a private state directory on 127.0.0.x, and
# stops them again. Every simulator also stops by itself after --lifetime.
#
#   source "${TARGET_DIR}/../setup_simulators/sim.sh"
#   trap sim_stop_all EXIT
#   sim_start xapi xapisim --datacenter "${SIM_DIR}/datacenters/reference.yml"
#   sim_vars xapi "${SIM_STATE}/sim_vars.json"      # endpoints + password for -e @file (mode 0600)

SIM_PYTHON="${ANSIBLE_TEST_PYTHON_INTERPRETER:-$(command -v python3 || command -v python)}"

sim_find_dir() {
    local here candidate root
    here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
    for candidate in "${XENPOOL_SIMULATOR_DIR:-}" "${here}/../../../simulator"; do
        if [ -n "${candidate}" ] && [ -f "${candidate}/simctl.py" ]; then
            (cd "${candidate}" && pwd)
            return 0
        fi
    done
    local IFS=:
    for root in ${ANSIBLE_COLLECTIONS_PATH:-} ${ANSIBLE_COLLECTIONS_PATHS:-}; do
        candidate="${root}/ansible_collections/vdc/xenpool/tests/simulator"
        if [ -f "${candidate}/simctl.py" ]; then
            (cd "${candidate}" && pwd)
            return 0
        fi
    done
    return 1
}

SIM_DIR="$(sim_find_dir)" || { echo "cannot find tests/simulator (set XENPOOL_SIMULATOR_DIR)" >&2; exit 1; }
SIM_STATE="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-it.XXXXXX")"
export SIM_DIR SIM_STATE

# sim_start NAME MODULE [simulator args...]: ready file at ${SIM_STATE}/NAME/ready.json
sim_start() {
    local name="$1" module="$2"
    shift 2
    "${SIM_PYTHON}" "${SIM_DIR}/simctl.py" start "${module}" --state-dir "${SIM_STATE}/${name}" -- \
        --time-scale 0.01 --lifetime 900 "$@" >/dev/null
}

sim_stop() {
    "${SIM_PYTHON}" "${SIM_DIR}/simctl.py" stop --state-dir "${SIM_STATE}/$1" >/dev/null 2>&1 || true
    rm -rf "${SIM_STATE:?}/$1"
}

sim_stop_all() {
    local dir
    for dir in "${SIM_STATE}"/*/; do
        [ -d "${dir}" ] && sim_stop "$(basename "${dir}")"
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
