"""Tiny MPNet (MPNetModel + mean pooling + Normalize, like all-mpnet-base-v2)
with random weights, and its reference outputs. Mirrors transformers'
modeling_mpnet.py (eager attention):

- embeddings = LayerNorm(word + position), no token types; position ids
  numbered as fairseq does from padding_idx + 1, with padding_idx fixed at 1
  by MPNetEmbeddings;
- BERT's post-LN layers under other names (attention.attn.q/k/v/o,
  attention.LayerNorm), erf GELU;
- a relative position bias: MPNetEncoder.compute_position_bias buckets
  key - query distances (32 buckets, both directions, exact below 8, log-spaced
  up to 128) and looks them up in encoder.relative_attention_bias [32, heads],
  once, for every layer; each layer adds it to the scaled scores before the
  padding mask.

The texts run up to max_seq_length 384 tokens (all-mpnet-base-v2's), so every
bucket is reached, the capped ones past distance 128 included.

    /usr/bin/python3 tests/golden/models/gen_mpnet.py
"""

import math
import os

import torch
from torch import nn

import gen_bert
import tiny

NAME = "tiny-mpnet"
TOKENIZER = "tokenizers/all-mpnet-base-v2/tokenizer.json"
CONFIG = {
    "architectures": ["MPNetModel"], "model_type": "mpnet", "hidden_size": 32, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 30527, "max_position_embeddings": 514,
    "layer_norm_eps": 1e-05, "hidden_act": "gelu", "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
    "relative_attention_num_buckets": 32,
}
MAX_SEQ_LENGTH = 384
PADDING_IDX = 1  # MPNetEmbeddings.padding_idx: fixed, whatever pad_token_id says


def relative_position_bucket(relative_position, num_buckets=32, max_distance=128):
    """MPNetEncoder.relative_position_bucket: half the buckets for keys after
    the query, half for keys before; within each half, distances below a
    quarter of the buckets exactly, the rest log-spaced up to max_distance."""
    n = -relative_position
    half = num_buckets // 2
    bucket = (n < 0).long() * half
    n = n.abs()
    exact = half // 2
    log_spaced = exact + (torch.log(n.float() / exact) / math.log(max_distance / exact) * (half - exact)).long()
    log_spaced = torch.clamp(log_spaced, max=half - 1)
    return bucket + torch.where(n < exact, n, log_spaced)


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])
        self.position_shift = 0  # for the sensitivity check only

    def forward(self, ids):
        positions = tiny.fairseq_position_ids(ids, PADDING_IDX) + self.position_shift
        return self.LayerNorm(self.word_embeddings(ids) + self.position_embeddings(positions))


class MPNet(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        # MPNet's layer is BERT's: the same products, norms and activation.
        self.layers = nn.ModuleList(gen_bert.Layer(c) for _ in range(c["num_hidden_layers"]))
        self.relative_attention_bias = nn.Embedding(c["relative_attention_num_buckets"], c["num_attention_heads"])
        self.bucket_bug = None  # for the sensitivity checks only

    def position_bias(self, length):
        """compute_position_bias: [1, heads, length, length] from the bucket
        of memory_position - context_position (key - query)."""
        position = torch.arange(length)
        relative = position[None, :] - position[:, None]
        if self.bucket_bug == "query - key":
            relative = -relative
        buckets = relative_position_bucket(relative)
        if self.bucket_bug == "max_distance 256":
            buckets = relative_position_bucket(relative, max_distance=256)
        return self.relative_attention_bias(buckets).permute(2, 0, 1).unsqueeze(0)

    def forward(self, ids, mask):
        additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        x = self.embeddings(ids)
        # MPNetSelfAttention adds position_bias, then the mask, to the scaled
        # scores: on real keys the mask is 0, so one summed term is the same.
        bias = self.position_bias(ids.shape[1])
        if self.bucket_bug == "no bias":
            bias = torch.zeros_like(bias)
        for layer in self.layers:
            x = layer(x, bias + additive)
        return x

    def hf_state_dict(self):
        """The weights under the names MPNetModel saves them with."""
        out = {"embeddings." + k: t for k, t in self.embeddings.state_dict().items()}
        out["encoder.relative_attention_bias.weight"] = self.relative_attention_bias.weight
        names = {"query": "attention.attn.q", "key": "attention.attn.k", "value": "attention.attn.v",
                 "attn_out": "attention.attn.o", "attn_norm": "attention.LayerNorm",
                 "intermediate": "intermediate.dense", "output": "output.dense", "out_norm": "output.LayerNorm"}
        out.update(gen_bert.layer_state_dict(self.layers, names))
        return out


def long_texts(texts):
    """Natural (not repeated-word) texts of about 110 and 270 tokens, beside
    the set's three longest, which are repetitions."""
    prose = [t for t in texts if " " in t and len(t) < 200]
    return [" ".join(prose[3:12]), " ".join(prose)]


def main():
    out_dir = os.path.join(tiny.HERE, NAME)
    torch.manual_seed(0)
    model = MPNet(CONFIG).eval()
    tiny.random_init(model, std=0.2, seed=5)
    with torch.no_grad():
        # Larger than the other weights, so a wrong bucket shows far past the tolerance.
        model.relative_attention_bias.weight.mul_(5)
    tiny.round_trip(model, torch.float16)
    os.makedirs(out_dir, exist_ok=True)
    tensors = {k: v.to(torch.float16) for k, v in model.hf_state_dict().items()}
    # all-mpnet-base-v2 ships MPNetModel's pooler: present, and ignored.
    g = torch.Generator().manual_seed(6)
    h = CONFIG["hidden_size"]
    tensors["pooler.dense.weight"] = (0.2 * torch.randn(h, h, generator=g)).to(torch.float16)
    tensors["pooler.dense.bias"] = torch.zeros(h, dtype=torch.float16)
    tiny.save_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    tiny.write_json(os.path.join(out_dir, "config.json"), CONFIG)
    tiny.sentence_transformers_files(out_dir, CONFIG["hidden_size"], "mean", True, MAX_SEQ_LENGTH)

    texts = tiny.golden_texts()
    texts += long_texts(texts)
    ids, type_ids = tiny.hf_encode(os.path.join(tiny.SHARED, TOKENIZER), texts, MAX_SEQ_LENGTH)
    ii, _, mask = tiny.pad_batch(ids, type_ids, CONFIG["pad_token_id"], "right")
    with torch.no_grad():
        hidden = model(ii, mask)
        emb = nn.functional.normalize(tiny.pool(hidden, mask, "mean"), dim=-1)
        reference = tiny.unpad(hidden, mask)
        model.embeddings.position_shift = -1
        tiny.assert_sensitive(NAME, reference, tiny.unpad(model(ii, mask), mask), "numbering positions from 1")
        model.embeddings.position_shift = 0
        for bug in ("no bias", "query - key", "max_distance 256"):
            model.bucket_bug = bug
            tiny.assert_sensitive(NAME, reference, tiny.unpad(model(ii, mask), mask), "relative bias: " + bug)
        model.bucket_bug = None
    tiny.write_golden(out_dir, TOKENIZER, texts, ids, reference, emb)
    print("%s: %d texts, %d tokens, lengths %s" % (NAME, len(texts), int(mask.sum()),
                                                   sorted(len(x) for x in ids)[-6:]))


if __name__ == "__main__":
    main()
