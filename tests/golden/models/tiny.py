"""Shared parts of the tiny-model generators (gen_*.py beside this file).

Each generator builds a small model with random weights for one architecture,
runs a plain-PyTorch reference of that architecture (written to mirror the
Hugging Face transformers modeling code) and writes a directory

    NAME/config.json, model.safetensors, modules.json, 1_Pooling/config.json, ...
    NAME/golden.json      tokenizer (path under ../shared), texts, their ids
    NAME/hidden.npy       float32 [sum of lengths, hidden]: last hidden states
    NAME/embeddings.npy   float32 [texts, dims]: sentence embeddings (or scores)

that tests/model/tiny_models_test.cc loads with simile and compares.

The token ids come from the Hugging Face tokenizers library (npm `tokenizers`,
through ../tokenizers/hf_ids.mjs), so the reference never depends on simile's
own tokenizer. Run with Debian's interpreter: /usr/bin/python3 gen_NAME.py.
"""

import json
import os
import struct
import subprocess
import tempfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
SHARED = os.path.abspath(os.path.join(ROOT, "..", "shared"))
TEXTS = os.path.join(HERE, "..", "texts.jsonl")

_DTYPES = {torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16"}


def save_safetensors(path, tensors):
    """Writes {name: tensor} as a safetensors file (tensors kept in their dtype)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        raw = t.view(torch.int16).numpy().tobytes() if t.dtype == torch.bfloat16 else t.numpy().tobytes()
        header[name] = {"dtype": _DTYPES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for b in blobs:
            f.write(b)


def save_model(out_dir, state_dict, config, dtype=torch.float16):
    """model.safetensors (tensors in `dtype`) and config.json in out_dir."""
    os.makedirs(out_dir, exist_ok=True)
    save_safetensors(os.path.join(out_dir, "model.safetensors"), {k: v.to(dtype) for k, v in state_dict.items()})
    write_json(os.path.join(out_dir, "config.json"), config)


def write_json(path, obj):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, ensure_ascii=False)
        f.write("\n")


def all_texts():
    """Every text of ../texts.jsonl, in order."""
    with open(TEXTS, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def golden_texts(count=40):
    """A fixed, varied subset of ../texts.jsonl: the first three (the seed
    example), then an even spread over the rest, then the three longest."""
    texts = all_texts()
    picked = list(range(3))
    step = max(1, (len(texts) - 3) // (count - 6))
    picked += list(range(3, len(texts), step))[: count - 6]
    longest = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    picked += [i for i in longest if i not in picked][:3]
    return [texts[i] for i in sorted(set(picked))]


def hf_encode(tokenizer_json, inputs, truncation, pairs=False, patch=None):
    """ids and type ids from the Hugging Face tokenizers library, no padding.
    patch: top-level keys of tokenizer.json to replace first (a model's own
    post-processor, say)."""
    with tempfile.TemporaryDirectory() as tmp:
        if patch:
            with open(tokenizer_json, encoding="utf-8") as f:
                tok = json.load(f)
            tok.update(patch)
            tokenizer_json = os.path.join(tmp, "tokenizer.json")
            with open(tokenizer_json, "w", encoding="utf-8") as f:
                json.dump(tok, f, ensure_ascii=False)
        src = os.path.join(tmp, "in.jsonl")
        out = os.path.join(tmp, "out.jsonl")
        with open(src, "w", encoding="utf-8") as f:
            for item in inputs:
                f.write(json.dumps(item, ensure_ascii=False) + "\n")
        env = dict(os.environ)
        env.setdefault("SIMILE_NODE_DIR", os.path.join(ROOT, "scripts", "node"))
        subprocess.run(["node", os.path.join(HERE, "..", "tokenizers", "hf_ids.mjs"), "--tokenizer", tokenizer_json,
                        "--in", src, "--format", "pairs" if pairs else "jsonl", "--truncation", str(truncation),
                        "--padding", "none", "--fields", "ids,type_ids", "--out", out], check=True, env=env)
        with open(out, encoding="utf-8") as f:
            recs = [json.loads(line) for line in f if line.strip()]
    return [r["ids"] for r in recs], [r["type_ids"] for r in recs]


def random_init(module, std, seed):
    """Deterministic weights: normal(0, std) matrices, LayerNorm/RMSNorm gains
    near 1 and biases near 0 but not exactly (so a missing bias or gain shows).
    A std well above the usual 0.02 keeps attention sharp, so a wrong position
    or mask changes the outputs by far more than the tolerance."""
    g = torch.Generator().manual_seed(seed)
    for name, p in sorted(module.named_parameters()):
        with torch.no_grad():
            if p.dim() == 1 and ("norm" in name.lower() or "ln" in name.lower()) and name.endswith("weight"):
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            elif p.dim() == 1:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(std * torch.randn(p.shape, generator=g))


def round_trip(module, dtype):
    """Rounds the module's weights through `dtype` (the dtype they are saved
    in), so the float32 reference computes with exactly the saved values."""
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.to(dtype).to(torch.float32))


def pad_batch(ids, type_ids, pad_id, side):
    """Padded [B, L] tensors and the attention mask, padding on `side`."""
    width = max(len(x) for x in ids)
    ii = torch.full((len(ids), width), pad_id, dtype=torch.long)
    tt = torch.zeros((len(ids), width), dtype=torch.long)
    mask = torch.zeros((len(ids), width), dtype=torch.long)
    for b, (x, t) in enumerate(zip(ids, type_ids)):
        n = len(x)
        sl = slice(0, n) if side == "right" else slice(width - n, width)
        ii[b, sl] = torch.tensor(x)
        tt[b, sl] = torch.tensor(t)
        mask[b, sl] = 1
    return ii, tt, mask


def unpad(hidden, mask):
    """The rows of real tokens of a padded [B, L, H] batch, text after text."""
    return torch.cat([hidden[b][mask[b].bool()] for b in range(hidden.shape[0])], dim=0)


def write_golden(out_dir, tokenizer_rel, texts, ids, hidden, embeddings, extra=None):
    """golden.json + hidden.npy + embeddings.npy for tiny_models_test.cc.
    tokenizer_rel names the tokenizer file under ../shared (never copied)."""
    golden = {"tokenizer": tokenizer_rel, "texts": texts, "ids": ids}
    golden.update(extra or {})
    write_json(os.path.join(out_dir, "golden.json"), golden)
    np.save(os.path.join(out_dir, "hidden.npy"), hidden.detach().numpy().astype(np.float32))
    np.save(os.path.join(out_dir, "embeddings.npy"), embeddings.detach().numpy().astype(np.float32))


def write_outputs(out_dir, golden, arrays):
    """golden.json and NAME.npy (float32) for each NAME: tensor of `arrays`:
    for models whose outputs are not write_golden's (cross-encoder scores,
    Matryoshka-truncated embeddings, ...)."""
    write_json(os.path.join(out_dir, "golden.json"), golden)
    for name, t in arrays.items():
        np.save(os.path.join(out_dir, name + ".npy"), t.detach().numpy().astype(np.float32))


def sentence_transformers_files(out_dir, hidden_size, pooling, normalize, max_seq_length):
    """modules.json, 1_Pooling/config.json and sentence_bert_config.json."""
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]
    if normalize:
        modules.append({"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"})
    write_json(os.path.join(out_dir, "modules.json"), modules)
    write_json(os.path.join(out_dir, "1_Pooling", "config.json"),
               {"word_embedding_dimension": hidden_size, "pooling_mode": pooling})
    write_json(os.path.join(out_dir, "sentence_bert_config.json"),
               {"max_seq_length": max_seq_length, "do_lower_case": False})


def pool(hidden, mask, mode):
    """sentence_transformers.models.Pooling for one mode, on a padded batch."""
    m = mask.unsqueeze(-1).to(hidden.dtype)
    if mode == "mean":
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
    if mode == "cls":
        return hidden[:, 0]
    if mode == "lasttoken":
        # sentence-transformers: the last position whose mask is 1 (works for
        # left and right padding alike).
        width = mask.shape[1]
        last = width - 1 - torch.flip(mask, dims=[1]).argmax(dim=1)
        return hidden[torch.arange(hidden.shape[0]), last]
    raise ValueError(mode)


def fairseq_position_ids(ids, padding_idx):
    """Position ids as RoBERTa, XLM-R and MPNet number them (transformers'
    create_position_ids_from_input_ids): real tokens count from padding_idx + 1;
    a token equal to padding_idx takes padding_idx and is not counted."""
    real = ids.ne(padding_idx).long()
    return torch.cumsum(real, dim=1) * real + padding_idx


def assert_sensitive(name, reference, changed, what, at_least=1e-2):
    """Fails unless `changed` (the outputs under a deliberate bug) differ from
    `reference` by more than `at_least`: proof that the golden files catch it."""
    diff = float((reference - changed).abs().max())
    assert diff > at_least, "%s: %s moves the outputs only by %g" % (name, what, diff)
    print("%s: %s moves the hidden states by %.3f" % (name, what, diff))
