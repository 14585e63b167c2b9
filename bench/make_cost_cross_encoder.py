#!/usr/bin/env python3
"""A cross-encoder of realistic size for measuring what re-ranking COSTS.

No trained cross-encoder can be downloaded here, so this builds one with the
shape of cross-encoder/ms-marco-MiniLM-L-6-v2 (BertForSequenceClassification,
6 layers, hidden 384, 12 heads, one label, 512 tokens) from the encoder
weights of all-MiniLM-L6-v2, which has exactly that encoder, plus a random
classifier head. It runs as fast as the real model and ranks like nothing in
particular: use it for ms/query only, never for quality numbers.

    python3 bench/make_cost_cross_encoder.py [SOURCE_MODEL_DIR] OUT_DIR

SOURCE_MODEL_DIR (default $SIMILE_HOME/models/all-MiniLM-L6-v2) holds
config.json, model.safetensors and tokenizer.json of a BERT sentence encoder.
OUT_DIR gets config.json, model.safetensors (the encoder's tensors renamed
bert.*, the classifier added), tokenizer.json and tokenizer_config.json.
Only the standard library is needed: the safetensors file is rewritten byte
for byte, and the head is drawn with a fixed seed.
"""
import json
import os
import random
import shutil
import struct
import sys


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    header.pop("__metadata__", None)
    return {name: (h["dtype"], h["shape"], data[h["data_offsets"][0]:h["data_offsets"][1]])
            for name, h in header.items()}


def write_safetensors(path, tensors):
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        dtype, shape, raw = tensors[name]
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        for raw in blobs:
            f.write(raw)


def f16(values):
    return struct.pack("<%de" % len(values), *values)


def main(argv):
    if len(argv) not in (2, 3):
        sys.exit(__doc__)
    home = os.environ.get("SIMILE_HOME", os.path.expanduser("~/.local/share/simile"))
    src = argv[1] if len(argv) == 3 else os.path.join(home, "models", "all-MiniLM-L6-v2")
    out = argv[-1]
    with open(os.path.join(src, "config.json")) as f:
        config = json.load(f)
    if config.get("model_type") != "bert":
        sys.exit("%s: not a BERT model (model_type %r)" % (src, config.get("model_type")))
    tensors = {}
    for name, t in read_safetensors(os.path.join(src, "model.safetensors")).items():
        if name.startswith("bert."):
            name = name[len("bert."):]
        tensors["bert." + name] = t
    h = config["hidden_size"]
    dtype = tensors["bert.embeddings.word_embeddings.weight"][0]
    if dtype != "F16":
        sys.exit("%s: expected F16 weights, found %s" % (src, dtype))
    rng = random.Random(20261201)
    if "bert.pooler.dense.weight" not in tensors:  # sentence encoders may ship without BertPooler
        tensors["bert.pooler.dense.weight"] = ("F16", [h, h], f16([rng.gauss(0, 0.02) for _ in range(h * h)]))
        tensors["bert.pooler.dense.bias"] = ("F16", [h], f16([0.0] * h))
    tensors["classifier.weight"] = ("F16", [1, h], f16([rng.gauss(0, 0.02) for _ in range(h)]))
    tensors["classifier.bias"] = ("F16", [1], f16([0.0]))

    os.makedirs(out, exist_ok=True)
    write_safetensors(os.path.join(out, "model.safetensors"), tensors)
    config = dict(config, architectures=["BertForSequenceClassification"], id2label={"0": "LABEL_0"},
                  label2id={"LABEL_0": 0})
    config.pop("_name_or_path", None)
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
    # As ms-marco-MiniLM-L-6-v2's: lower-cased, pairs cut at 512 tokens.
    with open(os.path.join(out, "tokenizer_config.json"), "w") as f:
        json.dump({"do_lower_case": True, "model_max_length": 512}, f, indent=2)
    shutil.copyfile(os.path.join(src, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    print("%s: %d tensors, cost-only cross-encoder (random head)" % (out, len(tensors)))


if __name__ == "__main__":
    main(sys.argv)
