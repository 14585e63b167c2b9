# simile serve, for real on 127.0.0.1: the OpenAI embeddings API against
# `simile embed`, the API key, errors (4xx JSON, never a crash), collections
# and search, metrics, graceful shutdown on SIGTERM with a request in flight,
# and the data still there after a restart.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }

printf 's3cret-key\n' >"$tmp/key"
start_server --db "$tmp/db.sqlite" --api-key-file "$tmp/key" --max-inputs 50 --max-body-bytes 200000
API_KEY=""

# ---- the API key ----
expect_status "health is public" 200 GET /health
expect_status "no key" 401 GET /v1/models
grep -q invalid_api_key "$tmp/body" || fail "401 without code invalid_api_key: $(cat "$tmp/body")"
API_KEY=wrong-key
expect_status "wrong key" 401 GET /v1/models
grep -q "s3cret" "$tmp/body" && fail "an error echoes the key"
API_KEY=s3cret-key
expect_status "right key" 200 GET /v1/models
py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["object"]=="list" and d["data"][0]["id"]=="all-MiniLM-L6-v2", d' \
  "$tmp/body" || fail "/v1/models"

# ---- /v1/embeddings against simile embed ----
"$SIMILE_BIN" embed "hello world" "서울은 대한민국의 수도이다." >"$tmp/cli.json"
"$SIMILE_BIN" embed --dimensions 64 "hello world" >"$tmp/cli64.json"
expect_status "embeddings" 200 POST /v1/embeddings \
  '{"model": "all-MiniLM-L6-v2", "input": ["hello world", "서울은 대한민국의 수도이다."]}'
cp "$tmp/body" "$tmp/api.json"
expect_status "embeddings, token ids" 200 POST /v1/embeddings '{"model": "all-MiniLM-L6-v2", "input": [7592, 2088]}'
cp "$tmp/body" "$tmp/ids.json"
expect_status "embeddings, base64 and dimensions" 200 POST /v1/embeddings \
  '{"input": "hello world", "encoding_format": "base64", "dimensions": 64}'
cp "$tmp/body" "$tmp/b64.json"
py 'import json,sys,base64,struct,math
cli=json.load(open(sys.argv[1]))["embeddings"]
api=json.load(open(sys.argv[2]))
assert api["object"]=="list" and api["model"]=="all-MiniLM-L6-v2"
assert [d["index"] for d in api["data"]]==[0,1]
for c,d in zip(cli, api["data"]):
    assert d["object"]=="embedding" and len(d["embedding"])==384
    assert max(abs(a-b) for a,b in zip(c, d["embedding"])) < 1e-6, "differs from simile embed"
assert api["usage"]["prompt_tokens"]==api["usage"]["total_tokens"]>=4+3, api["usage"]
ids=json.load(open(sys.argv[3]))["data"][0]["embedding"]
assert max(abs(a-b) for a,b in zip(cli[0], ids)) < 1e-6, "token ids [7592, 2088] differ from the text hello world"
b=json.load(open(sys.argv[4]))["data"][0]["embedding"]
v=struct.unpack("<64f", base64.b64decode(b))
c64=json.load(open(sys.argv[5]))["embeddings"][0]
assert max(abs(a-b) for a,b in zip(v, c64)) < 1e-6, "base64 / dimensions differ from simile embed --dimensions 64"
assert abs(math.sqrt(sum(x*x for x in v))-1) < 1e-5' \
  "$tmp/cli.json" "$tmp/api.json" "$tmp/ids.json" "$tmp/b64.json" "$tmp/cli64.json" || fail "embeddings values"

