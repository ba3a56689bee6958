#!/usr/bin/env bash
# Integration test of the pool_report role and playbooks/report.yml: xapisim's `ha` data centre (a built 4-host pool
# with 12 running VMs, HA turned on here with the talk's protection levels) and ontapsim; report.yml in check mode
# writes the report and no write call reaches the simulators; headless Chromium opens it (check_report.py): every
# host and VM, charts drawn, no console error, a screenshot. Then the same checks on a copy with hostile names
# (escaping), and on broken reports, which must fail (the checker can fail).
# The report, its screenshot and Chromium's DOM checks end up in <collection>/tests/output/report/.
set -eu

TARGET_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

# Chromium is a Debian package: install it when missing. Without it this test fails; it never skips.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "pool_report: chromium is not installed and this user ($(id -un)) cannot install it (apt-get install chromium)" >&2
        exit 1
    fi
    apt-get install -y -qq chromium >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq chromium >/dev/null 2>&1; } ||
        { echo "pool_report: apt-get install chromium failed" >&2; exit 1; }
fi
CHROMIUM="$(command -v chromium)"

# shellcheck source=tests/integration/targets/setup_simulators/sim.sh
source "${TARGET_DIR}/../setup_simulators/sim.sh"
trap sim_stop_all EXIT

# The collection this target runs from (ansible-test runs a copy of the target), for playbooks/report.yml and
# tests/output.
COLLECTION=""
IFS=: read -r -a ROOTS <<< "${ANSIBLE_COLLECTIONS_PATH:-}:${ANSIBLE_COLLECTIONS_PATHS:-}"
for root in "${ROOTS[@]}"; do
    if [ -n "${root}" ] && [ -f "${root}/ansible_collections/vdc/xenpool/playbooks/report.yml" ]; then
        COLLECTION="${root}/ansible_collections/vdc/xenpool"
        break
    fi
done
if [ -z "${COLLECTION}" ]; then COLLECTION="$(cd "${TARGET_DIR}/../../../.." && pwd)"; fi
OUT="${COLLECTION}/tests/output/report"
rm -rf "${OUT}"
mkdir -p "${OUT}"
echo "pool_report: output in ${OUT}"

sim_start xapi xapisim --datacenter "${SIM_DIR}/datacenters/ha.yml"
sim_start ontap ontapsim --fixture "${SIM_DIR}/ontap_fixtures/reference.yml"
sim_vars xapi "${SIM_STATE}/sim_vars.json"

# An inventory in the shape of playbooks/inventories/reference (one host per pool in xen_pools), and the secrets
# in a 0600 extra-vars file. san_storage_srs links the pool's SR to a NetApp volume that has savings.
(umask 077 && "${SIM_PYTHON}" - "${SIM_STATE}" "${SIM_PYTHON}" <<'PY'
import json
import sys

state, python = sys.argv[1], sys.argv[2]
with open(state + "/sim_vars.json", encoding="utf-8") as handle:
    xen = json.load(handle)
with open(state + "/ontap/ready.json", encoding="utf-8") as handle:
    ontap = json.load(handle)
with open(ontap["password_file"], encoding="utf-8") as handle:
    ontap_password = handle.read().strip()
pool = {"ansible_connection": "local", "xenpool_api_url": xen["sim_hosts"][0]["url_https"],
        "san_storage_srs": [{"name": "ha-shared", "svm": "svm_san2", "volume": {"name": "san2_vol1"}}]}
inventory = {"all": {"children": {"xen_pools": {"hosts": {"pool-amd": pool},
                                                "vars": {"ansible_python_interpreter": python}}}}}
secrets = {"xenpool_api_username": xen["sim_username"], "xenpool_api_password": xen["sim_password"],
           "xenpool_api_ca_path": xen["sim_ca_cert"], "xenpool_ontap_hostname": ontap["address"],
           "xenpool_ontap_port": ontap["port"], "xenpool_ontap_username": ontap["username"],
           "xenpool_ontap_password": ontap_password, "xenpool_ontap_ca_path": ontap["ca_cert"]}
with open(state + "/inventory.json", "w", encoding="utf-8") as handle:
    json.dump(inventory, handle)
with open(state + "/secrets.json", "w", encoding="utf-8") as handle:
    json.dump(secrets, handle)
PY
)

run_play() {
    ANSIBLE_PYTHON_INTERPRETER="${SIM_PYTHON}" ansible-playbook -c local "$@"
}
LOCAL=(-i "localhost," -e "@${SIM_STATE}/sim_vars.json" -e "ansible_python_interpreter=${SIM_PYTHON}")

run_play "${LOCAL[@]}" "${TARGET_DIR}/enable_ha.yml"

# report.yml in check mode: the report is written, nothing changes, and no write call reaches either simulator
# (the simulators' call logs, read by the shared helper simstate.py).
SIMSTATE=("${SIM_PYTHON}" "${TARGET_DIR}/../setup_simulators/files/simstate.py"
          --xapi-ready "${SIM_STATE}/xapi/ready.json" --ontap-ready "${SIM_STATE}/ontap/ready.json")
"${SIMSTATE[@]}" --reset >/dev/null
run_play -i "${SIM_STATE}/inventory.json" -e "@${SIM_STATE}/secrets.json" "${COLLECTION}/playbooks/report.yml" \
    --check -e "xenpool_report_path=${OUT}/index.html" | tee "${OUT}/report-play.log"
