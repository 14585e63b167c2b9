# Keyword search and evaluation from the command line: simile search --mode
# bm25|tfidf|bow --explain, keyword-only collections, simile index info|rebuild,
# and simile eval --beir on Cranfield checked against the reference evaluator
# (../shared/peers/ir/ir_eval.py) on the run file it wrote.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
db="$tmp/k.db"
s() { "$SIMILE_BIN" "$@" --db "$db"; }
: "${SIMILE_SHARED_DIR:?run through ctest}"
cran="$SIMILE_SHARED_DIR/data/cranfield"

cat >"$tmp/parts.jsonl" <<'EOF2'
{"id": "a", "title": "Filters", "text": "Replace filter XJ-2041 every 500 hours.", "shelf": 1}
{"id": "b", "title": "Pumps", "text": "The pump XJ-2040 runs quietly; pumps need oil.", "shelf": 2}
{"id": "c", "title": "장마", "text": "북태평양 기단과 오호츠크해 기단이 만나 장마 전선이 생긴다.", "shelf": 2}
EOF2
s add parts "$tmp/parts.jsonl" --model none --id-field id -q || fail "keyword-only add"
s search parts "XJ-2041" --json >"$tmp/h.json" || fail "bm25 search"
py 'import json,sys; h=json.load(open(sys.argv[1]))["results"]; assert [x["id"] for x in h]==["a","b"], h' "$tmp/h.json" \
  || fail "exact part number: $(cat "$tmp/h.json")"
s search parts "북태평양 기단" -k 1 | grep -q "c  장마" || fail "Korean bigrams"
s search parts "pump oil" --mode tfidf --explain --json >"$tmp/e.json" || fail "tfidf explain"
py 'import json,sys
h=json.load(open(sys.argv[1]))["results"][0]
assert h["id"]=="b", h
terms={t["term"]:t for t in h["explain"]["terms"]}
assert set(terms)=={"pump","oil"}, terms
assert terms["pump"]["document_count"]==3 and terms["oil"]["df"]==1, terms
assert abs(sum(t["score"] for t in terms.values())-h["score"])<1e-4, h' "$tmp/e.json" || fail "explanation $(cat "$tmp/e.json")"
s search parts "pump oil" --mode bm25 --explain | grep -Eq "pump +query x1 +in document x3" || fail "plain explain"
s search parts "pump" --mode bow --filter 'shelf = 1' | grep -q "no results" || fail "bow with a filter"
s search parts "... --- ?!" | grep -q "no results" || fail "punctuation-only query"
s index info parts --json >"$tmp/i.json" || fail "index info"
py 'import json,sys; j=json.load(open(sys.argv[1])); assert j["documents"]==3 and "stemmer=english" in j["analyzer"], j' \
  "$tmp/i.json" || fail "index info: $(cat "$tmp/i.json")"
s index rebuild parts --analyzer simple --json >"$tmp/r.json" || fail "rebuild"
py 'import json,sys; j=json.load(open(sys.argv[1])); assert j["documents"]==3 and "stemmer=none" in j["analyzer"], j' \
  "$tmp/r.json" || fail "rebuild: $(cat "$tmp/r.json")"
s search parts "pumps" --json | py 'import json,sys; assert [x["id"] for x in json.load(sys.stdin)["results"]]==["b"]' \
  || fail "exact word after rebuild"

expect_fail "dense on keyword-only" "keyword-only" s search parts "pump" --mode dense
expect_fail "unknown mode" "mode" s search parts "pump" --mode fuzzy
expect_fail "bad analyzer" "klingon" s add other "$tmp/parts.jsonl" --model none --id-field id --analyzer stemmer=klingon
expect_fail "analyzer mismatch" "index rebuild" s add parts "$tmp/parts.jsonl" --id-field id --analyzer german
expect_fail "bad b" "b" s search parts "pump" --b 2
expect_fail "not a BEIR folder" "corpus.jsonl" s eval --beir "$tmp" --model none

# Evaluation: our metrics equal the reference evaluator's on the same run file.
s eval --beir "$cran" --model none --json -q --run "$tmp/run.trec" >"$tmp/eval.json" || fail "eval"
python3 "$SIMILE_SHARED_DIR/peers/ir/ir_eval.py" "$cran/qrels/test.tsv" "$tmp/run.trec" --json >"$tmp/ref.json" \
  || fail "ir_eval.py"
py 'import json,sys
ours=json.load(open(sys.argv[1])); ref=json.load(open(sys.argv[2]))
for m in ["nDCG@10","MRR@10","MAP@100","R@10","R@100"]:
    assert abs(ours["metrics"][m]-ref["metrics"][m])<1e-6, (m, ours["metrics"], ref["metrics"])
assert ours["info"]["queries_evaluated"]==225 and ours["documents"]["skipped"]==2, ours
# Quality floor: Xapian BM25 at its defaults scores nDCG@10 0.3568 here (docs/benchmarks.md).
assert ours["metrics"]["nDCG@10"]>0.36, ours["metrics"]' "$tmp/eval.json" "$tmp/ref.json" \
  || fail "eval vs ir_eval.py: $(cat "$tmp/eval.json")"
# Reused: nothing re-indexed the second time.
s eval --beir "$cran" --model none --json -q --mode tfidf --tf log >"$tmp/eval2.json" || fail "eval again"
py 'import json,sys; j=json.load(open(sys.argv[1])); assert j["documents"]["unchanged"]==1398 and j["mode"]=="tfidf", j' \
  "$tmp/eval2.json" || fail "eval reuse"
finish
