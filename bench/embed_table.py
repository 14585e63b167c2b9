#!/usr/bin/env python3
"""Prints embedding benchmark records (JSON lines, bench/run_job.py output) as
Markdown: per thread count, throughput with simile's ratios to ONNX Runtime,
batch-1 latency p50/p99, peak RSS, then every record in full.

  python3 bench/embed_table.py results.jsonl

Records are identified by their run_job label, ENGINE/WORKLOAD/bBATCH/tTHREADS
(engines: ort, torch, simile-fp32, simile-int8), so the peers' records and
`simile bench embed --json` (its own field names) sit side by side. Older
records without a label (engine from "peer", threads from "threads") still
print.
"""
import json
import sys

WORKLOADS = ["short", "medium", "long"]
ENGINES = ["ort", "torch", "simile-fp32", "simile-int8"]
LABEL = {"ort": "ONNX Runtime", "torch": "PyTorch", "simile-fp32": "simile fp32", "simile-int8": "simile int8"}


def normalise(r):
    """The peers' field names for a `simile bench embed` record, and the key."""
    if "texts_per_s" in r:
        r = dict(r, sent_per_s=r["texts_per_s"], tok_per_s=r["tokens_per_s"], runs_s=r["passes_s"],
                 peer="simile %s (%s)" % (r.get("dtype", "fp32"), r["model"]),
                 tokenization="included (simile embeds from text)")
    if "job" in r and r["job"].count("/") == 3:
        engine, workload, batch, threads = r["job"].split("/")
        return (engine, workload, int(batch[1:]), int(threads[1:])), r
    p = r["peer"].lower()
    engine = "simile-fp32" if p.startswith("simile") else "ort" if "onnxruntime" in p else "torch"
    return (engine, r["workload"], r["batch"], r["threads"]), r


def fmt(x, spec="%.1f"):
    return "-" if x is None else spec % x


def main():
    cells = {}
    for line in open(sys.argv[1]):
        if line.strip():
            key, r = normalise(json.loads(line))
            cells[key] = r  # the last record of a key wins
    engines = [e for e in ENGINES if any(k[0] == e for k in cells)]
    similes = [e for e in engines if e.startswith("simile")]
    thread_counts = sorted({k[3] for k in cells})

    def get(engine, w, b, t, field):
        r = cells.get((engine, w, b, t))
        return r.get(field) if r else None

    for t in thread_counts:
        print("### %d thread%s: throughput (sentences/s)\n" % (t, "" if t == 1 else "s"))
        print("| workload | batch | mean tokens | " + " | ".join(LABEL[e] for e in engines) + " | " +
              " | ".join("%s / ORT" % LABEL[e] for e in similes) + " |")
        print("|---|---:|---:|" + "---:|" * (len(engines) + len(similes)))
        for b in (32, 1):
            for w in WORKLOADS:
                rates = {e: get(e, w, b, t, "sent_per_s") for e in engines}
                if not any(rates.values()):
                    continue
                mean = next(get(e, w, b, t, "mean_tokens") for e in engines if rates[e])
                ort = rates.get("ort")
                print("| %s | %d | %.1f | " % (w, b, mean) + " | ".join(fmt(rates[e]) for e in engines) + " | " +
                      " | ".join(fmt(rates[e] / ort if rates[e] and ort else None, "%.2fx") for e in similes) + " |")
        print()
        print("### %d thread%s: batch-1 latency, p50 / p99 ms (PyTorch: p50 / p90)\n" % (t, "" if t == 1 else "s"))
        print("| workload | " + " | ".join(LABEL[e] for e in engines) + " |")
        print("|---|" + "---:|" * len(engines))
        for w in WORKLOADS:
            row = []
            for e in engines:
                p50 = get(e, w, 1, t, "call_p50_ms")
                tail = get(e, w, 1, t, "call_p99_ms") or get(e, w, 1, t, "call_p90_ms")
                row.append("-" if p50 is None else "%.2f / %.2f" % (p50, tail))
            if any(x != "-" for x in row):
                print("| %s | %s |" % (w, " | ".join(row)))
        print()
        print("### %d thread%s: peak RSS (MB), batch 32\n" % (t, "" if t == 1 else "s"))
        print("| workload | " + " | ".join(LABEL[e] for e in engines) + " |")
        print("|---|" + "---:|" * len(engines))
        for w in WORKLOADS:
            row = [fmt(get(e, w, 32, t, "peak_rss_mb"), "%.0f") for e in engines]
            if any(x != "-" for x in row):
                print("| %s | %s |" % (w, " | ".join(row)))
        print()

    print("### Every record\n")
    print("| engine | workload | batch | threads | texts | sent/s | tokens/s | call p50 / p90 / p99 ms "
          "| peak RSS MB | runs (s) | tokenisation | CPU wait | others' CPU (cores) |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---|---|---:|---:|")
    for key in sorted(cells, key=lambda k: (k[3], -k[2], WORKLOADS.index(k[1]) if k[1] in WORKLOADS else 9,
                                            ENGINES.index(k[0]) if k[0] in ENGINES else 9)):
        r = cells[key]
        print("| %s | %s | %d | %d | %d | %.1f | %d | %s / %s / %s | %s | %s | %s | %s | %s |" % (
            r["peer"], key[1], key[2], key[3], r["texts"], r["sent_per_s"], r["tok_per_s"],
            fmt(r.get("call_p50_ms"), "%.2f"), fmt(r.get("call_p90_ms"), "%.2f"), fmt(r.get("call_p99_ms"), "%.2f"),
            fmt(r.get("peak_rss_mb"), "%.0f"), ", ".join("%.2f" % x for x in r["runs_s"]),
            r.get("tokenization", "").split(" ")[0],
            "%.1f%%%s" % (100 * r["cpu_wait_frac"], "" if r.get("clean", True) else " *")
            if "cpu_wait_frac" in r else "-",
            r.get("other_cpu_cores", "-")))


if __name__ == "__main__":
    main()
