// Reference encodings of t5-small's Unigram vocab under other normalizers and
// pre-tokenizers (the components t5 itself does not use), for
// tests/text/unigram_test.cc. Each line: {"normalizer", "pre_tokenizer",
// "text", "ids", "tokens", "offsets"} (code point offsets, no special tokens).
//   SIMILE_NODE_DIR=scripts/node node unigram_variants.mjs SHARED_DIR > t5-variants.jsonl
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.SIMILE_NODE_DIR || resolve(here, '../../../scripts/node');
const require = createRequire(join(nodeDir, 'package.json'));
const { Tokenizer } = require('tokenizers');

const shared = process.argv[2];
if (!shared) throw new Error('usage: unigram_variants.mjs SHARED_DIR');
const base = JSON.parse(readFileSync(join(shared, 'tokenizers/t5-small/tokenizer.json'), 'utf8'));
const t5pre = base.pre_tokenizer;
const t5norm = base.normalizer;

const ms = (extra) => ({ type: 'Metaspace', replacement: '\u2581', ...extra });
const normalizers = [
  null, { type: 'NFC' }, { type: 'NFD' }, { type: 'NFKC' }, { type: 'NFKD' },
  { type: 'Sequence', normalizers: [{ type: 'NFKD' }, { type: 'StripAccents' }, { type: 'Lowercase' }] },
  { type: 'Strip', strip_left: true, strip_right: true },
  { type: 'Sequence', normalizers: [{ type: 'Prepend', prepend: '\u2581' },
    { type: 'Replace', pattern: { String: ' ' }, content: '\u2581' }] },
  { type: 'Replace', pattern: { String: 'ab' }, content: 'xyz' },
  { type: 'Replace', pattern: { String: 'é' }, content: '' },
];
const preTokenizers = [
  ms({ prepend_scheme: 'always', split: true }), ms({ prepend_scheme: 'first', split: true }),
  ms({ prepend_scheme: 'never', split: true }), ms({ prepend_scheme: 'first', split: false }),
  ms({ add_prefix_space: false, prepend_scheme: 'never' }), ms({ add_prefix_space: true, prepend_scheme: 'never' }),
  { type: 'Whitespace' }, { type: 'WhitespaceSplit' },
  { type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: 'Isolated' }, { type: 'Digits', individual_digits: true }] },
  { type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: 'MergedWithPrevious' }, ms({})] },
  { type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: 'MergedWithNext' }, { type: 'Digits', individual_digits: false }, ms({})] },
  { type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: 'Contiguous' }, ms({ prepend_scheme: 'first' })] },
  { type: 'Sequence', pretokenizers: [{ type: 'Punctuation', behavior: 'Removed' }, ms({})] },
];
const texts = [
  'Hello  world', '  leading and trailing  ', 'ﬁne ﬃ ligatures', 'e\u0301 café Ａ\u0301 ñ', '한국어 텍스트',
  'x²³ ½ ⅷ', 'ǅ ǆ', '\u1e9b\u0323 a\u0308\u0301 \u0958', '12,345.6 digits!!', 'İstanbul ΣΑΣ', 'ab abab aab',
  'wait... what?! (yes)', 'a\u2581b \u2581\u2581c', 'tab\there\nnewline', '\u00e9t\u00e9 \u212b \u2126',
  '\ufb01x\u0001y', 'ＡＢＣ　ｄｅｆ', '\u3000x', '🙂 emoji 👍🏽', '',
];

// Each normalizer with t5's pre-tokenizer; each pre-tokenizer with t5's normalizer and without one.
const configs = [];
for (const n of normalizers) configs.push([n, t5pre]);
for (const p of preTokenizers) { configs.push([t5norm, p]); configs.push([null, p]); }

for (const [normalizer, preTokenizer] of configs) {
  const spec = { ...base, normalizer, pre_tokenizer: preTokenizer };
  const tok = Tokenizer.fromString(JSON.stringify(spec));
  for (const text of texts) {
    const e = await tok.encode(text, null, { addSpecialTokens: false });
    console.log(JSON.stringify({
      normalizer: normalizer === t5norm ? 'T5' : normalizer,
      pre_tokenizer: preTokenizer === t5pre ? 'T5' : preTokenizer,
      text, ids: e.getIds(), tokens: e.getTokens(), offsets: e.getOffsets().flat(),
    }));
  }
}
