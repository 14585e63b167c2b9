// How the GPT-2 split pattern of Hugging Face `tokenizers` (npm binding of the
// Rust library; Oniguruma is its regex engine) classes every Unicode code
// point, as its ByteLevel pre-tokenizer shows. simile runs the same pattern
// through PCRE2; its ByteLevelHfTable test checks all 1,112,064 code points
// against this file.
//
//   node hf_byte_level_classes.mjs > hf_byte_level_classes.txt
//
// Output lines (hex code points): "first last CLASS" for each run of code
// points with the same class, found with three probes:
//   L  "a" + c is one word (c is \p{L})
//   N  else "1" + c is one word (c is \p{N})
//   O  else "!" + c is one word (c is none of \s, \p{L}, \p{N})
//   S  else (c is \s)
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.SIMILE_NODE_DIR || resolve(here, '../../../scripts/node');
const require = createRequire(join(nodeDir, 'package.json'));
const { byteLevelPreTokenizer } = require('tokenizers');

const pre = byteLevelPreTokenizer(false, true);
const joined = (s) => pre.preTokenizeString(s).length === 1;

function classOf(cp) {
  const c = String.fromCodePoint(cp);
  if (joined('a' + c)) return 'L';
  if (joined('1' + c)) return 'N';
  if (joined('!' + c)) return 'O';
  return 'S';
}

const out = [];
let start = 0;
let prev = 0;
let cls = classOf(0);
for (let cp = 1; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;  // surrogates: not text
  const k = classOf(cp);
  if (k !== cls || cp !== prev + 1) {
    out.push(`${start.toString(16)} ${prev.toString(16)} ${cls}`);
    start = cp;
    cls = k;
  }
  prev = cp;
}
out.push(`${start.toString(16)} ${prev.toString(16)} ${cls}`);
process.stdout.write(out.join('\n') + '\n');
