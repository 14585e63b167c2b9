#!/usr/bin/env python3
"""Helpers of bench/collection_bench.sh: the 100k-sentence corpus, chunk texts
out of a collection database, timed runs of the simile command, and the
Markdown tables.

  collection_bench.py corpus --fortunes-dir D --cranfield corpus.jsonl [--n 100000] -o out.jsonl
  collection_bench.py chunks DB -o chunks.jsonl
  collection_bench.py same A.db B.db
  collection_bench.py run --results R --job NAME --kind ingest|embed|job --workload W --texts N
                          [--stdin FILE] [--stdout FILE] -- CMD...
  collection_bench.py cli --results R --simile BIN --queries Q.jsonl --db LABEL=PATH ...
                          [--collection bench] [--filter EXPR] [--runs 20]
  collection_bench.py table R [R ...]

corpus: one document per line {"id", "text", "source", "file", "sentences",
"bucket"}. Texts are sentences of the fortune cookies (every cookie file in
--fortunes-dir) and of the Cranfield abstracts: whitespace collapsed, split
after . ! or ?, kept when 20-300 characters long, at least 4 words and
mostly letters, and deduplicated (case-insensitively). There are fewer than
100,000 of them (37,741 with Debian 12's fortunes), so these follow, until
--n texts exist: runs of 2, then 3 consecutive sentences of the same cookie
or abstract, then pairs of two distant sentences (the i-th distinct sentence
and the one half the list further on); combined texts of more than 600
characters are left out, and of the last kind taken, the texts with the
smallest SHA-256 are kept, so the choice is deterministic and spread over all
sources. "bucket" is the line number modulo 10: `bucket = 0` keeps 10% of
the documents.

run: runs CMD (stdin from --stdin, stdout to --stdout) and appends one
record: wall seconds, the ingest summary (`simile add --json`: chunks, tokens,
seconds; --kind ingest), and how much
the machine disturbed it, measured as bench/run_job.py does (the command's
threads' CPU wait; other processes' CPU use, in cores; the 1-minute load
average before and after).

cli: `simile search COLL QUERY --db PATH` end to end, --runs times per
database (query i of the file on run i), interleaved with `simile embed QUERY`
(the fixed cost: start-up and loading the model); one record per variant.

same: whether two databases hold the same documents, chunks and vectors
(exits 1 naming the first difference): checks that search_bench --reencode
writes what `simile add --vector-type` writes.
"""
import argparse
import hashlib
import json
import os
import re
import resource
import sqlite3
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_job  # noqa: E402  (busy_seconds, ThreadTimes)

# ---- corpus ----------------------------------------------------------------

SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences_of(text):
    text = " ".join(text.split())
    out = []
    for s in SENTENCE_END.split(text):
        s = s.strip()
        if not 20 <= len(s) <= 300 or len(s.split()) < 4 or "\ufffd" in s:
            continue
        visible = [c for c in s if not c.isspace()]
        if sum(c.isalpha() for c in visible) < 0.6 * len(visible):
            continue
        out.append(s)
    return out


def cookie_files(directory):
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.endswith(".dat") or name.endswith(".u8") or os.path.islink(path) or not os.path.isfile(path):
            continue
        yield name, path


def corpus_units(fortunes_dir, cranfield):
    """(source, file, [sentences]) for every cookie and abstract, in a fixed order."""
    for name, path in cookie_files(fortunes_dir):
        with open(path, encoding="utf-8", errors="replace") as f:
            cookies = re.split(r"^%\s*$", f.read(), flags=re.M)
        for cookie in cookies:
            sents = sentences_of(cookie)
            if sents:
                yield "fortunes", name, sents
    with open(cranfield, encoding="utf-8") as f:
        for line in f:
            doc = json.loads(line)
            sents = sentences_of(doc.get("text", ""))
            if sents:
                yield "cranfield", "corpus.jsonl", sents


