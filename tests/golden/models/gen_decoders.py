"""Tiny decoder-only embedders (Qwen3, Qwen2, Mistral) with random weights, and
their reference outputs. Mirrors transformers' modeling_llama.py and its
Mistral/Qwen2/Qwen3 variants (eager attention):

    x = embed_tokens(ids)
    per layer   x += o_proj(attention(h)),  h = input_layernorm(x)           (RMSNorm)
                x += down_proj(silu(gate_proj(h)) * up_proj(h)),  h = post_attention_layernorm(x)
    output      norm(x)
    attention   q, k, v projections (Qwen2: with biases; attention_bias: q, k, v, o);
                Qwen3: q_norm / k_norm (RMSNorm over head_dim) before the rotation;
                rotary embeddings with rotate_half; repeat_kv for grouped-query
                attention; additive mask of dtype-min built from a causal mask,
                the padding mask and the sliding window (kv > q - window) when
                the layer has one; softmax in float32

then last-token pooling and Normalize as sentence-transformers does. Each
model runs twice, on a right-padded and on a left-padded batch (positions
0..L-1 over the padded row, as transformers numbers them without
generate()), and the two must agree; the right-padded run is the golden one.
Sensitivity checks make sure the test would notice a wrong rope_theta, a
missing causal mask or sliding window, or a wrong grouped-query head mapping.

    /usr/bin/python3 tests/golden/models/gen_decoders.py
"""

import math
import os

import torch
from torch import nn

import tiny

MAX_SEQ_LENGTH = 128


def template(single_specials_before, single_specials_after, specials):
    """A tokenizers TemplateProcessing post-processor: [before] $A [after]
    (pair: that, then [before] $B [after] with type id 1). specials: {token: id}."""
    def side(tokens, type_id):
        return [{"SpecialToken": {"id": t, "type_id": type_id}} for t in tokens]

    single = side(single_specials_before, 0) + [{"Sequence": {"id": "A", "type_id": 0}}] + \
        side(single_specials_after, 0)
    pair = single + side(single_specials_before, 1) + [{"Sequence": {"id": "B", "type_id": 1}}] + \
        side(single_specials_after, 1)
    return {"type": "TemplateProcessing", "single": single, "pair": pair,
            "special_tokens": {t: {"id": t, "ids": [i], "tokens": [t]} for t, i in specials.items()}}


