#!/usr/bin/env bash
# Integration test of XenMotion in vdc.xenpool.vm and vms against xapisim (files/datacenter.yml: five hosts, one
# with too little memory, one without the eth2 network, an iSCSI SR and an NFS export). vm_migrate.yml: a fleet
# placed on hosts, one VM moved live with vm, a disk moved live to the NFS SR, each check -> apply -> apply with
# 0 writes in check mode and the power-state history proving the VMs never left Running; bad placements refused
# with one message and 0 writes. The simulator's state is read by the shared test-only helper
# (setup_simulators/tasks/simstate.yml: its vms and power views).
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml"
ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook "${TARGET_DIR}/vm_migrate.yml" -i localhost, -c local \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"
