# simile bench ann on a tiny generated data set: the JSON report, recall at a
# wide beam, and clear errors for malformed or mismatched files.
. "$(dirname "$0")/lib.sh"
python3 - "$tmp" <<'EOF2'
import random, struct, sys
d, nb, nq = 8, 400, 20
rng = random.Random(5)
base = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(nb)]
queries = [[rng.gauss(0, 1) for _ in range(d)] for _ in range(nq)]
def write(path, rows, fmt):
    with open(path, "wb") as f:
        for r in rows:
            f.write(struct.pack("<i", len(r)) + struct.pack("<%d%s" % (len(r), fmt), *r))
write(sys.argv[1] + "/base.fvecs", base, "f")
write(sys.argv[1] + "/query.fvecs", queries, "f")
truth = [sorted(range(nb), key=lambda i: -sum(a * b for a, b in zip(q, base[i])))[:10] for q in queries]
write(sys.argv[1] + "/gt.ivecs", truth, "i")
write(sys.argv[1] + "/short_gt.ivecs", [t[:5] for t in truth], "i")
write(sys.argv[1] + "/wide.fvecs", [r + [0.0] for r in queries], "f")
EOF2
b() { "$SIMILE_BIN" bench ann --base "$tmp/base.fvecs" --queries "$tmp/query.fvecs" "$@"; }

b --truth "$tmp/gt.ivecs" --ef 10,64 --repeats 1 --json >"$tmp/out.json" || fail "bench ann --json"
python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
assert j["nb"]==400 and j["nq"]==20 and j["dim"]==8 and j["M"]==16, j
r={x["ef"]: x for x in j["results"]}
assert sorted(r)==[10, 64] and r[64]["recall10"]>=0.99 and r[64]["qps"]>0, j
assert j["build_seconds"]>=0 and j["bytes_per_vector"]>32, j' "$tmp/out.json" || fail "json report: $(cat "$tmp/out.json")"
b --truth "$tmp/gt.ivecs" --ef 32 --repeats 1 --type int8 --threads 2 | grep -Eq "^ +2 +32 +(0\.9|1\.0)" \
  || fail "int8 on 2 threads: recall at ef 32"

b --truth "$tmp/gt.ivecs" --exact --no-hnsw --exact-single 7 --threads 1,2 --repeats 1 --json >"$tmp/exact.json" \
  || fail "bench ann --exact --json"
python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
assert "results" not in j and j["threads"]==[1, 2], j
e={(x["threads"], x["mode"]): x for x in j["exact"]}
assert sorted(e)==[(1, "batch"), (1, "single"), (2, "batch"), (2, "single")], j
assert e[(1, "single")]["nq"]==7 and e[(2, "batch")]["nq"]==20, j
assert all(x["recall10"]>=0.99 and x["qps"]>0 for x in e.values()), j
assert [x["threads"] for x in j["read_bandwidth"]]==[1, 2] and j["read_bandwidth"][0]["read_GBps"]>0, j' \
  "$tmp/exact.json" || fail "exact json report: $(cat "$tmp/exact.json")"
# The scalar reference kernels (forced) find the same exact neighbours.
for type in f32 f16 int8; do
  SIMILE_ISA=scalar b --truth "$tmp/gt.ivecs" --exact --no-hnsw --type "$type" --repeats 1 --json >"$tmp/scalar.json" \
    || fail "SIMILE_ISA=scalar bench ann --exact --type $type"
  python3 -c 'import json,sys
j=json.load(open(sys.argv[1]))
assert all(x["recall10"]>=(0.99 if sys.argv[2]=="f32" else 0.9) for x in j["exact"]), j' "$tmp/scalar.json" "$type" \
    || fail "scalar kernels, $type: $(cat "$tmp/scalar.json")"
done
b --truth "$tmp/gt.ivecs" --ef 10 --repeats 1 --threads 1,2 --exact --exact-single 5 >"$tmp/both.txt" \
  || fail "bench ann --exact table"
grep -Eq "^ +2 +10 +0\.[0-9]+" "$tmp/both.txt" && grep -Eq "^ +1 +single +5 +1\.0000" "$tmp/both.txt" \
  && grep -q "memory read bandwidth, 2 thread" "$tmp/both.txt" || fail "HNSW and exact tables: $(cat "$tmp/both.txt")"

expect_fail "truth too short" "recall@10 needs 10" b --truth "$tmp/short_gt.ivecs"
expect_fail "dimension mismatch" "has 9 dimensions" \
  "$SIMILE_BIN" bench ann --base "$tmp/base.fvecs" --queries "$tmp/wide.fvecs" --truth "$tmp/gt.ivecs"
head -c 100 "$tmp/base.fvecs" >"$tmp/cut.fvecs"
expect_fail "truncated base" "truncated in row 2" \
  "$SIMILE_BIN" bench ann --base "$tmp/cut.fvecs" --queries "$tmp/query.fvecs" --truth "$tmp/gt.ivecs"
expect_fail "missing file" "cannot open" b --truth "$tmp/none.ivecs"
expect_fail "bad M" "M must be between" b --truth "$tmp/gt.ivecs" --M 1
expect_fail "nothing to run" "needs --exact" b --truth "$tmp/gt.ivecs" --no-hnsw
finish