# Each model: its config.json, the tokenizer under ../shared, and how its
# model directory makes the tokenizer append the EOS token the last-token
# pooling reads:
#   tokenizer_patch   the model's tokenizer.json is the shared one with these
#                     top-level keys replaced (Qwen3-Embedding's appends
#                     <|endoftext|> in its post-processor); golden.json carries
#                     the patch and the test applies it
#   tokenizer_config  a tokenizer_config.json committed in the model directory
#                     (e5-mistral-7b-instruct's add_eos_token); `reference_patch`
#                     is the post-processor transformers' LlamaTokenizerFast
#                     builds from it, used only to compute the reference ids
MODELS = [
    {
        "name": "tiny-qwen3",
        "tokenizer": "tokenizers/gpt2/tokenizer.json",
        "dtype": torch.bfloat16,
        "prefix": "",
        "tokenizer_patch": {"post_processor": template([], ["<|endoftext|>"], {"<|endoftext|>": 50256})},
        "config": {
            "architectures": ["Qwen3Model"], "model_type": "qwen3", "vocab_size": 50257, "hidden_size": 32,
            "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "head_dim": 16, "hidden_act": "silu", "max_position_embeddings": 512, "rms_norm_eps": 1e-6,
            "rope_theta": 1000000.0, "rope_scaling": None, "attention_bias": True, "use_sliding_window": False,
            "sliding_window": None, "max_window_layers": 2, "tie_word_embeddings": True, "torch_dtype": "bfloat16",
            "bos_token_id": 50256, "eos_token_id": 50256,
        },
    },
    {
        "name": "tiny-qwen2",
        "tokenizer": "tokenizers/phi-3-mini/tokenizer.json",
        "dtype": torch.float16,
        "prefix": "model.",  # saved from Qwen2ForCausalLM (tied lm_head: not in the file)
        "stale_inv_freq": True,  # older checkpoints also hold rotary_emb.inv_freq buffers
        "tokenizer_patch": {"post_processor": template([], ["<|endoftext|>"], {"<|endoftext|>": 32000})},
        "config": {
            "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 32064, "hidden_size": 32,
            "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "hidden_act": "silu", "max_position_embeddings": 512, "rms_norm_eps": 1e-6, "rope_theta": 10000.0,
            "use_sliding_window": True, "sliding_window": 16, "max_window_layers": 1, "tie_word_embeddings": True,
            "torch_dtype": "float16", "bos_token_id": 32000, "eos_token_id": 32000,
        },
    },
    {
        "name": "tiny-mistral",
        "tokenizer": "tokenizers/mistral-7b/tokenizer.json",
        "dtype": torch.bfloat16,
        "prefix": "",  # saved from MistralModel, as e5-mistral-7b-instruct
        "tokenizer_config": {
            "tokenizer_class": "LlamaTokenizer", "add_bos_token": True, "add_eos_token": True, "bos_token": "<s>",
            "eos_token": "</s>", "unk_token": "<unk>", "pad_token": None, "legacy": True,
            "model_max_length": 1000000000000000019884624838656,
        },
        "reference_patch": {"post_processor": template(["<s>"], ["</s>"], {"<s>": 1, "</s>": 2})},
        "config": {
            "architectures": ["MistralModel"], "model_type": "mistral", "vocab_size": 32000, "hidden_size": 32,
            "intermediate_size": 64, "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "hidden_act": "silu", "max_position_embeddings": 32768, "rms_norm_eps": 1e-5, "rope_theta": 10000.0,
            "sliding_window": 20, "tie_word_embeddings": False, "torch_dtype": "bfloat16", "bos_token_id": 1,
            "eos_token_id": 2,
        },
    },
]


class RMSNorm(nn.Module):
    def __init__(self, size, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        x = x.to(torch.float32)
        variance = x.pow(2).mean(-1, keepdim=True)
        return self.weight * (x * torch.rsqrt(variance + self.eps))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def repeat_kv(x, n_rep, interleaved=False):
    """[b, kv_heads, L, d] -> [b, kv_heads * n_rep, L, d]; query head h reads
    kv head h // n_rep (interleaved: the wrong mapping h % kv_heads, for the
    sensitivity check)."""
    if interleaved:
        return x.repeat(1, n_rep, 1, 1)
    b, kv, L, d = x.shape
    return x[:, :, None].expand(b, kv, n_rep, L, d).reshape(b, kv * n_rep, L, d)


class Attention(nn.Module):
    def __init__(self, c, family):
        super().__init__()
        h = c["hidden_size"]
        self.heads, self.kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
        self.hd = c.get("head_dim") or h // self.heads
        qkv_bias = family == "qwen2" or (family in ("qwen3", "llama") and c.get("attention_bias", False))
        o_bias = family in ("qwen3", "llama") and c.get("attention_bias", False)
        self.q_proj = nn.Linear(h, self.heads * self.hd, bias=qkv_bias)
        self.k_proj = nn.Linear(h, self.kv_heads * self.hd, bias=qkv_bias)
        self.v_proj = nn.Linear(h, self.kv_heads * self.hd, bias=qkv_bias)
        self.o_proj = nn.Linear(self.heads * self.hd, h, bias=o_bias)
        if family == "qwen3":
            self.q_norm = RMSNorm(self.hd, c["rms_norm_eps"])
            self.k_norm = RMSNorm(self.hd, c["rms_norm_eps"])
        self.qk_norm = family == "qwen3"

    def forward(self, x, cos, sin, additive_mask, opts):
        b, L, _ = x.shape
        q = self.q_proj(x).view(b, L, -1, self.hd)
        k = self.k_proj(x).view(b, L, -1, self.hd)
        v = self.v_proj(x).view(b, L, -1, self.hd).transpose(1, 2)
        if self.qk_norm:
            q, k = self.q_norm(q), self.k_norm(k)
        q, k = q.transpose(1, 2), k.transpose(1, 2)
        cos, sin = cos.unsqueeze(1), sin.unsqueeze(1)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        n_rep = self.heads // self.kv_heads
        k = repeat_kv(k, n_rep, opts.get("interleaved_kv", False))
        v = repeat_kv(v, n_rep, opts.get("interleaved_kv", False))
        scores = torch.matmul(q, k.transpose(2, 3)) * (self.hd ** -0.5) + additive_mask
        probs = nn.functional.softmax(scores, dim=-1, dtype=torch.float32)
        ctx = torch.matmul(probs, v).transpose(1, 2).reshape(b, L, -1)
        return self.o_proj(ctx)


class MLP(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, i = c["hidden_size"], c["intermediate_size"]
        self.gate_proj = nn.Linear(h, i, bias=False)
        self.up_proj = nn.Linear(h, i, bias=False)
        self.down_proj = nn.Linear(i, h, bias=False)

    def forward(self, x):
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class Layer(nn.Module):
    def __init__(self, c, family):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.self_attn = Attention(c, family)
        self.post_attention_layernorm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])
        self.mlp = MLP(c)

    def forward(self, x, cos, sin, additive_mask, opts):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, additive_mask, opts)
        return x + self.mlp(self.post_attention_layernorm(x))


