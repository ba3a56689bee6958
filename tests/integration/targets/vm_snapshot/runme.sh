#!/usr/bin/env bash
# Integration test of vdc.xenpool.vm_snapshot against xapisim (files/datacenter.yml: three blades, a shared iSCSI SR,
# a golden PV template). vm_snapshot.yml: create (check mode 0 writes, --diff, idempotent), break the VM (disk grown,
# marker in other_config), revert and start, login measured; bad input with 0 writes; retention keep/max_age;
# delete with the disks; a checkpoint (memory) reverted to a suspended VM and resumed.
# Time scale 0.1 (a simulated second is 0.1 s) so that the client's own time weighs little in the measured recovery.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml" --time-scale 0.1
ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook "${TARGET_DIR}/vm_snapshot.yml" -i localhost, -c local \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "time_scale=0.1" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
