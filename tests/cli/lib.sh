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

# ten_subjects FILE: ten one-sentence documents on ten unrelated subjects
# (JSONL, field "id"), for tests that need clearly separated meanings.
ten_subjects() {
  cat >"$1" <<'EOF_TEN'
{"id": "wing", "text": "An aircraft wing produces lift because air flows faster over its curved upper surface."}
{"id": "jet", "text": "A jet engine compresses air, burns fuel in it and pushes the hot exhaust backwards."}
{"id": "bread", "text": "Knead the dough, let it rise for an hour, then bake the loaf in a hot oven."}
{"id": "pasta", "text": "Mix flour and eggs into a firm dough, roll it thin and cut it into noodles."}
{"id": "cat", "text": "Cats sleep most of the day and hunt small animals at dawn and dusk."}
{"id": "dog", "text": "Dogs need daily walks, play and training to stay happy and healthy."}
{"id": "python", "text": "Python is a programming language known for readable code and rich libraries."}
{"id": "sql", "text": "Relational databases store rows in tables and answer queries written in SQL."}
{"id": "moon", "text": "The Moon orbits the Earth every 27 days and causes the ocean tides."}
{"id": "mars", "text": "Mars is a cold desert planet with the tallest volcano in the solar system."}
EOF_TEN
}
