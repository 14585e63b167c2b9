# Inputs from people who should not be trusted (docs/reliability.md):
# ingestion does not follow symbolic links out of the directory given unless
# asked; ids and names never become paths; numbers that would size an
# allocation are checked first; errors and logs never repeat the API key.
. "$(dirname "$0")/lib.sh"

# Symbolic links: one inside the tree (followed), one to a file and one to
# a directory outside it (not followed), one back to the tree (no loop).
mkdir -p "$tmp/root/sub" "$tmp/outside"
echo "private text from outside the tree" >"$tmp/outside/secret.txt"
echo "a note inside the tree" >"$tmp/root/note.txt"
ln -s ../outside/secret.txt "$tmp/root/leak.txt"
ln -s ../note.txt "$tmp/root/sub/inner.txt"
ln -s ../../outside "$tmp/root/sub/outdir"
ln -s .. "$tmp/root/sub/loop"
db="$tmp/s.db"
expect_fail "a link out of the tree" "leak.txt: a symbolic link to .*outside.*not followed" \
  "$SIMILE_BIN" add c "$tmp/root" --db "$db" -q
"$SIMILE_BIN" add c "$tmp/root" --db "$db" --on-error skip 2>"$tmp/err" || fail "add --on-error skip"
grep -q "outdir: a symbolic link" "$tmp/err" || fail "the directory link was not reported: $(cat "$tmp/err")"
python3 - "$db" <<'PY' || fail "documents read through links"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ids = sorted(r[0] for r in db.execute("SELECT doc_id FROM documents"))
assert ids == ["note.txt", "sub/inner.txt"], ids
assert db.execute("SELECT count(*) FROM documents WHERE text LIKE '%private%'").fetchone()[0] == 0
PY
"$SIMILE_BIN" add c2 "$tmp/root" --db "$db" -q --follow-symlinks || fail "add --follow-symlinks"
n=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM documents d JOIN collections c ON c.id = d.collection_id WHERE c.name = ? AND text LIKE ?", ("c2", "%private%")).fetchone()[0])' "$db")
[ "$n" = 2 ] || fail "--follow-symlinks read the outside file $n times, want 2 (as a file and through the directory)"
# A file named on the command line is read wherever it points.
"$SIMILE_BIN" add c3 "$tmp/root/leak.txt" --db "$db" -q || fail "a link given by name"

# Names and ids are never paths.
for name in ../evil a/b .hidden "$(printf 'x%.0s' $(seq 65))"; do
  expect_fail "collection name '$name'" "bad collection name" sh -c "echo x | '$SIMILE_BIN' add '$name' - --db '$db' -q"
done
start_server --db "$db" --threads 1 --api-key s3cret-key-0123
API_KEY=s3cret-key-0123
expect_status "id with dots and slashes" 200 POST /collections/c/documents \
  '{"documents": [{"id": "../../../../tmp/pwned", "text": "an id that looks like a path"}]}'
expect_status "get it back" 200 GET "/collections/c/documents/..%2F..%2F..%2F..%2Ftmp%2Fpwned"
grep -q "an id that looks like a path" "$tmp/body" || fail "document by a path-like id: $(cat "$tmp/body")"
expect_status "collection name with dots" 404 GET "/collections/..%2F..%2Fetc/documents/passwd"
expect_status "hidden collection" 404 GET "/collections/.reembed.c"
expect_status "create a hidden collection" 400 POST /collections '{"name": ".reembed.c"}'
expect_status "name too long" 400 POST /collections "{\"name\": \"$(printf 'n%.0s' $(seq 65))\"}"
# find fails when another test's temporary directory vanishes under it: that
# is no finding.
found=$(find "$tmp" /tmp -maxdepth 6 -name '*pwned*' 2>/dev/null || true)
[ -z "$found" ] || fail "an id became a file: $found"

# Numbers that size allocations are checked before anything is allocated.
expect_status "dimensions 2^64" 400 POST /v1/embeddings '{"input": "a", "dimensions": 18446744073709551616}'
expect_status "dimensions negative" 400 POST /v1/embeddings '{"input": "a", "dimensions": -1}'
expect_status "dimensions fractional" 400 POST /v1/embeddings '{"input": "a", "dimensions": 1.5}'
expect_status "k 1e300" 400 POST /collections/c/search '{"query": "x", "k": 1e300}'
expect_status "k a string" 400 POST /collections/c/search '{"query": "x", "k": "10"}'
expect_status "candidates huge" 400 POST /collections/c/search '{"query": "x", "candidates": 4294967297}'
expect_status "top_n huge" 400 POST /v1/rerank '{"query": "q", "documents": ["a"], "top_n": 99999999999}'
expect_status "related k huge" 400 POST /collections/c/related '{"k": 1000000}'
expect_status "similar k huge" 400 GET "/collections/c/documents/note.txt/similar?k=99999999999999999999"
expect_status "deeply nested JSON" 400 POST /v1/embeddings \
  "$(python3 -c 'print("[" * 100000 + "]" * 100000)')"
expect_status "invalid UTF-8" 400 POST /v1/embeddings "$(printf '{"input": "\377\376"}')"
expect_status "still up" 200 GET /health

# The key is never repeated: not in errors, not in the log, not in metrics.
API_KEY=wrong-key-guess
expect_status "wrong key" 401 GET /v1/models
grep -q "wrong-key-guess\|s3cret" "$tmp/body" && fail "the 401 repeats a key: $(cat "$tmp/body")"
API_KEY=s3cret-key-0123
http GET /metrics >/dev/null
grep -q "s3cret" "$tmp/body" && fail "metrics show the key"
stop_server
grep -q "s3cret\|wrong-key-guess" "$tmp/server.log" && fail "the log shows a key: $(cat "$tmp/server.log")"
finish
