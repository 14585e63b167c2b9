# Scores that mean something: the background shown by `collections info`,
# percentiles and z-scores in search and `similarity --collection`, and
# centring (--center), end to end on the default model.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
db="$tmp/s.db"
s() { "$SIMILE_BIN" "$@" --db "$db"; }

ten_subjects "$tmp/docs.jsonl"
s add notes "$tmp/docs.jsonl" --id-field id -q || fail "add"

s collections info notes --json >"$tmp/info.json" || fail "info --json"
py 'import json,sys
j=json.load(open(sys.argv[1]))
b=j["background"]; c=j["centered_background"]
assert b["pairs"]==45 and not b["centered"] and len(b["percentiles"])==101, b
assert 0<b["stddev"]<1 and -1<b["mean"]<1 and b["percentiles"][0]<=b["percentiles"][50]<=b["percentiles"][100], b
assert c["pairs"]==45 and c["centered"] and c["mean"]<b["mean"], c' "$tmp/info.json" || fail "info background: $(cat "$tmp/info.json")"
s collections info notes | grep -Eq "^background +45 chunk pairs of different documents, mean -?0\.[0-9]{4}, sd 0\.[0-9]{4}, p50" \
  || fail "info text: $(s collections info notes)"

# Search: every dense hit placed in that background.
s search notes "how do airplanes stay in the air?" --mode dense -k 3 --json >"$tmp/hits.json" || fail "search"
py 'import json,sys
info=json.load(open(sys.argv[1]))["background"]
h=json.load(open(sys.argv[2]))["results"]
assert h[0]["id"]=="wing", h
for x in h:
    d=x["dense"]
    assert abs(d["z"]-(d["score"]-info["mean"])/info["stddev"])<1e-3, (d, info)
    assert 0<=d["percentile"]<=100, d
assert h[0]["dense"]["z"]>2 and h[0]["dense"]["percentile"]>95, h[0]' "$tmp/info.json" "$tmp/hits.json" \
  || fail "search percentiles: $(cat "$tmp/hits.json")"
s search notes "how do airplanes stay in the air?" --mode dense -k 1 | grep -Eq "dense #1 0\.[0-9]+ \(p[0-9.]+, z [0-9.]+\)" \
  || fail "search text shows percentile and z"

# Centred search reports how much the ranking moved.
s search notes "food made from dough" --center -k 3 --json >"$tmp/c.json" || fail "centred search"
py 'import json,sys
j=json.load(open(sys.argv[1])); c=j["centering"]
assert c["compared"]==3 and 0<=c["shared"]<=3 and c["footrule"]>=0, c
assert j["results"][0]["dense"] is not None, j' "$tmp/c.json" || fail "centering report: $(cat "$tmp/c.json")"

# similarity --collection: the same background, the same formula.
s similarity --collection notes --json "Python can make you rich." "Python can make you itch." \
  "Mastering Python can fill your pockets." >"$tmp/sim.json" || fail "similarity --collection"
py 'import json,sys
info=json.load(open(sys.argv[1]))["background"]
j=json.load(open(sys.argv[2])); b=j["background"]
assert j["collection"]=="notes" and j["model"]=="all-MiniLM-L6-v2" and j["metric"]=="cosine", j
assert b["pairs"]==info["pairs"] and abs(b["mean"]-info["mean"])<1e-9 and abs(b["stddev"]-info["stddev"])<1e-9, (b, info)
m=j["matrix"]; z=j["z"]; p=j["percentile"]
for i in range(3):
    for k in range(3):
        assert abs(z[i][k]-(m[i][k]-b["mean"])/b["stddev"])<1e-3, (i, k, z, m)
        assert 0<=p[i][k]<=100
# Seed 000: A is closer to C than to B, and the ranks agree.
assert m[0][2]>m[0][1] and p[0][2]>=p[0][1], m' "$tmp/info.json" "$tmp/sim.json" || fail "similarity json: $(cat "$tmp/sim.json")"
s similarity --collection notes --center --json "Python can make you rich." "Mastering Python can fill your pockets." \
  >"$tmp/simc.json" || fail "similarity --center"
py 'import json,sys
info=json.load(open(sys.argv[1]))["centered_background"]
b=json.load(open(sys.argv[2]))["background"]
assert b["centered"] and abs(b["mean"]-info["mean"])<1e-9, (b, info)' "$tmp/info.json" "$tmp/simc.json" \
  || fail "similarity --center background: $(cat "$tmp/simc.json")"
s similarity --collection notes "cats" "dogs" | grep -q "percentile" || fail "similarity text shows percentiles"

expect_fail "another model" "embedded with model" s similarity --collection notes --model other-model a b
expect_fail "center without collection" "collection" "$SIMILE_BIN" similarity --center a b
expect_fail "unknown collection" "no collection" s similarity --collection nope a b
s add far "$tmp/docs.jsonl" --id-field id --metric l2 -q || fail "add l2"
expect_fail "center on l2 search" "l2" s search far "wings" --center
expect_fail "center on l2 similarity" "l2" s similarity --collection far --center a b
s collections info far --json | py 'import json,sys; j=json.load(sys.stdin); assert j["background"]["mean"]<0 and j["centered_background"] is None, j' \
  || fail "l2 info"
finish
