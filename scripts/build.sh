#!/bin/sh
# Configures and builds simile.  scripts/build.sh [release|asan]
#   release -> build/       (optimised, -Wall -Wextra)
#   asan    -> build-asan/  (AddressSanitizer + UndefinedBehaviorSanitizer)
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
kind=${1:-release}
case "$kind" in
  release) dir="$here/build"; flags="-DCMAKE_BUILD_TYPE=Release" ;;
  asan) dir="$here/build-asan"; flags="-DCMAKE_BUILD_TYPE=RelWithDebInfo -DSIMILE_SANITIZE=ON" ;;
  *) echo "usage: $0 [release|asan]" >&2; exit 2 ;;
esac
cmake -S "$here" -B "$dir" -G Ninja $flags >/dev/null
ninja -C "$dir"