grep -q "written to ${OUT}/index.html" "${OUT}/report-play.log" || { echo "report.yml did not print the report path" >&2; exit 1; }
grep -Eq "pool-amd +: ok=[0-9]+ +changed=0 " "${OUT}/report-play.log" || { echo "report.yml reported a change" >&2; exit 1; }
"${SIMSTATE[@]}" --read-only "pool_report: report.yml --check" >/dev/null

run_play "${LOCAL[@]}" "${TARGET_DIR}/save_pool_info.yml" -e "pool_info_file=${OUT}/pool_info.json"
"${SIM_PYTHON}" "${TARGET_DIR}/check_report.py" --chromium "${CHROMIUM}" --report "${OUT}/index.html" \
    --pool-info "${OUT}/pool_info.json" --screenshot "${OUT}/screenshot.png" \
    --protection "spamfilter0001=Protected" --protection "spamfilter0002=Restart if possible" \
    --protection "spamfilter0004=Do not restart" --protection "db-0001=Protected"
grep -q "san2_vol1" "${OUT}/index.html" || { echo "the SR's NetApp volume and savings are missing" >&2; exit 1; }

# Two pools in one report, the second with hostile names (markup, quotes, a closing script tag) in its pool, host
# and VM names, and a halted VM: every name is shown as text, never run as markup.
"${SIM_PYTHON}" - "${OUT}/pool_info.json" "${OUT}/hostile.json" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as handle:
    pool = json.load(handle)
evil = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">&amp;'</script><script>x()</script>"
renamed = {h["name"]: "b-" + h["name"] for h in pool["hosts"]}
renamed[pool["hosts"][0]["name"]] = "host " + evil
pool["pool"]["name"] = "pool " + evil
for host in pool["hosts"]:
    host["name"] = renamed[host["name"]]
for vm in pool["vms"]:
    vm["name"] = "b-" + vm["name"]
    vm["host"] = renamed.get(vm["host"], vm["host"])
pool["vms"][0]["name"] = "vm " + evil
pool["vms"][1].update(power_state="Halted", host=None, host_uuid=None, memory_actual_mib=0)  # under "Not running"
with open(sys.argv[2], "w", encoding="utf-8") as handle:
    json.dump(pool, handle)
PY
run_play "${LOCAL[@]}" "${TARGET_DIR}/render_fixture.yml" -e "fixture_report=${OUT}/two-pools/index.html" \
    -e "{\"fixture_pools\": {\"pool-amd\": \"${OUT}/pool_info.json\", \"<b>key</b>\": \"${OUT}/hostile.json\"}}" \
    -e '{"fixture_title": "</title><script>x()</script>"}'
# the same input gives the same bytes: a stable order, nothing that changes between runs
run_play "${LOCAL[@]}" "${TARGET_DIR}/render_fixture.yml" -e "fixture_report=${OUT}/two-pools/again.html" \
    -e "{\"fixture_pools\": {\"<b>key</b>\": \"${OUT}/hostile.json\", \"pool-amd\": \"${OUT}/pool_info.json\"}}" \
    -e '{"fixture_title": "</title><script>x()</script>"}' >/dev/null
cmp "${OUT}/two-pools/index.html" "${OUT}/two-pools/again.html"
"${SIM_PYTHON}" "${TARGET_DIR}/check_report.py" --chromium "${CHROMIUM}" --report "${OUT}/two-pools/index.html" \
    --pool-info "${OUT}/pool_info.json" --pool-info "${OUT}/hostile.json" --screenshot "${OUT}/two-pools/screenshot.png" \
    --forbid-element img --forbid-element b

# The checker must fail on broken reports: a script error, a missing VM, a chart that is not drawn, VMs out of order.
"${SIM_PYTHON}" - "${OUT}" <<'PY'
import os, sys
out = sys.argv[1]
with open(os.path.join(out, "index.html"), encoding="utf-8") as handle:
    html = handle.read()
mutants = {
    "script-error": html.replace("</body>", "<script>no_such_function();</script></body>"),
    "missing-vm": html.replace('data-vm="db-0003"', 'data-vm="db-0003-gone"', 1),
    "chart-not-drawn": html.replace('<canvas class="chart host-memory" data-chart="', '<canvas class="chart host-memory" data-chart="9', 1),
    "unsorted": html.replace('data-vm="db-0001"', 'data-vm="zz-db-0001"', 1).replace('<td class="name">db-0001<', '<td class="name">zz-db-0001<', 1),
}
for name, text in mutants.items():
    assert text != html, name
    os.makedirs(os.path.join(out, "mutants", name), exist_ok=True)
    with open(os.path.join(out, "mutants", name, "index.html"), "w", encoding="utf-8") as handle:
        handle.write(text)
PY
for mutant in script-error missing-vm chart-not-drawn unsorted; do
    if "${SIM_PYTHON}" "${TARGET_DIR}/check_report.py" --chromium "${CHROMIUM}" --report "${OUT}/mutants/${mutant}/index.html" \
        --pool-info "${OUT}/pool_info.json" --screenshot "${OUT}/mutants/${mutant}/screenshot.png"; then
        echo "check_report.py passed a broken report (${mutant})" >&2
        exit 1
    fi
    echo "pool_report: broken report '${mutant}' rejected, as it must be"
done
echo "pool_report: screenshot ${OUT}/screenshot.png"
