# POST /v1/rerank (Cohere / Jina / TEI request shape) and search re-ranking
# through the server, on the tiny cross-encoder of tests/golden/models: the
# scores must be `simile rerank`'s (which the rerank CLI test holds to the
# PyTorch reference).
. "$(dirname "$0")/lib.sh"
: "${SIMILE_SOURCE_DIR:?}" "${SIMILE_SHARED_DIR:?}"
py() { python3 -c "$@"; }

ce="$tmp/cross-encoder"
tiny_cross_encoder "$ce"

query="how do planes fly"
cat >"$tmp/docs.jsonl" <<'EOF_DOCS'
"An aircraft wing produces lift because air flows faster over its curved upper surface."
"Knead the dough, let it rise for an hour, then bake the loaf in a hot oven."
"Cats sleep most of the day and hunt small animals at dawn and dusk."
"A jet engine compresses air, burns fuel in it and pushes the hot exhaust backwards."
EOF_DOCS
"$SIMILE_BIN" rerank -m "$ce" --json --jsonl --file "$tmp/docs.jsonl" "$query" >"$tmp/cli.json" || fail "simile rerank"

start_server --db "$tmp/db.sqlite" --rerank-model "$ce"
body=$(py 'import json,sys; print(json.dumps({"query": sys.argv[1], "documents": [json.loads(l) for l in open(sys.argv[2])],
  "top_n": 3, "return_documents": True}))' "$query" "$tmp/docs.jsonl")
expect_status "rerank" 200 POST /v1/rerank "$body"
py 'import json,sys
cli=json.load(open(sys.argv[1]))["results"]; api=json.load(open(sys.argv[2]))
assert api["model"]=="cross-encoder", api
r=api["results"]; assert len(r)==3, r
for got,want in zip(r, cli[:3]):
  assert got["index"]==want["index"] and abs(got["relevance_score"]-want["score"])<1e-6, (got, want)
  assert got["document"]["text"]==want["document"], got' "$tmp/cli.json" "$tmp/body" || fail "rerank scores"
expect_status "rerank objects" 200 POST /v1/rerank \
  '{"query": "q", "documents": [{"text": "a"}, {"text": "b"}], "model": "cross-encoder"}'
py 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; assert len(r)==2 and "document" not in r[0], r' \
  "$tmp/body" || fail "rerank without documents"
expect_status "rerank, top_n too large" 400 POST /v1/rerank '{"query": "q", "documents": ["a"], "top_n": 5}'
expect_status "rerank, documents not an array" 400 POST /v1/rerank '{"query": "q", "documents": "a"}'
expect_status "rerank, document of the wrong type" 400 POST /v1/rerank '{"query": "q", "documents": [3]}'
expect_status "rerank, no query" 400 POST /v1/rerank '{"documents": ["a"]}'
expect_status "rerank, unknown model" 404 POST /v1/rerank '{"query": "q", "documents": ["a"], "model": "nope"}'

# Search re-ranked by the same model: the hits carry its scores, in its order.
ten_subjects "$tmp/ten.jsonl"
"$SIMILE_BIN" add --db "$tmp/db.sqlite" docs "$tmp/ten.jsonl" --id-field id >/dev/null 2>&1 || fail "simile add"
expect_status "search rerank" 200 POST /collections/docs/search '{"query": "how do planes fly", "k": 3, "rerank": true}'
py 'import json,sys; r=json.load(open(sys.argv[1]))["results"]
assert len(r)==3 and all("rerank" in h for h in r), r
assert all(r[i]["rerank"]>=r[i+1]["rerank"] for i in range(2)), r' "$tmp/body" || fail "search rerank"
expect_status "search rerank, unknown model" 404 POST /collections/docs/search '{"query": "x", "rerank": "nope"}'
stop_server
finish
