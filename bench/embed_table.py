#!/usr/bin/env python3
"""Prints the embedding benchmark records (JSON lines) as a Markdown table with
simile's ratio to each peer on the same workload and batch size.

  python3 bench/embed_table.py results.jsonl
"""
import json
import sys


def short_peer(p):
    if p.startswith("simile"):
        return "simile"
    if "onnxruntime" in p.lower() or p.lower().startswith("ort"):
        return "ONNX Runtime"
    if "pytorch" in p.lower():
        return "PyTorch"
    return p


def main():
    recs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
    print("| workload | batch | texts | peer | sent/s | tokens/s | call p50 ms | peak RSS MB | simile / peer |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in recs:
        peer = short_peer(r["peer"])
        sim = [x for x in recs if short_peer(x["peer"]) == "simile"
               and x["workload"] == r["workload"] and x["batch"] == r["batch"]]
        ratio = "" if peer == "simile" or not sim else "%.2fx" % (sim[0]["sent_per_s"] / r["sent_per_s"])
        print("| %s | %s | %s | %s | %.1f | %d | %s | %s | %s |" % (
            r["workload"], r["batch"], r["texts"], peer, r["sent_per_s"], r["tok_per_s"],
            r.get("call_p50_ms", ""), r.get("peak_rss_mb", ""), ratio))


if __name__ == "__main__":
    main()
