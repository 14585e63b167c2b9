#!/bin/sh
# simile serve under load, on this machine: throughput and latency of a mixed
# load (embeddings, searches, bad requests) and of embedding-only loads,
# side by side with the CLI's own throughput on the same texts.
#
#   bench/server_load.sh [--seconds 30] [--clients "1 4 16"]
#
# Steps (in $WORK_DIR, default build-bench/server):
#   1. builds simile (Release) in $BUILD_DIR (default build-bench); the
#      standard short / medium workloads of ../shared/peers/inference
#      (build_workloads.py over Debian's fortunes: scripts/setup.sh --peers).
#   2. a server (--port 0, its own database) with a collection of the 2000
#      medium texts (simile add), the searches' target.
#   3. for each client count: tests/server/load.mjs for --seconds with the
#      mix embed:4,batch:1,search:4,bad:1 (one text, eight texts, a hybrid
#      search of a short text, a malformed request), then embedding-only
#      loads on short.txt: one text per request, and 32 per request.
#   4. `simile bench embed` on short.txt at batch 32 and batch 1 (the same
#      model, threads and texts), and the table of ratios.
# Everything runs on this machine's 2 cores: the clients (node) take CPU from
# the server, as they would from any server on the same host.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
peers=$(cd "$root/../shared/peers/inference" && pwd)
seconds=30 clients="1 4 16"
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift ;;
    --clients) clients=$2; shift ;;
    -h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
build=${BUILD_DIR:-$root/build-bench}
work=${WORK_DIR:-$build/server}
load="$root/tests/server/load.mjs"
say() { echo "server_load: $*" >&2; }

"$root/scripts/setup.sh" --peers >/dev/null
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$build" simile >/dev/null
"$build/simile" models info all-MiniLM-L6-v2 >/dev/null 2>&1 || "$build/simile" models pull all-MiniLM-L6-v2
mkdir -p "$work"
fortunes=$(dpkg -L fortunes | grep -m1 '/games/fortunes$')
/usr/bin/python3 "$peers/build_workloads.py" --fortunes-dir "$fortunes" --out-dir "$work" >/dev/null

rm -f "$work/db.sqlite"*
python3 -c 'import json,sys
for i,l in enumerate(open(sys.argv[1])): print(json.dumps({"id": "m%d" % i, "text": l.rstrip("\n")}))' \
  "$work/medium.txt" >"$work/medium.jsonl"
"$build/simile" add --db "$work/db.sqlite" fortunes "$work/medium.jsonl" --id-field id >/dev/null 2>&1
"$build/simile" serve --port 0 --db "$work/db.sqlite" 2>"$work/server.log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
while ! grep -q "listening on" "$work/server.log"; do sleep 0.1; done
url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$work/server.log")
say "server $url (pid $pid), $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git -C "$root" rev-parse --short HEAD)"

results="$work/results.jsonl"
: >"$results"
for c in $clients; do
  for spec in "mixed:embed:4,batch:1,search:4,bad:1:8" "embed-1:embed:1:1" "embed-32:batch:1:32"; do
    name=${spec%%:*} rest=${spec#*:} batch=${spec##*:}
    mix=${rest%:*}
    say "$name, $c clients, $seconds s"
    node "$load" --base-url "$url" --clients "$c" --seconds "$seconds" --collection fortunes --mix "$mix" \
      --batch-size "$batch" --texts "$work/short.txt" --pid "$pid" --max-rss-growth 1 --json \
      | python3 -c 'import json,sys; d=json.load(sys.stdin); d["name"]=sys.argv[1]; print(json.dumps(d))' "$name" \
      >>"$results"
  done
done
kill -TERM "$pid"; wait "$pid" || true; trap - EXIT
for b in 32 1; do
  "$build/simile" bench embed --file "$work/short.txt" --batch "$b" --runs 3 --latency-texts 0 --json \
    | python3 -c 'import json,sys; d=json.load(sys.stdin); d["name"]="cli-batch-%s" % sys.argv[1]; print(json.dumps(d))' "$b" \
    >>"$results"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
cli = {r["name"]: r for r in rows if r["name"].startswith("cli-")}
print("| load | clients | requests/s | texts/s | p50 ms | p99 ms | statuses | RSS MB (after warm-up -> end) |")
print("|---|---:|---:|---:|---:|---:|---|---|")
for r in rows:
    if r["name"].startswith("cli-"): continue
    kinds = r["kinds"]
    texts = sum(k["texts_per_second"] for k in kinds.values())
    for kind, k in kinds.items():
        print("| %s / %s | %d | %.1f | %s | %.1f | %.1f | %s | %.0f -> %.0f |" % (
            r["name"], kind, r["clients"], k["per_second"], "%.1f" % k["texts_per_second"] if k["texts_per_second"] else "",
            k["p50_ms"], k["p99_ms"], " ".join("%s: %d" % kv for kv in sorted(k["statuses"].items())),
            r["rss_mb"]["after_warmup"], r["rss_mb"]["end"]))
print()
for name, c in sorted(cli.items()):
    print("%s: %.1f texts/s" % (name, c["texts_per_s"]))
for r in rows:
    if r["name"] in ("embed-1", "embed-32"):
        t = sum(k["texts_per_second"] for k in r["kinds"].values())
        print("%s, %d clients: %.1f texts/s = %.2fx the CLI at batch 32, %.2fx at batch 1" % (
            r["name"], r["clients"], t, t / cli["cli-batch-32"]["texts_per_s"], t / cli["cli-batch-1"]["texts_per_s"]))
PY
