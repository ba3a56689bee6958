#!/usr/bin/env bash
# `make test`: every check, on a copy of the working tree placed where ansible-test wants it
# (<work>/collections/ansible_collections/vdc/xenpool). Runs every step, then prints
# "N passed, N failed" as its last line and exits non-zero when a step failed.
# Usage: bash .ci/test.sh [step ...]   (steps: sanity units simulator faults integration molecule lint docs build importer)
set -euo pipefail
# shellcheck source=.ci/bootstrap.sh
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

ALL_STEPS=(sanity units compat simulator faults integration molecule lint docs build importer)
if [ "$#" -gt 0 ]; then STEPS=("$@"); else STEPS=("${ALL_STEPS[@]}"); fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/xenpool-test.XXXXXX")"
cleanup() { if [ "${KEEP_WORK:-0}" != 1 ]; then rm -rf "$WORK"; else echo "work tree kept: $WORK"; fi; }
trap cleanup EXIT

COLLECTIONS="$WORK/collections"
DEST="$COLLECTIONS/ansible_collections/vdc/xenpool"
mkdir -p "$DEST"
# A copy, not a symlink: ansible-test resolves the cwd and needs an ansible_collections parent.
tar -C "$REPO" --exclude=./.venv --exclude=./collections --exclude=./tests/output --exclude=./.ansible \
    --exclude=./docs/build --exclude=./docs/temp-rst --exclude='__pycache__' --exclude=./.bench \
    --exclude=./tests/simulator/build --exclude='./tests/simulator/*.egg-info' -cf - . | tar -C "$DEST" -xf -
export ANSIBLE_COLLECTIONS_PATH="$COLLECTIONS"

