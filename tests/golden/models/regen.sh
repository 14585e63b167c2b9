#!/bin/sh
# Regenerates every tiny model and its reference outputs (gen_*.py here).
#
#   tests/golden/models/regen.sh
#
# Needs scripts/setup.sh --peers (Debian python3-torch, python3-numpy; npm
# `tokenizers`) and ../shared beside the checkout. Deterministic: a re-run
# writes the same bytes.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
"$here/../../../scripts/npm_deps.sh"
for gen in "$here"/gen_*.py; do
  /usr/bin/python3 "$gen"
done
