# simile ask: the prompt (numbered sources within a token budget, a
# template), the answer from a chat endpoint streamed with its cited sources,
# --json, and LLM re-ranking with its cache. The chat endpoint is the test
# LLM server of tests/remote, which speaks the real chat-completions protocol
# (no LLM weights exist here): it answers "According to [1], <source 1>."
# and judges a passage plausible when it holds most of the question's words.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
db="$tmp/db.sqlite"
ten_subjects "$tmp/ten.jsonl"
"$SIMILE_BIN" add --db "$db" docs "$tmp/ten.jsonl" --id-field id >/dev/null 2>&1 || fail "simile add"
q="How does a wing make an aircraft fly?"

# The prompt alone, for any LLM command to read.
"$SIMILE_BIN" ask --db "$db" docs "$q" >"$tmp/prompt.txt" 2>"$tmp/err" || fail "ask: $(cat "$tmp/err")"
grep -q "^\[1\] wing (characters 0-" "$tmp/prompt.txt" || fail "source 1 is not the wing passage: $(cat "$tmp/prompt.txt")"
grep -q "^An aircraft wing produces lift" "$tmp/prompt.txt" || fail "the passage text is missing"
grep -q "^\[5\] " "$tmp/prompt.txt" || fail "k defaults to 5 sources"
grep -q "^\[6\] " "$tmp/prompt.txt" && fail "more than 5 sources"
grep -q "^Question: $q" "$tmp/prompt.txt" || fail "the question is missing"
[ -s "$tmp/err" ] && fail "ask printed on stderr: $(cat "$tmp/err")"

# --json: the sources with their spans, the prompt and its token count.
"$SIMILE_BIN" ask --db "$db" docs "$q" -k 3 --json >"$tmp/ask.json" || fail "ask --json"
py 'import json,sys
j=json.load(open(sys.argv[1])); p=open(sys.argv[2]).read()
s=j["sources"]; assert [x["number"] for x in s]==[1,2,3] and s[0]["id"]=="wing", s
assert s[0]["chunk_begin"]==0 and s[0]["chunk_end"]==len(s[0]["text"]) and not s[0]["truncated"], s[0]
assert j["answer"] is None and j["left_out"]==0 and 0<j["prompt_tokens"]<=j["budget"]==3000, j
assert j["prompt"].startswith("Answer the question using only") and "[3] " in j["prompt"], j["prompt"]
assert j["timings"]["retrieve_ms"]>0 and j["mode"]=="hybrid", j' "$tmp/ask.json" "$tmp/prompt.txt" \
  || fail "ask --json"

# A budget: fewer sources, the last cut to fit, never over the budget.
"$SIMILE_BIN" ask --db "$db" docs "$q" -k 10 --budget 150 --json >"$tmp/small.json" || fail "ask --budget"
py 'import json,sys
j=json.load(open(sys.argv[1]))
assert j["prompt_tokens"]<=150 and 1<=len(j["sources"])<10 and j["left_out"]>0, j
assert len(j["sources"])+j["left_out"]==10, j' "$tmp/small.json" || fail "ask --budget 150"
"$SIMILE_BIN" ask --db "$db" docs "$q" -k 10 --budget 150 >/dev/null 2>"$tmp/err" || fail "ask --budget text"
grep -q "left out to keep the prompt within 150 tokens" "$tmp/err" || fail "no note of left-out sources: $(cat "$tmp/err")"
expect_fail "budget below the question" "more than the budget of 10" \
  "$SIMILE_BIN" ask --db "$db" docs "$q" --budget 10

# A template of one's own.
printf 'Sources:\n{sources}\n---\nQ: {question}\n' >"$tmp/template.txt"
"$SIMILE_BIN" ask --db "$db" docs "$q" -k 2 --template "$tmp/template.txt" >"$tmp/t.txt" || fail "ask --template"
[ "$(head -n 2 "$tmp/t.txt" | tail -n 1 | cut -c1-9)" = "[1] wing " ] || fail "template sources: $(cat "$tmp/t.txt")"
grep -q "^Q: $q" "$tmp/t.txt" || fail "template question"
printf 'no placeholders\n' >"$tmp/bad.txt"
expect_fail "template without placeholders" "no \{question\} placeholder" \
  "$SIMILE_BIN" ask --db "$db" docs "$q" --template "$tmp/bad.txt"
expect_fail "missing template" "template" "$SIMILE_BIN" ask --db "$db" docs "$q" --template "$tmp/nope.txt"
expect_fail "unknown collection" "no collection" "$SIMILE_BIN" ask --db "$db" nope "$q"

