# simile eval comparing search modes on one collection: --mode with several
# modes (fusion fixed in the name), --rerank adding a re-ranked row per mode,
# one table / JSON "modes" list, one TREC run per mode whose evaluation by the
# reference evaluator (../shared/peers/ir/ir_eval.py) equals ours, and clear
# errors for bad mode names and --rerank-top below k. No timings are checked.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
: "${SIMILE_SOURCE_DIR:?run through ctest}" "${SIMILE_SHARED_DIR:?run through ctest}"
db="$tmp/e.db"
s() { "$SIMILE_BIN" "$@" --db "$db"; }
ir_eval="$SIMILE_SHARED_DIR/peers/ir/ir_eval.py"

# The tiny cross-encoder (random weights: its order means nothing, its scores
# are sigmoids) with the tokenizer from ../shared.
ce="$tmp/cross-encoder"
tiny_cross_encoder "$ce"

# A small BEIR folder: an empty document (skipped), graded judgments, a query
# with no relevant document (skipped by the evaluation).
b="$tmp/beir"
mkdir -p "$b/qrels"
cat >"$b/corpus.jsonl" <<'EOF'
{"_id": "d1", "title": "Wing flutter", "text": "Flutter of thin wings at supersonic speeds, measured in a wind tunnel."}
{"_id": "d2", "title": "Boundary layers", "text": "Transition of the laminar boundary layer on a flat plate with heat transfer."}
{"_id": "d3", "title": "Panel flutter", "text": "Aeroelastic instability of flat panels: panel flutter at high Mach numbers."}
{"_id": "d4", "title": "Heat transfer", "text": "Heat transfer to a blunt body in hypersonic flow, stagnation point heating."}
{"_id": "d5", "title": "Shock waves", "text": "Interaction of an oblique shock wave with a turbulent boundary layer."}
{"_id": "d6", "title": "Buckling", "text": "Buckling of cylindrical shells under axial compression and external pressure."}
{"_id": "d7", "title": "Jet noise", "text": "Noise of a supersonic jet and its reduction by nozzle shape."}
{"_id": "d8", "title": "", "text": ""}
EOF
cat >"$b/queries.jsonl" <<'EOF'
{"_id": "1", "text": "flutter of wings and panels"}
{"_id": "2", "text": "heat transfer in hypersonic flow"}
{"_id": "3", "text": "boundary layer transition"}
{"_id": "4", "text": "shell buckling"}
{"_id": "5", "text": "an unjudged question about rockets"}
EOF
printf 'query-id\tcorpus-id\tscore\n1\td1\t2\n1\td3\t2\n2\td4\t2\n2\td2\t1\n3\td2\t2\n3\td5\t1\n4\td6\t1\n5\td7\t0\n' \
  >"$b/qrels/test.tsv"

# Several modes, each also re-ranked: one JSON with a row per mode and +rerank.
modes="dense,bm25,hybrid-rrf,hybrid-weighted-zscore-0.3"
s eval --beir "$b" --mode "$modes" --rerank "$ce" --rerank-top 6 -k 5 --json -q --run "$tmp/run.trec" \
  >"$tmp/all.json" || fail "eval with several modes: $(cat "$tmp/all.json")"
py 'import json,sys
j=json.load(open(sys.argv[1]))
names=[m["mode"] for m in j["modes"]]
assert names==["dense","dense+rerank","bm25","bm25+rerank","hybrid-rrf","hybrid-rrf+rerank",
               "hybrid-weighted-zscore-0.3","hybrid-weighted-zscore-0.3+rerank"], names
