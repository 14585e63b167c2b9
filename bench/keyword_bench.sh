#!/bin/sh
# Keyword search against the Xapian and FTS5 peers on ../shared/data
# (bench/keyword_bench.py says what is measured and how).
#
#   bench/keyword_bench.sh [--repeat 5] [--no-dense] [--collections cranfield]
#
# Installs the peers (scripts/setup.sh --peers: Debian's python3-xapian),
# builds simile (Release) in $BUILD_DIR (default build-bench), pulls the
# default model into $SIMILE_HOME (default $BUILD_DIR/home) for the dense row,
# and leaves indexes, run files and keyword.jsonl in $WORK_DIR (default
# $BUILD_DIR/keyword).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
repeat=5 dense="" collections=cranfield
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift ;;
    --no-dense) dense=--no-dense ;;
    --collections) collections=$2; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-$build/keyword}
export SIMILE_HOME=${SIMILE_HOME:-$build/home}
"$root/scripts/setup.sh" --peers >&2
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
ninja -C "$build" simile >&2
[ -n "$dense" ] || "$build/simile" models pull all-MiniLM-L6-v2 >&2
mkdir -p "$work"
exec python3 "$root/bench/keyword_bench.py" "$build/simile" "$work" --repeat="$repeat" \
  --collections="$collections" $dense
