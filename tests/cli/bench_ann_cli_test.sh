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
b --truth "$tmp/gt.ivecs" --ef 32 --repeats 1 --type int8 --threads 2 | grep -Eq "^ +32 +(0\.9|1\.0)" \
  || fail "int8 on 2 threads: recall at ef 32"

expect_fail "truth too short" "recall@10 needs 10" b --truth "$tmp/short_gt.ivecs"
expect_fail "dimension mismatch" "has 9 dimensions" \
  "$SIMILE_BIN" bench ann --base "$tmp/base.fvecs" --queries "$tmp/wide.fvecs" --truth "$tmp/gt.ivecs"
head -c 100 "$tmp/base.fvecs" >"$tmp/cut.fvecs"
expect_fail "truncated base" "truncated in row 2" \
  "$SIMILE_BIN" bench ann --base "$tmp/cut.fvecs" --queries "$tmp/query.fvecs" --truth "$tmp/gt.ivecs"
expect_fail "missing file" "cannot open" b --truth "$tmp/none.ivecs"
expect_fail "bad M" "M must be between" b --truth "$tmp/gt.ivecs" --M 1
finish
