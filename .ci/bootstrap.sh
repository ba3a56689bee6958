#!/usr/bin/env bash
# Sourced by the Makefile's scripts: finds a Python >= 3.12 and keeps .venv in step with
# .ci/requirements.txt. Sets REPO, VENV, PY (the venv's python) and PYVER.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
VENV="${VENV:-$REPO/.venv}"

find_python() {
    # An explicit choice wins; then python3.x on PATH; then pyenv's installed versions.
    local candidates=() c root
    if [ -n "${XENPOOL_PYTHON:-}" ]; then candidates+=("$XENPOOL_PYTHON"); fi
    for c in python3.13 python3.12 python3; do
        if command -v "$c" >/dev/null 2>&1; then candidates+=("$(command -v "$c")"); fi
    done
    if command -v pyenv >/dev/null 2>&1 && root="$(pyenv root 2>/dev/null)" && [ -d "$root/versions" ]; then
        local exe
        while IFS= read -r exe; do
            candidates+=("$exe")
        done < <(find "$root/versions" -mindepth 3 -maxdepth 3 -path '*/bin/python3.1[2-9]' -perm -u+x 2>/dev/null | sort -Vr)
    fi
    for c in "${candidates[@]}"; do
        # pyenv shims for versions that are not active exit 127: the probe weeds them out.
        if "$c" -c 'import sys, venv, ensurepip; sys.exit(0 if sys.version_info >= (3, 12) else 1)' >/dev/null 2>&1; then
            echo "$c"
            return 0
        fi
    done
    return 1
}

if ! BASE_PY="$(find_python)"; then
    echo "ERROR: no Python >= 3.12 with venv and ensurepip was found on PATH or under 'pyenv root'." >&2
    echo "       Install one (for example 'pyenv install 3.13') or point XENPOOL_PYTHON at it." >&2
    exit 2
fi

STAMP="$VENV/.requirements.sha256"
WANT="$( (cat "$REPO/.ci/requirements.txt"; "$BASE_PY" -c 'import sys; print(sys.version)') | sha256sum | cut -d' ' -f1)"
if [ ! -x "$VENV/bin/python" ] || [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    echo "bootstrap: creating $VENV with $BASE_PY"
    rm -rf "$VENV"
    "$BASE_PY" -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r "$REPO/.ci/requirements.txt" 2>&1 \
        | grep -v "is ignored: it is neither a file nor a directory" || true
    "$VENV/bin/python" -c 'import ansible, XenAPI, netapp_lib, molecule' \
        || { echo "ERROR: the toolchain did not install into $VENV (see pip output above)" >&2; exit 2; }
    echo "$WANT" > "$STAMP"
fi

# The simulators (tests/simulator, distribution xenpool-simulators) installed editable: the commands xapisim,
# ontapsim and simctl in .venv/bin run the checkout's code. A stamp of their own (the package's pyproject.toml and
# this checkout's path), so a change there re-runs only this install and never rebuilds the venv.
SIM_STAMP="$VENV/.simulators.sha256"
SIM_WANT="$( (cat "$REPO/tests/simulator/pyproject.toml"; echo "$REPO") | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$SIM_STAMP" 2>/dev/null)" != "$SIM_WANT" ] || [ ! -x "$VENV/bin/simctl" ]; then
    echo "bootstrap: installing the simulators into $VENV (pip install -e tests/simulator)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e "$REPO/tests/simulator" 2>&1 \
        | grep -v "is ignored: it is neither a file nor a directory" || true
    "$VENV/bin/simctl" --help >/dev/null \
        || { echo "ERROR: the simulators did not install into $VENV (see pip output above)" >&2; exit 2; }
    echo "$SIM_WANT" > "$SIM_STAMP"
fi

PY="$VENV/bin/python"
export PYVER
PYVER="$("$PY" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
export PATH="$VENV/bin:$PATH"
export ANSIBLE_NOCOLOR=1 NO_COLOR=1 PY_COLORS=0 ANSIBLE_FORCE_COLOR=0