def layer_windows(c, family):
    """The sliding window of each layer (None: full attention), as the
    transformers configs decide it."""
    n = c["num_hidden_layers"]
    if family == "mistral":
        return [c.get("sliding_window")] * n
    if family in ("qwen2", "qwen3"):
        window = c.get("sliding_window") if c.get("use_sliding_window", False) else None
        return [window if window is not None and i >= c.get("max_window_layers", 28) else None for i in range(n)]
    return [None] * n


class Decoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.family = c["model_type"]
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["hidden_size"])
        self.layers = nn.ModuleList(Layer(c, self.family) for _ in range(c["num_hidden_layers"]))
        self.norm = RMSNorm(c["hidden_size"], c["rms_norm_eps"])

    def rotary(self, positions, theta):
        dim = self.c.get("head_dim") or self.c["hidden_size"] // self.c["num_attention_heads"]
        inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
        freqs = (inv_freq[None, :, None].float() @ positions[:, None, :].float()).transpose(1, 2)
        emb = torch.cat((freqs, freqs), dim=-1)
        return emb.cos(), emb.sin()

    def forward(self, ids, mask, opts=None):
        """Last hidden states of a padded batch. opts (for the sensitivity
        checks): rope_theta, causal, windows, interleaved_kv."""
        opts = opts or {}
        b, L = ids.shape
        positions = torch.arange(L).unsqueeze(0).expand(b, L)
        cos, sin = self.rotary(positions, opts.get("rope_theta", self.c["rope_theta"]))
        q_idx = torch.arange(L)[:, None]
        kv_idx = torch.arange(L)[None, :]
        additive = {}
        windows = opts.get("windows", layer_windows(self.c, self.family))
        for window in set(windows):
            allowed = mask[:, None, None, :].bool().expand(b, 1, L, L)
            if opts.get("causal", True):
                allowed = allowed & (kv_idx <= q_idx)
            if window is not None:
                allowed = allowed & (kv_idx > q_idx - window)
            additive[window] = torch.zeros(allowed.shape).masked_fill(~allowed, torch.finfo(torch.float32).min)
        x = self.embed_tokens(ids)
        for layer, window in zip(self.layers, windows):
            x = layer(x, cos, sin, additive[window], opts)
        return self.norm(x)

    def hf_state_dict(self, prefix, stale_inv_freq):
        out = {prefix + name: t for name, t in self.state_dict().items()}
        if stale_inv_freq:
            dim = self.c.get("head_dim") or self.c["hidden_size"] // self.c["num_attention_heads"]
            inv_freq = 1.0 / (self.c["rope_theta"] ** (torch.arange(0, dim, 2).float() / dim))
            for i in range(self.c["num_hidden_layers"]):
                out["%slayers.%d.self_attn.rotary_emb.inv_freq" % (prefix, i)] = inv_freq
        return out


