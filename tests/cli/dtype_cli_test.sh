# --dtype int8: simile embed, and collections that remember their precision.
. "$(dirname "$0")/lib.sh"
# The int8 weights cache goes into a private home (models linked from the shared one).
mkdir -p "$tmp/home"
ln -s "$SIMILE_HOME/models" "$tmp/home/models"
SIMILE_HOME="$tmp/home"
export SIMILE_HOME
db="$tmp/c.db"

"$SIMILE_BIN" embed "Python can make you rich." "Mastering Python can fill your pockets." >"$tmp/fp32.json"
"$SIMILE_BIN" embed --dtype int8 "Python can make you rich." "Mastering Python can fill your pockets." >"$tmp/int8.json"
ls "$tmp/home/quantized/"all-MiniLM-L6-v2-*.int8 >/dev/null || fail "no int8 cache file written"
python3 -c 'import json,sys
a=json.load(open(sys.argv[1]))["embeddings"]; b=json.load(open(sys.argv[2]))["embeddings"]
for x,y in zip(a,b):
  c=sum(p*q for p,q in zip(x,y)); assert c>0.99, c
assert a!=b' "$tmp/fp32.json" "$tmp/int8.json" || fail "int8 vectors not close to fp32"

expect_fail "unknown dtype" "unknown dtype 'int4': choose fp32 or int8" "$SIMILE_BIN" embed --dtype int4 hello
expect_fail "unknown dtype in add" "unknown dtype" "$SIMILE_BIN" add q8 --dtype fp16 --db "$db"

# A collection built in int8 searches in int8 without being told, and refuses fp32.
printf '{"id":"py","text":"Python can make you rich."}\n{"id":"cat","text":"The cat sleeps on the sofa."}\n' >"$tmp/d.jsonl"
"$SIMILE_BIN" add q8 "$tmp/d.jsonl" --id-field id --dtype int8 --db "$db" -q
"$SIMILE_BIN" collections info q8 --json --db "$db" | grep -q '"dtype": *"int8"' || fail "collection dtype not int8"
"$SIMILE_BIN" search q8 "earning money with programming" --mode dense --json --db "$db" | python3 -c 'import json,sys
j=json.load(sys.stdin); assert j["results"][0]["id"]=="py", j' || fail "int8 search"
expect_fail "fp32 on an int8 collection" "holds vectors computed in int8" \
  "$SIMILE_BIN" search q8 "money" --dtype fp32 --db "$db"
# reembed switches the precision.
"$SIMILE_BIN" reembed q8 --dtype fp32 --db "$db" -q
"$SIMILE_BIN" collections info q8 --json --db "$db" | grep -q '"dtype": *"fp32"' || fail "reembed to fp32"

# simile eval alternates precisions on one BEIR folder: int8 gets its own collection.
b="$tmp/tiny"
mkdir -p "$b/qrels"
printf '{"_id":"d1","text":"Flutter of thin wings at supersonic speeds."}\n{"_id":"d2","text":"Heat transfer to a blunt body in hypersonic flow."}\n' >"$b/corpus.jsonl"
printf '{"_id":"1","text":"wing flutter"}\n' >"$b/queries.jsonl"
printf 'query-id\tcorpus-id\tscore\n1\td1\t1\n' >"$b/qrels/test.tsv"
"$SIMILE_BIN" eval --beir "$b" --mode dense --db "$db" >/dev/null || fail "eval fp32"
"$SIMILE_BIN" eval --beir "$b" --mode dense --dtype int8 --db "$db" >/dev/null || fail "eval int8 after fp32"
"$SIMILE_BIN" collections info eval-tiny-int8 --json --db "$db" | grep -q '"dtype": *"int8"' || fail "eval's int8 collection"
"$SIMILE_BIN" collections info eval-tiny --json --db "$db" | grep -q '"dtype": *"fp32"' || fail "eval's fp32 collection kept"
finish
