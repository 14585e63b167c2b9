# A bounded load test on a real server: 16 clients for 8 s mixing embedding
# requests, searches, upserts, deletes and bad requests: no 5xx, every bad
# request a 4xx, RSS stable, no leaked file descriptors
# (tests/server/load.mjs; bench/soak.sh runs the same for 10 minutes). Then a burst against a tiny queue: the
# overflow gets 429 with Retry-After, never a 5xx.
. "$(dirname "$0")/lib.sh"
: "${SIMILE_NODE_DIR:?}" "${SIMILE_SOURCE_DIR:?}"
load="$SIMILE_SOURCE_DIR/tests/server/load.mjs"
seconds=8 growth=0.5
# ASan holds freed memory in quarantine (up to 256 MB): RSS says nothing there.
[ -n "${SIMILE_SANITIZED:-}" ] && seconds=4 growth=100

start_server --db "$tmp/db.sqlite"
ten_subjects "$tmp/ten.jsonl"
"$SIMILE_BIN" add --db "$tmp/db.sqlite" docs "$tmp/ten.jsonl" --id-field id >/dev/null 2>&1 \
  || fail "simile add beside the server"
node "$load" --base-url "$SERVER_URL" --clients 16 --seconds "$seconds" --collection docs --pid "$SERVER_PID" \
  --mix embed:4,batch:1,search:4,upsert:2,delete:1,bad:1 \
  --max-rss-growth "$growth" >"$tmp/load.out" || fail "mixed load: $(cat "$tmp/load.out")"
cat "$tmp/load.out"
grep -q "search" "$tmp/load.out" || fail "no searches ran"
stop_server

start_server --db "$tmp/db.sqlite" --batch-tokens 64 --max-queue-tokens 256 --max-request-tokens 256
node "$load" --base-url "$SERVER_URL" --clients 32 --seconds 3 --mix batch:1 --batch-size 8 --json >"$tmp/burst.json" \
  || fail "burst: $(cat "$tmp/burst.json")"
python3 -c 'import json,sys; k=json.load(open(sys.argv[1]))["kinds"]["batch"]["statuses"]
assert k.get("429",0) > 0 and k.get("200",0) > 0 and set(k) <= {"200","429"}, k' "$tmp/burst.json" \
  || fail "a full queue should answer 429 (and the rest 200): $(cat "$tmp/burst.json")"
stop_server
finish
