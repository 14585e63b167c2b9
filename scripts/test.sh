#!/bin/sh
# Builds simile twice (Release, and ASan+UBSan) and runs the whole test suite
# on both. Exits non-zero if anything fails.
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
echo "all tests passed (release and asan)"
