#!/usr/bin/env bash
# Integration test of vdc.xenpool.vm_template against xapisim (files/datacenter.yml: three blades, a shared iSCSI SR,
# a golden PV template). vm_template.yml: a running prototype refused without shutdown (0 writes), made a template
# (check mode 0 writes, idempotent), 10 VMs cloned from it by vdc.xenpool.vms, a copy on a host's local SR, back to a
# VM and a template again.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml"
ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook "${TARGET_DIR}/vm_template.yml" -i localhost, -c local \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
