#!/usr/bin/env bash
# `make demo`: the main job against the bundled simulators. Starts a simulated copy of the reference data
# centre (18 standalone XenServer hosts and a NetApp cluster), shows the plan of playbooks/site.yml on the
# fresh estate, builds it (two pools, NetApp storage, HA, the 90 VMs of the inventory), runs it again to show
# that nothing is left to change, and prints the console overview and the path of the HTML report.
#   make demo            the whole job; the simulators stop at the end
#   make demo KEEP=1     leave the simulators running and print how to point your own commands at them
#   make demo PLAN=1     only the plan of site.yml (--check --diff) on a fresh estate, with its write count
# Against a real data centre, run the same playbooks with your own inventory instead (README.md).
set -euo pipefail
# shellcheck source=.ci/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"
START=$SECONDS
KEEP="${KEEP:-${KEEP_DEMO:-0}}"
PLAN="${PLAN:-0}"

STATE="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-demo.XXXXXX")"
COLLECTIONS="$STATE/collections"
mkdir -p "$COLLECTIONS/ansible_collections/vdc"
ln -s "$REPO" "$COLLECTIONS/ansible_collections/vdc/xenpool"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_DEPRECATION_WARNINGS=false

# simctl comes with the simulators (bootstrap installs tests/simulator into .venv). They watch this script
# (--watch-pid $$) and stop with it, unless KEEP=1: then they stop after 30 minutes without a request.
WATCH=(--watch-pid $$)
if [ "$KEEP" = 1 ]; then WATCH=(); fi
stop_all() {
    if [ "$KEEP" = 1 ]; then return; fi
    simctl stop --state-dir "$STATE/xapi" || true
    simctl stop --state-dir "$STATE/ontap" || true
    rm -rf "$STATE"
}
trap stop_all EXIT
SCALE="${DEMO_TIME_SCALE:-0.02}"

step() { printf '\n== [%4ss] %s\n' "$((SECONDS - START))" "$*"; }

step "starting the simulated NetApp cluster (ONTAP REST + ZAPI)"
simctl start ontapsim --state-dir "$STATE/ontap" "${WATCH[@]}" -- \
    --fixture "$REPO/tests/simulator/ontap_fixtures/reference.yml" --time-scale "$SCALE" > /dev/null
ONTAP_CONTROL="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["control"])' "$STATE/ontap/ready.json")"

step "starting the simulated data centre: 18 standalone hosts (14 Intel, 4 AMD), on the same SAN"
simctl start xapisim --state-dir "$STATE/xapi" "${WATCH[@]}" -- \
    --datacenter "$REPO/tests/simulator/datacenters/reference.yml" --time-scale "$SCALE" \
    --san "$ONTAP_CONTROL" > /dev/null
XAPI_CONTROL="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["control"])' "$STATE/xapi/ready.json")"

# The reference inventory names real-looking hosts; this extra-vars file points it at the simulators.
"$PY" "$REPO/.ci/sim_vars.py" "$STATE/xapi/ready.json" "$STATE/ontap/ready.json" "$STATE/sim-vars.yml"
INVENTORY="$REPO/playbooks/inventories/reference"
run_playbook() {
    ansible-playbook -i "$INVENTORY" -e "@$STATE/sim-vars.yml" "$@"
}
run_to() {  # run_to FILE playbook args...: output into FILE; on failure show where it failed
    local out="$1"; shift
    if ! run_playbook "$@" > "$out" 2>&1; then
        grep -B2 -A12 -E '^(fatal|failed):' "$out" | head -60; recap < "$out"
        echo "ERROR: ansible-playbook $* failed (whole output: $out)" >&2; KEEP=1; exit 1
    fi
}
writes() {  # write calls both simulators logged so far
    "$PY" - "$XAPI_CONTROL" "$ONTAP_CONTROL" <<'PYEOF'
import json, sys, urllib.request
print(sum(json.load(urllib.request.urlopen(url + "/calls"))["writes"] for url in sys.argv[1:]))
PYEOF
}
recap() { sed -n '/PLAY RECAP/,$p'; }

step "1. the 18 standalone hosts, as installed"
"$PY" - "$STATE/xapi/ready.json" <<'PYEOF'
import json, sys
ready = json.load(open(sys.argv[1]))
for host in ready["hosts"]:
    print("   %-14s %-14s %s" % (host["name"], host["cpu_vendor"], host["url_https"]))
PYEOF

step "2. the plan: playbooks/site.yml --check --diff on the fresh estate (full plan in $STATE/plan.txt)"
before="$(writes)"
run_to "$STATE/plan.txt" "$REPO/playbooks/site.yml" --check --diff
recap < "$STATE/plan.txt"
echo "   write calls made by the plan: $(( $(writes) - before ))"
if [ "$PLAN" = 1 ]; then
    cp "$STATE/plan.txt" "${PLAN_OUT:-$REPO/plan.txt}"; echo "plan written to ${PLAN_OUT:-$REPO/plan.txt}"
    step "done"; exit 0
fi

step "3. build it (playbooks/site.yml): pools and networks, NetApp storage, HA, the 90 VMs"
run_to "$STATE/build.txt" "$REPO/playbooks/site.yml"
recap < "$STATE/build.txt"

step "4. run it again: nothing left to change"
run_to "$STATE/again.txt" "$REPO/playbooks/site.yml"
recap < "$STATE/again.txt"
if grep -E '^[a-z-]+ +: .*changed=[1-9]' "$STATE/again.txt" > /dev/null; then
    echo "ERROR: the second run changed something (see $STATE/again.txt)" >&2; KEEP=1; exit 1
fi

step "5. the console overview (vdc.xenpool.pool_info)"
run_playbook "$REPO/playbooks/overview.yml" | sed -n '/TASK \[Print/,/PLAY RECAP/p' | sed '$d'

step "6. the HTML report (vdc.xenpool.pool_report)"
run_playbook "$REPO/playbooks/report.yml" -e "xenpool_report_path=$REPO/report/index.html" | grep -E 'report.*index.html' | tail -1 || true
echo "   report: $REPO/report/index.html"

step "done in $((SECONDS - START)) s"
if [ "$KEEP" = 1 ]; then
    cat <<KEEPMSG

The simulators keep running (they stop after 30 minutes without a request). Point your own commands at them:
  export ANSIBLE_COLLECTIONS_PATH=$COLLECTIONS
  $VENV/bin/ansible-playbook -i $INVENTORY -e @$STATE/sim-vars.yml playbooks/site.yml --check --diff
  $VENV/bin/ansible-playbook -i $INVENTORY -e @$STATE/sim-vars.yml playbooks/overview.yml
The simulators' call logs: $XAPI_CONTROL/calls and $ONTAP_CONTROL/calls
Stop them:
  $VENV/bin/simctl stop --state-dir $STATE/xapi; $VENV/bin/simctl stop --state-dir $STATE/ontap; rm -rf $STATE
KEEPMSG
fi