# ---- bad requests: a 4xx JSON error each, the server still up ----
expect_status "input a number" 400 POST /v1/embeddings '{"input": 5}'
expect_status "input empty" 400 POST /v1/embeddings '{"input": []}'
expect_status "input mixed" 400 POST /v1/embeddings '{"input": ["a", 3]}'
expect_status "negative token" 400 POST /v1/embeddings '{"input": [1, -2]}'
expect_status "token outside the vocabulary" 400 POST /v1/embeddings '{"input": [[101, 999999999]]}'
expect_status "encoding_format" 400 POST /v1/embeddings '{"input": "a", "encoding_format": "xml"}'
expect_status "dimensions too large" 400 POST /v1/embeddings '{"input": "a", "dimensions": 385}'
expect_status "dimensions zero" 400 POST /v1/embeddings '{"input": "a", "dimensions": 0}'
expect_status "unknown model" 404 POST /v1/embeddings '{"input": "a", "model": "text-embedding-3-small"}'
grep -q model_not_found "$tmp/body" || fail "unknown model without code model_not_found"
expect_status "not JSON" 400 POST /v1/embeddings '{"input": '
expect_status "empty body" 400 POST /v1/embeddings ''
expect_status "JSON array body" 400 POST /v1/embeddings '["a"]'
expect_status "too many inputs" 400 POST /v1/embeddings \
  "{\"input\": [$(python3 -c 'print(",".join(["\"x\""]*51))')]}"
python3 -c 'import json; print(json.dumps({"input": "x" * 300000}))' >"$tmp/big.json"
expect_status "body too large" 413 POST /v1/embeddings "$(cat "$tmp/big.json")"
expect_status "unknown route" 404 GET /v2/nothing
expect_status "wrong method" 404 GET /v1/embeddings
expect_status "rerank without a model" 400 POST /v1/rerank '{"query": "q", "documents": ["a"]}'
expect_status "still up" 200 GET /health

# ---- collections ----
expect_status "create" 201 POST /collections '{"name": "docs"}'
expect_status "create again" 409 POST /collections '{"name": "docs"}'
expect_status "bad name" 400 POST /collections '{"name": "../etc"}'
expect_status "model path" 400 POST /collections '{"name": "x", "model": "/etc"}'
ten_subjects "$tmp/ten.jsonl"
python3 -c 'import json,sys
docs=[json.loads(l) for l in open(sys.argv[1])]
for i,d in enumerate(docs): d["title"]=d["id"].title(); d["meta"]={"n": i}
docs.append({"id": "seoul", "title": "서울", "text": "서울은 대한민국의 수도이며 한강이 도시를 가로지른다.", "meta": {"n": 10}})
print(json.dumps({"documents": docs}))' "$tmp/ten.jsonl" >"$tmp/upsert.json"
expect_status "upsert" 200 POST /collections/docs/documents "$(cat "$tmp/upsert.json")"
py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["added"]==11 and d["chunks"]==11, d' "$tmp/body" \
  || fail "upsert summary"
expect_status "upsert again" 200 POST /collections/docs/documents "$(cat "$tmp/upsert.json")"
py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["unchanged"]==11 and d["added"]==0, d' "$tmp/body" \
  || fail "unchanged documents re-embedded"
expect_status "upsert without id" 400 POST /collections/docs/documents '{"documents": [{"text": "x"}]}'
expect_status "upsert meta not an object" 400 POST /collections/docs/documents \
  '{"documents": [{"id": "x", "text": "x", "meta": [1]}]}'
for mode in hybrid dense bm25; do
  expect_status "search $mode" 200 POST /collections/docs/search "{\"query\": \"flour eggs noodles\", \"mode\": \"$mode\", \"k\": 3}"
  # BM25 finds only the documents holding a query term (pasta alone here).
  py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["results"][0]["id"]=="pasta" and 1<=len(d["results"])<=3, d' \
    "$tmp/body" || fail "search $mode: pasta not first"
done
expect_status "search Korean" 200 POST /collections/docs/search '{"query": "한국의 수도는 어디인가", "k": 1, "mode": "dense"}'
grep -q '"seoul"' "$tmp/body" || fail "Korean search: $(head -c 300 "$tmp/body")"
expect_status "search filter" 200 POST /collections/docs/search '{"query": "animals", "filter": "n >= 4 and n <= 5", "k": 5}'
py 'import json,sys; d=json.load(open(sys.argv[1])); assert {h["id"] for h in d["results"]}=={"cat","dog"}, d' \
  "$tmp/body" || fail "search filter"
