"""Tiny RoBERTa and tiny XLM-RoBERTa with random weights, and their reference
outputs. Mirrors transformers' modeling_roberta.py / modeling_xlm_roberta.py
(eager attention): BERT's layers, but position ids numbered as fairseq does,
from pad_token_id + 1 (create_position_ids_from_input_ids), a single token
type, and weights under "roberta." in *ForMaskedLM checkpoints.

    tiny-roberta      RobertaModel, klue-roberta-base tokenizer (Korean, like
                      ko-sroberta-multitask), mean pooling, max_seq_length 128
    tiny-xlm-roberta  XLMRobertaForMaskedLM checkpoint (prefix "roberta.", an
                      LM head to ignore), CLS pooling + Normalize like
                      multilingual-e5 / bge, max_seq_length 512: the longest
                      texts reach the last row of the 514-row position table

XLM-R's own tokenizer (SentencePiece) has no tokenizer.json in ../shared, so
both use the klue WordPiece vocab; the architecture is what is under test.

    /usr/bin/python3 tests/golden/models/gen_roberta.py
"""

import os

import torch
from torch import nn

import gen_bert
import tiny

TOKENIZER = "tokenizers/klue-roberta-base/tokenizer.json"
BASE_CONFIG = {
    "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 64,
    "vocab_size": 32000, "max_position_embeddings": 514, "type_vocab_size": 1, "layer_norm_eps": 1e-05,
    "hidden_act": "gelu", "pad_token_id": 1, "bos_token_id": 0, "eos_token_id": 2,
    "position_embedding_type": "absolute",
}
# A text holding the padding token itself: its position is padding_idx and the
# tokens after it count on from the one before (create_position_ids_from_input_ids).
PAD_TEXT = "패딩 [PAD] 토큰도 위치를 [PAD] 건너뜁니다."


class Embeddings(gen_bert.Embeddings):
    """RobertaEmbeddings: BERT's tensors (word + token type + position, then
    LayerNorm), with positions numbered from padding_idx + 1."""

    def __init__(self, c):
        super().__init__(c)
        self.padding_idx = c["pad_token_id"]
        self.position_bug = None  # for the sensitivity checks only

    def forward(self, ids, type_ids):
        positions = tiny.fairseq_position_ids(ids, self.padding_idx)
        if self.position_bug == "from padding_idx":
            positions = positions - 1
        elif self.position_bug == "from 0":
            positions = torch.arange(ids.shape[1]).unsqueeze(0)
        x = self.word_embeddings(ids) + self.token_type_embeddings(type_ids)
        x = x + self.position_embeddings(positions)
        return self.LayerNorm(x)


class Roberta(gen_bert.Bert):
    """RobertaModel: BertModel's layers over RobertaEmbeddings."""

    def __init__(self, c):
        super().__init__(c)
        self.embeddings = Embeddings(c)


def build(name, config, pooling, normalize, max_seq_length, prefix="", extra_tensors=None, extra_texts=()):
    out_dir = os.path.join(tiny.HERE, name)
    torch.manual_seed(0)
    model = Roberta(config).eval()
    tiny.random_init(model, std=0.2, seed=3 if prefix else 2)
    tiny.round_trip(model, torch.float16)
    os.makedirs(out_dir, exist_ok=True)
    tensors = {prefix + k: v.to(torch.float16) for k, v in model.hf_state_dict().items()}
    tensors.update(extra_tensors or {})
    tiny.save_safetensors(os.path.join(out_dir, "model.safetensors"), tensors)
    tiny.write_json(os.path.join(out_dir, "config.json"), config)
    tiny.sentence_transformers_files(out_dir, config["hidden_size"], pooling, normalize, max_seq_length)

    texts = tiny.golden_texts() + list(extra_texts)
    ids, type_ids = tiny.hf_encode(os.path.join(tiny.SHARED, TOKENIZER), texts, max_seq_length)
    ii, tt, mask = tiny.pad_batch(ids, type_ids, config["pad_token_id"], "right")
    with torch.no_grad():
        hidden = model(ii, tt, mask)
        emb = tiny.pool(hidden, mask, pooling)
        if normalize:
            emb = nn.functional.normalize(emb, dim=-1)
        for bug in ("from padding_idx", "from 0"):
            model.embeddings.position_bug = bug
            tiny.assert_sensitive(name, tiny.unpad(hidden, mask), tiny.unpad(model(ii, tt, mask), mask),
                                  "numbering positions " + bug)
        model.embeddings.position_bug = None
    tiny.write_golden(out_dir, TOKENIZER, texts, ids, tiny.unpad(hidden, mask), emb)
    print("%s: %d texts, %d tokens, longest %d" % (name, len(texts), int(mask.sum()), max(len(x) for x in ids)))


def main():
    build("tiny-roberta", dict(BASE_CONFIG, architectures=["RobertaModel"], model_type="roberta"), "mean", False, 128)

    # An LM head the loader must ignore, as in a real *ForMaskedLM checkpoint.
    g = torch.Generator().manual_seed(4)
    h, v = BASE_CONFIG["hidden_size"], BASE_CONFIG["vocab_size"]
    lm_head = {"lm_head.dense.weight": torch.randn(h, h, generator=g), "lm_head.dense.bias": torch.zeros(h),
               "lm_head.layer_norm.weight": torch.ones(h), "lm_head.layer_norm.bias": torch.zeros(h),
               "lm_head.bias": torch.zeros(v)}
    build("tiny-xlm-roberta", dict(BASE_CONFIG, architectures=["XLMRobertaForMaskedLM"], model_type="xlm-roberta"),
          "cls", True, 512, prefix="roberta.", extra_tensors={k: t.to(torch.float16) for k, t in lm_head.items()},
          extra_texts=[PAD_TEXT])


if __name__ == "__main__":
    main()
