#!/usr/bin/env python3
"""Seeded random texts for tokenizer parity with Hugging Face `tokenizers`.

Each text mixes pieces chosen to hit a rule of the BERT pipeline: vocabulary
words (WordPiece splits), punctuation, accents and stacks of combining marks
(NFD, canonical reordering, Mn stripping), Hangul (decomposes to jamo), CJK
(padding), kana, emoji (ZWJ, flags, skin tones, new emoji), controls and
zero-width characters (clean_text), every White_Space character, code points
assigned after Unicode 8.0 / 9.0 (HF's old tables), unassigned code points,
special-token strings, very long words, and long texts (truncation).

  python3 make_fuzz_texts.py --vocab-from BERT_TOKENIZER_JSON --n 2000 --seed 7 > fuzz_texts.jsonl
  python3 make_fuzz_texts.py --pairs fuzz_texts.jsonl --n 300 --seed 7 > fuzz_pairs.jsonl

Output: one JSON string per line (ASCII-escaped), or one [a, b] array per line
with --pairs.
"""

import argparse
import json
import random
import string
import sys

WHITE_SPACE = [0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2028, 0x2029, 0x202F, 0x205F,
               0x3000] + list(range(0x2000, 0x200B))
# Controls, format characters, zero-width characters, private use, specials.
CONTROLS = (list(range(0x00, 0x09)) + [0x0E, 0x1B, 0x1F, 0x7F, 0x80, 0x9F, 0xAD, 0x180E, 0x200B, 0x200C,
            0x200D, 0x200E, 0x200F, 0x202A, 0x202E, 0x2060, 0x2061, 0x2064, 0x2066, 0x2069, 0xFEFF,
            0xFFF9, 0xFFFB, 0xFFFC, 0xFFFD, 0xFFFE, 0xFFFF, 0xE000, 0xF8FF, 0xF0000, 0x10FFFD,
            0x110BD, 0x1BCA0, 0x1D173, 0xE0001, 0xE0020, 0xE007F, 0x061C, 0x0600, 0x08E2, 0x13430,
            0x1343F])
# Combining marks with various combining classes, old and new.
MARKS = [0x0300, 0x0301, 0x0302, 0x0303, 0x0308, 0x030A, 0x030C, 0x0323, 0x0327, 0x0328, 0x031B,
         0x0345, 0x0338, 0x0334, 0x05B0, 0x05C1, 0x0610, 0x064B, 0x0670, 0x093C, 0x094D, 0x0E38,
         0x0F71, 0x0F72, 0x0F80, 0x1AB0, 0x1DC0, 0x1DF5, 0x20D0, 0x20E3, 0x302A, 0x3099, 0x309A,
         0xFE20, 0x101FD, 0x1D165, 0x1D167, 0x1D16D, 0x1E8D0,
         # Mn or Cf assigned after 8.0, or changed category since:
         0x1DF6, 0x1DF9, 0x1DFA, 0x1AC0, 0x0D00, 0x0C3C, 0x11A01, 0x16FE4, 0x1E130, 0x1E944,
         0x08D3, 0x0898, 0x1734, 0x1885, 0xA9BD, 0x111C9, 0x11938, 0x1CF00]
PUNCT = list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~") + [chr(c) for c in (
    0xA1, 0xA7, 0xAB, 0xB6, 0xB7, 0xBB, 0xBF, 0x2010, 0x2013, 0x2014, 0x2018, 0x2019, 0x201C, 0x201D,
    0x2026, 0x2030, 0x203D, 0x2E3A, 0x2E42, 0x3001, 0x3002, 0x300C, 0x300D, 0xFF01, 0xFF0C, 0xFF1F,
    0x055D, 0x0589, 0x05BE, 0x060C, 0x061F, 0x06D4, 0x0964, 0x0E5A, 0x10FB, 0x166D, 0x1800, 0xFE30,
    0xFE63, 0x1039F, 0x12470, 0x1E95E, 0x1E95F,
    # punctuation assigned after 8.0 (not split by HF):
    0x2E43, 0x2E4F, 0x2E52, 0x2E5D, 0x061D, 0x0A76, 0x0AFA, 0x11660, 0x1BC9F, 0x16FE2, 0x1DA87)]
