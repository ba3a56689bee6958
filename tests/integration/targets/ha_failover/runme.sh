#!/usr/bin/env bash
# Issue 11's failover test: vdc.xenpool.ha and pool_info against xapisim's `ha` data centre, with the simulator's
# host-failure control routes. A slave crash (failover.yml), then, on a fresh simulator, a master crash (master.yml).
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

for play in failover master; do
    sim_start xapi xapisim --datacenter "${SIM_DIR}/datacenters/ha.yml"
    sim_vars xapi "${SIM_STATE}/sim_vars.json"
    ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook "${TARGET_DIR}/${play}.yml" \
        -i localhost, -c local -e "@${SIM_STATE}/sim_vars.json" \
        -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
    sim_stop xapi
done
