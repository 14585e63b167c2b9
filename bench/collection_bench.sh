#!/bin/sh
# Collections: ingest throughput (`simile add`) against plain `simile embed` on
# the same texts, and search latency over 100,000 stored chunks.
#
#   bench/collection_bench.sh [--quick] [--threads 2] [--runs 3] [--search-runs 3]
#                             [--cli-runs 20] [--skip-ingest] [--skip-search]
#
# Steps (everything lands in $WORK_DIR, default build-bench/collection):
#   1. scripts/setup.sh --peers (Debian's fortunes, for the search corpus);
#      builds simile and search_bench (Release, Ninja) in $BUILD_DIR (default
#      build-bench); pulls all-MiniLM-L6-v2 into $SIMILE_HOME (default
#      $BUILD_DIR/home) if missing.
#   2. Ingest against embed, per workload: Cranfield (the 1400 abstracts of
#      ../shared/data/cranfield/corpus.jsonl, --id-field _id; the 2 empty ones
#      are skipped with --on-error skip) and medium (the 2000 fortunes of
#      ../shared/peers/inference/workloads/medium.txt, one document per line).
#      --runs rounds, each one `simile add` into a fresh database and one
#      `simile embed --jsonl --format npy -o FILE -` of exactly the chunk texts
#      the first ingest stored (documents.text cut at chunks.byte_begin/end, in
#      chunk order), same --threads; the order alternates (add, embed; embed,
#      add; ...). Both are timed as whole processes (start-up and model load
#      included in both), medians reported; ingest / embed is the ratio of their
#      throughputs. Then Cranfield is added once more as f16 and as int8, and
#      `search_bench --reencode` of the f32 database must give the same rows
#      (collection_bench.py same): the check behind step 3's shortcut.
#   3. Search: a corpus of 100,000 short real texts (fortune and Cranfield
#      sentences; how they are picked and combined: collection_bench.py),
#      added with `simile add` into build-bench/collection/search-KEY-f32.db,
#      KEY = the first 16 hex digits of the corpus's SHA-256, and kept between
#      runs (adding again only checks that every document is there). f16 and
#      int8 copies are made with search_bench --reencode. search_bench then
#      runs the 225 Cranfield queries, k = 10, on f32, f16 and int8, without
#      and with the filter `bucket = 0` (10% of the documents), --search-runs
#      passes, interleaved; and collection_bench.py cli times `simile search`
#      end to end (--cli-runs processes per variant, beside `simile embed`).
#   4. prints the tables (collection_bench.py table) and leaves ingest.jsonl
#      and search.jsonl (the records; --skip-ingest / --skip-search keep the
#      other part's) and env.txt (machine, versions, load) in $WORK_DIR.
#
# Timings on a shared machine: every process records its CPU wait and the
# other processes' CPU use (as bench/run_job.py measures them) and the load
# average; report them next to the figures.
#
# --quick: the first 300 Cranfield abstracts and 500 medium texts, one round;
# a 10,000-text search corpus, one search pass, 5 CLI runs.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
threads=2 runs=3 search_runs=3 cli_runs=20 quick=0 do_ingest=1 do_search=1
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) quick=1; runs=1; search_runs=1; cli_runs=5 ;;
    --threads) threads=$2; shift ;;
    --runs) runs=$2; shift ;;
    --search-runs) search_runs=$2; shift ;;
    --cli-runs) cli_runs=$2; shift ;;
    --skip-ingest) do_ingest=0 ;;
    --skip-search) do_search=0 ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-$build/collection}
export SIMILE_HOME=${SIMILE_HOME:-$build/home}
cranfield=$(cd "$root/../shared/data/cranfield" && pwd)
medium=$root/../shared/peers/inference/workloads/medium.txt
python=/usr/bin/python3
helper="$root/bench/collection_bench.py"
simile="$build/simile"
say() { echo "collection_bench: $*" >&2; }

