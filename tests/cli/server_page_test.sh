# The search page served by `simile serve`, driven in headless Debian
# chromium by playwright-core (tests/server/search_page.mjs). The screenshot
# is kept as build/test-artifacts/search_page.png.
. "$(dirname "$0")/lib.sh"
: "${SIMILE_NODE_DIR:?}" "${SIMILE_SOURCE_DIR:?}" "${SIMILE_ARTIFACTS:?}"
command -v chromium >/dev/null || { fail "chromium is missing (scripts/setup.sh installs it)"; finish; }

ten_subjects "$tmp/ten.jsonl"
cat >>"$tmp/ten.jsonl" <<'EOF_DOCS'
{"id": "seoul", "title": "서울", "text": "서울은 대한민국의 수도이며 한강이 도시를 가로지른다."}
{"id": "html", "title": "<b>markup</b>", "text": "A script tag injection attempt: <img src=x onerror=alert(1)> must show as text."}
EOF_DOCS
"$SIMILE_BIN" add --db "$tmp/db.sqlite" docs "$tmp/ten.jsonl" --id-field id >/dev/null 2>&1 || fail "simile add"
"$SIMILE_BIN" add --db "$tmp/db.sqlite" other "$tmp/ten.jsonl" --id-field id >/dev/null 2>&1 || fail "simile add other"
printf 'page-key\n' >"$tmp/key"
start_server --db "$tmp/db.sqlite" --api-key-file "$tmp/key"
mkdir -p "$SIMILE_ARTIFACTS"
node "$SIMILE_SOURCE_DIR/tests/server/search_page.mjs" --node-dir "$SIMILE_NODE_DIR" --base-url "$SERVER_URL" \
  --api-key page-key --screenshot "$SIMILE_ARTIFACTS/search_page.png" || fail "search page"
[ -s "$SIMILE_ARTIFACTS/search_page.png" ] || fail "no screenshot"
stop_server
finish
