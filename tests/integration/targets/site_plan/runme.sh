#!/usr/bin/env bash
# Integration test of playbooks/site.yml as the plan CI shows for a merge request (docs/ci.md), in three stages on
# a small estate (files/datacenter.yml: five standalone hosts; ontapsim's reference cluster) with an inventory in the
# shape of playbooks/inventories/reference (inventory/: pool-a of four hosts, a NetApp SR, HA, five VMs):
#   1. fresh estate: site.yml --check --diff predicts the pool, its networks, storage, HA and VMs; apply; apply again
#      changes nothing;
#   2. xen-site-05 added to the inventory: the plan shows HA turned off for the join (a step of the pool task's plan,
#      before the join), the join, the host's networks, its IQN in the igroup, its PBDs plugged and HA on again; apply;
#      apply again changes nothing;
#   3. two VMs added, db01 grown (memory and a disk): the plan shows them; apply; apply again changes nothing.
# Every --check run must pass, predict the expected steps (checked on its text) and make no write call (checked on
# both simulators' call logs). Outputs are kept in <collection>/tests/output/site_plan/.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

# The collection under test, for playbooks/, .ci/sim_vars.py and tests/output: the tree of this target, else the one
# whose tests/simulator sim.sh found through the collection path (ansible-test may run a copy of the target).
COLLECTION="$(cd "${TARGET_DIR}/../../../.." && pwd)"
if [ ! -f "${COLLECTION}/playbooks/site.yml" ]; then COLLECTION="$(cd "${SIM_DIR}/../.." && pwd)"; fi
if [ ! -f "${COLLECTION}/playbooks/site.yml" ]; then echo "site_plan: playbooks/site.yml not found" >&2; exit 1; fi
OUT="${COLLECTION}/tests/output/site_plan"
rm -rf "${OUT}"
mkdir -p "${OUT}"
echo "site_plan: outputs in ${OUT}"

sim_start ontap ontapsim --fixture "${SIM_DIR}/ontap_fixtures/reference.yml"
ONTAP_CONTROL="$("${SIM_PYTHON}" -c 'import json, sys; print(json.load(open(sys.argv[1]))["control"])' "${SIM_STATE}/ontap/ready.json")"
sim_start xapi xapisim --datacenter "${TARGET_DIR}/files/datacenter.yml" --san "${ONTAP_CONTROL}"
READY=("${SIM_STATE}/xapi/ready.json" "${SIM_STATE}/ontap/ready.json")

# The inventory is edited between stages: work on a copy. The simulators' endpoints, CAs and passwords go in a 0600
# extra-vars file, written by the same script that points the reference inventory at them for `make demo`.
INVENTORY="${SIM_STATE}/inventory"
cp -r "${TARGET_DIR}/inventory" "${INVENTORY}"
(umask 077 && "${SIM_PYTHON}" "${COLLECTION}/.ci/sim_vars.py" "${READY[@]}" "${SIM_STATE}/sim-vars.yml")

CHECK=("${SIM_PYTHON}" "${TARGET_DIR}/files/check_run.py")
# the simulators' call logs, read (and cleared with --reset) by the shared helper
SIMSTATE=("${SIM_PYTHON}" "${TARGET_DIR}/../setup_simulators/files/simstate.py" --xapi-ready "${READY[0]}" --ontap-ready "${READY[1]}")
site() {  # site OUTFILE [args]: playbooks/site.yml on the copy of the inventory; the output is kept and checked after
    local out="$1"
    shift
    ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_NOCOLOR=1 ANSIBLE_DEPRECATION_WARNINGS=false \
        ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook -i "${INVENTORY}" -e "@${SIM_STATE}/sim-vars.yml" \
        -e "ansible_python_interpreter=${SIM_PYTHON}" "${COLLECTION}/playbooks/site.yml" "$@" > "${out}" 2>&1 || {
        grep -B2 -A20 -E '^(fatal|failed):' "${out}" | head -80 >&2
        echo "site_plan: ansible-playbook site.yml $* failed (${out})" >&2
        return 1
    }
}
plan() {  # plan STAGE [--expect TEXT]...: site.yml --check --diff passes, writes nothing and predicts every TEXT
    local stage="$1"
    shift
    "${SIMSTATE[@]}" --reset >/dev/null
    site "${OUT}/${stage}-plan.txt" --check --diff
    "${SIMSTATE[@]}" --read-only "site_plan: ${stage} plan" >/dev/null
    "${CHECK[@]}" output "${stage} plan" "${OUT}/${stage}-plan.txt" --min-changed 1 "$@"
}
apply() {  # apply STAGE [--expect TEXT]...: site.yml changes what the plan said; run again, it changes nothing
    local stage="$1"
    shift
    "${SIMSTATE[@]}" --reset >/dev/null
    site "${OUT}/${stage}-apply.txt" --diff
    "${CHECK[@]}" output "${stage} apply" "${OUT}/${stage}-apply.txt" --min-changed 1 "$@"
    # the write check can fail: the real run's writes are in the call logs
    if "${SIMSTATE[@]}" --read-only "site_plan: ${stage} apply" >/dev/null 2>&1; then
        echo "site_plan: ${stage}: the call logs show no write after a real run" >&2
        return 1
    fi
    site "${OUT}/${stage}-again.txt"
    "${CHECK[@]}" output "${stage} again" "${OUT}/${stage}-again.txt" --changed 0
}

