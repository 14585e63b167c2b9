#!/bin/sh
# Configures and builds simile.  scripts/build.sh [release|asan|tsan]
#   release -> build/       (optimised, -Wall -Wextra)
#   asan    -> build-asan/  (AddressSanitizer + UndefinedBehaviorSanitizer)
#   tsan    -> build-tsan/  (ThreadSanitizer: the libraries and the threaded tests)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-release}
case "$kind" in
  release) dir="$here/build"; flags="-DCMAKE_BUILD_TYPE=Release" ;;
  asan) dir="$here/build-asan"; flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMILE_SANITIZE=ON" ;;
  tsan) dir="$here/build-tsan"; flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMILE_TSAN=ON" ;;
  *) echo "usage: $0 [release|asan|tsan]" >&2; exit 2 ;;
esac
cmake -S "$here" -B "$dir" -G Ninja $flags >/dev/null
ninja -C "$dir"
