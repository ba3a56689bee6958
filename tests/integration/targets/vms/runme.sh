#!/usr/bin/env bash
# Integration test of vdc.xenpool.vms, vm and vm_info against xapisim: a pool of three 16 GiB blades on a
# shared iSCSI SR (files/datacenter.yml). vms.yml: check -> apply -> check -> apply, a changed list under
# --check --diff (0 writes), every refusal with 0 writes, read-back through the official XenAPI package and
# community.general.xenserver_guest_info. crash.py: ansible-playbook killed while creating a fleet, several
# times at different points, then re-run: exactly the declared VMs, no pending clone, no orphan VDI/VBD/VIF.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml"
ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook "${TARGET_DIR}/vms.yml" -i localhost, -c local \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"

# Slower simulated time (clone 0.4 s, provision 0.8 s, start 1.6 s) so that a kill lands mid-creation.
sim_start crash xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml" --time-scale 0.2
"${SIM_PYTHON}" "${TARGET_DIR}/files/crash.py" "${SIM_STATE}/crash/ready.json" "${TARGET_DIR}/crash.yml" "${SIM_PYTHON}"