assert j["queries"]==5 and j["k"]==5 and j["documents"]["skipped"]==1 and j["documents"]["added"]==7, j
assert "metrics" not in j and "mode" not in j, "one-mode fields with several modes"
for m in j["modes"]:
    assert set(m["metrics"])=={"nDCG@10","MRR@10","MAP@100","R@10","R@100"}, m
    assert m["info"]["queries_evaluated"]==4 and m["info"]["queries_skipped_no_relevant"]==1, m
    assert set(m["query_ms"])=={"mean","p50","p99"} and m["query_ms"]["mean"]>0, m
    assert ("rerank" in m)==m["mode"].endswith("+rerank"), m
    assert ("rerank" in m["stage_ms"])==m["mode"].endswith("+rerank"), m
    if "rerank" in m: assert m["rerank"]["top"]==6, m
    assert m["run"]==sys.argv[2]+"/run."+m["mode"]+".trec", m
rrf=j["modes"][4]["fusion"]; assert rrf=={"method":"rrf","rrf_k":60.0}, rrf
w=j["modes"][6]["fusion"]
assert w=={"method":"weighted","normalization":"zscore","dense_weight":0.3}, w
assert "fusion" not in j["modes"][0], j["modes"][0]' "$tmp/all.json" "$tmp" || fail "modes JSON: $(cat "$tmp/all.json")"

# Each run file: scores fall in the returned order (eval and ir_eval.py order
# by score), re-ranked scores are the cross-encoder's sigmoids, and the
# reference evaluator's metrics equal ours.
for m in dense dense+rerank bm25 bm25+rerank hybrid-rrf hybrid-rrf+rerank hybrid-weighted-zscore-0.3 \
  hybrid-weighted-zscore-0.3+rerank; do
  run="$tmp/run.$m.trec"
  [ -s "$run" ] || { fail "no run file $run"; continue; }
  python3 "$ir_eval" "$b/qrels/test.tsv" "$run" --json >"$tmp/ref.json" || { fail "ir_eval.py $m"; continue; }
  py 'import json,sys,collections
j=json.load(open(sys.argv[1])); ref=json.load(open(sys.argv[2])); mode=sys.argv[4]
ours=[m for m in j["modes"] if m["mode"]==mode][0]
for k in ["nDCG@10","MRR@10","MAP@100","R@10","R@100"]:
    assert abs(ours["metrics"][k]-ref["metrics"][k])<1e-6, (mode, k, ours["metrics"], ref["metrics"])
rows=collections.defaultdict(list)
for line in open(sys.argv[3]):
    q,_,d,rank,score,tag=line.split()
    assert tag=="simile-"+mode, tag
    rows[q].append((int(rank),float(score)))
assert len(rows)==5, rows
for q,r in rows.items():
    assert [x[0] for x in r]==list(range(1,len(r)+1)) and 0<len(r)<=5, r
    assert all(a[1]>=b[1] for a,b in zip(r,r[1:])), ("scores out of order", mode, q, r)
    if mode.endswith("+rerank"): assert all(0<x[1]<1 for x in r), r
    if mode=="hybrid-rrf": assert all(x[1]<=2/61+1e-6 for x in r), r' "$tmp/all.json" "$tmp/ref.json" "$run" "$m" \
    || fail "$m: ours vs ir_eval.py / score order"
done

# The table: a header and one row per mode, in order.
s eval --beir "$b" --mode "bm25,hybrid" --rerank "$ce" -k 5 -q >"$tmp/table.txt" || fail "table"
py 'import sys
lines=open(sys.argv[1]).read().splitlines()
head=[i for i,l in enumerate(lines) if l.split()[:1]==["mode"]]
assert len(head)==1, lines
assert lines[head[0]].split()==["mode","nDCG@10","MRR@10","MAP@100","R@10","R@100","ms/query","p99","ms"], lines
rows=[l.split() for l in lines[head[0]+1:] if l.strip()]
assert [r[0] for r in rows]==["bm25","bm25+rerank","hybrid","hybrid+rerank"], rows
assert all(len(r)==8 and all(0<=float(x)<=1 for x in r[1:6]) for r in rows), rows' "$tmp/table.txt" \
  || fail "table: $(cat "$tmp/table.txt")"

