#!/usr/bin/env bash
# Integration test of vdc.xenpool.balance against xapisim: a 6-host pool with its VMs piled on two hosts and two spam
# filters together. balance.yml: bad input refused with 0 writes, check mode plans with 0 writes, apply brings every
# host under the thresholds with the spam filters apart (read from the simulator), a second run plans nothing, a
# host joined to the pool takes VMs when the pool is too full without it, and with HA on the run reads the pool's
# capacity and its migration passes the pool's HA guard.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml"
ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" \
    ansible-playbook "${TARGET_DIR}/balance.yml" -i localhost, -c local \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
