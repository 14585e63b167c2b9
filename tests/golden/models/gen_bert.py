"""Tiny BERT (BertModel + mean pooling + Normalize) with random weights, and
its reference outputs. Mirrors transformers' modeling_bert.py (eager
attention): embeddings = LayerNorm(word + token_type + position); post-LN
layers; erf GELU; additive mask of dtype-min for padding.

    /usr/bin/python3 tests/golden/models/gen_bert.py
"""

import math
import os

import torch
from torch import nn

import tiny

NAME = "tiny-bert"
TOKENIZER = "tokenizers/all-MiniLM-L6-v2/tokenizer.json"
CONFIG = {
    "architectures": ["BertModel"], "model_type": "bert", "hidden_size": 32, "num_hidden_layers": 2,
    "num_attention_heads": 4, "intermediate_size": 64, "vocab_size": 30522, "max_position_embeddings": 512,
    "type_vocab_size": 2, "layer_norm_eps": 1e-12, "hidden_act": "gelu", "pad_token_id": 0,
    "position_embedding_type": "absolute",
}
MAX_SEQ_LENGTH = 128


class Embeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.word_embeddings = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.position_embeddings = nn.Embedding(c["max_position_embeddings"], c["hidden_size"])
        self.token_type_embeddings = nn.Embedding(c["type_vocab_size"], c["hidden_size"])
        self.LayerNorm = nn.LayerNorm(c["hidden_size"], eps=c["layer_norm_eps"])

    def forward(self, ids, type_ids):
        positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.word_embeddings(ids) + self.token_type_embeddings(type_ids)
        x = x + self.position_embeddings(positions)
        return self.LayerNorm(x)


class Layer(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden_size"], c["intermediate_size"]
        self.heads = c["num_attention_heads"]
        self.query, self.key, self.value = nn.Linear(h, h), nn.Linear(h, h), nn.Linear(h, h)
        self.attn_out = nn.Linear(h, h)
        self.attn_norm = nn.LayerNorm(h, eps=c["layer_norm_eps"])
        self.intermediate = nn.Linear(h, i)
        self.output = nn.Linear(i, h)
        self.out_norm = nn.LayerNorm(h, eps=c["layer_norm_eps"])

    def forward(self, x, additive_mask):
        b, n, h = x.shape
        hd = h // self.heads

        def split(t):
            return t.view(b, n, self.heads, hd).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + additive_mask
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, n, h)
        x = self.attn_norm(self.attn_out(ctx) + x)
        ffn = nn.functional.gelu(self.intermediate(x))
        return self.out_norm(self.output(ffn) + x)


class Bert(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = Embeddings(c)
        self.layers = nn.ModuleList(Layer(c) for _ in range(c["num_hidden_layers"]))

    def forward(self, ids, type_ids, mask):
        additive = (1.0 - mask[:, None, None, :].float()) * torch.finfo(torch.float32).min
        x = self.embeddings(ids, type_ids)
        for layer in self.layers:
            x = layer(x, additive)
        return x

    def hf_state_dict(self):
        """The weights under the names BertModel saves them with."""
        out = {}
        for name, t in self.embeddings.state_dict().items():
            out["embeddings." + name] = t
        names = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
                 "attn_out": "attention.output.dense", "attn_norm": "attention.output.LayerNorm",
                 "intermediate": "intermediate.dense", "output": "output.dense", "out_norm": "output.LayerNorm"}
        out.update(layer_state_dict(self.layers, names))
        return out


def layer_state_dict(layers, names):
    """The weights of `layers` under encoder.layer.N.<names[module]>.<param>."""
    out = {}
    for i, layer in enumerate(layers):
        for name, t in layer.state_dict().items():
            module, param = name.split(".")
            out["encoder.layer.%d.%s.%s" % (i, names[module], param)] = t
    return out


def main():
    out_dir = os.path.join(tiny.HERE, NAME)
    torch.manual_seed(0)
    model = Bert(CONFIG).eval()
    tiny.random_init(model, std=0.2, seed=1)
    tiny.round_trip(model, torch.float16)
    os.makedirs(out_dir, exist_ok=True)
    tiny.save_safetensors(os.path.join(out_dir, "model.safetensors"),
                          {k: v.to(torch.float16) for k, v in model.hf_state_dict().items()})
    tiny.write_json(os.path.join(out_dir, "config.json"), CONFIG)
    tiny.sentence_transformers_files(out_dir, CONFIG["hidden_size"], "mean", True, MAX_SEQ_LENGTH)

    texts = tiny.golden_texts()
    ids, type_ids = tiny.hf_encode(os.path.join(tiny.SHARED, TOKENIZER), texts, MAX_SEQ_LENGTH)
    ii, tt, mask = tiny.pad_batch(ids, type_ids, CONFIG["pad_token_id"], "right")
    with torch.no_grad():
        hidden = model(ii, tt, mask)
        emb = nn.functional.normalize(tiny.pool(hidden, mask, "mean"), dim=-1)
    tiny.write_golden(out_dir, TOKENIZER, texts, ids, tiny.unpad(hidden, mask), emb)
    print("%s: %d texts, %d tokens" % (NAME, len(texts), int(mask.sum())))


if __name__ == "__main__":
    main()
