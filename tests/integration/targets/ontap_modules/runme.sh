#!/usr/bin/env bash
# Integration test of every vdc.xenpool.ontap_* module against the ONTAP simulator.
# The same playbook runs twice, each time on a fresh simulator: use_rest=always, then never (ZAPI).
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

for mode in always never; do
    sim_start ontap ontapsim --fixture "${SIM_DIR}/ontap_fixtures/reference.yml"
    ansible-playbook -i localhost, -c local "${TARGET_DIR}/ontap_modules.yml" \
        -e "ontapsim_ready_file=${SIM_STATE}/ontap/ready.json" -e "ontap_use_rest=${mode}" "$@"
    sim_stop ontap
done
