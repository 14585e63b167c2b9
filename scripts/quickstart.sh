#!/bin/sh
# The main job, from nothing: install dependencies, build, fetch the default
# model (all-MiniLM-L6-v2) and use it on a sample corpus.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
"$here/scripts/build.sh" release
simile="$here/build/simile"

"$simile" models pull all-MiniLM-L6-v2
"$simile" models info all-MiniLM-L6-v2
echo
echo "== similarity (the seeds' example: rich/pockets should beat rich/itch)"
"$simile" similarity "Python can make you rich." "Python can make you itch." \
  "Mastering Python can fill your pockets."
echo
corpus="$here/scripts/sample_corpus.txt"
echo "== embedding the sample corpus ($(wc -l < "$corpus") texts) into sample_corpus.npy"
"$simile" embed --format npy -o "$here/build/sample_corpus.npy" - < "$corpus"
ls -l "$here/build/sample_corpus.npy"
echo
echo "== searching the sample corpus by meaning (top 3 per query)"
"$simile" embed --format jsonl - < "$corpus" > "$here/build/sample_corpus.jsonl"
queries="How can I log in again after losing my password?
a sleepy cat
baking instructions
where did I put my keys"
echo "$queries" | "$simile" embed --format jsonl - > "$here/build/sample_queries.jsonl"
python3 - "$corpus" "$here/build/sample_corpus.jsonl" "$here/build/sample_queries.jsonl" "$queries" <<'PY'
import json, sys
texts = open(sys.argv[1], encoding="utf-8").read().splitlines()
docs = [json.loads(l) for l in open(sys.argv[2])]
qs = [json.loads(l) for l in open(sys.argv[3])]
for q, qv in zip(sys.argv[4].splitlines(), qs):
    scores = sorted(((sum(a * b for a, b in zip(qv, d)), i) for i, d in enumerate(docs)), reverse=True)
    print("query: " + q)
    for s, i in scores[:3]:
        print("  %.3f  %s" % (s, texts[i]))
PY
