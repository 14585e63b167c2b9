#!/usr/bin/python3
"""Write a word-analogy question file for `simile words eval-analogy`.

Usage: /usr/bin/python3 bench/words/make_analogies.py OUT_FILE
           [--corpus OUT_DIR/corpus.txt [--min-count 5]]

The format is that of the Google analogy set (questions-words.txt), so gensim
reads the same file: ": section" lines, then "a b c d" lines meaning a is to
b as c is to d, with every ordered pair of distinct pairs of a section as a
question (n pairs give n*(n-1) questions). Words are lower-case single
tokens, spelled as bench/words/make_corpus.py tokenizes its corpus.

The data is not ours to commit, so it is fetched at run time:

  npm countries-list@3.4.1 (tarball checked against a pinned integrity):
      capital-world (capital country), currency (country currency),
      country-language (country language)
  Debian wordnet-base exception lists (irregular inflections):
      gram3-comparative, gram4-superlative (adj.exc), gram7-past-tense
      (verb.exc), gram8-plural (noun.exc)
  Debian wamerican word list and wordnet-base's SemCor counts (cntlist.rev)
      to prefer common words when a section has more candidates than fit.

Only the Python standard library is used; the output is deterministic.
"""

import argparse
import base64
import collections
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

# The corpus and the questions must spell words the same way (accents folded,
# apostrophes and hyphens kept), so reuse the corpus tokenizer.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_corpus import ensure_packages, tokenize  # noqa: E402

NPM_PACKAGE = "countries-list@3.4.1"
# From `npm view countries-list@3.4.1 dist.integrity`; a tarball that does not
# match is refused, so the benchmark never runs on silently changed data.
NPM_INTEGRITY = ("sha512-sKLGAZD5EAdzQwQ19vOp/9u33MTjmZ0CkdXPYtp/An6cyIlJ/"
                 "E8TwGf2FcPe1AnzHO+h7nbTfoHyXIi58Hpa+Q==")

WORDNET_DIR = "/usr/share/wordnet"
WORDS_FILE = "/usr/share/dict/american-english"
PACKAGES = {
    "wordnet-base": os.path.join(WORDNET_DIR, "verb.exc"),
    "wamerican": WORDS_FILE,
}

MAX_PAIRS = 40  # 40 pairs -> 1560 questions, like a mid-sized Google section

# WordNet synset types in sense keys; 5 (adjective satellite) is an adjective.
SEMCOR_POS = {"1": "n", "2": "v", "3": "a", "4": "r", "5": "a"}


# ------------------------------------------------------------ word ranking

class Ranker:
    """Orders candidate pairs so the most common words come first."""

    def __init__(self, corpus=None, min_count=5):
        with open(WORDS_FILE, encoding="utf-8", errors="replace") as f:
            words = [line.strip() for line in f]
        # Names are capitalised in the list and common words are not; a
        # word listed only capitalised ("Negroes") is no plain inflection.
        self.names = {w for line in words for w in tokenize(line)}
        self.common = {w for w in words if w.islower()}
        # cntlist.rev counts how often each word sense was tagged in the
        # SemCor corpus: "lemma%pos:... sense-number count". Summed per lemma
        # and part of speech it is a frequency list for base forms (and for
        # many country and city names). The part of speech matters: "go" is
        # a common verb but a rare noun, so it must not lead the plurals.
        self.count = collections.defaultdict(collections.Counter)
        with open(os.path.join(WORDNET_DIR, "cntlist.rev"),
                  encoding="utf-8", errors="replace") as f:
            for line in f:
                key, _, cnt = line.split()
                lemma, sense = key.split("%", 1)
                self.count[SEMCOR_POS[sense[0]]][lemma.lower()] += int(cnt)
        # With the training corpus at hand, pairs with a word below the
        # trainer's min_count are left out: the model has no vector for it,
        # and evaluators differ in whether such a question is skipped or
        # counted as wrong. (Ranking by corpus frequency instead would favour
        # ambiguous words: male-maldives, may-might.)
        self.corpus = None
        self.min_count = min_count
        if corpus:
            self.corpus = collections.Counter()
            with open(corpus, encoding="utf-8") as f:
                for line in f:
                    self.corpus.update(line.split())

    def key(self, pair, ranked_word, pos, names):
        # Pairs whose words are both in the dictionary word list first, then
        # by the SemCor count of the word that names the pair, then by name.
        known = self.names if names else self.common
        both_known = pair[0] in known and pair[1] in known
        return (not both_known, -self.count[pos][ranked_word], pair)

    def in_vocab(self, pair):
        """Whether the trained model will have vectors for both words."""
        return self.corpus is None or all(
            self.corpus[w] >= self.min_count for w in pair)

    def only_name(self, pair):
        """Whether the word list has a word of pair only capitalised."""
        return any(w in self.names and w not in self.common for w in pair)

    def mostly(self, word, pos):
        """Whether word is tagged as pos at least as often as otherwise."""
        return all(self.count[pos][word] >= c[word]
                   for p, c in self.count.items() if p != pos)


