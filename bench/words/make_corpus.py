#!/usr/bin/python3
"""Build an English training corpus for the `simile words train` benchmark.

Usage: /usr/bin/python3 bench/words/make_corpus.py OUT_DIR

Writes OUT_DIR/corpus.txt: one sentence, paragraph or definition per line,
lower-cased, tokens separated by single spaces, punctuation removed, no empty
lines. The texts are not ours to commit, so they come from Debian packages
installed at run time:

  dict-gcide      GNU Collaborative International Dictionary of English
  wordnet-base    WordNet 3.0 glosses and example sentences
  bible-kjv       King James Bible (the text package stores it in a private
                  compressed format, so its reader program dumps it)
  fortunes        fortune-cookie files

Only the Python standard library is used, and the output is deterministic:
files are read in sorted order and nothing is sampled.
"""

import gzip
import os
import re
import subprocess
import sys
import time
import unicodedata

# Package -> a file it installs, used to decide whether to install it.
# bible-kjv (the reader program) depends on bible-kjv-text (the data).
PACKAGES = {
    "dict-gcide": "/usr/share/dictd/gcide.dict.dz",
    "wordnet-base": "/usr/share/wordnet/data.noun",
    "bible-kjv": "/usr/bin/bible",
    "fortunes": "/usr/share/games/fortunes/fortunes",
}

GCIDE_DATA = "/usr/share/dictd/gcide.dict.dz"
GCIDE_INDEX = "/usr/share/dictd/gcide.index"
WORDNET_DIR = "/usr/share/wordnet"
FORTUNES_DIR = "/usr/share/games/fortunes"

# ---------------------------------------------------------------- tokenizer

# Numbers keep their inner separators ("3.14", "1,000") so they stay one token;
# words keep inner apostrophes and hyphens ("don't", "well-known"). Everything
# else is punctuation and is dropped.
TOKEN_RE = re.compile(r"\d+(?:[.,]\d+)+|[^\W_]+(?:['-][^\W_]+)*")
# Typographic quotes and dashes would otherwise split "don’t" into two tokens.
CHAR_FOLD = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'",
                           "\u2010": "-", "\u2011": "-"})


def tokenize(text):
    text = text.translate(CHAR_FOLD).lower()
    if not text.isascii():
        # Fold accents (café -> cafe) so that a word has a single spelling
        # across sources; the analogy file is plain ASCII too.
        text = "".join(c for c in unicodedata.normalize("NFKD", text)
                       if not unicodedata.combining(c))
    return TOKEN_RE.findall(text)


# ------------------------------------------------------------------- GCIDE

# The dictd build of GCIDE writes accented letters as codes such as ['e]
# (é), [=a] (ā), [a^] (â), [ae] (æ). Turn them into plain letters before the
# bracket removal below would delete them along with the word they are in.
GCIDE_CHAR_RE = re.compile(
    r"\[[\'`\"^~=.\-]([A-Za-z]{1,2})\]|\[([A-Za-z])\^\]|\[(ae|oe|AE|OE|Ae|Oe)\]")
# Etymologies, usage labels ([Obs.]), source tags ([1913 Webster]) and
# editorial notes are all in square brackets; none of it is English prose.
# Innermost pairs first, so nested brackets go as a whole; the length limit
# stops a stray unbalanced bracket from eating a long stretch of text.
GCIDE_BRACKET_RE = re.compile(r"\[[^\[\]]{0,2000}\]")
# Source tags ([1913 Webster], [WordNet 1.5], [PJC]) end a block of text; a
# definition may follow on the next line or even on the same line, so a tag
# splits blocks rather than ending the entry.
GCIDE_SOURCE_TAG_RE = re.compile(
    r"\[(?:\d{4} Webster|Webster \d{4}|WordNet|PJC|Century)[^\]]*\]")
# After a tag the dictd build sometimes leaves lists of related headwords,
# one or two per line ("[1913 Webster] Abelite\n   Abelian"); a block made
# only of such short unpunctuated lines is not prose.
GCIDE_HEADWORD_LIST_RE = re.compile(
    r"(?:[ \t]*[^\s.,;:]+(?:[ \t]+[^\s.,;:]+)?[ \t]*(?:\n|$))+")
