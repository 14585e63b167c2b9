"""Tiny BERT cross-encoder (BertForSequenceClassification, one label) with
random weights, and its reference scores for (query, document) pairs, as
sentence-transformers' CrossEncoder computes them. Mirrors transformers'
modeling_bert.py: the encoder of gen_bert.py, then BertPooler (dense + tanh
on the first token), dropout (off in eval) and the classifier Linear; the
CrossEncoder applies Sigmoid to the one logit (no activation_fn in config).

Pairs are tokenised as pairs ([CLS] query [SEP] document [SEP], document
type ids 1), truncated longest-first to the tokenizer's model_max_length.

    /usr/bin/python3 tests/golden/models/gen_bert_cross_encoder.py
"""

import os

import torch
from torch import nn

import gen_bert
import tiny

NAME = "tiny-bert-cross-encoder"
TOKENIZER = "tokenizers/bert-base-uncased/tokenizer.json"
CONFIG = dict(gen_bert.CONFIG, architectures=["BertForSequenceClassification"],
              id2label={"0": "LABEL_0"}, label2id={"LABEL_0": 0})
# tokenizer_config.json model_max_length: CrossEncoder's max_length. Short
# enough that the longer pairs are cut, longest first. Odd on purpose: the 94
# tokens left beside [CLS] [SEP] [SEP] split evenly when both texts are cut.
# (On an odd split, which text gets the extra token differs between the
# reference's npm binding and the Rust source of the tokenizers library;
# README.md says more.)
MAX_LENGTH = 97


class CrossEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bert = gen_bert.Bert(c)
        h = c["hidden_size"]
        self.pooler = nn.Linear(h, h)
        self.classifier = nn.Linear(h, len(c["id2label"]))

    def forward(self, ids, type_ids, mask):
        hidden = self.bert(ids, type_ids, mask)
        pooled = torch.tanh(self.pooler(hidden[:, 0]))
        return hidden, self.classifier(pooled)

    def hf_state_dict(self):
        out = {"bert." + k: v for k, v in self.bert.hf_state_dict().items()}
        for name, t in self.pooler.state_dict().items():
            out["bert.pooler.dense." + name] = t
        for name, t in self.classifier.state_dict().items():
            out["classifier." + name] = t
        return out


def pairs():
    """The first questions of ../texts.jsonl against a spread of the golden
    texts (the longest are cut at MAX_LENGTH), then long texts as queries
    (both sides cut) and an empty query."""
    texts = tiny.golden_texts()
    questions = [t for t in tiny.all_texts() if t.endswith("?") and len(t) > 10][:3]
    longest = sorted(set(texts), key=len)[-3:]
    docs = texts[::4] + [t for t in longest if t not in texts[::4]]
    out = [[q, d] for q in questions for d in docs]
    out += [[longest[-1], longest[-2]], [longest[-2], "a"], ["", longest[-3]]]
    return out


def build(name, model, config, tokenizer, max_length, tokenizer_config, seed, sensitivity=None):
    """Writes a cross-encoder directory: weights, config.json,
    tokenizer_config.json, and the reference's pair ids, hidden states,
    logits and scores. `sensitivity(model, ids, type_ids, mask, logits)` may
    assert that the bugs the model is there to catch move the logits."""
    out_dir = os.path.join(tiny.HERE, name)
    tiny.random_init(model, std=0.2, seed=seed)
    tiny.round_trip(model, torch.float16)
    tiny.save_model(out_dir, model.hf_state_dict(), config)
    tiny.write_json(os.path.join(out_dir, "tokenizer_config.json"), dict(tokenizer_config, model_max_length=max_length))

    items = pairs()
    ids, type_ids = tiny.hf_encode(os.path.join(tiny.SHARED, tokenizer), items, max_length, pairs=True)
    ii, tt, mask = tiny.pad_batch(ids, type_ids, config["pad_token_id"], "right")
    with torch.no_grad():
        hidden, logits = model(ii, tt, mask)
        if sensitivity:
            sensitivity(model, ii, tt, mask, logits)
    golden = {"kind": "cross-encoder", "tokenizer": tokenizer, "max_length": max_length, "pairs": items,
              "ids": ids, "type_ids": type_ids}
    tiny.write_outputs(out_dir, golden, {"hidden": tiny.unpad(hidden, mask), "logits": logits[:, 0],
                                         "scores": torch.sigmoid(logits[:, 0])})
    print("%s: %d pairs, %d tokens" % (name, len(items), int(mask.sum())))


def main():
    torch.manual_seed(0)
    build(NAME, CrossEncoder(CONFIG).eval(), CONFIG, TOKENIZER, MAX_LENGTH, {"do_lower_case": True}, seed=2)

if __name__ == "__main__":
    main()
