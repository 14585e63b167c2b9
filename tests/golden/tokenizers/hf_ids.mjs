// Reference encodings from Hugging Face `tokenizers` (the Rust library, npm
// binding), for simile's golden tests and parity checks.
//
// One run:
//   node hf_ids.mjs --tokenizer FILE --in TEXTS [--format jsonl|lines|pairs]
//        [--truncation file|none|N] [--padding file|none|fixed:N|longest]
//        [--fields ids,tokens,type_ids,attention_mask,offsets] [--compact] [--out FILE]
// All fixtures (tests/golden/tokenizers/manifest.json):
//   node hf_ids.mjs --manifest manifest.json --shared-dir DIR [--golden-dir DIR]
//
// Input formats: jsonl = one JSON string per line; lines = one raw text per
// line; pairs = one JSON [first, second] per line. Output: one JSON object per
// text with the chosen fields as arrays. Offsets are the library's character
// (code point) offsets.
//
// --compact (always on for fixtures) keeps the files small, losslessly:
//   ids            as is
//   tokens         {"position": token} only where the token is not
//                  token_of(id): the vocab entry with that id (the smallest
//                  if several), else the added token with that id; omitted
//                  when none differ
//   type_ids, attention_mask   run lengths [[value, count], ...]; omitted
//                  when all 0 (type_ids) or all 1 (attention_mask)
//   offsets        flat [begin0, end0, begin1, end1, ...]
//   pad            {"n", "id", "token", "type_id"}: a uniform run of n
//                  trailing padding tokens, cut from all the fields above
// A text the library refuses to encode is {"error": message}.
//
// The tokenizers package is found through SIMILE_NODE_DIR (default:
// scripts/node of this checkout).
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nodeDir = process.env.SIMILE_NODE_DIR || resolve(here, '../../../scripts/node');
const require = createRequire(join(nodeDir, 'package.json'));
const { Tokenizer } = require('tokenizers');

function parseArgs(argv) {
  const args = {
    format: 'jsonl', truncation: 'file', padding: 'file',
    fields: 'ids,tokens,type_ids,attention_mask,offsets', compact: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const key = a.slice(2);
    if (key === 'compact') { args[key] = true; continue; }
    if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
    args[key] = argv[++i];
  }
  return args;
}

function readInputs(path, format) {
  const text = readFileSync(path === '-' ? 0 : path, 'utf8');
  const lines = text.split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop();
  if (format === 'lines') return lines.map((l) => [l]);
  const items = lines.filter((l) => l.length > 0).map((l) => JSON.parse(l));
  if (format === 'pairs') return items.map((p) => [p[0], p[1]]);
  return items.map((t) => [t]);
}

// --truncation / a manifest "truncation": 'file', 'none' / null, a max length,
// or (manifest only) {"max_length", "strategy", "direction"} with
// tokenizer.json's names (LongestFirst, OnlyFirst, OnlySecond; Right, Left).
function configure(tok, truncation, padding) {
  if (truncation === 'none' || truncation === null) tok.disableTruncation();
  else if (typeof truncation === 'object') {
    tok.setTruncation(truncation.max_length, {
      strategy: truncation.strategy || 'LongestFirst',
      direction: (truncation.direction || 'Right').toLowerCase(),
      stride: 0,
    });
  } else if (truncation !== 'file' && truncation !== undefined) tok.setTruncation(Number(truncation));
  if (padding === 'none' || padding === null) tok.disablePadding();
  else if (typeof padding === 'string' && padding.startsWith('fixed:')) {
    tok.setPadding({ maxLength: Number(padding.slice(6)) });
  } else if (padding === 'longest') tok.setPadding({});
}

// token_of(id) of the --compact format, from the file itself.
function tokenOfTable(tokenizerFile) {
  const spec = JSON.parse(readFileSync(tokenizerFile, 'utf8'));
  const table = new Map();
  const vocab = spec.model.vocab;
  if (vocab && !Array.isArray(vocab)) {
    for (const [token, id] of Object.entries(vocab)) {
      const old = table.get(id);
      if (old === undefined || token < old) table.set(id, token);
    }
  } else if (Array.isArray(vocab)) {  // Unigram: [piece, score] by id
    vocab.forEach(([token], id) => table.set(id, token));
  }
  for (const t of spec.added_tokens || []) if (!table.has(t.id)) table.set(t.id, t.content);
  return table;
}

function runLengths(values) {
  const out = [];
  for (const v of values) {
    if (out.length && out[out.length - 1][0] === v) out[out.length - 1][1]++;
    else out.push([v, 1]);
  }
  return out;
}

