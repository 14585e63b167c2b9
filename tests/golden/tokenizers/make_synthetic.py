#!/usr/bin/env python3
"""A small synthetic WordPiece tokenizer.json and texts that exercise what the
real files in the shared dir do not: added tokens with lstrip, rstrip,
single_word and normalized=true, an added token outside the vocabulary,
BertProcessing, BertNormalizer with strip_accents on but lowercase off and
no clean_text / CJK padding, a small max_input_chars_per_word, left
truncation, and left padding to a multiple with a pad type id.

  python3 make_synthetic.py   # writes synthetic_wordpiece.json, synthetic_texts.jsonl, synthetic_pairs.jsonl
"""

import json
import os
import string

HERE = os.path.dirname(os.path.abspath(__file__))


def vocab():
    tokens = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "<mask>", "<eos>"]
    letters = string.ascii_letters + string.digits
    tokens += list(letters) + ["##" + c for c in letters]
    tokens += list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
    tokens += ["hello", "Hello", "world", "there", "the", "##llo", "##orld", "##ing", "ab", "abc", "##ab",
               "new", "token", "ε", "##ε", "Ω", "ж", "##ж", "\u0301", "日", "本", "##本"]
    return {t: i for i, t in enumerate(tokens)}


def added(content, id_, special=True, single_word=False, lstrip=False, rstrip=False, normalized=False):
    return {"id": id_, "content": content, "single_word": single_word, "lstrip": lstrip, "rstrip": rstrip,
            "normalized": normalized, "special": special}


def tokenizer():
    v = vocab()
    return {
        "version": "1.0",
        "truncation": {"direction": "Left", "max_length": 24, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": "BatchLongest", "direction": "Left", "pad_to_multiple_of": 8, "pad_id": 0,
                    "pad_type_id": 3, "pad_token": "[PAD]"},
        "added_tokens": [
            added("[PAD]", 0), added("[UNK]", 1), added("[CLS]", 2), added("[SEP]", 3),
            added("<mask>", 4, lstrip=True),
            added("<eos>", 5, rstrip=True),
            # non-special, matched on normalized text (accents stripped), whole words only
            added("Héllo", v["Hello"], special=False, single_word=True, normalized=True),
            added("ab", v["ab"], special=False, single_word=True),
            # not in the vocabulary: gets the next id after it
            added("new_token", len(v), special=False),
        ],
        "normalizer": {"type": "BertNormalizer", "clean_text": False, "handle_chinese_chars": False,
                       "strip_accents": True, "lowercase": False},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "BertProcessing", "sep": ["[SEP]", 3], "cls": ["[CLS]", 2]},
        "decoder": None,
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 12, "vocab": v},
    }


TEXTS = [
    "", " ", "hello world", "Hello there", "HELLO", "Héllo world", "Hello, Héllo!", "xHéllo", "Héllox",
    "Héllo_", "(Héllo)", "héllo", "Hello <mask> there", "a  <mask>", "<mask><mask>", "  <mask>", "<mask>",
    "x<eos>   y", "<eos>", "<eos>\t\n z", "a <eos> <mask> b", "abc ab abd", "ab", "(ab)", "xab", "ab_", "ab9",
    "ab ab", "new_token", "new_tokens!", "anew_token", "new_token new_token", "abcdefghijkl", "abcdefghijklm",
    "ééééééééééééé", "ελληνικά", "Ωж жж", "日本語", "a\u0301b", "e\u0301\u0323", "q\u0323\u0301 Q\u0301\u0323",
    "tab\there", "ctl\x01x", "zero\u200bwidth", "nbsp\u00a0here", "[CLS] inside [SEP]", "[cls]",
    " ".join("word%d" % i for i in range(40)), "the " * 30, "<mask> " * 20,
]


def main():
    with open(os.path.join(HERE, "synthetic_wordpiece.json"), "w", encoding="utf-8") as f:
        json.dump(tokenizer(), f, ensure_ascii=True, indent=1)
        f.write("\n")
    with open(os.path.join(HERE, "synthetic_texts.jsonl"), "w", encoding="ascii") as f:
        for t in TEXTS:
            f.write(json.dumps(t, ensure_ascii=True) + "\n")
    with open(os.path.join(HERE, "synthetic_pairs.jsonl"), "w", encoding="ascii") as f:
        for i, t in enumerate(TEXTS):
            f.write(json.dumps([t, TEXTS[(i * 7 + 3) % len(TEXTS)]], ensure_ascii=True) + "\n")


if __name__ == "__main__":
    main()
