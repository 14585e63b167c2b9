#!/usr/bin/env python3
"""Keyword search against Xapian (and SQLite FTS5) on BEIR folders, side by side.

Usage: keyword_bench.py SIMILE_BIN WORK_DIR [--data=DIR] [--collections=cranfield]
                        [--repeat=5] [--no-dense]

For each collection:
  * the peers: ../shared/peers/ir/baselines.py (Xapian BM25 at its defaults
    k1=1 b=0.5, at k1=0.9 b=0.4, at k1=1.2 b=0.75 with linear query-term
    frequency, and FTS5), --repeat builds and query passes, medians;
  * simile, keyword-only collections (--model none) with the default analyzer
    and with the "english" preset (English stop words), at the same three
    (k1, b): each round indexes the corpus into a fresh database (`simile eval`
    reports the time of its `add`: read, analyse, write and commit) and runs
    every query at each (k1, b) on it (mean wall time per query, index loaded
    by one untimed query first, like the peer's warm cache). Medians of the
    rounds; metrics of the first round, whose run files ir_eval.py re-scores
    (the metrics must agree to 1e-6);
  * unless --no-dense: one collection with the default model, searched dense
    and BM25 (default analyzer, k1=1.2 b=0.75).
Prints a markdown table with ratios against the Xapian row of the same k1 and
b, and writes WORK_DIR/keyword.jsonl.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SHARED = os.path.normpath(os.path.join(HERE, "..", "..", "shared"))
PAIRS = [(1.0, 0.5, "xapian-bm25"), (0.9, 0.4, "xapian-bm25-k0.9b0.4"),
         (1.2, 0.75, "xapian-bm25-k1.2b0.75-linqtf")]
METRICS = ["nDCG@10", "MRR@10", "MAP@100", "R@10", "R@100"]


def run_json(cmd):
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def ir_eval(qrels, run):
    out = subprocess.run([sys.executable, os.path.join(SHARED, "peers/ir/ir_eval.py"), qrels, run, "--json"],
                         check=True, capture_output=True, text=True).stdout
    return json.loads(out)["metrics"]


def simile_rows(simile, work, coll_dir, coll, analyzer, repeat):
    qrels = os.path.join(coll_dir, "qrels", "test.tsv")
    rows = {}
    for r in range(repeat):
        db = os.path.join(work, "simile-%s-%s.db" % (coll, analyzer))
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)
        for k1, b, peer in PAIRS:
            run = os.path.join(work, "runs", "%s.simile-%s-k%gb%g.trec" % (coll, analyzer, k1, b))
            res = run_json([simile, "eval", "--beir", coll_dir, "--db", db, "--model", "none", "--analyzer",
                            analyzer, "--mode", "bm25", "--k1", str(k1), "--b", str(b), "--json", "-q",
                            "--run", run])
            row = rows.setdefault((k1, b), {"system": "simile-bm25 (%s)" % analyzer, "k1": k1, "b": b,
                                            "peer": peer, "build_s": [], "query_ms": []})
            if res["documents"]["added"] > 0:
                row["build_s"].append(res["documents"]["seconds"])
                row["docs"] = res["documents"]["added"]
            row["query_ms"].append(res["query_ms"]["mean"])
            if r == 0:
                row["metrics"] = res["metrics"]
                ref = ir_eval(qrels, run)
                row["ir_eval_max_diff"] = max(abs(ref[m] - res["metrics"][m]) for m in METRICS)
    # One index serves every (k1, b): its build time goes on each row.
    first = rows[(PAIRS[0][0], PAIRS[0][1])]
    for row in rows.values():
        row["build_s"], row["docs"] = first["build_s"], first["docs"]
    return list(rows.values())


def dense_rows(simile, work, coll_dir, coll):
    db = os.path.join(work, "simile-%s-dense.db" % coll)
    out = []
    for mode in ("dense", "bm25"):
        res = run_json([simile, "eval", "--beir", coll_dir, "--db", db, "--mode", mode, "--json", "-q"])
        out.append({"system": "simile-%s (all-MiniLM-L6-v2 collection)" % mode, "k1": 1.2 if mode == "bm25" else None,
                    "b": 0.75 if mode == "bm25" else None, "metrics": res["metrics"],
                    "query_ms": [res["query_ms"]["mean"]], "build_s": [], "peer": None})
    return out


def main(argv):
    simile, work = argv[1], argv[2]
    opts = dict(a[2:].split("=", 1) for a in argv[3:] if a.startswith("--") and "=" in a)
    data = opts.get("data", os.path.join(SHARED, "data"))
    colls = opts.get("collections", "cranfield").split(",")
    repeat = int(opts.get("repeat", "5"))
    dense = "--no-dense" not in argv
    os.makedirs(os.path.join(work, "runs"), exist_ok=True)
    peers_out = os.path.join(work, "peers.jsonl")
    if os.path.exists(peers_out):
        os.remove(peers_out)
    subprocess.run(["/usr/bin/python3", os.path.join(SHARED, "peers/ir/baselines.py"), "run", data,
                    os.path.join(work, "peers"), peers_out, "--collections=" + ",".join(colls),
                    "--systems=" + ",".join(p for _, _, p in PAIRS) + ",fts5", "--repeat=%d" % repeat],
                   check=True, stdout=sys.stderr)
    peers = {}
    with open(peers_out) as f:
        for line in f:
            r = json.loads(line)
            peers[(r["collection"], r["system"])] = r
    records = []
    for coll in colls:
        coll_dir = os.path.join(data, coll)
        rows = []
        for analyzer in ("default", "english"):
            rows += simile_rows(simile, work, coll_dir, coll, analyzer, repeat)
        if dense:
            rows += dense_rows(simile, work, coll_dir, coll)
        print("\n%s: %d documents, load average %.1f\n" % (coll, peers[(coll, PAIRS[0][2])]["docs"],
                                                           os.getloadavg()[0]))
        print("| system | k1 | b | nDCG@10 | MRR@10 | MAP@100 | R@10 | R@100 | index s | docs/s | ms/query "
              "| vs Xapian same k1,b: nDCG, index speed, query speed |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
        for name in [p for _, _, p in PAIRS] + ["fts5"]:
            r = peers[(coll, name)]
            m = r["metrics"]
            print("| %s | | | %.4f | %.4f | %.4f | %.4f | %.4f | %.3f | %.0f | %.3f | |" % (
                name, m["nDCG@10"], m["MRR@10"], m["MAP@100"], m["R@10"], m["R@100"], r["build_s"],
                r["docs"] / r["build_s"], r["mean_query_ms"]))
        for row in rows:
            m = row["metrics"]
            build = statistics.median(row["build_s"]) if row["build_s"] else None
            q = statistics.median(row["query_ms"])
            ratio = ""
            if row["peer"]:
                p = peers[(coll, row["peer"])]
                ratio = "%+.4f, %.2fx, %.2fx" % (m["nDCG@10"] - p["metrics"]["nDCG@10"],
                                                 (p["build_s"] / build) if build else float("nan"),
                                                 p["mean_query_ms"] / q)
            print("| %s | %s | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %s | %s | %.3f | %s |" % (
                row["system"], "" if row["k1"] is None else "%g" % row["k1"],
                "" if row["b"] is None else "%g" % row["b"], m["nDCG@10"], m["MRR@10"], m["MAP@100"],
                m["R@10"], m["R@100"], "%.3f" % build if build else "", "%.0f" % (row["docs"] / build)
                if build else "", q, ratio))
            if "ir_eval_max_diff" in row and row["ir_eval_max_diff"] > 1e-6:
                print("ERROR: ir_eval.py disagrees with simile eval by %g" % row["ir_eval_max_diff"])
                return 1
            records.append(dict(row, collection=coll))
        print("\nsimile eval's metrics = ir_eval.py's on the same run files (max |diff| %.1e)." % max(
            r.get("ir_eval_max_diff", 0) for r in rows))
    with open(os.path.join(work, "keyword.jsonl"), "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