def max_real_diff(a, b, mask_a, mask_b):
    return float((tiny.unpad(a, mask_a) - tiny.unpad(b, mask_b)).abs().max())


def build(spec):
    c = spec["config"]
    out_dir = os.path.join(tiny.HERE, spec["name"])
    torch.manual_seed(0)
    model = Decoder(c).eval()
    tiny.random_init(model, std=0.2, seed=1)
    tiny.round_trip(model, spec["dtype"])
    os.makedirs(out_dir, exist_ok=True)
    state = model.hf_state_dict(spec["prefix"], spec.get("stale_inv_freq", False))
    tiny.save_safetensors(os.path.join(out_dir, "model.safetensors"),
                          {k: v if "inv_freq" in k else v.to(spec["dtype"]) for k, v in state.items()})
    tiny.write_json(os.path.join(out_dir, "config.json"), c)
    tiny.sentence_transformers_files(out_dir, c["hidden_size"], "lasttoken", True, MAX_SEQ_LENGTH)
    if "tokenizer_config" in spec:
        tiny.write_json(os.path.join(out_dir, "tokenizer_config.json"), spec["tokenizer_config"])

    texts = tiny.golden_texts()
    patch = spec.get("tokenizer_patch") or spec.get("reference_patch")
    ids, type_ids = tiny.hf_encode(os.path.join(tiny.SHARED, spec["tokenizer"]), texts, MAX_SEQ_LENGTH, patch=patch)
    eos = c["eos_token_id"]
    assert all(x[-1] == eos for x in ids), "every text must end with the EOS token last-token pooling reads"

    with torch.no_grad():
        runs = {}
        for side in ("right", "left"):
            ii, _, mask = tiny.pad_batch(ids, type_ids, 0, side)
            hidden = model(ii, mask)
            emb = nn.functional.normalize(tiny.pool(hidden, mask, "lasttoken"), dim=-1)
            runs[side] = (ii, mask, hidden, emb)
        ii, mask, hidden, emb = runs["right"]
        _, lmask, lhidden, lemb = runs["left"]

        # Left and right padding give the same outputs: the padding mask holds
        # and the rotation depends only on relative positions.
        padding_diff = max_real_diff(hidden, lhidden, mask, lmask)
        emb_diff = float((emb - lemb).abs().max())
        assert padding_diff < 2e-5 and emb_diff < 2e-5, (padding_diff, emb_diff)

        # Each of these mistakes moves the outputs far past the tolerance.
        mistakes = {
            "rope_theta off by 10x": {"rope_theta": c["rope_theta"] * 10},
            "no causal mask": {"causal": False},
            "kv heads interleaved": {"interleaved_kv": True},
        }
        if any(w is not None for w in layer_windows(c, model.family)):
            mistakes["no sliding window"] = {"windows": [None] * c["num_hidden_layers"]}
        for what, opts in mistakes.items():
            diff = max_real_diff(hidden, model(ii, mask, opts), mask, mask)
            assert diff > 1e-2, "%s: %s changes the outputs by only %g" % (spec["name"], what, diff)

    extra = {"tokenizer_patch": spec["tokenizer_patch"]} if "tokenizer_patch" in spec else None
    tiny.write_golden(out_dir, spec["tokenizer"], texts, ids, tiny.unpad(hidden, mask), emb, extra)
    print("%s: %d texts, %d tokens; left vs right padding: hidden %.1e, embeddings %.1e" %
          (spec["name"], len(texts), int(mask.sum()), padding_diff, emb_diff))


def main():
    for spec in MODELS:
        build(spec)


if __name__ == "__main__":
    main()
