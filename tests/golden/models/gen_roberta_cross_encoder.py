"""Tiny XLM-RoBERTa cross-encoder (XLMRobertaForSequenceClassification, one
label, as bge-reranker) with random weights, and its reference scores for
(query, document) pairs, as sentence-transformers' CrossEncoder computes them.
Mirrors transformers' modeling_xlm_roberta.py: the encoder of gen_roberta.py
(positions from pad_token_id + 1) under "roberta.", then
XLMRobertaClassificationHead on the first token (<s>): dropout (off in eval),
classifier.dense, tanh, dropout, classifier.out_proj; the CrossEncoder applies
Sigmoid to the one logit.

Pairs are tokenised as pairs by roberta-base's byte-level BPE
(<s> query </s></s> document </s>, type ids all 0; XLM-R's own SentencePiece
tokenizer has no tokenizer.json in ../shared), truncated longest-first to
model_max_length.

    /usr/bin/python3 tests/golden/models/gen_roberta_cross_encoder.py
"""

import torch
from torch import nn

import gen_bert_cross_encoder
import gen_roberta
import tiny

NAME = "tiny-xlm-roberta-cross-encoder"
TOKENIZER = "tokenizers/roberta-base/tokenizer.json"
CONFIG = dict(gen_roberta.BASE_CONFIG, architectures=["XLMRobertaForSequenceClassification"],
              model_type="xlm-roberta", vocab_size=50265, id2label={"0": "LABEL_0"}, label2id={"LABEL_0": 0})
# Even room beside <s> </s></s> </s> (see gen_bert_cross_encoder.MAX_LENGTH).
MAX_LENGTH = 100


class CrossEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.roberta = gen_roberta.Roberta(c)
        h = c["hidden_size"]
        self.dense = nn.Linear(h, h)
        self.out_proj = nn.Linear(h, len(c["id2label"]))

    def forward(self, ids, type_ids, mask):
        hidden = self.roberta(ids, type_ids, mask)
        return hidden, self.out_proj(torch.tanh(self.dense(hidden[:, 0])))

    def hf_state_dict(self):
        out = {"roberta." + k: v for k, v in self.roberta.hf_state_dict().items()}
        for name, t in self.dense.state_dict().items():
            out["classifier.dense." + name] = t
        for name, t in self.out_proj.state_dict().items():
            out["classifier.out_proj." + name] = t
        return out


def positions_matter(model, ids, type_ids, mask, logits):
    model.roberta.embeddings.position_bug = "from 0"
    tiny.assert_sensitive(NAME, logits, model(ids, type_ids, mask)[1], "numbering positions from 0")
    model.roberta.embeddings.position_bug = None


def main():
    torch.manual_seed(0)
    gen_bert_cross_encoder.build(NAME, CrossEncoder(CONFIG).eval(), CONFIG, TOKENIZER, MAX_LENGTH, {}, seed=5,
                                 sensitivity=positions_matter)

if __name__ == "__main__":
    main()
