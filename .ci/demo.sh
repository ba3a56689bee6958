#!/usr/bin/env bash
# `make demo`: the main job against the bundled simulators. Starts a simulated copy of the
# reference data centre (18 standalone XenServer hosts), runs the collection's playbooks against
# it, prints the console overview, and stops the simulators again.
# Against a real data centre, run the same playbooks with your own inventory instead (README.md).
set -euo pipefail
# shellcheck source=.ci/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

STATE="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-demo.XXXXXX")"
COLLECTIONS="$STATE/collections"
mkdir -p "$COLLECTIONS/ansible_collections/vdc"
ln -s "$REPO" "$COLLECTIONS/ansible_collections/vdc/xenpool"
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"
export ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_DISPLAY_SKIPPED_HOSTS=false ANSIBLE_DEPRECATION_WARNINGS=false

# simctl comes with the simulators (bootstrap installs tests/simulator into .venv). They watch this script
# (--watch-pid $$): even if it is killed without running this trap, they stop by themselves.
stop_all() {
    simctl stop --state-dir "$STATE/xapi" || true
    simctl stop --state-dir "$STATE/ontap" || true
    if [ "${KEEP_DEMO:-0}" != 1 ]; then rm -rf "$STATE"; else echo "demo state kept in $STATE"; fi
}
trap stop_all EXIT
SCALE="${DEMO_TIME_SCALE:-0.02}"

echo "== starting the simulated NetApp cluster (ONTAP REST + ZAPI)"
simctl start ontapsim --state-dir "$STATE/ontap" --watch-pid $$ -- \
    --fixture "$REPO/tests/simulator/ontap_fixtures/reference.yml" --time-scale "$SCALE" > /dev/null
ONTAP_CONTROL="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["control"])' "$STATE/ontap/ready.json")"

echo "== starting the simulated data centre: 18 standalone hosts (14 Intel, 4 AMD), on the same SAN"
simctl start xapisim --state-dir "$STATE/xapi" --watch-pid $$ -- \
    --datacenter "$REPO/tests/simulator/datacenters/reference.yml" --time-scale "$SCALE" \
    --san "$ONTAP_CONTROL" > /dev/null

# The reference inventory names real-looking hosts; this extra-vars file points it at the simulators.
"$PY" "$REPO/.ci/sim_vars.py" "$STATE/xapi/ready.json" "$STATE/ontap/ready.json" "$STATE/sim-vars.yml"
INVENTORY="$REPO/playbooks/inventories/reference"
run_playbook() {
    ansible-playbook -i "$INVENTORY" -e "@$STATE/sim-vars.yml" "$@"
}

echo "== 1. the 18 standalone hosts, as installed"
"$PY" - "$STATE/xapi/ready.json" <<'PYEOF'
import json, sys
ready = json.load(open(sys.argv[1]))
for host in ready["hosts"]:
    print("   %-14s %-14s %s" % (host["name"], host["cpu_vendor"], host["url_https"]))
PYEOF

echo "== 2. build the pools (vdc.xenpool.pool_build): pool-intel (14 hosts) and pool-amd (4 hosts)"
run_playbook "$REPO/playbooks/pool_build.yml"

echo "== 3. attach NetApp storage (vdc.xenpool.san_storage): igroup, volume, LUN, map, shared SR on every host"
run_playbook "$REPO/playbooks/storage.yml"

echo "== 4. run both again: nothing left to change"
run_playbook "$REPO/playbooks/pool_build.yml" "$REPO/playbooks/storage.yml" | sed -n '/PLAY RECAP/,$p'

echo "== 5. the console overview (vdc.xenpool.pool_info)"
run_playbook "$REPO/playbooks/overview.yml"
