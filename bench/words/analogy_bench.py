#!/usr/bin/python3
"""simile words eval-analogy vs gensim's evaluate_word_analogies, same vectors.

Both score the same questions on the same vectors with the same conventions
(docs/words.md): the script checks that every section's counts agree, then
compares the time each takes to answer (loading the vectors excluded:
simile's own timer, gensim's around the call), median of --runs.

    /usr/bin/python3 bench/words/analogy_bench.py --simile build/simile \\
        --vectors VECTORS.bin --questions QUESTIONS [--restrict 300000] [--runs 3]
"""
import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import time

from gensim.models import KeyedVectors


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--simile", required=True)
    p.add_argument("--vectors", required=True, help="word2vec binary file")
    p.add_argument("--questions", required=True)
    p.add_argument("--restrict", type=int, default=300000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--method", default="add", choices=["add"])
    a = p.parse_args()
    logging.basicConfig(level=logging.WARNING)

    kv = KeyedVectors.load_word2vec_format(a.vectors, binary=True)
    kv.fill_norms()
    simile_s, gensim_s = [], []
    for _ in range(a.runs):
        r = subprocess.run([a.simile, "words", "eval-analogy", a.questions, "--vectors", a.vectors, "--restrict",
                            str(a.restrict), "--json"], check=True, capture_output=True, text=True)
        ours = json.loads(r.stdout)
        simile_s.append(ours["seconds"])
        t0 = time.perf_counter()
        score, sections = kv.evaluate_word_analogies(a.questions, restrict_vocab=a.restrict)
        gensim_s.append(time.perf_counter() - t0)
    theirs = [[s["section"], len(s["correct"]), len(s["incorrect"])] for s in sections]
    mine = [[s["section"], s["correct"], s["incorrect"]] for s in ours["sections"]]
    mine.append([ours["total"]["section"], ours["total"]["correct"], ours["total"]["incorrect"]])
    same = mine == theirs
    answered = ours["total"]["correct"] + ours["total"]["incorrect"]
    s, g = statistics.median(simile_s), statistics.median(gensim_s)
    print("%d questions answered (%d skipped) over the first %d of %d words; %d threads available; %d runs" % (
        answered, ours["skipped"], ours["searched_words"], len(kv), os.cpu_count(), a.runs))
    print("| engine | seconds (median) | questions/s | accuracy |")
    print("| --- | ---: | ---: | ---: |")
    print("| simile eval-analogy | %.2f | %.0f | %.2f%% |" % (s, answered / s, 100 * ours["total"]["accuracy"]))
    print("| gensim evaluate_word_analogies | %.2f | %.0f | %.2f%% |" % (g, answered / g, 100 * score))
    print("speed-up %.1fx; per-section counts %s" % (g / s, "identical" if same else "DIFFER"))
    if not same:
        print("simile %s\ngensim %s" % (mine, theirs), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