SYMBOLS = [chr(c) for c in (0x24, 0x2B, 0x3C, 0x3E, 0x5E, 0x60, 0x7C, 0x7E, 0xA2, 0xA3, 0xA5, 0xA9, 0xAE,
                            0xB0, 0xB1, 0xD7, 0xF7, 0x20AC, 0x20BF, 0x2122, 0x2190, 0x2192, 0x2211,
                            0x221E, 0x2248, 0x2260, 0x2264, 0x25A0, 0x2605, 0x2665, 0x266A, 0x2713,
                            0x1F100, 0x1D400, 0x1D7D8, 0x2460, 0x00BD, 0x2153, 0x00B2, 0x2070)]
ACCENTED = ("café naïve résumé façade coöperate Ångström São Paulo Zürich Kraków Dvořák Łódź "
            "Tiếng Việt có dấu Ελληνικά ΣΊΣΥΦΟΣ ὀδυσσεύς İstanbul ıstakoz straße STRASSE ẞ "
            "Æsop œuvre ﬁnance ﬂour Ǆemal ǅ ǈ ǋ Ǳ ᾈ ᾼ ῼ Ω K Å ℃ № ﬀ ǰ ΐ").split()
KOREAN = ["잠이 안 옵니다", "토크나이저는 텍스트를 토큰 단위로 나눈다.", "한국어 형태소 분석", "안녕하세요!",
          "ㄱㄴㄷ ㅏㅑ", "각", "똠방각하", "힣"]
JAPANESE = ["これは日本語の文です。", "カタカナとひらがな", "ｶﾀｶﾅ", "東京都", "ゔ が ぱ", "〜ー・"]
CHINESE = ["我爱北京天安门", "汉字的测试。", "繁體中文", "龘", "㐀㐁", "𠀀𠀁", "𪜀", "𫝀", "𫠠", "𬺰", "𮯠", "𰀀",
           "豈更", "丽丸", "⺀⻳", "⼀⼁", "々〆〇"]
EMOJI = ["😀", "👍🏽", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇯🇵", "🇺🇸🇫🇷", "❤️", "✌🏿", "#️⃣", "1️⃣", "🏴󠁧󠁢󠁥󠁮󠁧󠁿",
         "🥲", "🫠", "🫶🏼", "🪿", "🫎", "🩷", "🧑‍💻", "👩🏾‍🚀", "😶‍🌫️", "🤌", "🦩", "☺", "♀️", "©️"]
OTHER_SCRIPTS = ["مرحبا بالعالم", "שלום עולם", "नमस्ते दुनिया", "สวัสดีชาวโลก", "Привет, мир!",
                 "Բարեւ", "გამარჯობა", "ሰላም", "ᏣᎳᎩ", "ꓮꓬ", "𐌰𐌱", "ᚠᚢᚦ", "Ⲁⲃ", "ꙮ", "ߊߋ", "ᠮᠣᠩ"]
# Code points newer than utf8proc 2.8 / Unicode 15 and a few never assigned.
UNASSIGNED = [0x0378, 0x0380, 0x08A0 - 1, 0x1C89, 0x1C8A, 0xA7CB, 0xA7CC, 0xA7CE, 0xA7D2, 0xA7DA, 0xA7DC,
              0x10D50, 0x10D70, 0x16EA0, 0x2FE0, 0x2FFF, 0x31E4, 0x1FAE9, 0x1FBCB, 0x2EBF0, 0x31350,
              0x323B0, 0xE0080, 0x3FFFD, 0x4FFFF, 0x10FFFF, 0xE01F0]