function compact(all, fields, tokenOf) {
  const len = all.ids.length;
  let keep = len;
  let pad;
  let n = 0;
  while (n < len && all.attention_mask[len - 1 - n] === 0) n++;
  if (n > 0) {
    const last = len - 1;
    pad = { n, id: all.ids[last], token: all.tokens[last], type_id: all.type_ids[last] };
    for (let k = len - n; k < len; k++) {
      if (all.ids[k] !== pad.id || all.tokens[k] !== pad.token || all.type_ids[k] !== pad.type_id ||
          all.offsets[k][0] !== 0 || all.offsets[k][1] !== 0) { pad = undefined; break; }
    }
    if (pad) keep = len - n;
  }
  const rec = {};
  for (const f of fields) {
    const v = all[f].slice(0, keep);
    if (f === 'tokens') {
      const diff = {};
      let any = false;
      v.forEach((t, i) => { if (tokenOf.get(all.ids[i]) !== t) { diff[i] = t; any = true; } });
      if (any) rec.tokens = diff;
    } else if (f === 'type_ids' || f === 'attention_mask') {
      const runs = runLengths(v);
      const trivial = f === 'type_ids' ? 0 : 1;
      if (!(runs.length === 0 || (runs.length === 1 && runs[0][0] === trivial))) rec[f] = runs;
    } else if (f === 'offsets') {
      rec.offsets = v.flat();
    } else {
      rec[f] = v;
    }
  }
  if (pad) rec.pad = pad;
  return rec;
}

async function encodeAll(tokenizerFile, inputs, opts) {
  const tok = Tokenizer.fromFile(tokenizerFile);
  configure(tok, opts.truncation, opts.padding);
  const fields = opts.fields.split(',');
  const tokenOf = opts.compact ? tokenOfTable(tokenizerFile) : null;
  const lines = [];
  for (const [a, b] of inputs) {
    let enc;
    try {
      enc = await tok.encode(a, b === undefined ? null : b, { addSpecialTokens: true });
    } catch (e) {
      // e.g. OnlyFirst truncation of a first text shorter than what must go.
      lines.push(JSON.stringify({ error: e.message }));
      continue;
    }
    const all = {
      ids: enc.getIds(), tokens: enc.getTokens(), type_ids: enc.getTypeIds(),
      attention_mask: enc.getAttentionMask(), offsets: enc.getOffsets(),
    };
    let rec;
    if (opts.compact) {
      rec = compact(all, fields, tokenOf);
    } else {
      rec = {};
      for (const f of fields) rec[f] = all[f];
    }
    lines.push(JSON.stringify(rec));
  }
  return lines.join('\n') + '\n';
}

const args = parseArgs(process.argv.slice(2));
if (args.manifest) {
  const manifest = JSON.parse(readFileSync(args.manifest, 'utf8'));
  const goldenDir = args['golden-dir'] || dirname(resolve(args.manifest));
  const sharedDir = args['shared-dir'];
  if (!sharedDir) throw new Error('--shared-dir is required with --manifest');
  for (const c of manifest.configs) {
    for (const set of c.text_sets) {
      const ts = manifest.text_sets[set];
      const inputs = readInputs(resolve(goldenDir, ts.file), ts.format);
      // "./x.json" is a file beside the manifest; other paths are in the shared dir.
      const tokFile = c.tokenizer.startsWith('./') ? resolve(goldenDir, c.tokenizer) : join(sharedDir, c.tokenizer);
      const out = await encodeAll(tokFile, inputs, {
        truncation: c.truncation === undefined ? 'file' : c.truncation,
        padding: c.padding === undefined ? 'file' : c.padding,
        fields: (c.offsets === undefined || c.offsets === true || (Array.isArray(c.offsets) && c.offsets.includes(set)))
          ? 'ids,tokens,type_ids,attention_mask,offsets' : 'ids,tokens,type_ids,attention_mask',
        compact: true,
      });
      const file = join(goldenDir, `${c.name}.${set}.jsonl`);
      writeFileSync(file, out);
      console.error(`wrote ${inputs.length} encodings to ${file}`);
    }
  }
} else {
  if (!args.tokenizer || !args.in) throw new Error('--tokenizer and --in are required');
  const out = await encodeAll(args.tokenizer, readInputs(args.in, args.format), {
    truncation: args.truncation, padding: args.padding, fields: args.fields, compact: args.compact,
  });
  if (args.out) writeFileSync(args.out, out); else process.stdout.write(out);
}
