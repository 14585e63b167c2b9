# Helpers for the command-line tests (sourced, POSIX sh).
# ctest provides SIMILE_BIN and SIMILE_HOME (tests/CMakeLists.txt).
set -eu
: "${SIMILE_BIN:?run through ctest}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_fail DESCRIPTION PATTERN CMD...: CMD must exit non-zero (not crash) and
# print PATTERN (grep -E) on stderr.
expect_fail() {
  desc=$1 pattern=$2; shift 2
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then fail "$desc: exited 0"; return; fi
  if [ "$rc" -gt 2 ]; then fail "$desc: exit $rc (crash?) $(cat "$tmp/err")"; return; fi
  grep -Eq "$pattern" "$tmp/err" || fail "$desc: stderr lacks /$pattern/: $(cat "$tmp/err")"
}

finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures failure(s)" >&2; exit 1; fi
  echo "ok"
}
