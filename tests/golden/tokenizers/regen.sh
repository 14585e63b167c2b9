#!/bin/sh
# Regenerates the tokenizer golden files from Hugging Face tokenizers (npm
# `tokenizers`, installed by scripts/setup.sh into scripts/node):
#   fuzz_texts.jsonl, fuzz_pairs.jsonl   seeded random texts (make_fuzz_texts.py)
#   hf_unicode_classes.txt               HF's view of every code point (hf_unicode_classes.mjs)
#   hf_byte_level_classes.txt            its GPT-2 split pattern's class of every code point
#                                        (hf_byte_level_classes.mjs), then src/text/onig_classes_table.inc
#   CONFIG.SET.jsonl                     encodings for manifest.json (hf_ids.mjs)
#   t5-variants.jsonl                    t5's vocab under other pipelines (unigram_variants.mjs)
#   NAME.SET.jsonl for "sentencepiece"   ids of SentencePiece .model files from Debian's
#                                        spm_encode (spm_ids.py; scripts/setup.sh --peers)
# Tokenizer files are read in place from the shared dir (SIMILE_SHARED_DIR,
# default ../shared beside the checkout).
#   tests/golden/tokenizers/regen.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../../.." && pwd)
shared=${SIMILE_SHARED_DIR:-$(cd "$src/../shared" && pwd)}
export SIMILE_NODE_DIR="${SIMILE_NODE_DIR:-$src/scripts/node}"

python3 "$here/make_fuzz_texts.py" --vocab-from "$shared/tokenizers/bert-base-uncased/tokenizer.json" \
  --n 2000 --seed 7 > "$here/fuzz_texts.jsonl"
python3 "$here/make_synthetic.py"
python3 "$here/make_fuzz_texts.py" --pairs "$here/fuzz_texts.jsonl" --n 300 --seed 7 > "$here/fuzz_pairs.jsonl"
node "$here/hf_unicode_classes.mjs" > "$here/hf_unicode_classes.txt"
node "$here/hf_byte_level_classes.mjs" > "$here/hf_byte_level_classes.txt"
python3 "$src/src/text/gen_onig_classes.py" > "$src/src/text/onig_classes_table.inc"
node "$here/hf_ids.mjs" --manifest "$here/manifest.json" --shared-dir "$shared"
node "$here/unigram_variants.mjs" "$shared" > "$here/t5-variants.jsonl"
python3 "$here/spm_ids.py" --manifest "$here/manifest.json" --shared-dir "$shared"