say "setup (scripts/setup.sh --peers)"
"$root/scripts/setup.sh" --peers
say "build ($build)"
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" simile search_bench >/dev/null
"$simile" models info all-MiniLM-L6-v2 >/dev/null 2>&1 || "$simile" models pull all-MiniLM-L6-v2
mkdir -p "$work/search"
fortunes=$(dpkg -L fortunes | grep -m1 '/games/fortunes$' || true)
if [ ! -f "$fortunes/computers" ]; then
  say "no fortunes cookie directory (got '$fortunes'); is Debian's fortunes installed?"
  exit 1
fi
if [ ! -f "$medium" ]; then  # the standard workload, built as bench/embed_peers.sh does
  medium=$work/medium.txt
  "$python" "$root/../shared/peers/inference/build_workloads.py" --fortunes-dir "$fortunes" --out-dir "$work" >/dev/null
fi
[ "$(sha256sum "$medium" | cut -c1-16)" = 30e893952c1fe846 ] || say "warning: $medium is not the standard medium workload"

{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "simile: commit $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)," \
       "$(git -C "$root" status --porcelain -- src include 2>/dev/null | wc -l) files in src/ and include/ differ from it"
  echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')," \
       "family $(grep -m1 'cpu family' /proc/cpuinfo | cut -d: -f2 | tr -d ' ')" \
       "model $(grep -m1 '^model[[:space:]]' /proc/cpuinfo | cut -d: -f2 | tr -d ' '), $(nproc) cores"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "os: $(. /etc/os-release && echo "$PRETTY_NAME"), kernel $(uname -r)"
  echo "compiler: $(c++ --version | head -n1)"
  echo "sqlite: $(dpkg-query -W -f='${Version}' libsqlite3-0), oneDNN $(dpkg-query -W -f='${Version}' libdnnl2 2>/dev/null)," \
       "fortunes $(dpkg-query -W -f='${Version}' fortunes)"
  echo "threads: $threads, runs: $runs, search runs: $search_runs, cli runs: $cli_runs, quick: $quick"
  echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
} > "$work/env.txt"
cat "$work/env.txt" >&2

# One results file per part, emptied only when that part runs again.
results="$work/ingest.jsonl"

# ---- 1. ingest against embed on the same texts --------------------------------
ingest() {  # ingest WORKLOAD ROUND DB INPUT FLAGS...: one timed `simile add`
  i_w=$1 i_r=$2 i_db=$3 i_in=$4; shift 4
  rm -f "$i_db" "$i_db-wal" "$i_db-shm"
  "$python" "$helper" run --results "$results" --job "add/$i_w/$i_r" --kind ingest --workload "$i_w" \
    --texts "$(wc -l < "$i_in")" -- "$simile" add bench "$i_in" --db "$i_db" --threads "$threads" -q --json "$@"
}
embed() {  # embed WORKLOAD ROUND: one timed `simile embed` of the stored chunk texts
  "$python" "$helper" run --results "$results" --job "embed/$1/$2" --kind embed --workload "$1" \
    --texts "$(wc -l < "$work/$1.chunks.jsonl")" --stdin "$work/$1.chunks.jsonl" -- \
    "$simile" embed --jsonl --format npy -o "$work/$1.npy" --threads "$threads" -
}
if [ "$do_ingest" = 1 ]; then
  : > "$results"
  if [ "$quick" = 1 ]; then
    head -n 300 "$cranfield/corpus.jsonl" > "$work/cranfield.jsonl"
    head -n 500 "$medium" > "$work/medium.lines"
  else
    cp "$cranfield/corpus.jsonl" "$work/cranfield.jsonl"
    cp "$medium" "$work/medium.lines"
  fi
  for w in cranfield medium; do
    if [ "$w" = cranfield ]; then
      set -- "$work/cranfield.jsonl" --id-field _id --on-error skip
    else
      set -- "$work/medium.lines" --format lines
    fi
    say "ingest against embed: $w"
    r=1
    while [ "$r" -le "$runs" ]; do
      if [ "$r" = 1 ]; then
        ingest "$w" 1 "$work/$w-1.db" "$@"
        "$python" "$helper" chunks "$work/$w-1.db" -o "$work/$w.chunks.jsonl" >/dev/null
        embed "$w" 1
      elif [ $((r % 2)) = 0 ]; then
        embed "$w" "$r"
        ingest "$w" "$r" "$work/$w-$r.db" "$@"
      else
        ingest "$w" "$r" "$work/$w-$r.db" "$@"
        embed "$w" "$r"
      fi
      r=$((r + 1))
    done
  done
  say "check: search_bench --reencode writes what simile add --vector-type writes"
  for t in f16 int8; do
    db=$work/cranfield-$t.db
    rm -f "$db" "$db-wal" "$db-shm"
    "$simile" add bench "$work/cranfield.jsonl" --id-field _id --on-error skip --vector-type "$t" \
      --db "$db" --threads "$threads" -q
    "$build/bench/search_bench" --reencode "$work/cranfield-1.db" --to "$work/cranfield-reencoded-$t.db" \
      --vector-type "$t"
    "$python" "$helper" same "$db" "$work/cranfield-reencoded-$t.db"
  done