expect_status "search explain" 200 POST /collections/docs/search '{"query": "dough", "mode": "bm25", "explain": true}'
grep -q '"explain"' "$tmp/body" || fail "explain missing"
expect_status "search mmr" 200 POST /collections/docs/search '{"query": "food", "mmr": 0.5, "k": 2}'
expect_status "search bad mode" 400 POST /collections/docs/search '{"query": "x", "mode": "magic"}'
expect_status "search k 0" 400 POST /collections/docs/search '{"query": "x", "k": 0}'
expect_status "search k huge" 400 POST /collections/docs/search '{"query": "x", "k": 100000000000}'
expect_status "search bad filter" 400 POST /collections/docs/search '{"query": "x", "filter": "n >>> 3"}'
expect_status "search no query" 400 POST /collections/docs/search '{"k": 3}'
expect_status "search rerank without model" 400 POST /collections/docs/search '{"query": "x", "rerank": true}'
expect_status "search missing collection" 404 POST /collections/nope/search '{"query": "x"}'
expect_status "similar" 200 GET "/collections/docs/documents/cat/similar?k=2"
py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["results"][0]["id"]=="dog" and len(d["results"])==2, d' \
  "$tmp/body" || fail "similar to cat"
expect_status "similar bad k" 400 GET "/collections/docs/documents/cat/similar?k=abc"
expect_status "similar missing" 404 GET "/collections/docs/documents/nope/similar"
expect_status "get" 200 GET /collections/docs/documents/seoul
py 'import json,sys; d=json.load(open(sys.argv[1])); assert d["title"]=="서울" and d["meta"]=={"n": 10}, d' \
  "$tmp/body" || fail "get document"
expect_status "related lists" 200 POST /collections/docs/related '{"k": 3}'
expect_status "related" 200 GET /collections/docs/documents/moon/related
grep -q '"mars"' "$tmp/body" || fail "moon's related lacks mars: $(head -c 300 "$tmp/body")"
expect_status "delete" 200 DELETE /collections/docs/documents/python
expect_status "deleted is gone" 404 GET /collections/docs/documents/python
expect_status "delete again" 404 DELETE /collections/docs/documents/python
expect_status "delete many" 200 POST /collections/docs/documents/delete '{"ids": ["sql", "nope"]}'
grep -q '"deleted":1' "$tmp/body" || fail "delete many count"
expect_status "info" 200 GET /collections/docs
grep -q '"documents":9' "$tmp/body" || fail "info documents: $(cat "$tmp/body")"
expect_status "list" 200 GET /collections
expect_status "create scratch" 201 POST /collections '{"name": "scratch", "model": "none"}'
expect_status "drop" 200 DELETE /collections/scratch
expect_status "dropped" 404 GET /collections/scratch

# ---- metrics ----
expect_status "metrics" 200 GET /metrics
for line in 'simile_http_requests_total{route="embeddings",status="200"}' \
  'simile_http_requests_total{route="unauthorized",status="401"}' \
  'simile_collection_documents{collection="docs"} 9' 'simile_embedding_batch_inputs_count' \
  'simile_embedding_queue_tokens{model="all-MiniLM-L6-v2"}' 'simile_http_request_seconds_bucket{route="search",le="+Inf"}'; do
  grep -qF "$line" "$tmp/body" || fail "metrics lack $line"
done

# ---- SIGTERM with a request in flight: it is answered, then the server exits 0 ----
python3 -c 'import json; print(json.dumps({"input": ["a fairly long sentence about the weather, number %d, " % i * 8 for i in range(48)]}))' \
  >"$tmp/slow.json"
curl -s -o "$tmp/slow.out" -w '%{http_code}' -H "Authorization: Bearer $API_KEY" -H 'Content-Type: application/json' \
  --data-binary @"$tmp/slow.json" \
  "$SERVER_URL/v1/embeddings" >"$tmp/slow.code" &
curl_pid=$!
sleep 0.2
stop_server
wait "$curl_pid" || true
[ "$(cat "$tmp/slow.code")" = 200 ] || fail "the request in flight at SIGTERM got HTTP $(cat "$tmp/slow.code")"
py 'import json,sys; d=json.load(open(sys.argv[1])); assert len(d["data"])==48' "$tmp/slow.out" \
  || fail "the request in flight at SIGTERM lost data"

# ---- restart: the documents are there ----
start_server --db "$tmp/db.sqlite" --api-key-file "$tmp/key"
expect_status "search after restart" 200 POST /collections/docs/search '{"query": "planet with volcano", "k": 1}'
grep -q '"mars"' "$tmp/body" || fail "after restart: $(head -c 300 "$tmp/body")"
stop_server
finish
