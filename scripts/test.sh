#!/bin/sh
# Builds simile twice (Release, and ASan+UBSan) and runs the whole test suite
# on both; then builds it under ThreadSanitizer and runs the tests that
# exercise threads (the HNSW index: concurrent search, insert, remove,
# repair; the server: concurrent clients, the embedding batcher; the
# single-threaded Hnsw tests would take minutes and find nothing TSan can),
# and a remote model's parallel requests.
# Exits non-zero if anything fails.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
jobs=$(nproc)
for kind in release asan; do
  "$here/scripts/build.sh" "$kind"
  dir="$here/build"; [ "$kind" = asan ] && dir="$here/build-asan"
  echo "== tests ($kind)"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900
done
"$here/scripts/build.sh" tsan
echo "== tests (tsan: HNSW index, server, remote embedder)"
# The TSan build is the libraries and those tests (CMakeLists.txt:
# SIMILE_TSAN), reading the model the Release tests installed.
# halt_on_error: a race fails its test instead of only being printed.
SIMILE_HOME="$here/build/test-home" TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir "$here/build-tsan" --output-on-failure -j "$jobs" --timeout 900 \
  -R '^(HnswConcurrent\.|HnswRepair\.|Hnsw\.Concurrent|EmbeddingBatcherTest\.|ServerConcurrencyTest\.|RemoteEmbedderTest\.)'
echo "all tests passed (release, asan, and tsan for the HNSW index, the server and remote embedders)"
