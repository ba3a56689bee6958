#!/usr/bin/env bash
# Integration test of vdc.xenpool.sr (and sr_info) against both simulators: ontapsim serves the LUN,
# xapisim (a pool of two hosts plus one standalone host) sees it through --san.
# check -> apply -> check -> apply, forget + reattach keeping a VDI, LUN growth, a joining host whose
# IQN is missing from the igroup, destroy. Verified through the simulators' own state and call logs.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start ontap ontapsim --fixture "${SIM_DIR}/ontap_fixtures/reference.yml"
ONTAP_CONTROL="$("${SIM_PYTHON}" -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' "${SIM_STATE}/ontap/ready.json")"
sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml" --san "${ONTAP_CONTROL}"

ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook "${TARGET_DIR}/sr.yml" -i localhost, -c local \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ontap_ready_file=${SIM_STATE}/ontap/ready.json" \
    -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