def single_token(text):
    """The name as one corpus token, or None for multi-word names."""
    tokens = tokenize(text)
    return tokens[0] if len(tokens) == 1 else None


def choose(candidates, ranker, pos, rank_by=0, names=False):
    """Pick up to MAX_PAIRS pairs, most common first.

    A word may appear in only one pair of a section: if two pairs shared an
    answer (canada dollar, australia dollar) a question built from them would
    have its answer equal to the b word, which evaluators exclude from the
    candidates, so it could never be answered.
    """
    candidates = [p for p in candidates if ranker.in_vocab(p)
                  and (names or not ranker.only_name(p))]
    ordered = sorted(set(candidates),
                     key=lambda p: ranker.key(p, p[rank_by], pos, names))
    used, chosen = set(), []
    for a, b in ordered:
        if a == b or a in used or b in used:
            continue
        used.update((a, b))
        chosen.append((a, b))
        if len(chosen) == MAX_PAIRS:
            break
    return chosen


# ------------------------------------------------------- countries-list (npm)

def fetch_countries_list():
    """Return {json file name: parsed data} from the verified npm tarball."""
    if not shutil.which("npm"):
        ensure_packages({"npm": "/usr/bin/npm"})
    with tempfile.TemporaryDirectory() as tmp:
        # --ignore-scripts: the tarball is only read, never built or run.
        out = subprocess.run(
            ["npm", "pack", NPM_PACKAGE, "--json", "--ignore-scripts"],
            cwd=tmp, check=True, capture_output=True, text=True).stdout
        info = json.loads(out)[0]
        path = os.path.join(tmp, info["filename"])
        with open(path, "rb") as f:
            blob = f.read()
    # Check the bytes themselves, not only what npm says it fetched.
    digest = "sha512-" + base64.b64encode(hashlib.sha512(blob).digest()).decode()
    for what, value in (("npm pack", info.get("integrity")),
                        ("tarball", digest)):
        if value != NPM_INTEGRITY:
            sys.exit(f"{NPM_PACKAGE}: {what} integrity {value} does not match "
                     f"pinned {NPM_INTEGRITY}")
    data = {}
    with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
        for name in ("countries.min.json", "currencies.min.json",
                     "languages.min.json"):
            data[name] = json.load(tar.extractfile("package/" + name))
    return data


def country_name(country):
    """Single-token country name, else a single-word alias.

    "United Kingdom" has the alias "Britain", "United Arab Emirates" has
    "Emirates"; all-capital aliases (UK, USA) are abbreviations and are not
    used.
    """
    name = single_token(country["name"])
    if name:
        return name
    for alias in country.get("alias", []):
        if not alias.isupper() and single_token(alias):
            return single_token(alias)
    return None


def country_sections(data, ranker):
    countries = data["countries.min.json"]
    currencies = data["currencies.min.json"]
    languages = data["languages.min.json"]
    capital, currency, language = [], [], []
    lang_owner = []  # language pairs whose language code is the country code
    for code, c in sorted(countries.items()):
        # Dependencies listed as partOf another country (e.g. Ascension
        # Island) would repeat their parent's currency and language.
        if "partOf" in c:
            continue
        name = country_name(c)
        if not name:
            continue
        cap = single_token(c.get("capital", ""))
        if cap:
            capital.append((cap, name))
        # ISO 4217 codes start with the issuing country's ISO 3166 code, so
        # this keeps a country's own currency (NOK for NO) and skips shared
        # ones (EUR) and foreign ones used there. The currency word is the
        # last word of its name: "Norwegian Krone" -> krone.
        for cur in c.get("currency", []):
            if cur[:2] == code and cur in currencies:
                words = tokenize(currencies[cur]["name"])
                if words:
                    currency.append((name, words[-1]))
                break
        langs = c.get("languages", [])
        if langs and langs[0] in languages:
            lang = single_token(languages[langs[0]]["name"])
            if lang:
                pair = (name, lang)
                # A language spoken in many countries belongs first to the
                # country whose code it shares (es -> ES spain, fr -> FR).
                (lang_owner if langs[0].upper() == code else language
                 ).append(pair)
    owners = choose(lang_owner, ranker, "n", names=True)
    taken = {w for p in owners for w in p}
    rest = choose([p for p in language
                   if p[0] not in taken and p[1] not in taken],
                  ranker, "n", names=True)
    languages_chosen = (owners + rest)[:MAX_PAIRS]
    return [
        ("capital-world", choose(capital, ranker, "n", rank_by=1,
                                 names=True)),
        ("currency", choose(currency, ranker, "n", names=True)),
        ("country-language", languages_chosen),
    ]


