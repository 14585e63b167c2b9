#!/bin/sh
# Keyword search against the Xapian and FTS5 peers on ../shared/data
# (bench/keyword_bench.py says what is measured and how).
#
#   bench/keyword_bench.sh [--repeat 5] [--no-dense] [--collections cranfield] [--no-large]
#
# Then (unless --no-large) top-k at scale: the 100,000-text corpus of
# bench/collection_bench.sh (fortune and Cranfield sentences; made here with
# the same script if missing) added to a keyword-only collection, its indexing
# time, and keyword_search_bench: BM25 MaxScore against exhaustive scoring on
# the Cranfield queries and on 4x longer ones (4 queries joined).
#
# Installs the peers (scripts/setup.sh --peers: Debian's python3-xapian),
# builds simile (Release) in $BUILD_DIR (default build-bench), pulls the
# default model into $SIMILE_HOME (default $BUILD_DIR/home) for the dense row,
# and leaves indexes, run files and keyword.jsonl in $WORK_DIR (default
# $BUILD_DIR/keyword).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
repeat=5 dense="" collections=cranfield large=1
while [ $# -gt 0 ]; do
  case "$1" in
    --repeat) repeat=$2; shift ;;
    --no-dense) dense=--no-dense ;;
    --collections) collections=$2; shift ;;
    --no-large) large=0 ;;
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
ninja -C "$build" simile keyword_search_bench >&2
[ -n "$dense" ] || "$build/simile" models pull all-MiniLM-L6-v2 >&2
mkdir -p "$work"
python3 "$root/bench/keyword_bench.py" "$build/simile" "$work" --repeat="$repeat" \
  --collections="$collections" $dense
[ "$large" = 1 ] || exit 0
corpus=$build/collection/search/corpus-100000.jsonl
if [ ! -f "$corpus" ]; then
  mkdir -p "$(dirname "$corpus")"
  fortunes=$(dpkg -L fortunes | grep -m1 '/games/fortunes$')
  /usr/bin/python3 "$root/bench/collection_bench.py" corpus --fortunes-dir "$fortunes" \
    --cranfield "$root/../shared/data/cranfield/corpus.jsonl" --n 100000 -o "$corpus" >&2
fi
rm -f "$work/large.db" "$work/large.db-wal" "$work/large.db-shm"
echo
echo "100,000 texts ($(du -m "$corpus" | cut -f1) MB), keyword-only collection:"
"$build/simile" add bench "$corpus" --id-field id --model none --db "$work/large.db" --json -q
"$build/bench/keyword_search_bench" --db "$work/large.db" --queries "$root/../shared/data/cranfield/queries.jsonl" \
  --runs 5
