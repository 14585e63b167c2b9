// How Hugging Face `tokenizers` (npm binding of the Rust library) treats every
// Unicode code point, one at a time, through its BertNormalizer and
// BertPreTokenizer. simile's UnicodeHfTable test checks its own character
// classes and mappings against this file for all 1,112,064 code points.
//
//   node hf_unicode_classes.mjs > hf_unicode_classes.txt
//
// Output lines (hex code points):
//   R first last CLASS   a run of code points with the same 3-letter class:
//                        [0] clean_text: d = dropped, s = becomes ' ', k = kept
//                        [1] pre-tokenizer: s = splits (whitespace), p = own word
//                            (punctuation), k = part of a word
//                        [2] handle_chinese_chars: c = padded with spaces, - = not
//   L cp a,b,...         lowercase-only normalizer, where the result is not cp
//   S cp a,b,...         strip_accents-only normalizer (NFD, drop Mn), where the
//                        result is not cp; nothing after cp = removed
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.SIMILE_NODE_DIR || resolve(here, '../../../scripts/node');
const require = createRequire(join(nodeDir, 'package.json'));
const { bertNormalizer, bertPreTokenizer } = require('tokenizers');

const off = { cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false };
const clean = bertNormalizer({ ...off, cleanText: true });
const chinese = bertNormalizer({ ...off, handleChineseChars: true });
const lower = bertNormalizer({ ...off, lowercase: true });
const strip = bertNormalizer({ ...off, stripAccents: true });
const pre = bertPreTokenizer();

const SEP = '\u0001';  // survives every normalizer above when clean_text is off
const all = [];
for (let cp = 0; cp <= 0x10ffff; cp++) if (cp < 0xd800 || cp > 0xdfff) all.push(cp);

// Maps each code point through `n`, many per call, split on SEP.
function mapAll(n) {
  const out = new Map();
  const batch = 4096;
  for (let i = 0; i < all.length; i += batch) {
    const cps = all.slice(i, i + batch).filter((c) => c !== 1);
    const parts = n.normalizeString(cps.map((c) => String.fromCodePoint(c)).join(SEP)).split(SEP);
    if (parts.length !== cps.length) throw new Error(`separator lost near U+${cps[0].toString(16)}`);
    cps.forEach((c, k) => out.set(c, parts[k]));
  }
  out.set(1, n.normalizeString('\u0001'));
  return out;
}

const lines = [];
const cleaned = new Map();
for (const cp of all) cleaned.set(cp, clean.normalizeString(String.fromCodePoint(cp)));
const padded = mapAll(chinese);
let runStart = 0;
let runClass = null;
for (const cp of all) {
  const ch = String.fromCodePoint(cp);
  const c = cleaned.get(cp);
  const k0 = c === '' ? 'd' : c === ' ' ? 's' : 'k';
  const pieces = pre.preTokenizeString(`a${ch}a`).length;
  const k1 = pieces === 2 ? 's' : pieces === 3 ? 'p' : 'k';
  const k2 = padded.get(cp) === ` ${ch} ` ? 'c' : '-';
  const cls = k0 + k1 + k2;
  if (cls !== runClass) {
    if (runClass !== null) lines.push(`R ${runStart.toString(16)} ${(cp - 1).toString(16)} ${runClass}`);
    runStart = cp;
    runClass = cls;
  }
}
lines.push(`R ${runStart.toString(16)} 10ffff ${runClass}`);

for (const [tag, n] of [['L', lower], ['S', strip]]) {
  for (const [cp, s] of mapAll(n)) {
    const cps = [...s].map((c) => c.codePointAt(0));
    if (cps.length === 1 && cps[0] === cp) continue;
    lines.push(`${tag} ${cp.toString(16)} ${cps.map((c) => c.toString(16)).join(',')}`.trimEnd());
  }
}
process.stdout.write(lines.join('\n') + '\n');
