#!/usr/bin/env python3
"""Writes the starting inputs of each fuzz target into tests/fuzz/corpus/NAME/
(seed-*.bin; scripts/fuzz.sh adds what the fuzzers find next to them).
Everything here is made up for the purpose: small tokenizer.json files of
each model kind, safetensors files, filters, documents, texts and requests."""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, "seed-" + name + ".bin"), "wb") as f:
        f.write(data)


def tokenizer_json():
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "hello", "world", "!", ",", "it", "'", "s",
             "na", "##ive", "cafe", "##s", "안녕", "##하세요", "2026", "."]
    wordpiece = {
        "version": "1.0", "truncation": {"max_length": 16, "strategy": "LongestFirst", "stride": 0,
                                         "direction": "Right"},
        "padding": None,
        "added_tokens": [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True} for i, t in enumerate(vocab[:5])],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                      {"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                           "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}},
                                    {"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 1}},
                                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                           "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                                              "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(vocab)}},
    }
    write("tokenizer_json", "wordpiece", json.dumps(wordpiece, ensure_ascii=False))

    bytes_vocab = {"<|endoftext|>": 0, "h": 1, "e": 2, "l": 3, "o": 4, "Ġ": 5, "w": 6, "r": 7, "d": 8,
                   "he": 9, "ll": 10, "hell": 11, "hello": 12, "Ġw": 13, "or": 14, "Ġwor": 15, "Ġworld": 16,
                   "ld": 17}
    bpe = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": "<|endoftext|>", "single_word": False, "lstrip": False,
                          "rstrip": False, "normalized": True, "special": True}],
        "normalizer": None,
        "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                          "use_regex": True},
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False,
                           "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": "",
                  "end_of_word_suffix": "", "fuse_unk": False, "byte_fallback": False,
                  "vocab": bytes_vocab,
                  "merges": ["h e", "l l", "he ll", "hell o", "Ġ w", "o r", "Ġw or", "l d", "Ġwor ld"]},
    }
    write("tokenizer_json", "bpe", json.dumps(bpe, ensure_ascii=False))

    unigram = {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [{"id": 0, "content": "<pad>", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True},
                         {"id": 1, "content": "</s>", "single_word": False, "lstrip": False, "rstrip": False,
                          "normalized": False, "special": True}],
        "normalizer": {"type": "Sequence", "normalizers": [
            {"type": "Precompiled", "precompiled_charsmap": None} if False else {"type": "NFKC"},
            {"type": "Replace", "pattern": {"Regex": " {2,}"}, "content": " "}]},
        "pre_tokenizer": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "post_processor": {"type": "TemplateProcessing",
                           "single": [{"Sequence": {"id": "A", "type_id": 0}},
                                      {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "pair": [{"Sequence": {"id": "A", "type_id": 0}},
                                    {"SpecialToken": {"id": "</s>", "type_id": 0}},
                                    {"Sequence": {"id": "B", "type_id": 0}},
                                    {"SpecialToken": {"id": "</s>", "type_id": 0}}],
                           "special_tokens": {"</s>": {"id": "</s>", "ids": [1], "tokens": ["</s>"]}}},
        "decoder": {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True},
        "model": {"type": "Unigram", "unk_id": 2, "byte_fallback": False,
                  "vocab": [["<pad>", 0.0], ["</s>", 0.0], ["<unk>", 0.0], ["▁", -2.0], ["▁hello", -5.0],
                            ["▁world", -5.5], ["he", -7.0], ["llo", -7.5], ["!", -4.0], ["▁안녕", -6.0]]},
    }
    write("tokenizer_json", "unigram", json.dumps(unigram, ensure_ascii=False))
    split = dict(wordpiece)
    split["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFD"}, {"type": "StripAccents"},
                                                               {"type": "Lowercase"}]}
    split["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
        {"type": "Split", "pattern": {"Regex": "\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+"},
         "behavior": "Isolated", "invert": False},
        {"type": "Punctuation", "behavior": "Isolated"}, {"type": "Digits", "individual_digits": True},
        {"type": "WhitespaceSplit"}]}
    write("tokenizer_json", "split", json.dumps(split, ensure_ascii=False))


def safetensors():
    def file(tensors, metadata=None):
        header, data = {}, b""
        if metadata:
            header["__metadata__"] = metadata
        for name, (dtype, shape, raw) in tensors.items():
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
            data += raw
        h = json.dumps(header).encode()
        h += b" " * (-len(h) % 8)
        return struct.pack("<Q", len(h)) + h + data
    write("safetensors", "f32", file({"w": ("F32", [2, 3], struct.pack("<6f", 1, 2, 3, 4, 5, 6)),
                                      "b": ("F32", [3], struct.pack("<3f", 0.5, -1, 2))}, {"format": "pt"}))
    write("safetensors", "f16_bf16", file({"h": ("F16", [4], struct.pack("<4e", 1, -2, 0.5, 65504)),
                                           "g": ("BF16", [2, 1], b"\x80\x3f\x00\xc0")}))
    write("safetensors", "ints", file({"i": ("I64", [2], struct.pack("<2q", 1, -1)),
                                       "m": ("BOOL", [3], b"\x01\x00\x01"), "s": ("F64", [], struct.pack("<d", 3.0))}))
    write("safetensors", "empty", file({"e": ("F32", [0, 4], b"")}))


