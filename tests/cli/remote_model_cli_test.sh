# Remote embedders: a collection backed by an OpenAI-compatible embeddings
# endpoint, here simile's own server on loopback serving the default model.
# Its vectors must be the local model's (same model, same numbers), searches
# must find what a local collection finds, and the endpoint is kept with the
# collection. Then the failures: a missing API key variable, a service that
# fails a few times (retried), one whose vectors change size, one that is
# gone.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
db="$tmp/db.sqlite"
ten_subjects "$tmp/ten.jsonl"

start_server
model="openai:all-MiniLM-L6-v2"

# The same texts embedded locally and through the server: equal vectors.
"$SIMILE_BIN" embed "how do planes fly?" "bread dough" >"$tmp/local.json" || fail "embed locally"
"$SIMILE_BIN" embed --model "$model" --base-url "$SERVER_URL" "how do planes fly?" "bread dough" \
  >"$tmp/remote.json" 2>"$tmp/err" || fail "embed through the server: $(cat "$tmp/err")"
py 'import json,sys
a=json.load(open(sys.argv[1])); b=json.load(open(sys.argv[2]))
assert b["model"]=="openai:all-MiniLM-L6-v2" and b["dims"]==384, b["model"]
va=a["embeddings"]; vb=b["embeddings"]
assert len(va)==len(vb)==2, (len(va), len(vb))
for x,y in zip(va,vb):
  assert len(x)==len(y)==384
  assert max(abs(p-q) for p,q in zip(x,y)) < 1e-5' "$tmp/local.json" "$tmp/remote.json" || fail "remote vectors differ from local ones"

# A collection of the remote model, and a local one of the same texts.
"$SIMILE_BIN" add --db "$db" remote "$tmp/ten.jsonl" --id-field id --model "$model" --base-url "$SERVER_URL" \
  >/dev/null 2>"$tmp/err" || fail "add to a remote collection: $(cat "$tmp/err")"
"$SIMILE_BIN" add --db "$db" local "$tmp/ten.jsonl" --id-field id >/dev/null 2>&1 || fail "add locally"
"$SIMILE_BIN" collections info --db "$db" remote --json >"$tmp/info.json" 2>/dev/null || fail "info"
py 'import json,sys
i=json.load(open(sys.argv[1])); url=sys.argv[2]
assert i["model"]=="openai:all-MiniLM-L6-v2" and i["dims"]==384 and i["documents"]==10, i
assert i["remote"]["base_url"]==url+"/v1/embeddings", i["remote"]
assert i["model_fingerprint"].startswith("remote-"), i' "$tmp/info.json" "$SERVER_URL" || fail "remote collection info"
for c in remote local; do
  "$SIMILE_BIN" search --db "$db" "$c" "how do planes fly?" --mode dense -k 3 --json >"$tmp/$c.json" \
    2>"$tmp/err" || fail "search $c: $(cat "$tmp/err")"
done
py 'import json,sys
r=json.load(open(sys.argv[1]))["results"]; l=json.load(open(sys.argv[2]))["results"]
assert [h["id"] for h in r]==[h["id"] for h in l], (r, l)
assert r[0]["id"] in ("wing", "jet"), r
for a,b in zip(r,l): assert abs(a["score"]-b["score"])<1e-5, (a, b)' "$tmp/remote.json" "$tmp/local.json" \
  || fail "remote and local searches differ"

# A key variable that is named but not set.
expect_fail "unset API key variable" "SIMILE_TEST_NO_SUCH_KEY" \
  "$SIMILE_BIN" embed --model "$model" --base-url "$SERVER_URL" --api-key-env SIMILE_TEST_NO_SUCH_KEY "text"
# A remote model is for collections, not for serving.
expect_fail "serve a remote model" "remote model" "$SIMILE_BIN" serve --port 0 --model "$model"
expect_fail "not a URL" "http" "$SIMILE_BIN" embed --model "$model" --base-url "ftp://example.com" "text"
stop_server

# The service is gone: a clear error naming it, after the retries.
expect_fail "service gone" "$SERVER_URL" "$SIMILE_BIN" search --db "$db" remote "planes" --mode dense
# Hybrid search still needs the query's vector: the same error, not a crash.
expect_fail "service gone, hybrid" "cannot connect|connect" "$SIMILE_BIN" search --db "$db" remote "planes"

# A service that fails twice (503, then 429) and then answers: retried.
start_llm_server --dims 8
llm_post /test/fail '{"count": 1, "status": 503}'
"$SIMILE_BIN" add --db "$db" flaky "$tmp/ten.jsonl" --id-field id --model openai:test-embed --base-url "$LLM_URL" \
  >/dev/null 2>"$tmp/err" || fail "add through a flaky service: $(cat "$tmp/err")"
llm_post /test/fail '{"count": 2, "status": 429}'
"$SIMILE_BIN" search --db "$db" flaky "bread" --mode dense -k 1 >/dev/null 2>"$tmp/err" \
  || fail "search through a flaky service: $(cat "$tmp/err")"
[ "$(llm_requests input)" -ge 5 ] || fail "the failed requests were not retried ($(llm_requests input) requests)"

# The collection of 384-dimensional vectors pointed at a service whose model
# gives 8: refused, saying so, and nothing is stored.
echo '{"id": "new", "text": "A new document to embed."}' >"$tmp/new.jsonl"
expect_fail "dimension change" "8-dimensional vectors, not the 384" \
  "$SIMILE_BIN" add --db "$db" remote "$tmp/new.jsonl" --id-field id --base-url "$LLM_URL"
"$SIMILE_BIN" collections info --db "$db" remote --json 2>/dev/null | py 'import json,sys
i=json.load(sys.stdin); assert i["documents"]==10 and i["dims"]==384, i' || fail "the refused add changed the collection"
# The service keeps failing: the error names the status and the service's message.
llm_post /test/fail '{"count": 100, "status": 500}'
expect_fail "service failing" "500" "$SIMILE_BIN" search --db "$db" flaky "bread" --mode dense
finish
