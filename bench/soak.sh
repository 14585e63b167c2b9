#!/bin/sh
# simile serve soaked: a bounded concurrent load of embeddings, searches,
# upserts, deletes and malformed requests for a long time
# (docs/reliability.md). Passes when no valid request got a 5xx (or any
# answer but 200 / 429), every malformed one a 4xx, the server's RSS grew
# less than 5% from the end of warm-up to the end, and it holds no more open
# files at the end than after warm-up (plus one per client: connections).
#
#   bench/soak.sh [--minutes 10] [--clients 8] [--warmup 300]
# (the warm-up lets the forward passes' scratch buffers reach the largest
# batch the load makes: docs/reliability.md)
#
# Builds simile (Release) in $BUILD_DIR (default build-bench), starts a server
# on its own database in $WORK_DIR (default $BUILD_DIR/soak) with a collection
# of 200 short documents that upserts and deletes keep rewriting (so its size
# stays bounded), runs tests/server/load.mjs, prints its report and keeps it
# as $WORK_DIR/soak.json.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
minutes=10 clients=8 warmup=300
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) minutes=$2; shift ;;
    --clients) clients=$2; shift ;;
    --warmup) warmup=$2; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-$build/soak}
"$root/scripts/setup.sh" >/dev/null
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" simile >/dev/null
"$build/simile" models info all-MiniLM-L6-v2 >/dev/null 2>&1 || "$build/simile" models pull all-MiniLM-L6-v2
mkdir -p "$work"
rm -f "$work/db.sqlite"*
python3 -c 'import json
words = "river mountain engine wing pressure flow heat cat dog bread oven database index query planet".split()
for i in range(200): print(json.dumps({"id": "load-%d" % i, "text": " ".join(words[(i * 7 + j) % len(words)] for j in range(12)), "meta": {"n": i}}))' \
  >"$work/docs.jsonl"
"$build/simile" add --db "$work/db.sqlite" soak "$work/docs.jsonl" --id-field id -q
"$build/simile" serve --port 0 --db "$work/db.sqlite" 2>"$work/server.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
while ! grep -q "listening on" "$work/server.log"; do sleep 0.1; done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/server.log")
echo "soak: server $url (pid $pid), $clients clients for $minutes min after $warmup s warm-up, $(nproc) cores," \
  "commit $(git -C "$root" rev-parse --short HEAD)"
status=0
node "$root/tests/server/load.mjs" --base-url "$url" --clients "$clients" --seconds $((minutes * 60 + warmup)) \
  --warmup "$warmup" --collection soak --pid "$pid" --max-rss-growth 0.05 --max-fd-growth "$clients" \
  --mix embed:3,batch:1,search:3,upsert:2,delete:1,bad:1 --json >"$work/soak.json" || status=$?
python3 - "$work/soak.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("soak: %d requests in %.0f s (%.1f/s) from %d clients" % (
    sum(k["requests"] for k in r["kinds"].values()), r["seconds"], r["requests_per_second"], r["clients"]))
for kind, k in sorted(r["kinds"].items()):
    print("  %-7s %7d  p50 %6.1f ms  p99 %7.1f ms  %s" % (kind, k["requests"], k["p50_ms"], k["p99_ms"],
                                                       json.dumps(k["statuses"])))
m = r["rss_mb"]
print("  RSS %.0f MB after warm-up, %.0f MB at the end (%+.2f%%), max %.0f; open files %s -> %s; problems %d" % (
    m["after_warmup"], m["end"], 100 * m["growth"], m["max"], r["open_files"]["after_warmup"],
    r["open_files"]["end"], r["problems"]))
print("  every 30 s: seconds: RSS / heap in use / heap free / SQLite, MB")
print("    " + ", ".join("%d: %s" % (x[0], " / ".join(str(v) for v in x[1:])) for x in m["series"]))
PY
exit "$status"
