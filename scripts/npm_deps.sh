#!/bin/sh
# Installs the npm packages tests and benchmarks use into scripts/node/node_modules
# (pinned by scripts/node/package-lock.json). Idempotent.
set -eu
dir=$(cd "$(dirname "$0")/node" && pwd)
if [ -f "$dir/node_modules/.simile-installed" ] && [ "$dir/node_modules/.simile-installed" -nt "$dir/package-lock.json" ]; then
  exit 0
fi
cd "$dir"
# --ignore-scripts: onnxruntime-node's postinstall only downloads optional CUDA
# binaries from outside the npm registry; its CPU binaries are in the package.
if [ -f package-lock.json ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
else
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error
fi
touch node_modules/.simile-installed
