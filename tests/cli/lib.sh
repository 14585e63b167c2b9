# Helpers for the command-line tests (sourced, POSIX sh).
# ctest provides SIMILE_BIN and SIMILE_HOME (tests/CMakeLists.txt).
set -eu
: "${SIMILE_BIN:?run through ctest}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_fail DESCRIPTION PATTERN CMD...: CMD must exit non-zero (not crash) and
# print PATTERN (grep -E) on stderr.
expect_fail() {
  desc=$1 pattern=$2; shift 2
  set +e
  "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  set -e
  if [ "$rc" -eq 0 ]; then fail "$desc: exited 0"; return; fi
  if [ "$rc" -gt 2 ]; then fail "$desc: exit $rc (crash?) $(cat "$tmp/err")"; return; fi
  grep -Eq "$pattern" "$tmp/err" || fail "$desc: stderr lacks /$pattern/: $(cat "$tmp/err")"
}

finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures failure(s)" >&2; exit 1; fi
  echo "ok"
}

# ten_subjects FILE: ten one-sentence documents on ten unrelated subjects
# (JSONL, field "id"), for tests that need clearly separated meanings.
ten_subjects() {
  cat >"$1" <<'EOF_TEN'
{"id": "wing", "text": "An aircraft wing produces lift because air flows faster over its curved upper surface."}
{"id": "jet", "text": "A jet engine compresses air, burns fuel in it and pushes the hot exhaust backwards."}
{"id": "bread", "text": "Knead the dough, let it rise for an hour, then bake the loaf in a hot oven."}
{"id": "pasta", "text": "Mix flour and eggs into a firm dough, roll it thin and cut it into noodles."}
{"id": "cat", "text": "Cats sleep most of the day and hunt small animals at dawn and dusk."}
{"id": "dog", "text": "Dogs need daily walks, play and training to stay happy and healthy."}
{"id": "python", "text": "Python is a programming language known for readable code and rich libraries."}
{"id": "sql", "text": "Relational databases store rows in tables and answer queries written in SQL."}
{"id": "moon", "text": "The Moon orbits the Earth every 27 days and causes the ocean tides."}
{"id": "mars", "text": "Mars is a cold desert planet with the tallest volcano in the solar system."}
EOF_TEN
}

# tiny_cross_encoder DIR: the tiny random-weight cross-encoder of
# tests/golden/models as a model directory (its files and the bert-base-uncased
# tokenizer of ../shared, linked in place).
tiny_cross_encoder() {
  tce_src="$SIMILE_SOURCE_DIR/tests/golden/models/tiny-bert-cross-encoder"
  mkdir -p "$1"
  for f in config.json tokenizer_config.json model.safetensors; do ln -s "$tce_src/$f" "$1/$f"; done
  ln -s "$SIMILE_SHARED_DIR/tokenizers/bert-base-uncased/tokenizer.json" "$1/tokenizer.json"
}

# start_server ARGS...: runs `simile serve --port 0 ARGS` in the background
# (stderr in $tmp/server.log) and waits until it listens; sets SERVER_URL and
# SERVER_PID. The server is killed when the test exits (after which the
# command in $on_exit, if any, runs).
start_server() {
  # Emptied here, not by the child's redirection: a restarted server must not
  # be taken as listening on the last one's line before its shell truncated it.
  : >"$tmp/server.log"
  "$SIMILE_BIN" serve --port 0 "$@" 2>>"$tmp/server.log" &
  SERVER_PID=$!
  trap 'kill -9 "$SERVER_PID" 2>/dev/null || true; eval "${on_exit:-:}"; rm -rf "$tmp"' EXIT
  SERVER_URL=$(wait_listening "$tmp/server.log" "$SERVER_PID" "the server" 600) || exit 1
}

