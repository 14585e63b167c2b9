# The vector index from the command line: simile index build|info (exact or
# HNSW, settings, the graph file beside the store), search --ef, and errors.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
db="$tmp/v.db"
s() { "$SIMILE_BIN" "$@" --db "$db"; }

ten_subjects "$tmp/docs.jsonl"
s add notes "$tmp/docs.jsonl" --id-field id -q || fail "add"

s index info notes --json >"$tmp/i.json" || fail "info"
py 'import json,sys
v=json.load(open(sys.argv[1]))["vector"]
assert v["active"]=="flat" and v["chunks"]==10 and v["settings"]=={"kind":"auto","threshold":100000,"M":16,"ef_construction":200,"ef_search":128}, v
' "$tmp/i.json" || fail "default settings: $(cat "$tmp/i.json")"
s search notes "how do planes fly" --mode dense -k 3 --json >"$tmp/flat.json" || fail "flat search"

s index build notes --kind hnsw --M 8 --ef-construction 50 --ef-search 40 --json >"$tmp/b.json" || fail "build"
py 'import json,sys
v=json.load(open(sys.argv[1]))
assert v["active"]=="hnsw" and v["nodes"]==10 and v["tombstones"]==0 and v["load"]=="built (requested)", v
assert v["settings"]["M"]==8 and v["settings"]["ef_search"]==40 and v["file_bytes"]>0, v
' "$tmp/b.json" || fail "build --json: $(cat "$tmp/b.json")"
[ -f "$db.c1.hnsw" ] || fail "no graph file beside the store"
s index info notes | grep -Eq "active +hnsw over 10 chunks" || fail "info text"
s index info notes | grep -Eq "loaded +opened" || fail "a fresh file is opened"
s search notes "how do planes fly" --mode dense -k 3 --json >"$tmp/hnsw.json" || fail "hnsw search"
s search notes "how do planes fly" --mode dense -k 3 --ef 1 --json >/dev/null || fail "--ef 1"
py 'import json,sys
a,b=(json.load(open(p))["results"] for p in sys.argv[1:3])
assert [h["id"] for h in a]==[h["id"] for h in b] and a[0]["id"]=="wing", (a,b)
assert all(abs(x["score"]-y["score"])<1e-6 for x,y in zip(a,b))
' "$tmp/flat.json" "$tmp/hnsw.json" || fail "graph and exact search disagree"

# Writes keep the file in step; the next process opens it as is.
s delete notes wing 2>/dev/null || fail "delete"
s index info notes --json >"$tmp/i.json" || fail "info after delete"
py 'import json,sys
v=json.load(open(sys.argv[1]))["vector"]
assert v["load"]=="opened" and v["chunks"]==9 and v["tombstones"]==1, v' "$tmp/i.json" || fail "after delete: $(cat "$tmp/i.json")"
s search notes "how do planes fly" --mode dense -k 9 --json | py 'import json,sys
assert "wing" not in [h["id"] for h in json.load(sys.stdin)["results"]]' || fail "a deleted document came back"

# A damaged file is rebuilt, not trusted.
printf 'garbage!' | dd of="$db.c1.hnsw" bs=1 seek=200 conv=notrunc 2>/dev/null
s index info notes | grep -Eq "loaded +built \(HNSW index .* is corrupt" || fail "corrupt file not rebuilt"

# Back to exact search: the graph file goes.
s index build notes --kind flat >/dev/null || fail "build flat"
[ ! -f "$db.c1.hnsw" ] || fail "graph file left behind by --kind flat"

expect_fail "bad kind" "kind" s index build notes --kind annoy
expect_fail "bad M" "M" s index build notes --M 1
expect_fail "bad ef" "ef" s search notes "x" --ef 0
expect_fail "no collection" "no collection" s index build nope
s add words "$tmp/docs.jsonl" --id-field id --model none -q || fail "keyword-only add"
expect_fail "keyword-only" "no vectors" s index build words
s index info words --json | py 'import json,sys; j=json.load(sys.stdin); assert "vector" not in j and j["documents"]==10, j' \
  || fail "keyword-only info"
finish
