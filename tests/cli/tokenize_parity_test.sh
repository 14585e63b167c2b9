# `simile tokenize` against Hugging Face tokenizers (npm `tokenizers`, run live)
# on the inference workloads short/medium/long (4,500 texts, one per line) and
# on the tokenizer fuzz texts (2,000, JSON lines): all-MiniLM-L6-v2's
# tokenizer.json with truncation 256 and no padding, the way
# sentence-transformers runs it; and gpt2's byte-level BPE tokenizer.json with
# truncation 1024 (its context) on the same texts. Every text must give the same ids.
. "$(dirname "$0")/lib.sh"
: "${SIMILE_SHARED_DIR:?run through ctest}"
: "${SIMILE_NODE_DIR:?run through ctest}"
export SIMILE_NODE_DIR
here=$(cd "$(dirname "$0")" && pwd)
hf_ids=$here/../golden/tokenizers/hf_ids.mjs
workloads=$SIMILE_SHARED_DIR/peers/inference/workloads

for case in all-MiniLM-L6-v2:256 gpt2:1024; do
  name=${case%:*} max=${case#*:}
  tokenizer=$SIMILE_SHARED_DIR/tokenizers/$name/tokenizer.json
  for w in short medium long fuzz; do
    input=$workloads/$w.txt format=lines jsonl=""
    if [ "$w" = fuzz ]; then
      input=$here/../golden/tokenizers/fuzz_texts.jsonl format=jsonl jsonl=--jsonl
    fi
    w=$name.$w
    if ! node "$hf_ids" --tokenizer "$tokenizer" --in "$input" --format "$format" --truncation "$max" --padding none \
        --fields ids --out "$tmp/$w.hf.jsonl" 2>"$tmp/err"; then
      fail "$w: reference tokenizer failed: $(cat "$tmp/err")"
      continue
    fi
    if ! "$SIMILE_BIN" tokenize --tokenizer "$tokenizer" --max-tokens "$max" --json $jsonl - <"$input" \
        >"$tmp/$w.simile.jsonl" 2>"$tmp/err"; then
      fail "$w: simile tokenize failed: $(cat "$tmp/err")"
      continue
    fi
    # Same number of lines, and per line the same ids (and count == ids).
    node -e '
      const fs = require("fs");
      const [ref, got, input, name] = process.argv.slice(1);
      const lines = (f) => fs.readFileSync(f, "utf8").split("\n").filter((l) => l.length > 0);
      const a = lines(ref).map((l) => JSON.parse(l));
      const b = lines(got).map((l) => JSON.parse(l));
      const texts = fs.readFileSync(input, "utf8").split("\n");
      if (a.length !== b.length) {
        console.error(`${name}: ${a.length} reference encodings but ${b.length} from simile`);
        process.exit(1);
      }
      let bad = 0, tokens = 0, first = null;
      for (let i = 0; i < a.length; i++) {
        tokens += a[i].ids.length;
        const same = JSON.stringify(a[i].ids) === JSON.stringify(b[i].ids) && b[i].count === b[i].ids.length;
        if (!same && bad++ === 0) {
          first = `line ${i + 1}: ${JSON.stringify(texts[i].slice(0, 200))}\n  hf     ${a[i].ids.join(" ")}\n  simile ${b[i].ids.join(" ")}`;
        }
      }
      console.log(`${name}: ${a.length - bad}/${a.length} texts match (${tokens} tokens)`);
      if (bad) { console.error(`${name}: ${bad} texts differ; first: ${first}`); process.exit(1); }
    ' "$tmp/$w.hf.jsonl" "$tmp/$w.simile.jsonl" "$input" "$w" || fail "$w: token ids differ"
  done
done

finish