# ansible-test bootstraps pip in its venvs from a download host that is unreachable here; this
# stand-in does the same job with ensurepip and PyPI.
SITE="$("$PY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
PIPV="$(grep -o "pip='[0-9.]*'" "$SITE/ansible_test/_internal/python_requirements.py" | head -1 | tr -dc '0-9.')"
mkdir -p "$HOME/.ansible/test/cache"
cat > "$HOME/.ansible/test/cache/get_pip_${PIPV//./_}.py" <<'PYEOF'
# Stand-in for get-pip.py: ansible-test cannot download the real one on this network.
import subprocess, sys
args = [a for a in sys.argv[1:] if a not in ("--no-setuptools", "--no-wheel")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
subprocess.check_call([sys.executable, "-m", "pip", "install", "-q"] + args)
PYEOF

PASSED=0
FAILED=0
FAILED_NAMES=()
run_step() {
    local name="$1"; shift
    printf '\n===== [%4ss] %s\n' "$SECONDS" "$name"
    if (cd "$DEST" && "$@"); then
        PASSED=$((PASSED + 1)); printf '===== %s: passed\n' "$name"
    else
        FAILED=$((FAILED + 1)); FAILED_NAMES+=("$name"); printf '===== %s: FAILED\n' "$name"
    fi
}

step_sanity() {
    # The shellcheck binary is a Debian package; without it ansible-test skips that test with a warning.
    command -v shellcheck >/dev/null || { apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
        { apt-get update -qq && apt-get install -y -qq shellcheck >/dev/null 2>&1; }; } ||
        echo "note: shellcheck could not be installed; the sanity test 'shellcheck' will be skipped"
    # SANITY_ARGS narrows a developer run, e.g. SANITY_ARGS="--test pep8 plugins/modules".
    # shellcheck disable=SC2086
    ansible-test sanity --venv --python "$PYVER" --color no ${SANITY_ARGS:-}
}
step_units() { ansible-test units --venv --python "$PYVER" --color no; }
step_simulator() { "$PY" -m pytest -q -p no:pytest-ansible -p no:cacheprovider tests/simulator/tests; }
# The bad-input catalogue and crash-resume suite (docs/faults.md): its fast subset, all of it with FAULTS_ALL=1.
step_faults() {
    local select=(-m fast)
    if [ "${FAULTS_ALL:-0}" = 1 ]; then select=(); fi
    "$PY" -m pytest -q -p no:pytest-ansible -p no:cacheprovider "${select[@]}" tests/faults
}
step_compat() {
    # meta/runtime.yml claims ansible-core 2.19: the unit tests and one playbook against the simulator (the ha target:
    # module base, runner, check mode, diff) also run with the oldest claimed version, in a venv of its own.
    "$VENV/bin/python" -m venv "$WORK/compat" &&
    "$WORK/compat/bin/python" -m pip install -q --disable-pip-version-check "ansible-core==2.19.*" XenAPI==26.21.1 \
        netapp-lib==2021.6.25 pytest==9.2.0 pytest-mock==3.17.0 2>&1 | grep -v "is ignored" ;
    "$WORK/compat/bin/ansible" --version | head -1 &&
    "$WORK/compat/bin/python" -m pytest -q -p no:cacheprovider tests/unit || return 1
    if ! PATH="$WORK/compat/bin:$PATH" bash tests/integration/targets/ha/runme.sh > "$WORK/compat/ha.log" 2>&1; then
        tail -40 "$WORK/compat/ha.log"; return 1
    fi
    sed -n '/PLAY RECAP/,$p' "$WORK/compat/ha.log"
}
step_integration() { ansible-test integration --venv --python "$PYVER" --color no; }
# molecule keys its ephemeral state by the collection directory's *name* under ANSIBLE_HOME: give this run its own,
# so concurrent runs from other copies (all named xenpool) never share or reset each other's scenario state.
step_molecule() { ANSIBLE_HOME="$WORK/ansible-home" molecule test --all; }
step_lint() { ansible-lint; }
step_docs() {
    antsibull-docs lint-collection-docs --plugin-docs . &&
    rm -rf "$WORK/docsite" && cp -a docs/sphinx "$WORK/docsite" &&
    (cd "$WORK/docsite" && XENPOOL_DOCS_DIR="$DEST/docs" ./build.sh) &&
    rm -rf "$REPO/docs/sphinx/build" && mkdir -p "$REPO/docs/sphinx/build" && cp -a "$WORK/docsite/build/html" "$REPO/docs/sphinx/build/" &&
    echo "docs site kept in $REPO/docs/sphinx/build/html/index.html"
}
step_build() { ansible-galaxy collection build --force --output-path "$WORK/dist" .; }
step_importer() {
    # galaxy-importer pins its own ansible-lint and attrs: keep it in a venv of its own.
    "$VENV/bin/python" -m venv "$WORK/gi" &&
    "$WORK/gi/bin/python" -m pip install -q --disable-pip-version-check "galaxy-importer==0.4.44" 2>&1 | grep -v "is ignored" ;
    (cd "$WORK/dist" && PATH="$WORK/gi/bin:$PATH" python -m galaxy_importer.main "$WORK"/dist/vdc-xenpool-*.tar.gz > importer.log 2>&1;
     rc=$?; tail -3 importer.log; grep -E '^(ERROR|CRITICAL)' importer.log && return 1; return $rc) &&
    step_ee
}
step_ee() {
    # The execution environment definition: ansible-builder (it comes with galaxy-importer) must accept it and
    # write a build context with the collection tarball and the Python requirements. No container engine needed.
    rm -rf "$WORK/ee" && cp -a ee "$WORK/ee" && cp requirements.txt "$WORK/" && cp "$WORK"/dist/vdc-xenpool-*.tar.gz "$WORK/ee/" &&
    (cd "$WORK/ee" && "$WORK/gi/bin/ansible-builder" create -f execution-environment.yml -c context > create.log 2>&1 ||
        { cat create.log; return 1; }) &&
    grep -q '^XenAPI' "$WORK/ee/context/_build/requirements.txt" && ls "$WORK"/ee/context/_build/collections/vdc-xenpool-*.tar.gz > /dev/null &&
    echo "ansible-builder create: build context for the execution environment written"
}

for s in "${STEPS[@]}"; do
    case "$s" in
        sanity|units|compat|simulator|faults|integration|molecule|lint|docs|build|importer) run_step "$s" "step_$s" ;;
        *) echo "unknown step '$s' (known: ${ALL_STEPS[*]})" >&2; FAILED=$((FAILED + 1)) ;;
    esac
done

if [ "$FAILED" -gt 0 ]; then echo; echo "failed steps: ${FAILED_NAMES[*]}"; fi
echo
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