def corpus_candidates(units):
    """Candidate texts, best first: kinds of (label, [(source, file, sentences, text)])."""
    singles = [(source, name, 1, s) for source, name, sents in units for s in sents]
    yield "sentences", singles
    for size in (2, 3):
        yield "%d consecutive sentences" % size, [
            (source, name, size, " ".join(sents[i:i + size]))
            for source, name, sents in units for i in range(len(sents) - size + 1)]
    # Then two sentences from different places: the i-th distinct sentence
    # and the one half the list further on.
    n = len(singles)
    yield "2 distant sentences", [
        (singles[i][0], singles[i][1], 2, singles[i][3] + " " + singles[(i + n // 2) % n][3]) for i in range(n)]


def cmd_corpus(args):
    units = list(corpus_units(args.fortunes_dir, args.cranfield))
    seen, texts, counts = set(), [], {}
    for kind, candidates in corpus_candidates(units):
        fresh = []
        for c in candidates:
            key = c[3].lower()
            if key in seen or len(c[3]) > 600:
                continue
            seen.add(key)
            fresh.append(c)
        need = args.n - len(texts)
        if len(fresh) > need:  # a deterministic, evenly spread subset
            order = sorted(range(len(fresh)), key=lambda i: hashlib.sha256(fresh[i][3].encode()).digest())
            keep = set(order[:need])
            fresh = [c for i, c in enumerate(fresh) if i in keep]
        counts[kind] = len(fresh)
        texts.extend(fresh)
        if len(texts) == args.n:
            break
    if len(texts) < args.n:
        sys.exit("corpus: only %d distinct texts" % len(texts))
    with open(args.output, "w", encoding="utf-8") as out:
        for i, (source, name, size, text) in enumerate(texts):
            out.write(json.dumps({"id": "s%06d" % i, "text": text, "source": source, "file": name,
                                  "sentences": size, "bucket": i % 10}, ensure_ascii=False) + "\n")
    by_source = {}
    for source, _, _, _ in texts:
        by_source[source] = by_source.get(source, 0) + 1
    print(json.dumps({"texts": len(texts), "kinds": counts, "by_source": by_source, "units": len(units),
                      "mean_chars": round(sum(len(t[3]) for t in texts) / len(texts), 1)}))


# ---- database helpers --------------------------------------------------------


def cmd_chunks(args):
    """Every stored chunk's text, in chunk id order, as JSON strings (simile embed --jsonl)."""
    db = sqlite3.connect("file:%s?mode=ro" % args.db, uri=True)
    rows = db.execute("SELECT CAST(d.text AS BLOB), c.byte_begin, c.byte_end FROM chunks c "
                      "JOIN documents d ON d.id = c.document_id ORDER BY c.id")
    n = 0
    with open(args.output, "w", encoding="utf-8") as out:
        for text, begin, end in rows:
            out.write(json.dumps(bytes(text[begin:end]).decode("utf-8"), ensure_ascii=False) + "\n")
            n += 1
    print(json.dumps({"chunks": n}))


def cmd_same(args):
    def rows(path, sql):
        return sqlite3.connect("file:%s?mode=ro" % path, uri=True).execute(sql)

    checks = [
        ("collections", "SELECT name, model, model_fingerprint, dims, pooling, normalize, query_prompt, "
                        "document_prompt, chunk_tokens, overlap_tokens, metric, vector_type, related_k "
                        "FROM collections ORDER BY name"),
        ("documents", "SELECT c.name, d.doc_id, d.title, d.text, d.meta, d.content_hash FROM documents d "
                      "JOIN collections c ON c.id = d.collection_id ORDER BY c.name, d.doc_id"),
        ("chunks", "SELECT c.name, d.doc_id, k.seq, k.byte_begin, k.byte_end, k.char_begin, k.char_end, "
                   "k.vector, k.exact FROM chunks k JOIN documents d ON d.id = k.document_id "
                   "JOIN collections c ON c.id = k.collection_id ORDER BY c.name, d.doc_id, k.seq"),
    ]
    for table, sql in checks:
        n = 0
        for n, (a, b) in enumerate(zip(rows(args.a, sql), rows(args.b, sql)), 1):
            if a != b:
                diff = [i for i in range(len(a)) if a[i] != b[i]]
                sys.exit("same: %s row %d differs in column(s) %s (%r ...)" % (table, n, diff, a[:3]))
        count = [next(rows(p, "SELECT count(*) FROM (%s)" % sql))[0] for p in (args.a, args.b)]
        if count[0] != count[1]:
            sys.exit("same: %s: %d rows against %d" % (table, count[0], count[1]))
    print("same: %s and %s hold the same collections, documents, chunks and vectors" % (args.a, args.b))


# ---- timed runs ---------------------------------------------------------------


def load1():
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def timed(cmd, stdin=None):
    """Runs cmd; returns (stdout, wall s, own CPU s, CPU wait fraction, others' cores)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0, t0 = run_job.busy_seconds(), time.monotonic()
    with open(stdin or os.devnull, "rb") as inp:
        proc = subprocess.Popen(cmd, stdin=inp, stdout=subprocess.PIPE)
        times = run_job.ThreadTimes(proc.pid, every=0.1)
        out, _ = proc.communicate()
        on_cpu, waiting = times.finish()
    wall = time.monotonic() - t0
    busy = run_job.busy_seconds() - b0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    own = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    if proc.returncode != 0:
        sys.exit("collection_bench: %s failed (exit %d)" % (" ".join(cmd[:3]), proc.returncode))
    return (out.decode("utf-8", "replace"), wall, own, waiting / on_cpu if on_cpu > 0 else 0.0,
            max(0.0, busy - own) / wall)


def cmd_run(args):
    cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
    load_before = load1()
    out, wall, own, wait, others = timed(cmd, args.stdin)
    if args.stdout:
        with open(args.stdout, "w") as f:
            f.write(out)
    rec = {"bench": "ingest" if args.kind != "job" else "job", "job": args.job, "kind": args.kind,
           "workload": args.workload, "texts": args.texts, "wall_s": round(wall, 3), "cpu_s": round(own, 2)}
    if args.kind == "ingest":
        summary = json.loads([l for l in out.splitlines() if l.startswith("{")][-1])
        rec.update({"docs": summary["added"], "failed": summary["failed"], "chunks": summary["chunks"],
                    "tokens": summary["tokens"], "inner_s": round(summary["seconds"], 3)})
    rec.update({"cpu_wait_frac": round(wait, 4), "other_cpu_cores": round(others, 3),
                "load_before": load_before, "load_after": load1(), "time": time.strftime("%Y-%m-%dT%H:%M:%S")})
    with open(args.results, "a") as f:
        f.write(json.dumps(rec) + "\n")
    print("%s %-26s %7.2f s  cpu-wait %5.1f%%  others %.2f cores  load %.1f" % (
        time.strftime("%H:%M:%S"), args.job, wall, 100 * wait, others, load_before), file=sys.stderr)


def percentile(xs, p):  # nearest rank, as search_bench and embed_bench
    xs = sorted(xs)
    k = max(0, min(len(xs) - 1, -(-len(xs) * p // 100) - 1))
    return xs[int(k)]


def cmd_cli(args):
    queries = [json.loads(l)["text"] for l in open(args.queries) if l.strip()]
    variants = [("simile embed", None, None)]
    for spec in args.db:
        label, path = spec.split("=", 1)
        variants.append((label, path, None))
        if args.filter:
            variants.append((label + "+filter", path, args.filter))
    walls = {v[0]: [] for v in variants}
    loads = {v[0]: [] for v in variants}
    waits = {v[0]: [] for v in variants}
    others = {v[0]: [] for v in variants}
    for r in range(args.runs):
        q = queries[r % len(queries)]
        for j in range(len(variants)):
            name, path, flt = variants[(r + j) % len(variants)]
            if path is None:
                cmd = [args.simile, "embed", q]
            else:
                cmd = [args.simile, "search", args.collection, q, "--db", path, "-k", str(args.k)]
                if flt:
                    cmd += ["--filter", flt]
            loads[name].append(load1())
            _, wall, _, wait, other = timed(cmd)
            walls[name].append(wall * 1e3)
            waits[name].append(wait)
            others[name].append(other)
    with open(args.results, "a") as f:
        for name, path, flt in variants:
            ms = walls[name]
            rec = {"bench": "cli", "variant": name, "db": path or "", "filter": flt or "", "runs": len(ms),
                   "median_ms": round(statistics.median(ms), 1), "p90_ms": round(percentile(ms, 90), 1),
                   "min_ms": round(min(ms), 1), "max_ms": round(max(ms), 1),
                   "load_avg": round(statistics.median(loads[name]), 2),
                   "cpu_wait_frac_median": round(statistics.median(waits[name]), 4),
                   "other_cpu_cores_median": round(statistics.median(others[name]), 3),
                   "time": time.strftime("%Y-%m-%dT%H:%M:%S")}
            f.write(json.dumps(rec) + "\n")
            print(json.dumps(rec))


# ---- tables -------------------------------------------------------------------


def cmd_table(args):
    recs = [json.loads(l) for path in args.results if os.path.exists(path) for l in open(path) if l.strip()]
    ingest = [r for r in recs if r.get("bench") == "ingest"]
    search = [r for r in recs if r.get("bench") == "search"]
    cli = [r for r in recs if r.get("bench") == "cli"]
    jobs = {r["job"]: r for r in recs if r.get("bench") == "job"}
    if ingest:
        print("| workload | documents | chunks | tokens | ingest s | ingest docs/s | ingest chunks/s | "
              "ingest tokens/s | embed s | embed chunks/s | embed tokens/s | ingest / embed | "
              "CPU s ingest / embed |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for w in dict.fromkeys(r["workload"] for r in ingest):
            ing = [r for r in ingest if r["workload"] == w and r["kind"] == "ingest"]
            emb = [r for r in ingest if r["workload"] == w and r["kind"] == "embed"]
            if not ing or not emb:
                continue
            docs, chunks = ing[0]["docs"], ing[0]["chunks"]
            tokens = ing[0]["tokens"] + 2 * chunks  # with [CLS] and [SEP], as embed_bench counts
            ti = statistics.median(r["wall_s"] for r in ing)
            te = statistics.median(r["wall_s"] for r in emb)
            ci = statistics.median(r["cpu_s"] for r in ing)
            ce = statistics.median(r["cpu_s"] for r in emb)
            print("| %s | %d | %d | %d | %.2f | %.1f | %.1f | %.0f | %.2f | %.1f | %.0f | %.2f | %.1f / %.1f |" % (
                w, docs, chunks, tokens, ti, docs / ti, chunks / ti, tokens / ti, te, chunks / te,
                tokens / te, te / ti, ci, ce))
        print()
        print("| run | workload | wall s | inside add s | CPU s | CPU wait | others' CPU (cores) | load before |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for r in ingest:
            print("| %s | %s | %.2f | %s | %.1f | %.1f%% | %.2f | %.1f |" % (
                r["job"], r["workload"], r["wall_s"], "%.2f" % r["inner_s"] if "inner_s" in r else "-",
                r["cpu_s"], 100 * r["cpu_wait_frac"], r["other_cpu_cores"], r["load_before"]))
        print()
    if search:
        ref = search[0]
        print("Search latency, %d queries x %d runs, k = %d, %d threads, %d chunks, filter '%s' keeps %s "
              "documents; %.0f s, load average %s before, %s after:" % (
                  ref["queries"], ref["runs"], ref["k"], ref["threads"], ref["chunks"],
                  next((r["filter"] for r in search if r["filter"]), ""),
                  next((r["allowed_documents"] for r in search if "allowed_documents" in r), "?"),
                  ref.get("bench_s", 0), ref.get("load_before", "?"), ref.get("load_after", "?")))
        job = jobs.get("search_bench")
        if job:
            print("(its CPU wait %.1f%%, other processes' CPU use %.2f cores)" % (
                100 * job["cpu_wait_frac"], job["other_cpu_cores"]))
        print()
        print("| variant | what is timed | median ms | p90 ms | p99 ms | recall@%d vs f32 | index load ms |"
              % ref["k"])
        print("|---|---|---:|---:|---:|---:|---:|")
        what = {"embed": "Embedder::embed of the query", "embed1": "the same, 1 thread",
                "search": "Collection::search",
                "index": "CollectionIndex::search (internal)", "sql": "filter SQL (internal)"}
        for r in search:
            recall = next((v for k, v in r.items() if k.startswith("recall_vs_")), None)
            print("| %s | %s | %.2f | %.2f | %.2f | %s | %s |" % (
                r["variant"], what.get(r["kind"], r["kind"]), r["median_ms"], r["p90_ms"], r["p99_ms"],
                "-" if recall is None else "%.4f" % recall,
                "%.0f" % r["load_ms"] if "load_ms" in r else "-"))
        print()
    if cli:
        print("| command | runs | median ms | p90 ms | min ms | max ms | load average | CPU wait | others' CPU (cores) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in cli:
            what = "simile embed QUERY" if r["variant"] == "simile embed" else \
                "simile search (%s%s)" % (r["variant"], ")" if not r["filter"] else ", --filter '%s')" % r["filter"])
            what = what.replace("))", ")")
            print("| %s | %d | %.0f | %.0f | %.0f | %.0f | %.1f | %s | %s |" % (
                what, r["runs"], r["median_ms"], r["p90_ms"], r["min_ms"], r["max_ms"], r["load_avg"],
                "%.1f%%" % (100 * r["cpu_wait_frac_median"]) if "cpu_wait_frac_median" in r else "-",
                "%.2f" % r["other_cpu_cores_median"] if "other_cpu_cores_median" in r else "-"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("corpus")
    p.add_argument("--fortunes-dir", required=True)
    p.add_argument("--cranfield", required=True)
    p.add_argument("--n", type=int, default=100000)
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("chunks")
    p.add_argument("db")
    p.add_argument("-o", "--output", required=True)
    p = sub.add_parser("same")
    p.add_argument("a")
    p.add_argument("b")
    p = sub.add_parser("run")
    p.add_argument("--results", required=True)
    p.add_argument("--job", required=True)
    p.add_argument("--kind", choices=["ingest", "embed", "job"], required=True)
    p.add_argument("--stdout", help="write the command's output here")
    p.add_argument("--workload", required=True)
    p.add_argument("--texts", type=int, required=True)
    p.add_argument("--stdin")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    p = sub.add_parser("cli")
    p.add_argument("--results", required=True)
    p.add_argument("--simile", required=True)
    p.add_argument("--queries", required=True)
    p.add_argument("--db", action="append", required=True)
    p.add_argument("--collection", default="bench")
    p.add_argument("--filter", default="")
    p.add_argument("--k", type=int, default=10)
    p.add_argument("--runs", type=int, default=20)
    p = sub.add_parser("table")
    p.add_argument("results", nargs="+")
    args = ap.parse_args()
    {"corpus": cmd_corpus, "chunks": cmd_chunks, "same": cmd_same, "run": cmd_run, "cli": cmd_cli,
     "table": cmd_table}[args.command](args)


if __name__ == "__main__":
    main()