SPECIAL = ["[CLS]", "[SEP]", "[MASK]", "[PAD]", "[UNK]", "[mask]", "[Mask]", "[MASK", "MASK]", "[[MASK]]",
           "<s>", "</s>", "<pad>", "<mask>", "<unk>", "<UNK>", "<Unk>", " <mask>", "<mask> ", "[unused1]",
           "[MASK][MASK]", "<s></s>", "##ing", "##"]
URLS = ["https://example.com/a/b?c=d&e=f#g", "user.name+tag@example.co.uk", "C:\\Program Files\\x.exe",
        "v1.2.3-rc.4", "3.14159", "1,000,000", "$19.99", "50%", "10:30pm", "2024-06-07T12:00:00Z",
        "f(x) = x^2 + 2*x - 1", "if (a && b) { return c[i]; }", "#hashtag", "@mention", "e.g.", "U.S.A."]


def cp(c):
    return chr(c)


def random_code_point(rng, plane_max=0x10FFFF):
    while True:
        c = rng.randint(0, plane_max)
        if not 0xD800 <= c <= 0xDFFF:
            return chr(c)


class Fuzzer:
    def __init__(self, rng, words, pieces):
        self.rng = rng
        self.words = words
        self.pieces = pieces

    def word(self):
        w = self.rng.choice(self.words)
        r = self.rng.random()
        if r < 0.15:
            return w.capitalize()
        if r < 0.2:
            return w.upper()
        return w

    def glued(self):
        # Several vocabulary words or ##pieces without spaces: multi-piece words.
        parts = [self.rng.choice(self.words)]
        for _ in range(self.rng.randint(1, 3)):
            parts.append(self.rng.choice(self.pieces) if self.rng.random() < 0.6 else self.rng.choice(self.words))
        return "".join(parts)

    def accented(self):
        r = self.rng.random()
        if r < 0.4:
            return self.rng.choice(ACCENTED)
        # A letter followed by a random stack of combining marks.
        base = self.rng.choice(string.ascii_letters + "αΩжЯı" + "가")
        return base + "".join(cp(self.rng.choice(MARKS)) for _ in range(self.rng.randint(1, 4)))

    def hangul(self):
        r = self.rng.random()
        if r < 0.4:
            return self.rng.choice(KOREAN)
        n = self.rng.randint(1, 6)
        if r < 0.8:
            return "".join(cp(self.rng.randint(0xAC00, 0xD7A3)) for _ in range(n))
        ranges = [(0x1100, 0x11FF), (0x3131, 0x318E), (0xA960, 0xA97C), (0xD7B0, 0xD7FB), (0xFFA0, 0xFFDC)]
        lo, hi = self.rng.choice(ranges)
        return "".join(cp(self.rng.randint(lo, hi)) for _ in range(n))

    def cjk(self):
        r = self.rng.random()
        if r < 0.35:
            return self.rng.choice(CHINESE)
        if r < 0.55:
            return self.rng.choice(JAPANESE)
        ranges = [(0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
                  (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0x2CEB0, 0x2EBEF), (0xF900, 0xFAFF),
                  (0x2F800, 0x2FA1F), (0x30000, 0x3134F), (0x3040, 0x30FF), (0xFF61, 0xFF9F),
                  (0x2E80, 0x2FDF), (0x3000, 0x303F), (0xFF00, 0xFF60), (0x3190, 0x31FF)]
        lo, hi = self.rng.choice(ranges)
        return "".join(cp(self.rng.randint(lo, hi)) for _ in range(self.rng.randint(1, 5)))

    def emoji(self):
        if self.rng.random() < 0.7:
            return "".join(self.rng.choice(EMOJI) for _ in range(self.rng.randint(1, 3)))
        lo, hi = self.rng.choice([(0x1F300, 0x1F5FF), (0x1F600, 0x1F64F), (0x1F900, 0x1F9FF),
                                  (0x1FA70, 0x1FAFF), (0x2600, 0x27BF), (0x1F1E6, 0x1F1FF)])
        return "".join(cp(self.rng.randint(lo, hi)) for _ in range(self.rng.randint(1, 3)))

    def control(self):
        return "".join(cp(self.rng.choice(CONTROLS)) for _ in range(self.rng.randint(1, 3)))

    def space(self):
        if self.rng.random() < 0.7:
            return " "
        return "".join(cp(self.rng.choice(WHITE_SPACE)) for _ in range(self.rng.randint(1, 3)))

    def punct(self):
        return "".join(self.rng.choice(PUNCT) for _ in range(self.rng.randint(1, 3)))

    def symbol(self):
        return self.rng.choice(SYMBOLS)

    def unassigned(self):
        return cp(self.rng.choice(UNASSIGNED))

    def special(self):
        return self.rng.choice(SPECIAL)

    def url(self):
        return self.rng.choice(URLS)

    def other_script(self):
        return self.rng.choice(OTHER_SCRIPTS)

    def long_word(self):
        r = self.rng.random()
        if r < 0.3:
            return "a" * self.rng.choice([99, 100, 101, 102])
        if r < 0.5:
            return "é" * self.rng.choice([99, 100, 101])  # 2 bytes per char: counts chars
        if r < 0.7:
            return "".join(self.rng.choice(self.words) for _ in range(self.rng.randint(15, 30)))
        return "".join(self.rng.choice(string.ascii_lowercase) for _ in range(self.rng.randint(60, 140)))

    def random_cp(self):
        return "".join(random_code_point(self.rng, self.rng.choice([0x7FF, 0xFFFF, 0x10FFFF]))
                       for _ in range(self.rng.randint(1, 4)))

    def segment(self):
        kinds = [(self.word, 40), (self.glued, 8), (self.accented, 8), (self.hangul, 4), (self.cjk, 5),
                 (self.emoji, 4), (self.control, 3), (self.punct, 8), (self.symbol, 3), (self.unassigned, 2),
                 (self.special, 3), (self.url, 2), (self.other_script, 3), (self.long_word, 1),
                 (self.random_cp, 3)]
        total = sum(w for _, w in kinds)
        r = self.rng.uniform(0, total)
        for f, w in kinds:
            r -= w
            if r <= 0:
                return f()
        return self.word()

    def text(self):
        r = self.rng.random()
        if r < 0.0225:
            return self.rng.choice(["", " ", "\n", "\t \r\n", "\u3000", "\u200b", "\x00", "\ufffd",
                                    "\u00a0\u2003", "[CLS]", "[SEP][SEP]", "<mask>"])
        if r < 0.0275:  # a few long texts, past every truncation limit
            return " ".join(self.word() if self.rng.random() < 0.9 else self.segment()
                            for _ in range(self.rng.randint(300, 700)))
        n = self.rng.randint(1, 25)
        out = []
        for i in range(n):
            out.append(self.segment())
            # Usually a space between segments, sometimes nothing or odd whitespace.
            if i + 1 < n:
                s = self.rng.random()
                out.append("" if s < 0.2 else self.space())
        return "".join(out)


def load_vocab(path):
    with open(path, encoding="utf-8") as f:
        vocab = json.load(f)["model"]["vocab"]
    words = sorted(w for w in vocab if w.isascii() and w.isalpha() and len(w) > 1)
    pieces = sorted(w[2:] for w in vocab if w.startswith("##") and w[2:].isascii() and w[2:].isalpha())
    return words, pieces


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab-from", help="a WordPiece tokenizer.json whose vocab supplies the words")
    ap.add_argument("--pairs", help="make pairs from the texts of this JSON-lines file instead")
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    out = sys.stdout
    if args.pairs:
        with open(args.pairs, encoding="ascii") as f:
            texts = [json.loads(line) for line in f.read().split("\n") if line]
        for _ in range(args.n):
            out.write(json.dumps([rng.choice(texts), rng.choice(texts)], ensure_ascii=True) + "\n")
        return
    if not args.vocab_from:
        ap.error("--vocab-from is required")
    words, pieces = load_vocab(args.vocab_from)
    fz = Fuzzer(rng, words, pieces)
    for _ in range(args.n):
        out.write(json.dumps(fz.text(), ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