# --llm: the answer streamed, then the sources it cites.
start_llm_server
"$SIMILE_BIN" ask --db "$db" docs "$q" --llm "$LLM_URL" --llm-model test-llm >"$tmp/answer.txt" 2>"$tmp/err" \
  || fail "ask --llm: $(cat "$tmp/err")"
head -n 1 "$tmp/answer.txt" | grep -q "^According to \[1\], An aircraft wing" || fail "answer: $(cat "$tmp/answer.txt")"
grep -q "^Sources:$" "$tmp/answer.txt" || fail "no cited sources after the answer"
grep -q "^\[1\] wing (characters 0-" "$tmp/answer.txt" || fail "source 1 not listed: $(cat "$tmp/answer.txt")"
grep -q "^\[2\] " "$tmp/answer.txt" && fail "an uncited source is listed"
# What the endpoint got: the prompt as `ask` prints it, streamed, with the model.
curl -s "$LLM_URL/test/requests" >"$tmp/requests.json"
py 'import json,sys
r=[x for x in json.load(open(sys.argv[1])) if "messages" in x][-1]; p=open(sys.argv[2]).read()
assert r["stream"] is True and r["model"]=="test-llm", r
assert r["messages"][-1]["role"]=="user" and r["messages"][-1]["content"]+"\n"==p, r["messages"]' \
  "$tmp/requests.json" "$tmp/prompt.txt" || fail "the chat request"
"$SIMILE_BIN" ask --db "$db" docs "$q" --llm "$LLM_URL" --json >"$tmp/answer.json" || fail "ask --llm --json"
py 'import json,sys
j=json.load(open(sys.argv[1]))
assert j["answer"].startswith("According to [1], An aircraft wing"), j["answer"]
assert j["cited"]==[1] and j["sources"][0]["cited"] and not j["sources"][1]["cited"], j
assert j["finish_reason"]=="stop" and j["usage"]["total_tokens"]>0, j
t=j["timings"]; assert 0<t["first_token_ms"]<=t["answer_ms"]<=t["total_ms"], t' "$tmp/answer.json" \
  || fail "ask --llm --json"
expect_fail "unset key variable" "SIMILE_TEST_NO_SUCH_KEY" \
  "$SIMILE_BIN" ask --db "$db" docs "$q" --llm "$LLM_URL" --llm-api-key-env SIMILE_TEST_NO_SUCH_KEY

# LLM re-ranking: the judged candidates it finds plausible first; verdicts cached.
# The question is new on every run, so that no verdict is cached yet.
cq="When do cats hunt small animals? $(date +%s%N)"
# The other two judged are rejected: behind the seven it did not judge.
"$SIMILE_BIN" search --db "$db" docs "$cq" -k 10 --rerank "llm:$LLM_URL" --rerank-top 3 --json >"$tmp/judged.json" \
  2>"$tmp/err" || fail "search --rerank llm: $(cat "$tmp/err")"
py 'import json,sys
r=json.load(open(sys.argv[1]))["results"]
assert len(r)==10 and r[0]["id"]=="cat" and r[0]["rerank"]>0.5, r[0]
assert all("rerank" not in h for h in r[1:8]), r
assert all(h["rerank"]<0.5 for h in r[8:]), r' "$tmp/judged.json" || fail "LLM re-ranking"
before=$(llm_requests response_format)
[ "$before" -eq 3 ] || fail "3 verdicts asked for, $before requests"
"$SIMILE_BIN" search --db "$db" docs "$cq" -k 10 --rerank "llm:$LLM_URL" --rerank-top 3 --json >"$tmp/again.json" \
  || fail "search --rerank llm again"
[ "$(llm_requests response_format)" -eq "$before" ] || fail "cached verdicts were asked for again"
cmp -s "$tmp/judged.json" "$tmp/again.json" || py 'import json,sys
a=[h["id"] for h in json.load(open(sys.argv[1]))["results"]]; b=[h["id"] for h in json.load(open(sys.argv[2]))["results"]]
assert a==b, (a, b)' "$tmp/judged.json" "$tmp/again.json" || fail "cached verdicts gave another order"
# ask re-ranked by the judge: the plausible passage is source 1.
"$SIMILE_BIN" ask --db "$db" docs "$cq" -k 3 --rerank "llm:$LLM_URL" | grep -q "^\[1\] cat " || fail "ask --rerank llm"

# The endpoint failing: a clear error after the retries, no crash.
llm_post /test/fail '{"count": 100, "status": 503}'
expect_fail "chat endpoint failing" "503" "$SIMILE_BIN" ask --db "$db" docs "$q" --llm "$LLM_URL"
kill -9 "$LLM_PID"
expect_fail "chat endpoint gone" "$LLM_URL" "$SIMILE_BIN" ask --db "$db" docs "$q" --llm "$LLM_URL"
finish