# Quotation authors: "--Shak.", "--Sir T. Browne." run to the end of the line
# (and the right-aligned column continues on further deeply indented lines).
# " -- " with spaces is a dash inside a definition and is kept as text.
GCIDE_AUTHOR_RE = re.compile(r"(?:^|(?<=\s))--\S.*$", re.M)
# Subject labels such as "(Zool.)", "(Eccl. Hist.)", "(Bot. & Zool.)".
GCIDE_LABEL_RE = re.compile(r"\((?:[A-Z][A-Za-z]*\.(?:\s*&?\s*)?)+\)")
# Sense numbers ("1.", "1. 1") and block prefixes ("Syn:", "Note:") at the
# start of a block, and sub-sense marks ("(a)", "(iv)") anywhere in it.
GCIDE_PREFIX_RE = re.compile(
    r"^(?:\d+\.\s+|\d+\s+(?=[A-Za-z])|(?:Syn|Note|Usage|Defn)\s*:\s*)+")
GCIDE_SUBSENSE_RE = re.compile(r"\((?:[a-z]|[ivx]+)\)")
# Derived forms are appended as "-- {Ab`sent-mind"ed*ly}, adv.": the braces
# hold the word with stress and syllable marks, followed by a part of speech.
GCIDE_RUNON_POS_RE = re.compile(
    r"\}\s*,?\s*(?:n|a|adj|adv|v|v\. ?[it]|p\. ?pr|p\. ?p|prep|pron|conj|pref"
    r"|interj|pl)\.")
GCIDE_SYLLABLE_RE = re.compile(r"\{[^{}]*\}")


def gcide_entries():
    """Yield the text of each dictionary entry once, in file order."""
    # Several headwords share one entry, so walk the distinct (offset, length)
    # ranges of the index rather than its headword lines.
    b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    digit = {c: i for i, c in enumerate(b64)}

    def num(s):
        n = 0
        for c in s:
            n = n * 64 + digit[c]
        return n

    ranges = set()
    with open(GCIDE_INDEX, encoding="utf-8", errors="replace") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            # 00-database-* entries hold the licence and metadata, not text.
            if len(parts) < 3 or parts[0].startswith("00-database") \
                    or parts[0].startswith("00database"):
                continue
            ranges.add((num(parts[1]), num(parts[2])))
    with gzip.open(GCIDE_DATA) as f:  # dictzip is a gzip file with extras
        data = f.read()
    for off, length in sorted(ranges):
        yield data[off:off + length].decode("utf-8", errors="replace")


def gcide_paragraphs(entry):
    entry = GCIDE_CHAR_RE.sub(lambda m: m.group(1) or m.group(2) or m.group(3),
                              entry)
    entry = GCIDE_SOURCE_TAG_RE.sub("\n\n", entry)
    for block in re.split(r"\n\s*\n", entry):
        if GCIDE_HEADWORD_LIST_RE.fullmatch(block):
            continue
        prev = None
        while prev != block:
            prev, block = block, GCIDE_BRACKET_RE.sub(" ", block)
        block = GCIDE_AUTHOR_RE.sub("", block)
        lines = []
        for line in block.split("\n"):
            # Lines starting in column 0 are headword lines (headword,
            # pronunciation, part of speech); right-aligned lines far to the
            # right continue a quotation's author name.
            if not line.strip() or not line[0].isspace():
                continue
            if len(line) - len(line.lstrip()) >= 30:
                continue
            lines.append(line.strip())
        text = " ".join(lines)
        text = GCIDE_RUNON_POS_RE.sub("}", text)
        text = GCIDE_SYLLABLE_RE.sub(
            lambda m: re.sub(r'[*"`{}]', "", m.group(0)), text)
        text = GCIDE_SUBSENSE_RE.sub(" ", text)
        text = GCIDE_LABEL_RE.sub(" ", text)
        text = GCIDE_PREFIX_RE.sub("", text)
        if text:
            yield text


def read_gcide():
    for entry in gcide_entries():
        yield from gcide_paragraphs(entry)


# ----------------------------------------------------------------- WordNet

def read_wordnet():
    """Glosses and example sentences, one per line."""
    for pos in ("adj", "adv", "noun", "verb"):
        with open(os.path.join(WORDNET_DIR, "data." + pos),
                  encoding="utf-8", errors="replace") as f:
            for line in f:
                # Lines starting with two spaces are the licence header.
                if line.startswith("  ") or "|" not in line:
                    continue
                gloss = line.split("|", 1)[1].strip()
                # Examples are the double-quoted parts; the definition is the
                # rest. Each goes on its own line, as separate sentences.
                examples = re.findall(r'"([^"]*)"', gloss)
                definition = re.sub(r'"[^"]*"', " ", gloss)
                yield definition
                yield from examples


