# simile search in hybrid mode, with re-ranking and MMR, through the real
# binary: the text and JSON outputs, per-stage timings, and clear errors.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
: "${SIMILE_SOURCE_DIR:?run through ctest}" "${SIMILE_SHARED_DIR:?run through ctest}"
db="$tmp/h.db"
s() { "$SIMILE_BIN" "$@" --db "$db"; }

cat >"$tmp/docs.jsonl" <<'EOF2'
{"id": "wing", "text": "An aircraft wing produces lift because air flows faster over its curved upper surface.", "shelf": 1}
{"id": "wing2", "text": "Aircraft wings make lift: air moving faster over the curved top of the wing lowers the pressure.", "shelf": 1}
{"id": "part", "text": "Replacement seal XJ-2041 fits the fuel pump of the Jetstream 31.", "shelf": 2}
{"id": "bread", "text": "Knead the dough, let it rise for an hour, then bake the loaf in a hot oven.", "shelf": 1}
{"id": "glider", "text": "Gliders have no engine; they stay up by finding rising air.", "shelf": 2}
EOF2
s add planes "$tmp/docs.jsonl" --id-field id -q || fail "add"

# Default mode with a model: hybrid, every stage's view in JSON, and timings.
s search planes "wing lift XJ-2041" -k 3 --json >"$tmp/h.json" || fail "hybrid search"
py 'import json,sys
j=json.load(open(sys.argv[1]))
assert j["mode"]=="hybrid", j["mode"]
r=j["results"]
assert len(r)==3 and [x["rank"] for x in r]==[1,2,3], r
for x in r:
  assert x["score"]==x["fused"], x
  assert "dense" in x or "keyword" in x, x
  if "dense" in x: assert x["dense"]["rank"]>=1 and "percentile" in x["dense"] and "z" in x["dense"], x
assert any(x["id"]=="part" and x["keyword"]["rank"]==1 for x in r), r
stages=[s["stage"] for s in j["stages"]]
assert stages==["embed","dense","keyword","fusion","fetch"], stages
assert all(s["ms"]>=0 for s in j["stages"]) and j["total_ms"]>=0, j' "$tmp/h.json" || fail "hybrid JSON $(cat "$tmp/h.json")"

# Text: the stages line, and --explain's term table.
s search planes "wing lift XJ-2041" -k 2 --explain >"$tmp/h.txt" || fail "hybrid explain"
grep -Eq "dense #[0-9]+ [0-9.]+.*\| fused [0-9.]+" "$tmp/h.txt" || fail "stages line: $(cat "$tmp/h.txt")"
grep -Eq "keyword score [0-9.]+ = sum over query terms" "$tmp/h.txt" || fail "explain lines: $(cat "$tmp/h.txt")"

# Weighted fusion with weight 1 is the dense order.
s search planes "rising air" -k 5 --mode dense --json | py 'import json,sys; print(" ".join(x["id"] for x in json.load(sys.stdin)["results"]))' >"$tmp/dense.ids"
s search planes "rising air" -k 5 --fusion weighted --weight 1 --json \
  | py 'import json,sys; print(" ".join(x["id"] for x in json.load(sys.stdin)["results"]))' >"$tmp/w1.ids"
cmp -s "$tmp/dense.ids" "$tmp/w1.ids" || fail "weight 1 is not the dense order: $(cat "$tmp/dense.ids") / $(cat "$tmp/w1.ids")"

# Filters hold on both sides.
s search planes "wing lift XJ-2041" --filter 'shelf = 2' --json \
  | py 'import json,sys; r=json.load(sys.stdin)["results"]; assert r and all(x["id"] in ("part","glider") for x in r), r' \
  || fail "filter in hybrid"

# Re-ranking with a cross-encoder (the tiny test one, with its tokenizer from ../shared).
ce="$tmp/cross-encoder"
mkdir -p "$ce"
src="$SIMILE_SOURCE_DIR/tests/golden/models/tiny-bert-cross-encoder"
for f in config.json tokenizer_config.json model.safetensors; do ln -s "$src/$f" "$ce/$f"; done
ln -s "$SIMILE_SHARED_DIR/tokenizers/bert-base-uncased/tokenizer.json" "$ce/tokenizer.json"
s search planes "how do wings lift" -k 3 --rerank "$ce" --rerank-top 4 --json >"$tmp/r.json" || fail "rerank"
py 'import json,sys
j=json.load(open(sys.argv[1]))
r=j["results"]
assert len(r)==3 and all(x["score"]==x["rerank"] and "fused" in x for x in r), r
assert all(r[i]["score"]>=r[i+1]["score"] for i in range(2)), r
st={s["stage"]:s for s in j["stages"]}
assert st["rerank"]["items"]==4, st' "$tmp/r.json" || fail "rerank JSON $(cat "$tmp/r.json")"
# `simile rerank` on the same passages gives the same scores.
py 'import json,sys; [print(x["chunk"]) for x in json.load(open(sys.argv[1]))["results"]]' "$tmp/r.json" >"$tmp/passages"
"$SIMILE_BIN" rerank --model "$ce" "how do wings lift" --file "$tmp/passages" --json >"$tmp/rr.json" \
  || fail "simile rerank"
py 'import json,sys
a=json.load(open(sys.argv[1]))["results"]; b=json.load(open(sys.argv[2]))
b=b["results"] if isinstance(b,dict) else b
sa=sorted(x["rerank"] for x in a); sb=sorted(x["score"] for x in b)
assert all(abs(x-y)<1e-5 for x,y in zip(sa,sb)) and len(sa)==len(sb), (sa,sb)' "$tmp/r.json" "$tmp/rr.json" \
  || fail "search --rerank and simile rerank disagree: $(cat "$tmp/rr.json")"

# MMR: lambda 1 keeps the order; the mmr stage is reported.
s search planes "wing lift" -k 3 --mode dense --mmr 1 --json \
  | py 'import json,sys; print(" ".join(x["id"] for x in json.load(sys.stdin)["results"]))' >"$tmp/m1.ids"
s search planes "wing lift" -k 3 --mode dense --json \
  | py 'import json,sys; print(" ".join(x["id"] for x in json.load(sys.stdin)["results"]))' >"$tmp/d3.ids"
cmp -s "$tmp/m1.ids" "$tmp/d3.ids" || fail "mmr 1 changed the order"
s search planes "wing lift" -k 3 --mmr 0.3 --json \
  | py 'import json,sys; j=json.load(sys.stdin); assert "mmr" in [s["stage"] for s in j["stages"]], j' || fail "mmr stage"

expect_fail "weight out of range" "weight" s search planes "x" --weight 2
expect_fail "unknown fusion" "fusion" s search planes "x" --fusion max
expect_fail "rerank-top below k" "rerank-top" s search planes "x" -k 5 --rerank "$ce" --rerank-top 2
expect_fail "missing reranker" "re-ranking model" s search planes "x" --rerank "$tmp/none"
expect_fail "candidates below k" "at least k" s search planes "x" -k 5 --candidates 2
expect_fail "mmr out of range" "mmr" s search planes "x" --mmr 3
s add words "$tmp/docs.jsonl" --id-field id --model none -q || fail "keyword-only add"
expect_fail "hybrid without vectors" "keyword-only" s search words "x" --mode hybrid
finish
