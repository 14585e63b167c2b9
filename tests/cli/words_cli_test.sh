#!/bin/sh
# simile words on files made here: training (skip-gram and CBOW) writes
# word2vec text and binary that gensim (Debian python3-gensim) reads with the
# same values and neighbours; convert round-trips; bad input gets a clear
# message and exit status 1 (2 for usage errors), never a crash.
. "$(dirname "$0")/lib.sh"
S=$SIMILE_BIN
gensim_python=/usr/bin/python3

# A corpus with structure: three topics whose words only meet their own.
python3 - "$tmp/corpus.txt" <<'PY'
import random, sys
random.seed(5)
topics = [["wing", "flap", "lift", "drag", "aileron", "rudder", "flight", "pilot"],
          ["bread", "oven", "flour", "dough", "yeast", "crust", "bake", "loaf"],
          ["cat", "dog", "puppy", "kitten", "paw", "fur", "leash", "vet"]]
with open(sys.argv[1], "w") as f:
    for i in range(3000):
        t = topics[i % 3]
        f.write(" ".join(random.choice(t) for _ in range(8)) + "\n")
PY

for model in skipgram cbow; do
  "$S" words train "$tmp/corpus.txt" -o "$tmp/$model.txt" -o "$tmp/$model.bin" --model "$model" --dim 16 \
    --window 3 --epochs 5 --threads 2 --json >"$tmp/$model.json" 2>"$tmp/err" || fail "train $model: $(cat "$tmp/err")"
  python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["corpus_words"] == 24000 and r["vocabulary"] == 24 and r["lines"] == 3000, r' \
    "$tmp/$model.json" || fail "train $model: report"
  # Every word's nearest neighbour shares its topic.
  for w in wing bread cat; do
    "$S" words nearest "$w" --vectors "$tmp/$model.bin" -k 3 --json >"$tmp/near"
    python3 - "$w" "$tmp/near" <<'PY' || fail "train $model: neighbours of $w"
import json, sys
topic = {w: i for i, ws in enumerate([["wing", "flap", "lift", "drag", "aileron", "rudder", "flight", "pilot"],
         ["bread", "oven", "flour", "dough", "yeast", "crust", "bake", "loaf"],
         ["cat", "dog", "puppy", "kitten", "paw", "fur", "leash", "vet"]]) for w in ws}
hits = json.load(open(sys.argv[2]))["hits"]
bad = [h["word"] for h in hits if topic[h["word"]] != topic[sys.argv[1]]]
sys.exit("%s: %s from other topics" % (sys.argv[1], bad) if bad else 0)
PY
  done
  # gensim reads both files, with the same words, order and values.
  "$gensim_python" - "$tmp/$model.txt" "$tmp/$model.bin" <<'PY' || fail "gensim cannot read the $model files"
import sys
import numpy as np
from gensim.models import KeyedVectors
t = KeyedVectors.load_word2vec_format(sys.argv[1], binary=False)
b = KeyedVectors.load_word2vec_format(sys.argv[2], binary=True)
assert t.index_to_key == b.index_to_key and len(t) == 24 and t.vector_size == 16, (len(t), t.vector_size)
assert np.array_equal(t.vectors, b.vectors), "text and binary values differ"
PY
done

# One thread and a seed: the same vectors twice.
"$S" words train "$tmp/corpus.txt" -o "$tmp/a.bin" --dim 8 --epochs 2 --threads 1 --seed 7 -q
"$S" words train "$tmp/corpus.txt" -o "$tmp/b.bin" --dim 8 --epochs 2 --threads 1 --seed 7 -q
cmp -s "$tmp/a.bin" "$tmp/b.bin" || fail "one-thread training with a seed is not reproducible"

# --approximate: an HNSW graph, built once (cached in SIMILE_HOME, here a
# fresh one), then loaded; on 24 words it finds what the exact scan finds.
SIMILE_HOME=$tmp/home; export SIMILE_HOME
"$S" words nearest wing -k 5 --vectors "$tmp/skipgram.bin" --json >"$tmp/exact"
"$S" words nearest wing -k 5 --vectors "$tmp/skipgram.bin" --json --approximate 2>"$tmp/built" >"$tmp/approx"
grep -q "built an HNSW graph of 24 words" "$tmp/built" || fail "--approximate did not build a graph: $(cat "$tmp/built")"
cmp -s "$tmp/exact" "$tmp/approx" || fail "--approximate: $(cat "$tmp/approx"), exact: $(cat "$tmp/exact")"
"$S" words analogy wing flap bread -k 3 --vectors "$tmp/skipgram.bin" --approximate 2>"$tmp/built" >/dev/null
[ ! -s "$tmp/built" ] || fail "--approximate rebuilt a cached graph: $(cat "$tmp/built")"