# wait_listening LOG PID WHAT TENTHS: waits (at most TENTHS tenths of a
# second) until LOG says "listening on URL" and prints URL; exits the test if
# process PID dies first (then it fails, and so does the test).
wait_listening() {
  i=0
  while ! grep -q "listening on" "$1"; do
    i=$((i + 1))
    if [ "$i" -gt "$4" ] || ! kill -0 "$2" 2>/dev/null; then
      echo "FAIL: $3 did not start: $(cat "$1")" >&2
      exit 1
    fi
    sleep 0.1
  done
  sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$1" | head -n 1
}

# stop_server: SIGTERM, then the server must exit 0 within 30 s.
stop_server() {
  kill -TERM "$SERVER_PID"
  i=0
  while kill -0 "$SERVER_PID" 2>/dev/null; do
    i=$((i + 1))
    if [ "$i" -gt 300 ]; then fail "the server ignored SIGTERM"; kill -9 "$SERVER_PID"; break; fi
    sleep 0.1
  done
  set +e
  wait "$SERVER_PID"
  rc=$?
  set -e
  [ "$rc" -eq 0 ] || fail "the server exited $rc after SIGTERM: $(cat "$tmp/server.log")"
}

# http METHOD PATH [BODY]: the response body in $tmp/body, the status printed
# (000 when there was no response; curl's own failure never ends the test).
# Bodies go with "Expect: 100-continue", so a server refusing one (413)
# answers before it is sent rather than racing the upload.
http() {
  : >"$tmp/body"
  if [ $# -ge 3 ]; then
    printf '%s' "$3" | curl -s -o "$tmp/body" -w '%{http_code}' -X "$1" ${API_KEY:+-H "Authorization: Bearer $API_KEY"} \
      -H 'Content-Type: application/json' -H 'Expect: 100-continue' --data-binary @- "$SERVER_URL$2" || true
  else
    curl -s -o "$tmp/body" -w '%{http_code}' -X "$1" ${API_KEY:+-H "Authorization: Bearer $API_KEY"} "$SERVER_URL$2" \
      || true
  fi
}

# expect_status DESCRIPTION WANT METHOD PATH [BODY]: the status must be WANT
# and, for 4xx, the body an OpenAI-shaped error.
expect_status() {
  desc=$1 want=$2; shift 2
  got=$(http "$@")
  if [ "$got" != "$want" ]; then fail "$desc: HTTP $got, want $want: $(head -c 300 "$tmp/body")"; return; fi
  case "$want" in
    4*) python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["error"]; assert e["message"] and e["type"]' \
          "$tmp/body" || fail "$desc: not a JSON error: $(head -c 300 "$tmp/body")" ;;
  esac
}

# start_llm_server ARGS...: the stand-in LLM service of tests/remote
# (OpenAI chat completions, streamed or not, and embeddings; no LLM weights
# exist here) on a free port; sets LLM_URL and LLM_PID. Killed when the test
# exits.
start_llm_server() {
  : "${SIMILE_TEST_LLM_SERVER:?run through ctest}"
  : >"$tmp/llm.log"
  "$SIMILE_TEST_LLM_SERVER" --port 0 "$@" 2>>"$tmp/llm.log" &
  LLM_PID=$!
  on_exit="kill -9 $LLM_PID 2>/dev/null || true; ${on_exit:-:}"
  trap 'kill -9 "${SERVER_PID:-}" 2>/dev/null || true; eval "${on_exit:-:}"; rm -rf "$tmp"' EXIT
  LLM_URL=$(wait_listening "$tmp/llm.log" "$LLM_PID" "the test LLM server" 300) || exit 1
}

# llm_post PATH BODY: POST to the test LLM server (its /test/... controls).
llm_post() {
  curl -s -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary "$2" "$LLM_URL$1"
}

# llm_requests KEY: how many requests the test LLM server recorded whose body
# has KEY ("messages": chat completions, "input": embeddings).
llm_requests() {
  curl -s "$LLM_URL/test/requests" | python3 -c 'import json,sys
print(sum(1 for r in json.load(sys.stdin) if sys.argv[1] in r))' "$1"
}
