#!/usr/bin/env python3
"""Prints embedding benchmark records (JSON lines, bench/run_job.py output) as
Markdown: a summary with simile's ratio to ONNX Runtime and to PyTorch per
workload and batch size, then every record in full.

  python3 bench/embed_table.py results.jsonl
"""
import json
import sys

WORKLOADS = ["short", "medium", "long"]


def peer_kind(peer):
    p = peer.lower()
    if p.startswith("simile"):
        return "simile"
    if "onnxruntime" in p:
        return "ort"
    if "pytorch" in p:
        return "torch"
    return peer


LABEL = {"simile": "simile", "ort": "ONNX Runtime", "torch": "PyTorch"}


def main():
    recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    cells = {}
    for r in recs:  # the last record of a (peer, workload, batch) wins
        cells[(peer_kind(r["peer"]), r["workload"], r["batch"])] = r
    keys = sorted({(r["workload"], r["batch"]) for r in recs},
                  key=lambda k: (-k[1], WORKLOADS.index(k[0]) if k[0] in WORKLOADS else 9, k[0]))

    def rate(kind, w, b):
        r = cells.get((kind, w, b))
        return r["sent_per_s"] if r else None

    def fmt(x, spec="%.1f"):
        return "-" if x is None else spec % x

    print("| workload | batch | texts | mean tokens | ONNX Runtime sent/s | PyTorch sent/s | "
          "simile sent/s | simile tokens/s | simile / ORT | simile / PyTorch |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for w, b in keys:
        s, o, t = rate("simile", w, b), rate("ort", w, b), rate("torch", w, b)
        any_rec = next(cells[k] for k in cells if k[1:] == (w, b))
        sim = cells.get(("simile", w, b))
        print("| %s | %d | %d | %.1f | %s | %s | %s | %s | %s | %s |" % (
            w, b, any_rec["texts"], any_rec["mean_tokens"], fmt(o), fmt(t), fmt(s),
            fmt(sim["tok_per_s"] if sim else None, "%.0f"),
            fmt(s / o if s and o else None, "%.2fx"), fmt(s / t if s and t else None, "%.2fx")))

    print()
    print("| peer | workload | batch | texts | sent/s | tokens/s | call p50 / p90 ms | peak RSS MB "
          "| runs (s) | tokenisation | CPU wait | others' CPU (cores) |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---|---|---:|---:|")
    for w, b in keys:
        for kind in ("ort", "torch", "simile"):
            r = cells.get((kind, w, b))
            if not r:
                continue
            tok = r.get("tokenization", "").split(" ")[0]
            if "sent_per_s_excl_tok_est" in r:
                tok += " (excl. est. %.1f sent/s)" % r["sent_per_s_excl_tok_est"]
            print("| %s | %s | %d | %d | %.1f | %d | %s / %s | %s | %s | %s | %s | %s |" % (
                r["peer"], w, b, r["texts"], r["sent_per_s"], r["tok_per_s"],
                r.get("call_p50_ms", "-"), r.get("call_p90_ms", "-"), r.get("peak_rss_mb", "-"),
                ", ".join("%.2f" % x for x in r["runs_s"]), tok,
                "%.1f%%%s" % (100 * r["cpu_wait_frac"], "" if r.get("clean", True) else " *")
                if "cpu_wait_frac" in r else "-",
                r.get("other_cpu_cores", "-")))


if __name__ == "__main__":
    main()
