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

stop_all() {
    "$PY" "$REPO/tests/simulator/simctl.py" stop --state-dir "$STATE/xapi" || true
    if [ "${KEEP_DEMO:-0}" != 1 ]; then rm -rf "$STATE"; else echo "demo state kept in $STATE"; fi
}
trap stop_all EXIT

echo "== starting the simulated data centre (18 standalone hosts: 14 Intel, 4 AMD)"
"$PY" "$REPO/tests/simulator/simctl.py" start xapisim --state-dir "$STATE/xapi" -- \
    --datacenter "$REPO/tests/simulator/datacenters/reference.yml" --time-scale "${DEMO_TIME_SCALE:-0.05}" \
    --lifetime 1800 > /dev/null

# The simulator's endpoints become an inventory (one entry per pool; today every host is a pool of one).
"$PY" "$REPO/.ci/sim_inventory.py" "$STATE/xapi/ready.json" "$STATE/inventory.yml" "$STATE/secrets.yml"

echo "== pool overview (vdc.xenpool.pool_info on every pool)"
ansible-playbook -i "$STATE/inventory.yml" -e "@$STATE/secrets.yml" "$REPO/playbooks/overview.yml"
