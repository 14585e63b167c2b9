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
echo "== the closest pairs in the sample corpus"
"$simile" similarity --json - < "$corpus" | python3 -c '
import json, sys
j = json.load(sys.stdin)
t, m = j["texts"], j["matrix"]
pairs = sorted(((m[i][k], i, k) for i in range(len(t)) for k in range(i + 1, len(t))), reverse=True)
for s, i, k in pairs[:5]:
    print("%.3f  %s\n       %s" % (s, t[i], t[k]))
'
