#!/usr/bin/env python3
"""Table of bench/ann_bench.sh: simile's `bench ann --json` beside the peers'
bench_hnsw.py records, and QPS ratios at recall@10 = 0.95.

usage: ann_table.py PEERS_JSONL SIMILE_JSON [--threads N] [--target 0.95]

QPS at the target recall is interpolated between the two ef points around it
(linearly in recall, geometrically in QPS); '-' when no ef reaches it.
"""
import argparse
import json
import math


def qps_at(points, target):
    """points: [(recall, qps)] in ef order."""
    pts = sorted(points)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1 and r1 > r0:
            t = (target - r0) / (r1 - r0)
            return math.exp(math.log(q0) + t * (math.log(q1) - math.log(q0)))
    if pts and pts[0][0] >= target:
        return pts[0][1]  # even the smallest ef reaches it
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peers_jsonl")
    ap.add_argument("simile_json")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--target", type=float, default=0.95)
    args = ap.parse_args()
    peers = [json.loads(line) for line in open(args.peers_jsonl) if line.strip()]
    mine = json.load(open(args.simile_json))

    rows = {}   # label -> {ef: (recall, qps)}
    builds = {}  # label -> (seconds, bytes/vector)
    for r in peers:
        if r.get("kind") == "build" and r.get("build_threads") == 1:
            builds[r["method"]] = (r["build_seconds"], r["rss_bytes_per_vector"])
        if r.get("kind") == "ann" and r["threads"] == args.threads:
            label = f'{r["method"]} ({r["mode"]})'
            rows.setdefault(label, {})[r["ef"]] = (r["recall10"], r["qps"])
    label = "simile_hnsw (single)"
    rows[label] = {r["ef"]: (r["recall10"], r["qps"]) for r in mine["results"]}
    builds["simile_hnsw"] = (mine["build_seconds"], mine["rss_growth_bytes"] / mine["nb"])

    print(f'nb={mine["nb"]} dim={mine["dim"]} nq={mine["nq"]} M={mine["M"]} '
          f'efConstruction={mine["efConstruction"]} search threads={args.threads}')
    print(f'simile index memory: {mine["bytes_per_vector"]:.1f} bytes/vector (memory_bytes())\n')
    print("| method | build s (1 thread) | RSS growth bytes/vector |")
    print("|---|---:|---:|")
    for m, (s, b) in builds.items():
        print(f"| {m} | {s:.1f} | {b:.0f} |")
    efs = sorted({ef for r in rows.values() for ef in r})
    print("\nrecall@10 / QPS per ef\n")
    print("| method | " + " | ".join(f"ef {ef}" for ef in efs) + f" | QPS @ {args.target} |")
    print("|---|" + "---:|" * (len(efs) + 1))
    at = {}
    for label, r in rows.items():
        at[label] = qps_at(list(r.values()), args.target)
        cells = [f"{r[ef][0]:.3f} / {r[ef][1]:.0f}" if ef in r else "" for ef in efs]
        q = f"{at[label]:.0f}" if at[label] else "-"
        print(f"| {label} | " + " | ".join(cells) + f" | {q} |")
    print()
    me = at[label]
    for other, q in at.items():
        if other != label and q and me:
            print(f"simile / {other} at recall@10 {args.target}: {me / q:.2f}x QPS")
    for m, (s, b) in builds.items():
        if m != "simile_hnsw":
            print(f"simile / {m}: build time {builds['simile_hnsw'][0] / s:.2f}x, "
                  f"RSS bytes/vector {builds['simile_hnsw'][1] / b:.2f}x")


if __name__ == "__main__":
    main()
