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
db="$here/build/quickstart.db"
rm -f "$db" "$db-wal" "$db-shm"
echo "== indexing the sample corpus ($(wc -l < "$corpus") one-line documents) into collection 'sample' ($db)"
(cd "$here/scripts" && "$simile" add sample sample_corpus.txt --format lines --db "$db")  # ids: sample_corpus.txt:LINE
echo
echo "== searching it: by meaning and keywords together (hybrid, the default)"
for q in "How can I log in again after losing my password?" "a sleepy cat" "baking instructions" \
         "where did I put my keys"; do
  echo "query: $q"
  "$simile" search sample "$q" -k 3 --db "$db"
done
echo
echo "== the same collection by keywords (BM25), with each term's part of the score"
"$simile" search sample "password reset" --mode bm25 -k 2 --explain --db "$db"
echo
echo "== indexing simile's own documentation (markdown, chunked at headings) and asking it"
"$simile" add docs "$here/README.md" "$here/docs" --db "$db"
"$simile" search docs "how are vectors stored on disk?" -k 3 --db "$db"
"$simile" collections list --db "$db"
