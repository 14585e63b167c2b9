# simile embed / similarity / models / tokenize, end to end on the default model.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }

# JSON output: one 384-d unit vector per text.
"$SIMILE_BIN" embed "hello world" "café naïve" >"$tmp/e.json"
py 'import json,sys,math
j=json.load(open(sys.argv[1])); e=j["embeddings"]
assert j["dims"]==384 and len(e)==2 and all(len(v)==384 for v in e), j.keys()
for v in e: assert abs(math.sqrt(sum(x*x for x in v))-1)<1e-4' "$tmp/e.json" || fail "embed json"

# stdin, jsonl and npy agree with each other and with argument order.
printf 'first line\nsecond line\n\n' | "$SIMILE_BIN" embed --format jsonl - >"$tmp/e.jsonl"
printf 'first line\nsecond line\n\n' | "$SIMILE_BIN" embed --format npy -o "$tmp/e.npy" -
"$SIMILE_BIN" embed --format jsonl "second line" >"$tmp/second.jsonl"
py 'import json,sys,struct
rows=[json.loads(l) for l in open(sys.argv[1])]
assert len(rows)==3, len(rows)
b=open(sys.argv[2],"rb").read(); assert b[:6]==b"\x93NUMPY"
hl=struct.unpack("<H",b[8:10])[0]; hdr=b[10:10+hl].decode()
assert "(3, 384)" in hdr and "<f4" in hdr, hdr
v=struct.unpack("<%df"%(3*384), b[10+hl:])
assert max(abs(v[i]-rows[i//384][i%384]) for i in range(3*384)) < 1e-6
second=json.loads(open(sys.argv[3]).readline())
assert max(abs(a-b) for a,b in zip(second, rows[1])) < 1e-5' "$tmp/e.jsonl" "$tmp/e.npy" "$tmp/second.jsonl" \
  || fail "stdin/jsonl/npy consistency"

# --no-normalize: mean pooling without the Normalize module is not unit length.
"$SIMILE_BIN" embed --no-normalize --format jsonl "hello world" >"$tmp/raw.jsonl"
py 'import json,sys,math
v=json.loads(open(sys.argv[1]).readline()); n=math.sqrt(sum(x*x for x in v))
assert abs(n-1)>1e-2, n' "$tmp/raw.jsonl" || fail "--no-normalize still normalised"

# The seeds' sanity example.
"$SIMILE_BIN" similarity --json "Python can make you rich." "Python can make you itch." \
  "Mastering Python can fill your pockets." >"$tmp/sim.json"
py 'import json,sys
m=json.load(open(sys.argv[1]))["matrix"]
assert m[0][2] > m[0][1], m
assert abs(m[0][2]-0.651431)<1e-4 and abs(m[0][1]-0.504374)<1e-4, m' "$tmp/sim.json" || fail "seed sanity example"
"$SIMILE_BIN" similarity "a cat" "a kitten" | grep -q "cosine" || fail "similarity table"
for metric in dot l2 pearson; do
  "$SIMILE_BIN" similarity --metric $metric --json "a cat" "a kitten" >/dev/null || fail "metric $metric"
done

# Models.
"$SIMILE_BIN" models list | grep -q "all-MiniLM-L6-v2" || fail "models list"
"$SIMILE_BIN" models info --json all-MiniLM-L6-v2 >"$tmp/info.json"
py 'import json,sys
m=json.load(open(sys.argv[1]))
assert (m["dims"],m["max_tokens"],m["pooling"],m["normalize"],m["layers"])==(384,256,"mean",True,6), m
assert m["dtype"]=="F16", m' "$tmp/info.json" || fail "models info"
dir=$(py 'import json,sys; print(json.load(open(sys.argv[1]))["dir"])' "$tmp/info.json")
"$SIMILE_BIN" models info "$dir" | grep -q "384" || fail "models info by directory"

# Tokenize: special tokens in text, and the model's truncation.
"$SIMILE_BIN" tokenize --json "what is [MASK]?" | grep -q '103' || fail "tokenize [MASK]"
long=$(py 'print("word " * 600)')
"$SIMILE_BIN" tokenize --json "$long" | grep -q '"count":256' || fail "tokenize truncates at the model's 256"

# Bad input: clear errors, no crash.
expect_fail "unknown model dir" "no such|not found|does not exist" "$SIMILE_BIN" embed --model /nonexistent/model "x"
expect_fail "unknown pull" "unknown model.*all-MiniLM-L6-v2" "$SIMILE_BIN" models pull no-such-model
expect_fail "bad pooling" "pooling" "$SIMILE_BIN" embed --pooling median "x"
expect_fail "one text for similarity" "at least two" "$SIMILE_BIN" similarity "only one"
expect_fail "unknown prompt" "prompt" "$SIMILE_BIN" embed --prompt query "x"
mkdir -p "$tmp/broken" && echo '{}' >"$tmp/broken/config.json"
expect_fail "config without a model type" "model_type" "$SIMILE_BIN" embed --model "$tmp/broken" "x"
cp "$dir/config.json" "$dir/tokenizer.json" "$tmp/broken/"
expect_fail "model dir without weights" "safetensors" "$SIMILE_BIN" embed --model "$tmp/broken" "x"
head -c 1000 "$dir/model.safetensors" >"$tmp/broken/model.safetensors"
expect_fail "truncated weights" "safetensors|truncated|corrupt" "$SIMILE_BIN" embed --model "$tmp/broken" "x"
# Invalid UTF-8 is replaced, not fatal.
printf 'ok \377\376 bytes\n' | "$SIMILE_BIN" embed --format jsonl - >/dev/null || fail "invalid UTF-8 on stdin"
finish