fi

# ---- 2. search latency over 100,000 chunks --------------------------------------
if [ "$do_search" = 1 ]; then
  results="$work/search.jsonl"
  : > "$results"
  n=100000
  [ "$quick" = 1 ] && n=10000
  corpus=$work/search/corpus-$n.jsonl
  "$python" "$helper" corpus --fortunes-dir "$fortunes" --cranfield "$cranfield/corpus.jsonl" --n "$n" \
    -o "$corpus" > "$work/search/corpus-$n.json"
  cat "$work/search/corpus-$n.json" >&2
  key=$(sha256sum "$corpus" | cut -c1-16)
  base=$work/search/search-$key
  # Adding again skips every stored document (same content hash): a complete
  # database is only checked, an interrupted one is completed.
  say "search collection $base-f32.db ($n texts; minutes with the real model when new)"
  "$simile" add bench "$corpus" --id-field id --db "$base-f32.db" --threads "$threads" -q --json \
    > "$work/search/add.json"
  cat "$work/search/add.json" >&2
  if grep -q '"added":0,' "$work/search/add.json"; then fresh=0; else fresh=1; fi
  chunks=$("$simile" collections info bench --db "$base-f32.db" --json | "$python" -c 'import json,sys; print(json.load(sys.stdin)["chunks"])')
  [ "$chunks" = "$n" ] || say "warning: $chunks chunks stored, not $n (a text longer than one chunk?)"
  for t in f16 int8; do
    if [ "$fresh" = 1 ] || [ ! -s "$base-$t.db" ]; then
      "$build/bench/search_bench" --reencode "$base-f32.db" --to "$base-$t.db.tmp" --vector-type "$t"
      mv "$base-$t.db.tmp" "$base-$t.db"
    fi
  done
  say "search_bench: $search_runs passes of the Cranfield queries"
  "$python" "$helper" run --results "$results" --job search_bench --kind job --workload search --texts 225 \
    --stdout "$work/search/search_bench.jsonl" -- \
    "$build/bench/search_bench" --queries "$cranfield/queries.jsonl" \
    --db "f32=$base-f32.db" --db "f16=$base-f16.db" --db "int8=$base-int8.db" \
    --k 10 --filter 'bucket = 0' --threads "$threads" --runs "$search_runs" --stages --results "$results"
  say "simile search end to end: $cli_runs runs per variant"
  "$python" "$helper" cli --results "$results" --simile "$simile" --queries "$cranfield/queries.jsonl" \
    --db "f32=$base-f32.db" --db "f16=$base-f16.db" --db "int8=$base-int8.db" --filter 'bucket = 0' \
    --runs "$cli_runs" > /dev/null
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$work/env.txt"
cat "$work/env.txt"
echo
"$python" "$helper" table "$work/ingest.jsonl" "$work/search.jsonl"
