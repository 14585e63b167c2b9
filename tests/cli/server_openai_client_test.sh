# The official `openai` npm client, pointed at `simile serve`, gets the
# vectors `simile embed` prints (tests/server/openai_client.mjs).
. "$(dirname "$0")/lib.sh"
: "${SIMILE_NODE_DIR:?}" "${SIMILE_SOURCE_DIR:?}"

texts='["hello world", "서울은 대한민국의 수도이다.", "The quick brown fox jumps over the lazy dog.", ""]'
python3 -c 'import json,sys; [print(json.dumps(t)) for t in json.loads(sys.argv[1])]' "$texts" >"$tmp/texts.jsonl"
"$SIMILE_BIN" embed --jsonl - <"$tmp/texts.jsonl" >"$tmp/full.json"
"$SIMILE_BIN" embed --jsonl --dimensions 64 - <"$tmp/texts.jsonl" >"$tmp/d64.json"
python3 -c 'import json,sys
print(json.dumps({"texts": json.loads(sys.argv[1]), "full": json.load(open(sys.argv[2]))["embeddings"],
                  "dims64": json.load(open(sys.argv[3]))["embeddings"]}))' "$texts" "$tmp/full.json" "$tmp/d64.json" \
  >"$tmp/expected.json"

printf 'client-key\n' >"$tmp/key"
start_server --db "$tmp/db.sqlite" --api-key-file "$tmp/key"
node "$SIMILE_SOURCE_DIR/tests/server/openai_client.mjs" --node-dir "$SIMILE_NODE_DIR" --base-url "$SERVER_URL" \
  --api-key client-key --expected "$tmp/expected.json" || fail "openai client"
stop_server
finish