def filters():
    for i, f in enumerate([
            'year >= 2000 AND (lang = "en" OR lang IN ("ko", "ja"))',
            "NOT draft = true", "tags = 'a' OR tags != \"b\"", "author.name EXISTS AND author.age < 50",
            "lang IS NULL", "lang IS NOT NULL AND year NOT IN (1999.5, 2001)", "`a b` = \"space\"",
            "x <= -3e0 OR y > 1e299", "n = 9007199254740993", "title = \"caf\\u00e9\"",
            "((((year > 1))))", "nested.deep.er = 2", "lang <> 'EN'", "year == '2001'"]):
        write("filter", "f%02d" % i, f)


def documents():
    jsonl = "\n".join(json.dumps(d, ensure_ascii=False) for d in [
        {"id": "a", "text": "cats purr", "title": "Cats", "year": 2001, "tags": ["x"]},
        {"text": "한국어 문서", "meta": {"k": 1}}, {"id": 7, "text": "numeric id"}, {"text": ""}, {"id": "b"}])
    write("ingest", "jsonl", b"\x00" + (jsonl + "\n\n{bad json\n").encode())
    write("ingest", "jsonl_id", b"\x10" + jsonl.encode())
    csv = 'id,text,title,year\n1,"hello, world",Hi,2001\n2,"multi\nline ""quoted""",,1e3\n3,,,007\n'
    write("ingest", "csv", b"\x11" + csv.encode())
    write("ingest", "json", b"\x02" + json.dumps([{"text": "one", "year": 1}, {"text": "two"}, 3]).encode())
    write("ingest", "json_object", b"\x22" + json.dumps({"text": "single", "year": 5, "tags": ["t"]}).encode())
    write("ingest", "html", b"\x03<html><head><title>T &amp; t</title><script>x()</script></head>"
          b"<body><h1>Head</h1><p>Para&nbsp;one &#x41;&#65;</p><pre>code</pre></body></html>")
    write("ingest", "md", b"\x04Title\n=====\n\nSome *text* here.\n# Heading\n")
    write("ingest", "txt", b"\x05plain text\xff\xfe invalid")


def texts():
    samples = ["Hello, world! It's 2026.", "  naïve café ÉCOLE  ", "안녕하세요 세계 東京タワー 北京",
               "a\tb\nc\r\n😀👍🏽", "\xff\xfe x\x80", "don't can't o'clock U.S.A. e-mail",
               "Straße ﬁ Ⅻ ＡＢＣ", "x" * 300, "[CLS] [SEP] <|endoftext|> </s> [MASK]",
               "query\x00a passage about cats"]
    for i, s in enumerate(samples):
        data = s.encode("utf-8", "surrogateescape") if "\xff" not in s else s.encode("latin-1")
        write("tokenize", "t%02d" % i, data)
        write("analyzer", "t%02d" % i, data)
    for i, spec in enumerate(["english", "simple,accents=keep", "stemmer=german,cjk=run",
                              '{"accents":"fold","cjk":"bigram","stemmer":"english","stop_words":["a"],"version":1}']):
        write("analyzer", "spec%02d" % i, spec)


def requests():
    reqs = [
        (0, {"input": "hello world", "model": "all-MiniLM-L6-v2"}),
        (0, {"input": ["a", "b"], "encoding_format": "base64", "dimensions": 8}),
        (0, {"input": [[101, 7592, 102], [2088]]}),
        (1, {"query": "cats", "documents": ["cats purr", {"text": "dogs"}], "top_n": 1}),
        (2, {"name": "other", "model": "none", "analyzer": "english"}),
        (3, {"documents": [{"id": "x", "text": "a new document", "meta": {"year": 2020}}]}),
        (4, {"ids": ["x", "nope"]}),
        (5, {"query": "cats", "mode": "hybrid", "k": 3, "filter": "year > 2000", "explain": True}),
        (5, {"query": "dogs", "mode": "bm25", "mmr": 0.5, "center": True}),
        (6, {"k": 2}),
    ]
    for i, (route, body) in enumerate(reqs):
        write("server_request", "r%02d" % i, bytes([route]) + json.dumps(body, ensure_ascii=False).encode())
    for i, (route, path) in enumerate([(7, "collections/fz/documents/a"), (7, "collections/fz/documents/a/similar?k=2"),
                                       (7, "metrics"), (7, "collections/..%2F..%2Fetc"), (9, "collections/fz/documents/x"),
                                       (7, "v1/models")]):
        write("server_request", "p%02d" % i, bytes([route]) + path.encode() + b"\n")


def main():
    tokenizer_json()
    safetensors()
    filters()
    documents()
    texts()
    requests()


if __name__ == "__main__":
    sys.exit(main())
