#!/bin/sh
# Fuzzes simile's input parsers with libFuzzer (docs/reliability.md).
#   scripts/fuzz.sh [--seconds N] [--jobs J] [TARGET ...]
# Builds the fuzz targets with clang, ASan and UBSan in build-fuzz/, then runs
# each TARGET (default: all of tests/fuzz/*_fuzz.cc) for N seconds (default
# 600), J targets at a time (default: one per core). Each starts from its
# corpus in tests/fuzz/corpus/TARGET/ and the inputs it found before
# (build-fuzz/corpus/TARGET/); afterwards tests/fuzz/corpus/TARGET/ becomes
# its seeds plus the smallest set of inputs reaching all that either reached
# (commit it: the normal builds replay that corpus as ctest
# fuzz_replay_TARGET). A crash stops its target,
# leaves the input in build-fuzz/crashes/TARGET/ and makes the script exit 1.
# Every run appends a line to build-fuzz/fuzz-log.tsv: date, target,
# seconds, executions, corpus entries, crashes.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
seconds=600
jobs=$(nproc)
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    -*) echo "usage: $0 [--seconds N] [--jobs J] [TARGET ...]" >&2; exit 2 ;;
    *) break ;;
  esac
done
targets="$*"
[ -n "$targets" ] || targets=$(cd "$here/tests/fuzz" && ls *_fuzz.cc | sed 's/_fuzz\.cc$//')

"$here/scripts/setup.sh" --fuzz
dir="$here/build-fuzz"
CXX=clang++ cmake -S "$here" -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMILE_FUZZ=ON >/dev/null
ninja -C "$dir"
export SIMILE_HOME="$dir/test-home" SIMILE_SHARED_DIR="$here/../shared"
"$dir/simile" models pull all-MiniLM-L6-v2 >/dev/null

run_one() {  # TARGET
  t=$1
  work="$dir/corpus/$t" crashes="$dir/crashes/$t" log="$dir/logs/$t.log"
  mkdir -p "$work" "$crashes" "$dir/logs"
  status=0
  # -rss_limit_mb: the server target holds the model; -timeout: one input
  # taking 20 s is a hang worth a report.
  "$dir/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$crashes/" "$work" "$here/tests/fuzz/corpus/$t" >"$log" 2>&1 || status=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  # The smallest set of inputs that reaches everything the old corpus and the
  # new finds reach (libFuzzer names them by content), plus the seeds.
  repo="$here/tests/fuzz/corpus/$t"
  rm -rf "$work.merged" && mkdir -p "$work.merged"
  if "$dir/tests/fuzz/${t}_fuzz" -merge=1 -rss_limit_mb=4096 "$work.merged" "$repo" "$work" >>"$log" 2>&1; then
    find "$repo" -type f ! -name 'seed-*' -delete
    cp -n "$work.merged"/* "$repo"/ 2>/dev/null || true
  fi
  entries=$(ls "$repo" | wc -l)
  found=$(ls "$crashes" | wc -l)
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$seconds" "${execs:-0}" "$entries" "$found" \
    >>"$dir/fuzz-log.tsv"
  echo "fuzz: $t: ${execs:-0} runs in ${seconds}s, corpus $entries, crash inputs $found (log: $log)"
  [ "$status" -eq 0 ]
}

failed=0
set -- $targets
while [ $# -gt 0 ]; do
  pids=""
  n=0
  while [ $# -gt 0 ] && [ "$n" -lt "$jobs" ]; do
    run_one "$1" &
    pids="$pids $!"
    n=$((n + 1))
    shift
  done
  for p in $pids; do wait "$p" || failed=1; done
done
[ "$failed" -eq 0 ] || { echo "fuzz: crashes found: see build-fuzz/crashes/" >&2; exit 1; }
