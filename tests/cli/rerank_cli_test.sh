# simile rerank, end to end on the tiny cross-encoder of tests/golden/models
# (random weights, so the order means nothing; the scores must still be the
# PyTorch reference's, and the command's plumbing right).
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
: "${SIMILE_SOURCE_DIR:?run through ctest}" "${SIMILE_SHARED_DIR:?run through ctest}"

# The model directory: the committed files plus the tokenizer from ../shared.
src="$SIMILE_SOURCE_DIR/tests/golden/models/tiny-bert-cross-encoder"  # its reference scores
ce="$tmp/cross-encoder"
tiny_cross_encoder "$ce"

# The reference's pairs for the first query, and its scores.
py 'import json,struct,sys
g=json.load(open(sys.argv[1]+"/golden.json"))
b=open(sys.argv[1]+"/scores.npy","rb").read(); hl=struct.unpack("<H",b[8:10])[0]
s=struct.unpack("<%df"%len(g["pairs"]), b[10+hl:])
q=g["pairs"][0][0]
rows=[(p[1],x) for p,x in zip(g["pairs"],s) if p[0]==q][:6]
open(sys.argv[2]+"/query","w").write(q)
with open(sys.argv[2]+"/docs.jsonl","w") as f:
  for d,_ in rows: f.write(json.dumps(d)+"\n")
json.dump([x for _,x in rows], open(sys.argv[2]+"/expected.json","w"))' "$src" "$tmp"
query=$(cat "$tmp/query")

# Arguments, --file (JSON lines, as the documents hold newlines) and stdin agree,
# and the scores are the reference's.
py 'import json,sys; print("\0".join(json.loads(l) for l in open(sys.argv[1])), end="")' "$tmp/docs.jsonl" \
  | xargs -0 "$SIMILE_BIN" rerank -m "$ce" --json "$query" >"$tmp/args.json" || fail "rerank with arguments"
"$SIMILE_BIN" rerank -m "$ce" --json --jsonl --file "$tmp/docs.jsonl" "$query" >"$tmp/file.json" || fail "rerank --file"
"$SIMILE_BIN" rerank -m "$ce" --json --jsonl "$query" <"$tmp/docs.jsonl" >"$tmp/stdin.json" || fail "rerank stdin"
py 'import json,sys
a,f,s=(json.load(open(p)) for p in sys.argv[1:4])
expected=json.load(open(sys.argv[4])); docs=[json.loads(l) for l in open(sys.argv[5])]
assert a==f==s, (a,f,s)
assert a["activation"]=="sigmoid" and a["model"]=="cross-encoder", a
r=a["results"]; assert len(r)==len(docs)==6, r
assert [x["rank"] for x in r]==list(range(1,7))
assert all(r[i]["score"]>=r[i+1]["score"] for i in range(5)), r
for x in r:
  assert x["document"]==docs[x["index"]], x
  assert abs(x["score"]-expected[x["index"]])<1e-4, (x, expected)' \
  "$tmp/args.json" "$tmp/file.json" "$tmp/stdin.json" "$tmp/expected.json" "$tmp/docs.jsonl" || fail "rerank results"

# --top, plain output in the same order, raw logits with --activation identity.
"$SIMILE_BIN" rerank -m "$ce" --json --jsonl --file "$tmp/docs.jsonl" --top 2 "$query" >"$tmp/top.json" || fail "--top"
"$SIMILE_BIN" rerank -m "$ce" --jsonl --file "$tmp/docs.jsonl" "$query" >"$tmp/plain.txt" || fail "plain"
"$SIMILE_BIN" rerank -m "$ce" --json --jsonl --file "$tmp/docs.jsonl" --activation identity "$query" >"$tmp/logits.json" \
  || fail "--activation identity"
py 'import json,math,sys
full=json.load(open(sys.argv[1]))["results"]; top=json.load(open(sys.argv[2]))["results"]
assert top==full[:2], top
lines=open(sys.argv[3]).read().splitlines(); assert len(lines)==6, lines
for line,x in zip(lines,full):
  rank,score,index=line.split()[:3]
  assert (int(rank[:-1]),index)==(x["rank"],"[%d]"%x["index"]) and abs(float(score)-x["score"])<1e-4, (line,x)
logits={x["index"]:x["score"] for x in json.load(open(sys.argv[4]))["results"]}
for x in full: assert abs(1/(1+math.exp(-logits[x["index"]]))-x["score"])<1e-5, (x, logits)' \
  "$tmp/file.json" "$tmp/top.json" "$tmp/plain.txt" "$tmp/logits.json" || fail "top / plain / logits"

# Usage errors exit 2; other failures 1, with a message saying what is wrong.
expect_exit() {
  want=$1 desc=$2 pattern=$3; shift 3
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
  rc=$?
  set -e
  [ "$rc" -eq "$want" ] || fail "$desc: exit $rc, not $want: $(cat "$tmp/err")"
  grep -Eq -e "$pattern" "$tmp/err" || fail "$desc: stderr lacks /$pattern/: $(cat "$tmp/err")"
}
expect_exit 2 "no documents" "no documents to rerank" "$SIMILE_BIN" rerank -m "$ce" "a query"
expect_exit 2 "no model" "--model is required" "$SIMILE_BIN" rerank "a query" "a document"
expect_exit 2 "no query" "query is required" "$SIMILE_BIN" rerank -m "$ce"
expect_exit 2 "top 0" "--top" "$SIMILE_BIN" rerank -m "$ce" --top 0 "q" "d"
expect_exit 2 "unknown activation" "--activation" "$SIMILE_BIN" rerank -m "$ce" --activation softmax "q" "d"
expect_exit 1 "missing file" "cannot open $tmp/nope" "$SIMILE_BIN" rerank -m "$ce" --file "$tmp/nope" "q"
expect_exit 1 "bad JSON line" "line 2 is not a JSON string" sh -c \
  'printf "\"ok\"\nnot json\n" | "$0" rerank -m "$1" --jsonl q' "$SIMILE_BIN" "$ce"
expect_exit 1 "a bi-encoder" "not a cross-encoder.*BertModel" "$SIMILE_BIN" rerank -m all-MiniLM-L6-v2 "q" "d"
expect_exit 1 "unknown model" "not found" "$SIMILE_BIN" rerank -m "$tmp/no-such-model" "q" "d"
expect_exit 1 "too few tokens" "leaves no room" "$SIMILE_BIN" rerank -m "$ce" --max-tokens 3 "q" "d"
finish
