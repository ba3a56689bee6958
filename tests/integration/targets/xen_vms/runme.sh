#!/usr/bin/env bash
# Integration test of the vdc.xenpool.xen_vms inventory plugin against the XenAPI simulator: starts it
# with the small datacenter on 127.0.0.x, then check_inventory.py writes inventory files (https + ca_path,
# password from the sim_vars file, mode 0600) and checks what `ansible-inventory --list` makes of them.
# The simulator is stopped on exit.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start xapi xapisim --datacenter "${SIM_DIR}/datacenters/small.yml"
sim_vars xapi "${SIM_STATE}/sim_vars.json"

"${SIM_PYTHON}" "${TARGET_DIR}/check_inventory.py" "${SIM_STATE}/sim_vars.json" "${SIM_STATE}"
echo "xen_vms inventory: all checks passed"
