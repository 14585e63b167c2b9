# Durability of every write path: tests/crash/kill_harness.py kills simile
# (add, delete, the server's upserts and deletes, reembed, HNSW build,
# compaction, keyword rebuild) at random moments and checks after each kill
# that every acknowledged write is there and nothing is half-visible
# (docs/durability.md). SIMILE_CRASH_KILLS sets how many kills; the
# sanitizer build, 5-10x slower, does fewer.
. "$(dirname "$0")/../cli/lib.sh"
kills=${SIMILE_CRASH_KILLS:-40}
[ -n "${SIMILE_SANITIZED:-}" ] && kills=${SIMILE_CRASH_KILLS:-10}
python3 "$(dirname "$0")/kill_harness.py" --bin "$SIMILE_BIN" --dir "$tmp/harness" --kills "$kills" \
  >"$tmp/harness.log" 2>&1 || { tail -n 20 "$tmp/harness.log"; fail "kill harness"; }
tail -n 1 "$tmp/harness.log"
finish
