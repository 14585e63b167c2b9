# Durability: `simile add` killed with SIGKILL at random moments, again and
# again, must leave a database where every acknowledged document is present
# exactly once with correct vectors, nothing is half-written, and search works;
# running the ingest again finishes the job without duplicates. Then the same
# while every document is being replaced by a new version.
. "$(dirname "$0")/../cli/lib.sh"
db="$tmp/crash.db"
docs="$tmp/docs.jsonl"
acks="$tmp/acks.jsonl"
kills=${SIMILE_CRASH_KILLS:-20}
# Sanitizer builds embed 5-10x slower: a third of the documents keeps the
# kills landing mid-ingest without the test taking five minutes.
ndocs=3000; [ -n "${SIMILE_SANITIZED:-}" ] && ndocs=1000

# A few thousand short documents, seeded so every run is the same.
make_docs() {  # VERSION
  python3 - "$1" "$ndocs" >"$docs" <<'PY'
import json, random, sys
version = sys.argv[1]
rng = random.Random(20261130)
words = ("river mountain engine wing pressure flow heat cat dog bread oven database index query "
         "planet orbit moon storm rain garden tree music piano guitar code compiler memory disk "
         "market price bank loan train station ticket doctor fever school teacher book story").split()
for i in range(int(sys.argv[2])):
    n = rng.randint(6, 30)
    text = " ".join(rng.choice(words) for _ in range(n)) + "."
    if version != "1":
        text += " Revised in version " + version + "."
    print(json.dumps({"id": "d%04d" % i, "text": text, "n": i}))
PY
}

# check_db: integrity, acknowledged ids present once, no document without
# chunks or chunk without document, vectors of the right size.
check_db() {
  python3 - "$db" "$acks" <<'PY' || fail "database check after kill $k"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
acked = set()
for line in open(sys.argv[2]):
    try:
        ev = json.loads(line)
    except ValueError:
        continue  # a line cut by the kill: its commit is not counted as acknowledged
    if ev.get("event") == "commit":
        acked.update(ev["ids"])
rows = db.execute("SELECT d.doc_id, count(*) FROM documents d JOIN collections c ON c.id = d.collection_id "
                  "WHERE c.name = 'crash' GROUP BY d.doc_id").fetchall()
stored = {r[0] for r in rows}
assert len(stored) == len(rows)
missing = acked - stored
assert not missing, "acknowledged but missing: %s" % sorted(missing)[:5]
orphans = db.execute("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                     "(SELECT 1 FROM chunks c WHERE c.document_id = d.id)").fetchone()[0]
assert orphans == 0, "%d documents without chunks" % orphans
dangling = db.execute("SELECT count(*) FROM chunks c WHERE NOT EXISTS "
                      "(SELECT 1 FROM documents d WHERE d.id = c.document_id)").fetchone()[0]
assert dangling == 0, "%d chunks without a document" % dangling
bad = db.execute("SELECT count(*) FROM chunks WHERE length(vector) != 384 * 4").fetchone()[0]
assert bad == 0, "%d vectors of the wrong size" % bad
unindexed = db.execute("SELECT count(*) FROM documents d WHERE NOT EXISTS "
                       "(SELECT 1 FROM keyword_docs k WHERE k.document_id = d.id)").fetchone()[0]
assert unindexed == 0, "%d documents missing from the keyword index" % unindexed
PY
}

# check_vectors COUNT|any: every stored vector equals `simile embed` of its
# stored text (so no document mixes an old text with new vectors).
check_vectors() {
  python3 - "$db" >"$tmp/texts.jsonl" <<'PY'
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for doc_id, text in db.execute("SELECT doc_id, text FROM documents ORDER BY doc_id"):
    print(json.dumps(text))
PY
  "$SIMILE_BIN" embed --jsonl --format npy -o "$tmp/expected.npy" - <"$tmp/texts.jsonl"
  python3 - "$db" "$tmp/expected.npy" "$1" <<'PY' || fail "stored vectors differ from simile embed"
import sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
raw = open(sys.argv[2], "rb").read()
hl = struct.unpack("<H", raw[8:10])[0]
body = raw[10 + hl:]
rows = db.execute("SELECT d.doc_id, d.text, c.vector FROM documents d JOIN chunks c ON c.document_id = d.id "
                  "ORDER BY d.doc_id").fetchall()
assert sys.argv[3] == "any" or len(rows) == int(sys.argv[3]), (len(rows), sys.argv[3])
for i, (doc_id, text, blob) in enumerate(rows):
    got = struct.unpack("<384f", blob)
    want = struct.unpack_from("<384f", body, i * 384 * 4)
    dot = sum(a * b for a, b in zip(got, want))
    assert dot > 0.9999, (doc_id, dot)
PY
}

run_with_kills() {  # VERSION
  k=0
  while [ "$k" -lt "$kills" ]; do
    k=$((k + 1))
    "$SIMILE_BIN" add crash "$docs" --id-field id --db "$db" --events --commit-every 48 >>"$acks" 2>"$tmp/add.err" &
    pid=$!
    sleep "$(python3 -c "import random; print(round(random.Random($k * 7 + $1).uniform(0.2, 1.6), 2))")"
    kill -9 "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    check_db
    if [ $((k % 5)) -eq 0 ]; then
      "$SIMILE_BIN" search crash "engine pressure" -k 3 --db "$db" >/dev/null 2>"$tmp/search.err" \
        || fail "search after kill $k: $(cat "$tmp/search.err")"
    fi
  done
  # Killed mid-way: every stored vector belongs to its stored text.
  check_vectors any
  # Run to the end: nothing duplicated, everything there.
  "$SIMILE_BIN" add crash "$docs" --id-field id --db "$db" --json >"$tmp/final.json" 2>"$tmp/add.err" \
    || fail "final add: $(cat "$tmp/add.err")"
  check_db
  python3 - "$db" "$1" "$ndocs" <<'PY' || fail "final contents (version $1)"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
ndocs = int(sys.argv[3])
n = db.execute("SELECT count(*) FROM documents").fetchone()[0]
assert n == ndocs, n
revised = db.execute("SELECT count(*) FROM documents WHERE text LIKE '%Revised in version%'").fetchone()[0]
assert revised == (0 if sys.argv[2] == "1" else ndocs), revised
PY
  # The keyword index agrees: every document once, old versions' postings dead.
  "$SIMILE_BIN" search crash "revised" --mode bm25 -k 5000 --json --db "$db" >"$tmp/kw.json" \
    || fail "keyword search after the kills"
  "$SIMILE_BIN" search crash "river" --mode bow -k 5000 --json --db "$db" >"$tmp/river.json" || fail "bow search"
  python3 - "$db" "$1" "$tmp/kw.json" "$tmp/river.json" "$ndocs" <<'PY' || fail "keyword index after kills (version $1)"
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1])
hits = json.load(open(sys.argv[3]))["results"]
assert len(hits) == (0 if sys.argv[2] == "1" else int(sys.argv[5])), len(hits)
river = {h["id"] for h in json.load(open(sys.argv[4]))["results"]}
want = {r[0] for r in db.execute("SELECT doc_id FROM documents WHERE text LIKE '%river%'")}
assert river == want, (len(river), len(want))
PY
}

make_docs 1
: >"$acks"
run_with_kills 1
grep -q '"unchanged"' "$tmp/final.json" || fail "no JSON summary"
check_vectors "$ndocs"

# Replace every document while being killed: each is old or new, never mixed.
make_docs 2
: >"$acks"
run_with_kills 2
check_vectors "$ndocs"
finish
