#!/usr/bin/env bash
# Integration test of the vdc.xenpool.rolling_maintenance role (and vdc.xenpool.host_maintenance) against xapisim.
# rolling_maintenance.yml: a 4-host AMD pool with HA on and six protected VMs running: check mode (order, moves,
# 0 writes), a failing hook stops the role safely and says where, a batch of four that cannot be emptied together
# stops at the check with nothing written, then the full run in batches of two.
# rolling_intel.yml (the issue's done-when): the 14-host Intel pool with HA on and VMs at the three protection
# levels: each host rebooted exactly once, zero VM downtime in the simulator's records (no power-state transition,
# no VM power call, same start times).
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

run() {
    local name="$1" playbook="$2"
    shift 2
    ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" \
        ansible-playbook "${TARGET_DIR}/${playbook}" -i localhost, -c local \
        -e "xapi_ready_file=${SIM_STATE}/${name}/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
}

# a fifth of the shared time scale (the last --time-scale wins): a simulated reboot of 3 minutes takes 0.4 s
sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml" --time-scale 0.002
SECONDS=0
run xapi rolling_maintenance.yml "$@"
echo "rolling_maintenance.yml: 4-host pool, four runs of the role, took ${SECONDS} s" >&2
sim_stop xapi

sim_start intel xapisim --datacenter "${TARGET_DIR}/files/datacenter-intel.yml" --time-scale 0.002
SECONDS=0
run intel rolling_intel.yml "$@"
echo "rolling_intel.yml: 14-host rolling maintenance took ${SECONDS} s" >&2