echo "site_plan: 1. fresh estate"
plan 1-fresh \
    --expect "TASK [vdc.xenpool.pool_build : Pool settings and membership of pool-a]" \
    --expect "- name: '' + - xen-site-02 + - xen-site-03 + - xen-site-04 + name: pool-a" \
    --expect "xen-site-03 joins pool-a and gets the networks of the pool: vm-bond (bond of eth2+eth3), storage-a (VLAN 120 on eth1), vm-prod (VLAN 200 on vm-bond), storage-a address 10.120.0.13/255.255.255.0" \
    --expect "+ - iqn.2026-01.org.example.site:xen-site-04" \
    --expect "Would map /vol/xen_pool_a_sr01/lun0 to igroup xen_pool_a" \
    --expect "Would plug the PBD of pool-a-sr01 on xen-site-02" \
    --expect "Would plug the PBD of pool-a-ha-heartbeat on xen-site-04" \
    --expect "- enabled: false - heartbeat_srs: [] - host_failures_to_tolerate: 0 - timeout: null + enabled: true + heartbeat_srs: + - pool-a-ha-heartbeat + host_failures_to_tolerate: 1 + timeout: 60" \
    --expect "pool-a: 5 created, 0 changed, 0 pruned, 0 unchanged" \
    --forbid "+ - iqn.2026-11.sim.xenpool" \
    --forbid "turn HA off" \
    --forbid "Would turn HA on again"
apply 1-fresh \
    --expect "pool-a: master xen-site-01, 4 members: xen-site-01, xen-site-02, xen-site-03, xen-site-04" \
    --expect "plugged on 4/4 hosts" \
    --expect "pool-a: HA on, configured capacity 1, current 1" \
    --expect "pool-a: 5 created, 0 changed, 0 pruned, 0 unchanged"

echo "site_plan: 2. a standalone host added to the pool in the inventory"
"${SIM_PYTHON}" "${TARGET_DIR}/files/edit_inventory.py" "${INVENTORY}" add-host xen-site-05 10.120.0.15
plan 2-add-host \
    --expect "pool-a: turn HA off pool-a: for the join of xen-site-05; it stays off until it is turned on again; join xen-site-05" \
    --expect "- xen-site-04 + - xen-site-05 name: pool-a" \
    --expect "xen-site-05 joins pool-a and gets the networks of the pool: vm-bond (bond of eth2+eth3), storage-a (VLAN 120 on eth1), vm-prod (VLAN 200 on vm-bond), storage-a address 10.120.0.15/255.255.255.0, and its host settings: {\"iscsi_iqn\": \"iqn.2026-01.org.example.site:xen-site-05\", \"multipathing\": true}" \
    --expect "- iqn.2026-01.org.example.site:xen-site-04 + - iqn.2026-01.org.example.site:xen-site-05" \
    --expect "Would plug the PBD of pool-a-sr01 on xen-site-05 (creating it if the join did not) once xen-site-05 has joined the pool, with initiator iqn.2026-01.org.example.site:xen-site-05 in igroup xen_pool_a" \
    --expect "Would plug the PBD of pool-a-ha-heartbeat on xen-site-05" \
    --expect "plugged on 4/4 hosts, multipath paths active/total 2/2, and on xen-site-05 once joined" \
    --expect "Would turn HA on again (it is turned off for the join of xen-site-05): heartbeat SR pool-a-ha-heartbeat, 1 host failure(s) to tolerate, timeout 60 s" \
    --expect "pool-a: 0 created, 0 changed, 0 pruned, 5 unchanged" \
    --forbid "xen-site-02 joins pool-a"
apply 2-add-host \
    --expect "pool-a: turn HA off pool-a: for the join of xen-site-05; it stays off until it is turned on again; join xen-site-05" \
    --expect "pool-a: master xen-site-01, 5 members: xen-site-01, xen-site-02, xen-site-03, xen-site-04, xen-site-05" \
    --expect "plugged on 5/5 hosts" \
    --expect "+ - iqn.2026-01.org.example.site:xen-site-05" \
    --expect "pool-a: HA on, configured capacity 1, current 1"

echo "site_plan: 3. two VMs added, db01 grown"
"${SIM_PYTHON}" "${TARGET_DIR}/files/edit_inventory.py" "${INVENTORY}" grow-vms
plan 3-vms \
    --expect "+++ after: vm app03" \
    --expect "+++ after: vm app04" \
    --expect "- size_gib: 20.0 + size_gib: 30.0" \
    --expect "- memory_mib: 4096" \
    --expect "+ memory_mib: 6144" \
    --expect "pool-a: 2 created, 1 changed, 0 pruned, 4 unchanged" \
    --expect "db01: shut down VM [needs power-off];" \
    --expect "(item=app03)" \
    --expect "app03: create VM" \
    --forbid "(item=web01)" \
    --forbid "joins pool-a" \
    --forbid "Would turn HA"
apply 3-vms \
    --expect "pool-a: 2 created, 1 changed, 0 pruned, 4 unchanged"
# The text checks can fail: the plan of stage 3 does not hold the steps of stage 2.
if "${CHECK[@]}" output "self-test" "${OUT}/3-vms-plan.txt" --expect "Would turn HA on again" >/dev/null 2>&1; then
    echo "site_plan: check_run.py passed a plan without the expected step" >&2
    exit 1
fi
echo "site_plan: three stages planned with no write, applied, and left nothing to change"
