# simile add / search / similar / related / delete / collections, end to end on
# the default model with a real database file.
. "$(dirname "$0")/lib.sh"
py() { python3 -c "$@"; }
db="$tmp/c.db"
s() { "$SIMILE_BIN" "$@" --db "$db"; }

# A directory of mixed files: ids are paths relative to it; hidden files skipped.
mkdir -p "$tmp/docs/guides" "$tmp/docs/.git"
printf '# Rotating logs\n\nUse logrotate to compress and rotate log files every week.\n' >"$tmp/docs/guides/logs.md"
printf '<html><head><title>Backups</title><style>p{}</style></head><body><p>Back up the database every night &amp; keep 7 copies.</p></body></html>' >"$tmp/docs/backup.html"
printf 'The office coffee machine is cleaned on Fridays.\n' >"$tmp/docs/coffee.txt"
printf 'secret\n' >"$tmp/docs/.git/config"
s add notes "$tmp/docs" --json >"$tmp/add.json" 2>"$tmp/add.err" || fail "add dir: $(cat "$tmp/add.err")"
py 'import json,sys; j=json.load(open(sys.argv[1])); assert j["added"]==3 and j["failed"]==0, j' "$tmp/add.json" \
  || fail "add summary $(cat "$tmp/add.json")"

s search notes "how do I compress old log files?" -k 2 --json >"$tmp/hits.json" || fail "search"
py 'import json,sys
h=json.load(open(sys.argv[1]))["results"]
assert [x["rank"] for x in h]==[1,2], h
assert h[0]["id"]=="guides/logs.md" and h[0]["title"]=="Rotating logs", h[0]
assert "logrotate" in h[0]["chunk"] and h[0]["score"]>h[1]["score"], h' "$tmp/hits.json" || fail "search results"
s search notes "nightly backups" -k 1 | grep -q "backup.html  Backups" || fail "plain search output"

# Re-adding is a no-op; delete removes.
s add notes "$tmp/docs" --json >"$tmp/again.json" 2>/dev/null
py 'import json,sys; j=json.load(open(sys.argv[1])); assert j["unchanged"]==3 and j["chunks"]==0, j' "$tmp/again.json" \
  || fail "re-add not skipped"
s delete notes coffee.txt 2>/dev/null || fail "delete"
s collections info notes --json >"$tmp/info.json"
py 'import json,sys; j=json.load(open(sys.argv[1])); assert j["documents"]==2 and j["model"]=="all-MiniLM-L6-v2", j' \
  "$tmp/info.json" || fail "info after delete"

# Records with metadata; filters before ranking.
cat >"$tmp/papers.csv" <<'EOF'
id,title,text,year,lang
1,Wings,"Lift on a wing comes from the pressure difference over its surfaces.",1999,en
2,Jets,"Jet engines compress air, burn fuel and push exhaust backwards.",2008,en
3,Bread,"Knead the dough and bake the loaf in a hot oven.",2012,en
4,Flügel,"Der Auftrieb eines Flügels entsteht durch den Druckunterschied.",2015,de
EOF
s add papers "$tmp/papers.csv" --id-field id 2>/dev/null || fail "add csv"
s search papers "aircraft lift" --filter 'year >= 2010 AND lang = "en"' --json >"$tmp/f.json" || fail "filtered search"
py 'import json,sys; h=json.load(open(sys.argv[1]))["results"]; assert [x["id"] for x in h]==["3"], h' "$tmp/f.json" \
  || fail "filter not applied before ranking: $(cat "$tmp/f.json")"
s similar papers 1 -k 1 --json >"$tmp/sim.json" || fail "similar"
py 'import json,sys; h=json.load(open(sys.argv[1])); assert len(h)==1 and h[0]["id"]!="1", h' "$tmp/sim.json" \
  || fail "similar results"
s related papers -k 2 2>/dev/null || fail "related"
s related papers --show 1 --json >"$tmp/rel.json" || fail "related --show"
py 'import json,sys; h=json.load(open(sys.argv[1])); assert len(h)==2, h' "$tmp/rel.json" || fail "related list"
s collections list | grep -q "^papers .* 4 " || fail "collections list"

# Errors: clear messages, non-zero exits, nothing stored broken.
expect_fail "missing collection" "no collection 'nope'" s search nope "x"
expect_fail "bad filter" "filter: .*column" s search papers "x" --filter 'year >='
expect_fail "bad name" "bad collection name" s add "../evil" "$tmp/papers.csv"
expect_fail "missing file" "no such file|does not exist|cannot" s add papers "$tmp/missing.jsonl"
printf '{"id":"a","text":"fine"}\n{broken\n' >"$tmp/bad.jsonl"
expect_fail "malformed line stops" "bad.jsonl:2" s add strict "$tmp/bad.jsonl" --id-field id
s add lenient "$tmp/bad.jsonl" --id-field id --on-error skip 2>"$tmp/skip.err" || fail "skip mode failed"
grep -q "skipped: .*bad.jsonl:2" "$tmp/skip.err" || fail "skip not reported: $(cat "$tmp/skip.err")"
expect_fail "other vector type is a setting, not a model" "unknown|int8|f16" s add t2 "$tmp/papers.csv" --vector-type f64
expect_fail "not a database" "database|not a simile|file is not" "$SIMILE_BIN" collections list --db "$tmp/papers.csv"
s collections drop lenient 2>/dev/null || fail "drop"
expect_fail "dropped" "no collection 'lenient'" s collections info lenient
python3 -c "import sqlite3,sys; assert sqlite3.connect(sys.argv[1]).execute('PRAGMA integrity_check').fetchone()[0]=='ok'" \
  "$db" || fail "integrity after errors"

# Ctrl-C stops after a commit with a message; running again continues. Sent
# at several moments (a signal handler running on a worker thread once
# corrupted the heap inside oneDNN's sgemm: cli/stop_signals.h); 8000
# documents take ~5 s on an idle machine, so even the last lands mid-ingest.
python3 -c "
import json
for i in range(8000): print(json.dumps({'id': 'n%d' % i, 'text': 'note number %d about topic %d' % (i, i % 17)}))
" >"$tmp/many.jsonl"
for delay in 0.7 1.1 1.6 2.2; do
  "$SIMILE_BIN" add "many$delay" "$tmp/many.jsonl" --id-field id --commit-every 64 --db "$db" >/dev/null 2>"$tmp/int.err" &
  pid=$!
  sleep "$delay"
  kill -INT "$pid"
  set +e
  wait "$pid"
  rc=$?
  set -e
  [ "$rc" -eq 1 ] || fail "add interrupted after ${delay}s: exit $rc: $(cat "$tmp/int.err")"
  grep -q "interrupted" "$tmp/int.err" || fail "no interrupted message after ${delay}s: $(cat "$tmp/int.err")"
done
s add many2.2 "$tmp/many.jsonl" --id-field id --json >"$tmp/resume.json" 2>/dev/null || fail "resume"
py 'import json,sys; j=json.load(open(sys.argv[1])); assert j["unchanged"]>0 and j["unchanged"]+j["added"]==8000, j' \
  "$tmp/resume.json" || fail "resume did not skip stored documents: $(cat "$tmp/resume.json")"
finish