# ---------------------------------------------------- WordNet exception lists

PLAIN_WORD = re.compile(r"[a-z]+")


def read_exc(name):
    """{base: [inflected forms]} from a WordNet exception list.

    Lines are "inflected base [base ...]"; identity lines such as
    "acer acer" are dropped.
    """
    forms = collections.defaultdict(list)
    with open(os.path.join(WORDNET_DIR, name), encoding="utf-8") as f:
        for line in f:
            words = line.split()
            # Plain words only: the lists also hold multi-word entries
            # (attorneys_general), abbreviations (figs. fig.) and compounds.
            if len(words) < 2 or not all(PLAIN_WORD.fullmatch(w)
                                         for w in words):
                continue
            for base in words[1:]:
                if base != words[0]:
                    forms[base].append(words[0])
    return forms


def adjective_sections(ranker):
    forms = read_exc("adj.exc")
    comparative, superlative = [], []
    for base, infl in forms.items():
        sup = [w for w in infl if w.endswith("est")]
        # Suppletive comparatives (bad worse worst) do not end in -er.
        comp = [w for w in infl if w not in sup]
        # A real graded adjective has both forms; an -er entry alone can be
        # a stray like "offer off".
        if sup and comp:
            superlative += [(base, w) for w in sup]
            comparative += [(base, w) for w in comp]
    return [("gram3-comparative", choose(comparative, ranker, "a")),
            ("gram4-superlative", choose(superlative, ranker, "a"))]


PARTICIPLE_ENDINGS = ("en", "in", "wn", "rn", "ne", "un")


def past_tense(base, infl):
    """Pick the simple past among a verb's irregular forms, or None.

    verb.exc lists every irregular form (ate eaten eating eats for eat)
    without saying which is which, so this drops present forms (-s, -ing),
    then past participles (eaten, lain, gone, shown, begun) while another
    form is left; of two forms still left (sang, sung) the past has the a,
    which sorts first.
    """
    # "be" has present forms (am, are) that no ending rule separates.
    if base == "be":
        return None
    left = [w for w in infl if not w.endswith(("ing", "s"))]
    # The participle alone (shown, beside the regular showed that the list
    # leaves out) is no past tense.
    if all(w.endswith(PARTICIPLE_ENDINGS) for w in left) and len(left) < 2:
        return None
    keep = [w for w in left if not w.endswith(PARTICIPLE_ENDINGS)]
    return min(keep or left)


def verb_section(ranker):
    pairs = []
    for base, infl in read_exc("verb.exc").items():
        past = past_tense(base, infl)
        if past:
            pairs.append((base, past))
    return [("gram7-past-tense", choose(pairs, ranker, "v"))]


def noun_section(ranker):
    # noun.exc also files verb forms and rare plurals of words that are
    # mostly verbs or adverbs (cryings, gasses, noes); keep nouns that are
    # mainly nouns, and forms that verb.exc does not list for the same base.
    verbs = read_exc("verb.exc")
    pairs = [(base, w) for base, infl in read_exc("noun.exc").items()
             if ranker.mostly(base, "n")
             for w in infl if w not in verbs.get(base, ())]
    return [("gram8-plural", choose(pairs, ranker, "n"))]


# -------------------------------------------------------------------- main

def main():
    parser = argparse.ArgumentParser(
        description="Write a Google-format word analogy file.")
    parser.add_argument("out_file")
    parser.add_argument(
        "--corpus", help="corpus.txt from make_corpus.py: keep only pairs "
        "whose words occur there at least --min-count times")
    parser.add_argument("--min-count", type=int, default=5,
                        help="the trainer's min_count (default 5, as gensim)")
    args = parser.parse_args()
    out_path = args.out_file
    ensure_packages(PACKAGES)
    ranker = Ranker(args.corpus, args.min_count)
    sections = (country_sections(fetch_countries_list(), ranker)
                + adjective_sections(ranker) + verb_section(ranker)
                + noun_section(ranker))

    os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
    total = 0
    print(f"{'section':<20} {'pairs':>5} {'questions':>9}")
    with open(out_path + ".tmp", "w", encoding="utf-8", newline="\n") as out:
        for name, pairs in sections:
            if len(pairs) < 2:
                print(f"{name:<20} skipped: {len(pairs)} pair(s)")
                continue
            out.write(f": {name}\n")
            n = 0
            for i, (a, b) in enumerate(pairs):
                for j, (c, d) in enumerate(pairs):
                    if i != j:
                        out.write(f"{a} {b} {c} {d}\n")
                        n += 1
            print(f"{name:<20} {len(pairs):>5} {n:>9}")
            total += n
    os.replace(out_path + ".tmp", out_path)
    print(f"{'total':<20} {'':>5} {total:>9}")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
