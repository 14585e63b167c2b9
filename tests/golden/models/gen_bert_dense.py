"""Tiny BERT embedder with a sentence-transformers Dense module (mean
pooling -> Dense 32 -> 16 with Tanh -> Normalize) and random weights, and its
reference embeddings, full and Matryoshka-truncated. The encoder is
gen_bert.py's; the Dense module mirrors sentence_transformers.models.Dense
(activation(Linear(x))), saved in float32 as sentence-transformers saves it.
Truncation follows SentenceTransformer.encode(truncate_dim=N) followed by
normalisation: the first N values of the normalised embedding, renormalised.

    /usr/bin/python3 tests/golden/models/gen_bert_dense.py
"""

import os

import torch
from torch import nn

import gen_bert
import tiny

NAME = "tiny-bert-dense"
TOKENIZER = "tokenizers/all-MiniLM-L6-v2/tokenizer.json"
CONFIG = gen_bert.CONFIG
MAX_SEQ_LENGTH = 128
DENSE_OUT = 16
MATRYOSHKA_DIMS = 8


def main():
    out_dir = os.path.join(tiny.HERE, NAME)
    torch.manual_seed(0)
    model = gen_bert.Bert(CONFIG).eval()
    dense = nn.Linear(CONFIG["hidden_size"], DENSE_OUT)
    tiny.random_init(model, std=0.2, seed=3)
    tiny.random_init(dense, std=0.3, seed=4)
    tiny.round_trip(model, torch.float16)
    tiny.save_model(out_dir, model.hf_state_dict(), CONFIG)
    tiny.sentence_transformers_files(out_dir, CONFIG["hidden_size"], "mean", True, MAX_SEQ_LENGTH)
    # Pooling, then Dense, then Normalize.
    modules = [{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
               {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
               {"idx": 2, "name": "2", "path": "2_Dense", "type": "sentence_transformers.models.Dense"},
               {"idx": 3, "name": "3", "path": "3_Normalize", "type": "sentence_transformers.models.Normalize"}]
    tiny.write_json(os.path.join(out_dir, "modules.json"), modules)
    tiny.write_json(os.path.join(out_dir, "2_Dense", "config.json"),
                    {"in_features": CONFIG["hidden_size"], "out_features": DENSE_OUT, "bias": True,
                     "activation_function": "torch.nn.modules.activation.Tanh"})
    tiny.save_safetensors(os.path.join(out_dir, "2_Dense", "model.safetensors"),
                          {"linear." + k: v for k, v in dense.state_dict().items()})

    texts = tiny.golden_texts()
    ids, type_ids = tiny.hf_encode(os.path.join(tiny.SHARED, TOKENIZER), texts, MAX_SEQ_LENGTH)
    ii, tt, mask = tiny.pad_batch(ids, type_ids, CONFIG["pad_token_id"], "right")
    with torch.no_grad():
        hidden = model(ii, tt, mask)
        emb = nn.functional.normalize(torch.tanh(dense(tiny.pool(hidden, mask, "mean"))), dim=-1)
        truncated = nn.functional.normalize(emb[:, :MATRYOSHKA_DIMS], dim=-1)
    golden = {"tokenizer": TOKENIZER, "texts": texts, "ids": ids, "matryoshka_dimensions": MATRYOSHKA_DIMS}
    tiny.write_outputs(out_dir, golden, {"hidden": tiny.unpad(hidden, mask), "embeddings": emb,
                                         "matryoshka": truncated})
    print("%s: %d texts, %d tokens" % (NAME, len(texts), int(mask.sum())))


if __name__ == "__main__":
    main()
