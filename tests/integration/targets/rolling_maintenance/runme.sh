#!/usr/bin/env bash
# Integration test of the vdc.xenpool.rolling_maintenance role (and vdc.xenpool.host_maintenance) against xapisim:
# a 4-host pool with HA on and six protected VMs running. rolling_maintenance.yml: check mode (order, moves, 0 writes),
# a blocked host stops the role safely with where it stopped, then the full run: each host rebooted once, the hook
# run on each empty host, zero VM downtime in the simulator's records (every VM Running throughout, same start time).
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml"
ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" \
    ansible-playbook "${TARGET_DIR}/rolling_maintenance.yml" -i localhost, -c local \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
