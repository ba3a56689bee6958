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

# community.general (read-back with xenserver_guest_info) ships with the pip `ansible` package of the controller's
# venv (.venv), which ansible-test's own venv does not see: add the first python3 on PATH that has it.
CG_ROOT=""
for py in $(which -a python3 python 2>/dev/null); do
    CG_ROOT="$("${py}" -c 'import os, ansible_collections.community.general as m; print(os.path.dirname(os.path.dirname(os.path.dirname(list(m.__path__)[0]))))' 2>/dev/null)" && break
done
if [ -z "${CG_ROOT}" ]; then echo "vms target: community.general is not installed (pip install ansible)" >&2; exit 1; fi
export ANSIBLE_COLLECTIONS_PATH="${ANSIBLE_COLLECTIONS_PATH:-}${ANSIBLE_COLLECTIONS_PATH:+:}${CG_ROOT}"

sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml"
ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook "${TARGET_DIR}/vms.yml" -i localhost, -c local \
    -e "xapi_ready_file=${SIM_STATE}/xapi/ready.json" -e "ansible_python_interpreter=${SIM_PYTHON}" "$@"

# Slower simulated time (clone 0.4 s, provision 0.8 s, start 1.6 s) so that a kill lands mid-creation.
sim_start crash xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml" --time-scale 0.2
PYTHONPATH="${TARGET_DIR}/../setup_simulators/files${PYTHONPATH:+:${PYTHONPATH}}" \
    "${SIM_PYTHON}" "${TARGET_DIR}/files/crash.py" "${SIM_STATE}/crash/ready.json" "${TARGET_DIR}/crash.yml" "${SIM_PYTHON}"
