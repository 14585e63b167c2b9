# A full disk and a read-only database: every write fails with a clear error
# and a non-zero exit (HTTP: a JSON 507 or 409), nothing stored before is lost,
# searches keep working, and once there is room again the same command
# finishes the job. Real limits: a small tmpfs filling up (ENOSPC) and the
# same file system remounted read-only (which stops root too); where this
# machine does not allow mounting, a file size limit (ulimit -f) stands in for
# the full disk and the read-only half is skipped (SIMILE_TEST_NO_MOUNT=1
# forces that, to test it).
. "$(dirname "$0")/../cli/lib.sh"
mnt="$tmp/mnt"
mkdir -p "$mnt"
if [ -z "${SIMILE_TEST_NO_MOUNT:-}" ] && mount -t tmpfs -o size=1m tmpfs "$mnt" 2>/dev/null; then
  mounted=1
  on_exit='umount "$mnt" 2>/dev/null || true'
  trap 'umount "$mnt" 2>/dev/null || true; rm -rf "$tmp"' EXIT
else
  mounted=""
  echo "note: cannot mount a tmpfs here; a file size limit stands in for the full disk"
fi
db="$mnt/s.db"
python3 - >"$tmp/docs.jsonl" <<'PY'
import json
for i in range(3000):
    print(json.dumps({"id": "d%d" % i, "text": "document %d about rivers, mountains and the weather on day %d" % (i, i * 7)}))
PY
printf 'cats purr on the sofa\ndogs bark at the door\n' >"$tmp/first.txt"
"$SIMILE_BIN" add c "$tmp/first.txt" --format lines --db "$db" -q || fail "first add"

# check_store: SQLite's integrity check, the two first documents and every
# acknowledged one present, no document without an id or text.
check_store() {  # LABEL
  python3 - "$db" "$tmp/events.jsonl" <<'PY' || fail "store after $1"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
ids = {r[0] for r in db.execute("SELECT doc_id FROM documents WHERE doc_id != '' AND text != ''")}
n = db.execute("SELECT count(*) FROM documents").fetchone()[0]
assert n == len(ids), "%d documents with an empty id or text" % (n - len(ids))
acked = set()
for line in open(sys.argv[2]):
    ev = json.loads(line)
    if ev.get("event") == "commit":
        acked.update(ev["ids"])
assert acked <= ids, "acknowledged but missing: %s" % sorted(acked - ids)[:5]
assert len([i for i in ids if not i.startswith("d")]) == 2, ids
PY
}

# 1. The disk fills up during an ingest.
set +e
if [ -n "$mounted" ]; then
  "$SIMILE_BIN" add c "$tmp/docs.jsonl" --id-field id --db "$db" --events >"$tmp/events.jsonl" 2>"$tmp/err"
else
  (trap '' XFSZ; ulimit -f 1024; "$SIMILE_BIN" add c "$tmp/docs.jsonl" --id-field id --db "$db" --events \
    >"$tmp/events.jsonl" 2>"$tmp/err")
fi
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "add on a full disk: exit $rc (want 1): $(cat "$tmp/err")"
if [ -n "$mounted" ]; then
  grep -q "the disk is full" "$tmp/err" || fail "add on a full disk: unclear error: $(cat "$tmp/err")"
fi
check_store "the disk filled up"
"$SIMILE_BIN" search c "a cat on the sofa" -k 1 --db "$db" --json >"$tmp/hit.json" 2>"$tmp/err" \
  || fail "search on a full disk: $(cat "$tmp/err")"
grep -q '"cats purr on the sofa"' "$tmp/hit.json" || fail "search on a full disk: $(head -c 300 "$tmp/hit.json")"

# 2. The server on the full disk (the last bytes taken by a filler file): a
# 507 for the write, searches answered.
if [ -n "$mounted" ]; then
  dd if=/dev/zero of="$mnt/filler" bs=4k 2>/dev/null || true
  start_server --db "$db" --threads 1
  big=$(python3 -c 'import json; print(json.dumps({"documents": [{"id": "big%d" % i, "text": "filler text %d " % i * 40} for i in range(200)]}))')
  expect_status "upsert on a full disk" 507 POST /collections/c/documents "$big"
  grep -q '"insufficient_storage"' "$tmp/body" || fail "507 without its code: $(head -c 300 "$tmp/body")"
  expect_status "search on a full disk" 200 POST /collections/c/search '{"query": "dogs", "k": 1}'
  stop_server
fi

# 3. Room again: the same command finishes the job.
if [ -n "$mounted" ]; then rm -f "$mnt/filler"; mount -o remount,size=64m "$mnt"; check_store "a 507"; fi
"$SIMILE_BIN" add c "$tmp/docs.jsonl" --id-field id --db "$db" -q 2>"$tmp/err" || fail "add after freeing space: $(cat "$tmp/err")"
n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM documents").fetchone()[0])' "$db")
[ "$n" = 3002 ] || fail "after freeing space: $n documents, want 3002"

# 4. Read-only: searches work, writes are refused, nothing changes.
if [ -n "$mounted" ]; then
  "$SIMILE_BIN" index build c --kind hnsw --db "$db" >/dev/null || fail "index build"
  printf 'a late document about owls\n' | "$SIMILE_BIN" add c - --db "$db" -q || fail "add before read-only"
  sum_before=$(cat "$mnt"/* | md5sum)
  mount -o remount,ro "$mnt"
  "$SIMILE_BIN" search c "owls" -k 1 --db "$db" --json >"$tmp/hit.json" 2>"$tmp/err" \
    || fail "search on a read-only database: $(cat "$tmp/err")"
  grep -q '"a late document about owls"' "$tmp/hit.json" || fail "read-only search: $(head -c 300 "$tmp/hit.json")"
  "$SIMILE_BIN" collections list --db "$db" >/dev/null 2>"$tmp/err" || fail "list on read-only: $(cat "$tmp/err")"
  expect_fail "add to a read-only database" "read-only" sh -c "echo more | '$SIMILE_BIN' add c - --db '$db' -q"
  expect_fail "delete from a read-only database" "read-only" "$SIMILE_BIN" delete c d1 --db "$db"
  expect_fail "a new collection in a read-only database" "read-only" \
    sh -c "echo more | '$SIMILE_BIN' add other - --db '$db' -q"
  start_server --db "$db" --threads 1
  expect_status "upsert to a read-only database" 409 POST /collections/c/documents \
    '{"documents": [{"id": "x", "text": "more"}]}'
  grep -q "read-only" "$tmp/body" || fail "409 without saying why: $(head -c 300 "$tmp/body")"
  expect_status "search a read-only database" 200 POST /collections/c/search '{"query": "owls", "k": 1}'
  stop_server
  [ "$(cat "$mnt"/* | md5sum)" = "$sum_before" ] || fail "the read-only files changed"
fi
finish