# One mode: the JSON keeps its one-mode fields (and a one-row "modes"), and
# --run writes FILE itself.
s eval --beir "$b" --mode bm25 -k 5 --json -q --run "$tmp/one.trec" >"$tmp/one.json" || fail "one mode"
py 'import json,sys
j=json.load(open(sys.argv[1]))
assert j["mode"]=="bm25" and "nDCG@10" in j["metrics"] and "mean" in j["query_ms"] and j["run"]==sys.argv[2], j
assert j["documents"]["unchanged"]==7 and len(j["modes"])==1 and j["modes"][0]["metrics"]==j["metrics"], j' \
  "$tmp/one.json" "$tmp/one.trec" || fail "one-mode JSON: $(cat "$tmp/one.json")"
[ -s "$tmp/one.trec" ] || fail "one mode: run file not at --run"

# Defaults: with a model dense, bm25 and both fusions; keyword-only: bm25.
s eval --beir "$b" -k 5 --json -q >"$tmp/default.json" || fail "default modes"
py 'import json,sys; n=[m["mode"] for m in json.load(open(sys.argv[1]))["modes"]]
assert n==["dense","bm25","hybrid-rrf","hybrid-weighted"], n' "$tmp/default.json" || fail "default modes: $(cat "$tmp/default.json")"
s eval --beir "$b" --collection kw --model none -k 5 --json -q >"$tmp/kw.json" || fail "keyword-only default"
py 'import json,sys; n=[m["mode"] for m in json.load(open(sys.argv[1]))["modes"]]; assert n==["bm25"], n' \
  "$tmp/kw.json" || fail "keyword-only default: $(cat "$tmp/kw.json")"

# --center: a centred row beside each dense or hybrid one (not beside bm25),
# with how much centering moved the dense top k.
s eval --beir "$b" --mode "dense,bm25,hybrid" --center -k 5 --json -q >"$tmp/center.json" || fail "center"
py 'import json,sys
j=json.load(open(sys.argv[1]))
rows={m["mode"]:m for m in j["modes"]}
assert list(rows)==["dense","dense+center","bm25","hybrid","hybrid+center"], list(rows)
for n in ("dense+center","hybrid+center"):
  c=rows[n]["centering"]
  assert 0<=c["shared_fraction"]<=1 and c["footrule"]>=0, c
  assert "centering" in rows[n]["stage_ms"], rows[n]["stage_ms"]
assert "centering" not in rows["dense"] and "centering" not in rows["bm25"], rows' "$tmp/center.json" \
  || fail "center rows $(cat "$tmp/center.json")"
s eval --beir "$b" --mode dense --center -k 5 -q | grep -Eq "dense\+center: [0-9.]+% of each query's uncentred top 5 kept" \
  || fail "center line in the table"

expect_fail "unknown mode" "'fuzzy' is not a mode" s eval --beir "$b" --mode bm25,fuzzy -q
expect_fail "empty mode" "is empty" s eval --beir "$b" --mode bm25, -q
expect_fail "bad fusion" "no fusion" s eval --beir "$b" --mode hybrid-max -q
expect_fail "bad RRF constant" "RRF constant" s eval --beir "$b" --mode hybrid-rrf-x -q
expect_fail "weight above 1" "dense weight" s eval --beir "$b" --mode hybrid-weighted-minmax-1.5 -q
expect_fail "twice" "listed twice" s eval --beir "$b" --mode bm25,bm25 -q
expect_fail "rerank-top below k" "rerank-top 5 is less than -k 10" \
  s eval --beir "$b" --mode bm25 --rerank "$ce" --rerank-top 5 -k 10 -q
expect_fail "rerank-top without rerank" "needs --rerank" s eval --beir "$b" --rerank-top 5 -q
expect_fail "dense on keyword-only" "keyword-only" s eval --beir "$b" --collection kw --mode dense -q
finish
