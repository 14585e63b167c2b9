# --dimensions (Matryoshka truncation) on embed, similarity and add, and
# prompts on embed: --prompt NAME, the model's default_prompt_name, --no-prompt,
# instruction templates with newlines.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
db="$tmp/c.db"

# embed --dimensions: the first N values of the full vector, renormalised.
"$SIMILE_BIN" embed --format jsonl "hello world" >"$tmp/full.jsonl" || fail "embed"
"$SIMILE_BIN" embed --dimensions 64 "hello world" >"$tmp/cut.json" || fail "embed --dimensions"
py 'import json,math,sys
full=json.loads(open(sys.argv[1]).readline()); j=json.load(open(sys.argv[2]))
assert j["dims"]==64 and len(j["embeddings"][0])==64, j["dims"]
n=math.sqrt(sum(x*x for x in full[:64]))
assert max(abs(a-b/n) for a,b in zip(j["embeddings"][0], full[:64]))<1e-6' "$tmp/full.jsonl" "$tmp/cut.json" \
  || fail "--dimensions is not the renormalised prefix"
"$SIMILE_BIN" similarity --dimensions 32 --json "a cat" "a kitten" >"$tmp/sim.json" || fail "similarity --dimensions"
expect_fail "too many dimensions" "dimensions 385 is out of range.*choose 1 to 384" "$SIMILE_BIN" embed --dimensions 385 x
set +e
"$SIMILE_BIN" embed --dimensions 0 x >/dev/null 2>&1
[ $? -eq 2 ] || fail "--dimensions 0 is a usage error"
set -e

# A collection created with --dimensions keeps them: queries are cut the same way.
printf 'Use logrotate to compress and rotate log files every week.\nThe coffee machine is cleaned on Fridays.\n' \
  >"$tmp/docs.txt"
"$SIMILE_BIN" add small "$tmp/docs.txt" --format lines --dimensions 48 --db "$db" -q || fail "add --dimensions"
"$SIMILE_BIN" collections info small --json --db "$db" >"$tmp/info.json" || fail "collections info"
py 'import json,sys; assert json.load(open(sys.argv[1]))["dims"]==48' "$tmp/info.json" || fail "collection dims"
"$SIMILE_BIN" search small "how do I compress old logs?" -k 1 --json --db "$db" >"$tmp/hits.json" || fail "search"
py 'import json,sys; h=json.load(open(sys.argv[1]))["results"]; assert "logrotate" in h[0]["chunk"], h' "$tmp/hits.json" \
  || fail "search of a truncated collection"
expect_fail "other dimensions" "holds 48-dimensional vectors" \
  "$SIMILE_BIN" add small "$tmp/docs.txt" --format lines --dimensions 32 --db "$db" -q

# Prompts: a model beside the default one whose prompts hold newlines, with a default.
"$SIMILE_BIN" models info --json all-MiniLM-L6-v2 >"$tmp/model.json" || fail "models info"
model=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["dir"])' "$tmp/model.json")
m="$tmp/model"
mkdir -p "$m"
for f in "$model"/*; do ln -s "$f" "$m/"; done
rm "$m/config_sentence_transformers.json"
cat >"$m/config_sentence_transformers.json" <<'EOF2'
{"prompts": {"query": "Instruct: Given a question, find the passage\nQuery: ", "passage": "passage: "},
 "default_prompt_name": "query"}
EOF2
instruct=$(printf 'Instruct: Given a question, find the passage\nQuery: how do planes fly?')
"$SIMILE_BIN" embed -m "$m" --format jsonl "how do planes fly?" >"$tmp/default.jsonl" || fail "embed, default prompt"
"$SIMILE_BIN" embed -m "$m" --format jsonl --prompt query "how do planes fly?" >"$tmp/named.jsonl" || fail "--prompt"
"$SIMILE_BIN" embed -m "$m" --format jsonl --no-prompt "$instruct" >"$tmp/literal.jsonl" || fail "--no-prompt"
"$SIMILE_BIN" embed -m "$m" --format jsonl --no-prompt "how do planes fly?" >"$tmp/bare.jsonl" || fail "bare"
"$SIMILE_BIN" embed -m "$m" --format jsonl --prompt passage "how do planes fly?" >"$tmp/passage.jsonl" || fail "passage"
"$SIMILE_BIN" embed -m "$m" --format jsonl --no-prompt "passage: how do planes fly?" >"$tmp/passage2.jsonl" || fail "p2"
py 'import json,sys
v=[json.loads(open(p).readline()) for p in sys.argv[1:]]
d=lambda a,b: max(abs(x-y) for x,y in zip(a,b))
default,named,literal,bare,passage,passage2=v
assert d(default,named)<1e-6 and d(default,literal)<1e-5, "default_prompt_name not applied"
assert d(default,bare)>1e-3, "--no-prompt still prompted"
assert d(passage,passage2)<1e-5 and d(passage,default)>1e-3, "--prompt passage"' \
  "$tmp/default.jsonl" "$tmp/named.jsonl" "$tmp/literal.jsonl" "$tmp/bare.jsonl" "$tmp/passage.jsonl" \
  "$tmp/passage2.jsonl" || fail "prompts"
expect_fail "unknown prompt" "no prompt 'title'.*query, passage" "$SIMILE_BIN" embed -m "$m" --prompt title x
set +e
"$SIMILE_BIN" embed -m "$m" --prompt query --no-prompt x >/dev/null 2>&1
[ $? -eq 2 ] || fail "--prompt with --no-prompt is a usage error"
set -e
finish
