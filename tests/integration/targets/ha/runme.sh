#!/usr/bin/env bash
# Integration test of vdc.xenpool.ha against the XenAPI simulator (tests/simulator/xapisim).
# Starts the simulator on 127.0.0.x with its own state dir, stops it on exit, runs the target playbook.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start xapi xapisim --datacenter "${SIM_DIR}/datacenters/ha.yml"
sim_vars xapi "${SIM_STATE}/sim_vars.json"

ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook "${TARGET_DIR}/ha.yml" \
    -i localhost, -c local -e "@${SIM_STATE}/sim_vars.json" \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
