#!/usr/bin/env bash
# Integration test of every vdc.xenpool.ontap_* module against the ONTAP simulator.
# The same playbook runs twice, each time on a fresh simulator: use_rest=always, then never (ZAPI).
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/ontap_modules/sim.sh
source "${TARGET_DIR}/sim.sh"
trap ontapsim_stop EXIT

for mode in always never; do
    # shellcheck disable=SC2119  # no extra simulator arguments here
    ontapsim_start
    ansible-playbook -i localhost, -c local "${TARGET_DIR}/ontap_modules.yml" \
        -e "ontapsim_ready_file=${ONTAPSIM_READY}" -e "ontap_use_rest=${mode}" "$@"
    ontapsim_stop
done
