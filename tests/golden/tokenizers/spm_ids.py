#!/usr/bin/env python3
"""Reference ids of SentencePiece model files from Debian's spm_encode.

For each entry of manifest.json's "sentencepiece" list, writes NAME.SET.jsonl:
one record per text, {"ids": [...]}, the ids of the text without the
post-processor's special tokens (what simile's encode(text, false) returns).

spm_encode reads one text per line, so a text with a newline in it cannot be
given to it whole: such texts are recorded as {"skipped": "newline"}.

Special-token strings in a text (the tokenizer_config.json's special tokens:
"<s>" in a fuzz text) are cut out first, as the transformers tokenizers do,
and each piece between them goes to spm_encode alone. They are written as
their text in "ids" (e.g. [22172, "</s>", 3186]); the test looks them up.
With "legacy": false in tokenizer_config.json only the piece at the start of
the text gets SentencePiece's dummy prefix: the others are encoded with a copy
of the model whose normalizer_spec.add_dummy_prefix is false.

  python3 spm_ids.py --manifest manifest.json --shared-dir DIR [--golden-dir DIR]
"""
import argparse
import json
import os
import subprocess
import tempfile

# ModelProto.normalizer_spec (field 3) { add_dummy_prefix (field 3): false },
# appended to a serialized model: protobuf merges it into the model's own.
NO_DUMMY_PREFIX = b"\x1a\x02\x18\x00"


def token_content(value):
    if isinstance(value, dict):
        return value.get("content", "")
    return value or ""


def special_tokens(config):
    """The strings cut out of texts before SentencePiece sees them."""
    tokens = set()
    for key in ("bos_token", "eos_token", "unk_token", "pad_token", "cls_token", "sep_token", "mask_token"):
        tokens.add(token_content(config.get(key)))
    for t in config.get("additional_special_tokens") or []:
        tokens.add(token_content(t))
    for t in (config.get("added_tokens_decoder") or {}).values():
        tokens.add(token_content(t))
    tokens.discard("")
    return sorted(tokens)


def split_at_specials(text, specials):
    """Leftmost-longest matches of `specials`: [(piece, is_special, begins_text)]."""
    out = []
    start = 0
    i = 0
    while i < len(text):
        match = max((s for s in specials if text.startswith(s, i)), key=len, default=None)
        if match is None:
            i += 1
            continue
        if i > start:
            out.append((text[start:i], False, start == 0))
        out.append((match, True, i == 0))
        i += len(match)
        start = i
    if start < len(text):
        out.append((text[start:], False, start == 0))
    return out


def spm_encode(model_file, pieces):
    """spm_encode --output_format=id over `pieces` (no newlines), one list each."""
    if not pieces:
        return []
    data = "".join(p + "\n" for p in pieces).encode("utf-8", "surrogatepass")
    result = subprocess.run(["spm_encode", "--model", model_file, "--output_format=id"], input=data,
                            capture_output=True, check=True)
    lines = result.stdout.decode("utf-8").split("\n")
    assert lines[-1] == "" and len(lines) == len(pieces) + 1, "spm_encode gave a different number of lines"
    return [[int(x) for x in line.split()] for line in lines[:-1]]


def encode_all(model_file, config, texts):
    specials = special_tokens(config)
    legacy = config.get("legacy", True) is not False
    with tempfile.TemporaryDirectory() as tmp:
        no_prefix_file = os.path.join(tmp, "no_dummy_prefix.model")
        with open(model_file, "rb") as f, open(no_prefix_file, "wb") as out:
            out.write(f.read() + NO_DUMMY_PREFIX)
        # Every piece of every text, by the model that encodes it, in one call each.
        jobs = {model_file: [], no_prefix_file: []}
        plans = []
        for text in texts:
            if "\n" in text:
                plans.append(None)
                continue
            plan = []
            for piece, is_special, begins_text in split_at_specials(text, specials):
                if is_special:
                    plan.append(("special", piece))
                else:
                    model = model_file if legacy or begins_text else no_prefix_file
                    plan.append((model, len(jobs[model])))
                    jobs[model].append(piece)
            plans.append(plan)
        ids = {model: spm_encode(model, pieces) for model, pieces in jobs.items()}
    records = []
    for plan in plans:
        if plan is None:
            records.append({"skipped": "newline"})
            continue
        rec = []
        for kind, value in plan:
            rec.extend([value] if kind == "special" else ids[kind][value])
        records.append({"ids": rec})
    return records


def read_texts(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--shared-dir", required=True)
    ap.add_argument("--golden-dir")
    args = ap.parse_args()
    golden = args.golden_dir or os.path.dirname(os.path.abspath(args.manifest))
    with open(args.manifest, encoding="utf-8") as f:
        manifest = json.load(f)
    for entry in manifest["sentencepiece"]:
        model_file = os.path.join(args.shared_dir, entry["model"])
        config_file = os.path.join(os.path.dirname(model_file), "tokenizer_config.json")
        config = {}
        if os.path.exists(config_file):
            with open(config_file, encoding="utf-8") as f:
                config = json.load(f)
        for set_name in entry["text_sets"]:
            text_set = manifest["text_sets"][set_name]
            assert text_set["format"] == "jsonl", "spm_ids.py encodes single texts only"
            texts = read_texts(os.path.join(golden, text_set["file"]))
            out_file = os.path.join(golden, f"{entry['name']}.{set_name}.jsonl")
            with open(out_file, "w", encoding="utf-8") as f:
                for rec in encode_all(model_file, config, texts):
                    f.write(json.dumps(rec, ensure_ascii=False) + "\n")
            print(f"wrote {len(texts)} encodings to {out_file}")


if __name__ == "__main__":
    main()