# convert: text -> binary -> text keeps every value.
"$S" words convert "$tmp/c.bin" --binary --vectors "$tmp/skipgram.txt" 2>/dev/null
"$S" words convert "$tmp/c.txt" --vectors "$tmp/c.bin" 2>/dev/null
cmp -s "$tmp/c.txt" "$tmp/skipgram.txt" || fail "convert does not round-trip"

# GloVe (no header) is recognised; the similarity is the cosine.
printf 'alpha 1 0\nbeta 0.6 0.8\ngamma 0 1\n' >"$tmp/glove.txt"
out=$("$S" words similarity alpha beta --vectors "$tmp/glove.txt")
[ "$out" = "0.6000" ] || fail "GloVe similarity: $out"
out=$("$S" words farthest alpha -k 1 --vectors "$tmp/glove.txt" --json)
echo "$out" | grep -q '"word":"gamma"' || fail "farthest: $out"

# Bad input.
expect_fail "unknown word" "unknown word 'kat'.*close spellings: cat" "$S" words nearest kat --vectors "$tmp/cbow.txt"
expect_fail "unknown word, other case" "close spellings: cat" "$S" words similarity CAT dog --vectors "$tmp/cbow.txt"
printf '2 3\nx 1 2 3\ny 1 2\n' >"$tmp/short.txt"
expect_fail "short line" "line 3: expected 3 numbers after 'y', found 2" "$S" words nearest x --vectors "$tmp/short.txt"
printf '2 2\nx 1 2\ny 1 zz\n' >"$tmp/nan.txt"
expect_fail "not a number" "line 3: 'zz' is not a finite number" "$S" words nearest x --vectors "$tmp/nan.txt"
printf '5 2\nx 1 2\ny 3 4\n' >"$tmp/few.txt"
expect_fail "header promises more" "promises 5 words, the file ends after 2" "$S" words nearest x --vectors "$tmp/few.txt"
head -c 200 "$tmp/skipgram.bin" >"$tmp/cut.bin"
expect_fail "truncated binary" "truncated" "$S" words nearest wing --vectors "$tmp/cut.bin"
printf '{"dimensions": 2, "words": ["a"], "vectors": {"a": [1, 2, 2.2' >"$tmp/bad.json"
expect_fail "broken JSON" "byte [0-9]+" "$S" words nearest a --vectors "$tmp/bad.json"
: >"$tmp/empty.txt"
expect_fail "empty file" "empty" "$S" words nearest a --vectors "$tmp/empty.txt"
expect_fail "missing file" "no word vectors file" "$S" words nearest a --vectors "$tmp/nothing.txt"
expect_fail "bad format name" "unknown word vector format" "$S" words nearest a --vectors "$tmp/glove.txt" --format xml
expect_fail "bad method" "unknown analogy method" "$S" words analogy alpha beta gamma --method sub --vectors "$tmp/glove.txt"
expect_fail "bad model" "skipgram or cbow" "$S" words train "$tmp/corpus.txt" -o "$tmp/x.bin" --model glove
expect_fail "zero dims" "dim must be 1 to 4096" "$S" words train "$tmp/corpus.txt" -o "$tmp/x.bin" --dim 0
expect_fail "min count too high" "no word occurs 100000 times.*--min-count" \
  "$S" words train "$tmp/corpus.txt" -o "$tmp/x.bin" --min-count 100000
printf 'ok words here\n\377\376 broken\n' >"$tmp/latin1.txt"
expect_fail "invalid UTF-8 corpus" "line 2 is not valid UTF-8" "$S" words train "$tmp/latin1.txt" -o "$tmp/x.bin" --min-count 1
expect_fail "missing corpus" "no corpus file" "$S" words train "$tmp/nothing.txt" -o "$tmp/x.bin"
printf 'analogy without a section\n: s\n' >"$tmp/q.txt"
expect_fail "question before a section" "line 1: a question before any" \
  "$S" words eval-analogy "$tmp/q.txt" --vectors "$tmp/glove.txt"
[ ! -e "$tmp/x.bin" ] || fail "a failed training wrote its output"
finish
