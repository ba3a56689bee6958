#!/usr/bin/env bash
# Copyright (c) Ansible Project
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# Created with antsibull-docs 2.28.0

set -e

pushd "$( cd -- "$( dirname -- "${BASH_SOURCE[0]}" )" &> /dev/null && pwd )"
trap "{ popd; }" EXIT

# Create collection documentation
mkdir -p rst
chmod og-w rst  # antsibull-docs wants that directory only readable by itself
antsibull-docs \
    --config-file antsibull-docs.cfg \
    collection \
    --cleanup everything \
    --fail-on-error \
    --use-current \
    --dest-dir rst \
    vdc.xenpool

# The guides: the Markdown files of docs/ and the simulators' README, one source for the repository and the site
# XENPOOL_DOCS_DIR is the collection's docs/ directory (default: the parent of this script's directory).
DOCS_DIR="${XENPOOL_DOCS_DIR:-$(cd .. && pwd)}"
rm -rf rst/guides && mkdir -p rst/guides
cp "$DOCS_DIR"/*.md rst/guides/
cp "$DOCS_DIR/../tests/simulator/README.md" rst/guides/simulators.md

# Build Sphinx site (warnings are errors: no undefined labels or broken cross-references)
sphinx-build -M html rst build -c . -W --keep-going
echo "docs site: $(pwd)/build/html/index.html"