# ------------------------------------------------------------------- Bible

def read_bible():
    # bible-kjv-text installs /usr/lib/bible.data in the program's own
    # compressed format (EC02), so let its reader dump the whole text: with
    # -f (pretty-printing off) it prints one verse per line after a reference
    # such as "Ge1:1".
    out = subprocess.run(["bible", "-f", "Gen1:1-Rev22:21"],
                         stdin=subprocess.DEVNULL, capture_output=True,
                         check=True, text=True, errors="replace").stdout
    for line in out.splitlines():
        yield re.sub(r"^\S+\d+:\d+\s+", "", line)


# ---------------------------------------------------------------- fortunes

def read_fortunes():
    # The *.u8 names are symlinks to the same files, *.dat are strfile
    # indexes, and ascii-art holds pictures rather than text.
    names = sorted(n for n in os.listdir(FORTUNES_DIR)
                   if not n.endswith((".dat", ".u8")) and n != "ascii-art")
    for name in names:
        path = os.path.join(FORTUNES_DIR, name)
        if not os.path.isfile(path):
            continue
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        # Some fortunes underline or embolden with backspace overstriking.
        text = re.sub(r".\x08", "", text)
        for fortune in re.split(r"^%\s*$", text, flags=re.M):
            # A paragraph per line: a long story stays split at its breaks.
            for para in re.split(r"\n\s*\n", fortune):
                yield para


# -------------------------------------------------------------------- main

SOURCES = [
    ("gcide", read_gcide),
    ("wordnet", read_wordnet),
    ("bible-kjv", read_bible),
    ("fortunes", read_fortunes),
]


def ensure_packages(packages):
    """Install the Debian packages (name -> a file it installs) not present."""
    missing = sorted(p for p, f in packages.items() if not os.path.exists(f))
    if not missing:
        return
    cmd = ["apt-get", "install", "-y", "--no-install-recommends"] + missing
    if os.geteuid() != 0:
        print("missing Debian packages; install them with:\n  sudo "
              + " ".join(cmd), file=sys.stderr)
        sys.exit(2)
    print("installing: " + " ".join(missing), file=sys.stderr)
    # apt's chatter goes to stderr so that stdout holds only the counts.
    # (dict-gcide depends on the dictd server; where services may start,
    # installing it also starts that daemon.)
    if subprocess.run(cmd, stdout=sys.stderr).returncode != 0:
        # A fresh machine may not have package lists yet.
        subprocess.run(["apt-get", "update"], stdout=sys.stderr, check=True)
        subprocess.run(cmd, stdout=sys.stderr, check=True)


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        sys.exit(1)
    out_dir = sys.argv[1]
    ensure_packages(PACKAGES)
    os.makedirs(out_dir, exist_ok=True)
    out_path = os.path.join(out_dir, "corpus.txt")
    tmp_path = out_path + ".tmp"

    all_vocab = set()
    total_lines = total_tokens = 0
    start = time.time()
    print(f"{'source':<10} {'lines':>9} {'tokens':>11} {'distinct':>9} "
          f"{'seconds':>7}")
    with open(tmp_path, "w", encoding="utf-8", newline="\n") as out:
        for name, reader in SOURCES:
            t0 = time.time()
            vocab = set()
            lines = tokens = 0
            for text in reader():
                words = tokenize(text)
                if not words:
                    continue
                out.write(" ".join(words))
                out.write("\n")
                vocab.update(words)
                lines += 1
                tokens += len(words)
            print(f"{name:<10} {lines:>9} {tokens:>11} {len(vocab):>9} "
                  f"{time.time() - t0:>7.1f}", flush=True)
            all_vocab |= vocab
            total_lines += lines
            total_tokens += tokens
    os.replace(tmp_path, out_path)  # never leave a half-written corpus
    print(f"{'total':<10} {total_lines:>9} {total_tokens:>11} "
          f"{len(all_vocab):>9} {time.time() - start:>7.1f}")
    print(f"wrote {out_path}")


if __name__ == "__main__":
    main()
