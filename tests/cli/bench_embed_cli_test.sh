# simile bench embed on a small file with the default model: the JSON report
# is self-consistent (rates from the median pass, tokens as `simile tokenize`
# counts them), the summary names every figure, and bad input is refused.
. "$(dirname "$0")/lib.sh"
python3 - "$tmp/texts.txt" <<'EOF2'
import random, sys
rng = random.Random(8)
words = "river engine wing bread oven database query planet music doctor school market".split()
with open(sys.argv[1], "w") as f:
    for i in range(24):
        print(" ".join(rng.choice(words) for _ in range(rng.randint(1, 40))), file=f)
EOF2
be() { "$SIMILE_BIN" bench embed --file "$tmp/texts.txt" --threads 1 --runs 2 "$@"; }

be --batch 8 --latency-texts 5 --json >"$tmp/out.json" || fail "bench embed --json"
"$SIMILE_BIN" tokenize --json <"$tmp/texts.txt" >"$tmp/tokens.jsonl" || fail "simile tokenize"
python3 - "$tmp/out.json" "$tmp/tokens.jsonl" <<'EOF2' || fail "json report: $(cat "$tmp/out.json")"
import json, sys
j = json.load(open(sys.argv[1]))
assert j["model"] == "all-MiniLM-L6-v2" and j["dtype"] == "fp32" and j["texts"] == 24 and j["threads"] == 1 and j["batch"] == 8, j
assert len(j["passes_s"]) == 2 and all(p > 0 for p in j["passes_s"]), j
median = sorted(j["passes_s"])[1]
assert abs(j["texts_per_s"] - 24 / median) < 1e-6 * j["texts_per_s"], j
assert abs(j["tokens_per_s"] / j["texts_per_s"] - j["mean_tokens"]) < 1e-6 * j["mean_tokens"], j
assert 0 < j["call_p50_ms"] <= j["call_p90_ms"] <= j["call_p99_ms"], j
lat = j["latency"]
assert lat["texts"] == 5 and 0 < lat["p50_ms"] <= lat["p99_ms"] and lat["texts_per_s"] > 0, j
assert 50 < j["peak_rss_mb"] < 4096, j
# Tokens per text as the tokenizer counts them, [CLS] and [SEP] included.
counts = [json.loads(line)["count"] for line in open(sys.argv[2])]
assert len(counts) == 24, counts
assert abs(j["mean_tokens"] - sum(counts) / 24) < 1e-9, (j["mean_tokens"], sum(counts) / 24)
EOF2

be --limit 12 --latency-texts 0 >"$tmp/out.txt" || fail "bench embed summary"
grep -q "12 texts" "$tmp/out.txt" && grep -q "^throughput  batch 32: .* texts/s" "$tmp/out.txt" \
  && grep -q "^peak RSS" "$tmp/out.txt" && ! grep -q "^latency" "$tmp/out.txt" \
  || fail "summary: $(cat "$tmp/out.txt")"

# int8 (its weights cache in a private home, the models linked from the shared one).
mkdir -p "$tmp/home" && ln -s "$SIMILE_HOME/models" "$tmp/home/models"
SIMILE_HOME="$tmp/home" be --dtype int8 --limit 12 --latency-texts 2 --json >"$tmp/int8.json" || fail "bench embed --dtype int8"
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["dtype"]=="int8" and j["texts"]==12 and j["texts_per_s"]>0, j' \
  "$tmp/int8.json" || fail "int8 report: $(cat "$tmp/int8.json")"
SIMILE_HOME="$tmp/home" be --dtype int8 --limit 12 --latency-texts 0 | grep -q "^model all-MiniLM-L6-v2 (int8)" \
  || fail "int8 summary names the dtype"

expect_fail "missing file" "cannot open" "$SIMILE_BIN" bench embed --file "$tmp/none.txt"
: >"$tmp/empty.txt"
expect_fail "empty file" "holds no texts" "$SIMILE_BIN" bench embed --file "$tmp/empty.txt"
expect_fail "zero runs" "runs" be --runs 0
expect_fail "unknown model" "model" be --model no-such-model
expect_fail "unknown dtype" "unknown dtype" be --dtype int4
finish
