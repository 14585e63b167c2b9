#!/usr/bin/python3
"""What re-ranking costs: simile's cross-encoder stage beside plain PyTorch,
on the same (query, passage) pairs, in the same run.

    python3 bench/rerank_cost_peers.py --simile build/simile --db CRAN.db \
        --collection eval-cranfield --model COST_CE_DIR \
        --queries ../shared/data/cranfield/queries.jsonl [--n 30] [--tops 20,50,100] [--threads 2]

COST_CE_DIR is a cross-encoder of realistic size (bench/make_cost_cross_encoder.py);
only its cost means anything. For each of the first --n queries and each depth
N in --tops:

  * simile: `simile eval --mode hybrid-rrf --rerank DIR --rerank-top N -k N
    --json` over those queries, in one process (the model opened once); its
    "stage_ms"."rerank" is the mean time of the re-ranking stage per query
    (SearchReport): tokenising the N pairs and the cross-encoder's forward
    passes, batches of 32;
  * PyTorch: the same N passages (the chunks `simile search --mode hybrid -k N`
    returns for the query) paired with it as [CLS] q [SEP] p [SEP], cut to 512
    tokens longest-first, through ../shared/peers/inference/ref_embed.py's BERT
    encoder in fp32, batches of 32 in that order (the one-label head on [CLS]
    is negligible and left out; tokenising is not timed), torch threads =
    --threads.

The medians of --runs passes are reported, with their ratio.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
PEERS = os.path.join(HERE, "..", "..", "shared", "peers", "inference")
sys.path.insert(0, PEERS)
import ref_embed  # noqa: E402


def pair_ids(tok, query, passage, max_len=512):
    q = tok.encode(query, max_tokens=None)[1:-1]
    p = tok.encode(passage, max_tokens=None)[1:-1]
    room = max_len - 3
    while len(q) + len(p) > room:  # longest first
        if len(p) >= len(q):
            p.pop()
        else:
            q.pop()
    return [tok.cls_id] + q + [tok.sep_id] + p + [tok.sep_id]


@torch.no_grad()
def torch_ms(model, ids_list, batch=32):
    t0 = time.perf_counter()
    for _, ids, att in ref_embed.make_batches(ids_list, batch, sort=False):
        model(ids, att)
    return (time.perf_counter() - t0) * 1e3


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--simile", required=True)
    ap.add_argument("--db", required=True)
    ap.add_argument("--collection", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--beir", required=True, help="BEIR folder of the collection (corpus.jsonl, qrels)")
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--tops", default="20,50,100")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    model, tok = ref_embed.load_model(a.model)

    queries = [json.loads(l) for l in open(os.path.join(a.beir, "queries.jsonl"))][: a.n]
    work = tempfile.mkdtemp()
    beir = os.path.join(work, "beir")
    os.makedirs(os.path.join(beir, "qrels"))
    os.symlink(os.path.abspath(os.path.join(a.beir, "corpus.jsonl")), os.path.join(beir, "corpus.jsonl"))
    os.symlink(os.path.abspath(os.path.join(a.beir, "qrels", "test.tsv")), os.path.join(beir, "qrels", "test.tsv"))
    with open(os.path.join(beir, "queries.jsonl"), "w") as f:
        for q in queries:
            f.write(json.dumps(q) + "\n")

    rows = []
    for top in [int(x) for x in a.tops.split(",")]:
        # The passages each query's re-ranking sees: the hybrid top N chunks.
        pairs = []
        for q in queries:
            out = subprocess.run([a.simile, "search", a.collection, q["text"], "--db", a.db, "--mode", "hybrid",
                                  "-k", str(top), "--json"], check=True, capture_output=True, text=True).stdout
            pairs.append([pair_ids(tok, q["text"], r["chunk"]) for r in json.loads(out)["results"]])
        tokens = statistics.mean(sum(len(p) for p in ps) / len(ps) for ps in pairs)
        torch_ms(model, pairs[0])  # warm-up
        simile_runs, torch_runs = [], []
        for _ in range(a.runs):
            out = subprocess.run([a.simile, "eval", "--beir", beir, "--db", a.db, "--collection", a.collection,
                                  "--mode", "hybrid-rrf", "--rerank", a.model, "--rerank-top", str(top),
                                  "-k", str(top), "--threads", str(a.threads), "--json", "-q"],
                                 check=True, capture_output=True, text=True).stdout
            j = json.loads(out)
            row = [m for m in j["modes"] if m["mode"].endswith("+rerank")][0]
            simile_runs.append(row["stage_ms"]["rerank"])
            torch_runs.append(statistics.mean(torch_ms(model, ps) for ps in pairs))
        s, t = statistics.median(simile_runs), statistics.median(torch_runs)
        rows.append({"top": top, "pair_tokens": round(tokens, 1), "simile_ms": round(s, 1),
                     "torch_ms": round(t, 1), "speedup": round(t / s, 2)})
        print(json.dumps(rows[-1]), flush=True)
    print()
    print("| --rerank-top | tokens per pair | simile rerank ms/query | PyTorch ms/query | simile speed-up |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        print("| %d | %.0f | %.1f | %.1f | %.2fx |" % (r["top"], r["pair_tokens"], r["simile_ms"], r["torch_ms"],
                                                       r["speedup"]))


if __name__ == "__main__":
    main()
