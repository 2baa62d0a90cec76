// The broken-input corpus (issue 16): datasets, model folders, GGUF files, adapters, checkpoints, text files
// and command lines, each broken in one way, each with the outcome a careful user expects: a refusal naming
// the file and the line, field or tensor, or a warning naming the rows set aside — never a stack trace, a
// hang, a crash or a silent success. tests/corpus/corpus.test.ts runs every case; `npx tsx
// scripts/make-corpus.ts DIR` writes the files alone, to try them by hand with the CLI.
//
// Cases are generated as classes (every field × every container, every tensor kind × every quant), so a fix
// is checked against the whole class. Cases another area still has to fix carry `knownFailing` (the test
// then requires them to fail, so a fix that lands gets noticed and flipped).
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { GgmlType, GgufValueType, hfToGgufName } from '../src/io/gguf.ts';
import { writeGguf, type GgufEntry } from '../src/io/gguf-writer.ts';
import { writeSafetensors } from '../src/io/safetensors.ts';
import { encodeCheckpoint, type RunState } from '../src/train/checkpoint.ts';
import { presetConfig } from '../src/train/presets.ts';

const REPO = resolve(fileURLToPath(import.meta.url), '../..');
export const TINY = join(REPO, 'public/models/tiny');

/** Which of the CLI's own entry points a case goes through (see tests/corpus/corpus.test.ts). */
export type Entry = 'cli' | 'data' | 'model' | 'adapter' | 'checkpoint';

export interface CorpusCase {
  id: string;
  entry: Entry;
  /** cli: the arguments after `npm run cli --`. */
  argv?: string[];
  /** data: the file; model: the folder or .gguf; adapter: the adapter folder; checkpoint: the checkpoints folder. */
  path?: string;
  quant?: 'none' | 'q8_0' | 'q4_0';
  /** refuse: an error; warn: success with the rows set aside listed; ok: success (controls). */
  expect: 'refuse' | 'warn' | 'ok';
  /** Substrings the refusal (or the warning log) must all contain: the file, and the line, field or tensor. */
  names: string[];
  /** Why this case still ends otherwise, and whose area the fix is in. */
  knownFailing?: string;
  /** data: tokenize as for a model with this max_position_embeddings (the tiny model's 2048 otherwise). */
  maxPositions?: number;
}

// ---- helpers ------------------------------------------------------------------------------------------------

const enc = new TextEncoder();
const row = (prompt: unknown, chosen: unknown, rejected: unknown) => ({ prompt, chosen, rejected });
const GOOD = [
  row('Translate to German: good morning', 'Guten Morgen', 'Gute Nacht'),
  row('Translate to German: thank you', 'Danke', 'Bitte'),
  row('Translate to German: the house', 'das Haus', 'die Maus'),
  row('Translate to German: one beer', 'ein Bier', 'zwei Bier'),
];
const jsonl = (rows: unknown[]) => rows.map((r) => (typeof r === 'string' ? r : JSON.stringify(r))).join('\n') + '\n';
const csvCell = (v: unknown) => {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csv = (header: string[], rows: unknown[][], sep = ',') => [header.join(sep), ...rows.map((r) => r.map(csvCell).join(sep))].join('\n') + '\n';

/** A (name → (offset, length)) map of a safetensors file's tensors, offsets absolute in the file. */
function tensorOffsets(bytes: Uint8Array): Map<string, { start: number; end: number; dtype: string; shape: number[] }> {
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { start: number; end: number; dtype: string; shape: number[] }>();
  for (const [k, v] of Object.entries(header)) if (k !== '__metadata__') out.set(k, { start: 8 + n + v.data_offsets[0], end: 8 + n + v.data_offsets[1], dtype: v.dtype, shape: v.shape });
  return out;
}

/** Writes `v` (NaN, ±Inf) into element `i` of a tensor's bytes, in its dtype. */
function poison(bytes: Uint8Array, dtype: string, i: number, v: number): void {
  const dv = new DataView(bytes.buffer, bytes.byteOffset);
  if (dtype === 'F32') dv.setFloat32(4 * i, v, true);
  else dv.setUint16(2 * i, Number.isNaN(v) ? 0x7e00 : v > 0 ? 0x7c00 : 0xfc00, true);
}

const dtypeBytes = (dtype: string) => (dtype === 'F32' ? 4 : 2);

// ---- the corpus -----------------------------------------------------------------------------------------------

export function makeCorpus(root: string): CorpusCase[] {
  mkdirSync(root, { recursive: true });
  const cases: CorpusCase[] = [];
  const file = (rel: string, data: string | Uint8Array) => {
    const p = join(root, rel);
    mkdirSync(join(p, '..'), { recursive: true });
    writeFileSync(p, data);
    return p;
  };
  const add = (c: CorpusCase) => cases.push(c);
  const dataCase = (id: string, name: string, data: string | Uint8Array, expect: CorpusCase['expect'], names: string[], knownFailing?: string, maxPositions?: number) => {
    const p = file(`data/${name}`, data);
    add({ id: `data/${id}`, entry: 'data', path: p, expect, names: names.map((n) => n.replace('$FILE', p)), knownFailing, maxPositions });
  };

  // -- datasets: field-level problems in every container ------------------------------------------------------
  const fieldProblems: [string, (r: Record<string, unknown>, f: string) => void, string][] = [
    ['missing', (r, f) => delete r[f], 'missing'],
    ['null', (r, f) => (r[f] = null), ''],
    ['number', (r, f) => (r[f] = 42), ''],
    ['list-of-numbers', (r, f) => (r[f] = [1, 2]), ''],
    ['empty', (r, f) => (r[f] = ''), ''],
    ['lone-surrogate', (r, f) => (r[f] = 'abc \ud800 def'), 'lone surrogate'],
  ];
  for (const field of ['prompt', 'chosen', 'rejected']) {
    for (const [what, mutate, word] of fieldProblems) {
      const rows: Record<string, unknown>[] = GOOD.map((r) => ({ ...r }));
      mutate(rows[2], field);
      const names = ['row 3', `[${field}]`, ...(word ? [word] : [])];
      // TRL's implicit-prompt layout: no prompt column at all is a valid dataset (chosen/rejected hold it all).
      const implicit = field === 'prompt' && what === 'missing';
      if (implicit) {
        dataCase(`jsonl/${field}-${what}`, `${field}-${what}.jsonl`, jsonl(rows), 'ok', []);
        continue;
      }
      dataCase(`jsonl/${field}-${what}`, `${field}-${what}.jsonl`, jsonl(rows), 'warn', names);
      if (what !== 'lone-surrogate') dataCase(`json/${field}-${what}`, `${field}-${what}.json`, JSON.stringify(rows, null, 1), 'warn', names);
      if (what === 'missing' || what === 'empty') {
        const cols = ['prompt', 'chosen', 'rejected'].filter((c) => what !== 'missing' || c !== field);
        dataCase(`csv/${field}-${what}`, `${field}-${what}.csv`, csv(cols, rows.map((r) => cols.map((c) => r[c]))), what === 'missing' ? 'refuse' : 'warn', what === 'missing' ? ['$FILE'] : ['row 3', `[${field}]`]);
      }
    }
  }
  // -- datasets: line-level problems in JSON Lines ------------------------------------------------------------
  const badLines: [string, string][] = [
    ['trailing-comma', '{"prompt": "a", "chosen": "b", "rejected": "c",}'],
    ['single-quotes', "{'prompt': 'a', 'chosen': 'b', 'rejected': 'c'}"],
    ['truncated-line', '{"prompt": "a", "chosen": "b", "rej'],
    ['nan-literal', '{"prompt": "a", "chosen": NaN, "rejected": "c"}'],
    ['comment', '// a comment line'],
    ['bare-string', '"just a string"'],
    ['list', '["a", "b", "c"]'],
    ['number', '12345'],
    ['python-none', '{"prompt": None, "chosen": "b", "rejected": "c"}'],
    ['two-objects', '{"prompt": "a", "chosen": "b", "rejected": "c"} {"prompt": "d"}'],
  ];
  for (const [what, line] of badLines) {
    for (const at of [1, 3]) {
      const lines: unknown[] = [...GOOD];
      lines.splice(at - 1, 0, line);
      // A list on the first line reads as a JSON document, and the lines after it as content after its end.
      if (what === 'list' && at === 1) dataCase(`jsonl/bad-line-${what}-at-${at}`, `bad-line-${what}-${at}.jsonl`, jsonl(lines), 'refuse', ['$FILE', 'line 2']);
      else dataCase(`jsonl/bad-line-${what}-at-${at}`, `bad-line-${what}-${at}.jsonl`, jsonl(lines), 'warn', [`row ${at}`]);
    }
  }
  dataCase('jsonl/all-lines-malformed', 'all-malformed.jsonl', jsonl(badLines.slice(0, 4).map(([, l]) => l)), 'refuse', ['$FILE', 'no usable rows']);
  dataCase('jsonl/all-lines-malformed-log', 'all-malformed-2.jsonl', jsonl(badLines.slice(0, 4).map(([, l]) => l)), 'refuse', ['row 1', 'row 4']);
  dataCase('jsonl/identical-pair', 'identical.jsonl', jsonl([...GOOD, row('p', 'same', 'same')]), 'warn', ['row 5', 'identical']);
  dataCase('jsonl/duplicate-pair', 'duplicate.jsonl', jsonl([...GOOD, GOOD[1]]), 'warn', ['row 5', 'row 2']);
  dataCase('jsonl/invalid-utf8-line', 'bad-utf8.jsonl', concatBytes(enc.encode(jsonl(GOOD.slice(0, 2))), enc.encode('{"prompt": "a'), Uint8Array.of(0xc3, 0x28), enc.encode('", "chosen": "b", "rejected": "c"}\n')), 'warn', ['row 3', 'UTF-8']);
  dataCase('jsonl/empty-file', 'empty.jsonl', '', 'refuse', ['$FILE', 'empty']);
  dataCase('jsonl/blank-lines-only', 'blank.jsonl', '\n\n  \n', 'refuse', ['$FILE', 'no usable rows']);
  dataCase('jsonl/utf16le-bom', 'utf16le.jsonl', concatBytes(Uint8Array.of(0xff, 0xfe), utf16(jsonl(GOOD), true)), 'refuse', ['$FILE', 'UTF-16']);
  dataCase('jsonl/utf16be-bom', 'utf16be.jsonl', concatBytes(Uint8Array.of(0xfe, 0xff), utf16(jsonl(GOOD), false)), 'refuse', ['$FILE', 'UTF-16']);
  dataCase('jsonl/utf16le-no-bom', 'utf16le-nobom.jsonl', utf16(jsonl(GOOD), true), 'refuse', ['$FILE', 'binary']);
  dataCase('jsonl/binary', 'random.jsonl', randomBytes(4096, 7), 'refuse', ['$FILE']);
  dataCase('jsonl/unknown-layout', 'layout.jsonl', jsonl([{ question: 'a', good: 'b', bad: 'c' }]), 'refuse', ['$FILE', 'question']);
  dataCase('jsonl/gz-not-gzip', 'not-gzip.jsonl.gz', jsonl(GOOD), 'refuse', ['$FILE', 'gzip']);
  const gz = gzipSync(Buffer.from(jsonl([...GOOD, ...GOOD.map((r) => ({ ...r, prompt: `${r.prompt}!` }))])));
  dataCase('jsonl/gzip-truncated', 'truncated.jsonl.gz', gz.subarray(0, gz.length - 20), 'refuse', ['$FILE']);
  dataCase('jsonl/gzip-garbage-after-header', 'garbage.jsonl.gz', concatBytes(gz.subarray(0, 10), randomBytes(200, 3)), 'refuse', ['$FILE']);
  // -- datasets: JSON documents -------------------------------------------------------------------------------
  const doc = JSON.stringify(GOOD, null, 1);
  dataCase('json/content-after-array', 'after-array.json', `${doc}\n{"prompt": "x", "chosen": "y", "rejected": "z"}\n`, 'refuse', ['$FILE', 'line', 'more content after']);
  dataCase('json/two-arrays', 'two-arrays.json', `${doc}\n${doc}\n`, 'refuse', ['$FILE', 'more content after']);
  dataCase('json/trailing-garbage', 'trailing.json', `${doc} garbage`, 'refuse', ['$FILE', 'more content after']);
  dataCase('json/truncated', 'truncated.json', doc.slice(0, doc.length - 30), 'warn', ['truncated']);
  dataCase('json/object-no-array', 'no-array.json', '{"a": 1, "b": "x"}', 'refuse', ['$FILE', 'no array']);
  dataCase('json/scalar', 'scalar.json', '42', 'refuse', ['$FILE']);
  dataCase('json/array-of-strings', 'strings.json', '["a", "b"]', 'refuse', ['$FILE', 'no usable rows']);
  dataCase('json/array-mixed', 'mixed.json', JSON.stringify([...GOOD, 'x', 7]), 'warn', ['row 5', 'row 6']);
  dataCase('json/unbalanced', 'unbalanced.json', `${doc}]`, 'refuse', ['$FILE']);
  dataCase('json/key-selects-nothing', 'keys.json', JSON.stringify({ meta: 1, note: 'x' }), 'refuse', ['$FILE', 'meta']);
  // -- datasets: CSV and TSV ----------------------------------------------------------------------------------
  const header = ['prompt', 'chosen', 'rejected'];
  const cells = GOOD.map((r) => [r.prompt, r.chosen, r.rejected]);
  dataCase('csv/duplicate-header', 'dup-header.csv', csv(['prompt', 'chosen', 'rejected', 'chosen'], cells.map((c) => [...c, 'x'])), 'refuse', ['$FILE', '"chosen" twice', 'columns 2 and 4']);
  dataCase('tsv/duplicate-header', 'dup-header.tsv', csv(['prompt', 'prompt', 'chosen', 'rejected'], cells.map((c) => [c[0], ...c]), '\t'), 'refuse', ['$FILE', '"prompt" twice']);
  dataCase('csv/semicolon', 'semicolon.csv', csv(header, cells, ';'), 'refuse', ['$FILE', 'semicolon']);
  dataCase('csv/pipe', 'pipe.csv', csv(header, cells, '|'), 'refuse', ['$FILE', 'pipe']);
  dataCase('tsv/comma-in-tsv', 'commas.tsv', csv(header, cells, ','), 'refuse', ['$FILE', 'comma']);
  dataCase('csv/short-row', 'short-row.csv', csv(header, [...cells.slice(0, 2), ['only', 'two'], ...cells.slice(2)]), 'warn', ['row 3', '2 fields']);
  dataCase('csv/long-row', 'long-row.csv', csv(header, [...cells, ['a', 'b', 'c', 'd']]), 'warn', ['row 5', '4 fields']);
  dataCase('csv/unterminated-quote', 'unterminated.csv', `${csv(header, cells)}"never closed, x, y\n`, 'warn', ['row 5', 'unterminated']);
  dataCase('csv/text-after-quote', 'after-quote.csv', `${csv(header, cells)}"a"b,c,d\n`, 'warn', ['row 5', 'after a closing quote']);
  dataCase('csv/header-only', 'header-only.csv', 'prompt,chosen,rejected\n', 'refuse', ['$FILE', 'no usable rows']);
  dataCase('csv/empty-header', 'empty-header.csv', '\n', 'refuse', ['$FILE']);
  dataCase('csv/unknown-columns', 'unknown-cols.csv', csv(['q', 'a', 'b'], cells), 'refuse', ['$FILE', 'q, a, b']);
  dataCase('csv/binary', 'binary.csv', randomBytes(2048, 11), 'refuse', ['$FILE']);
  // -- datasets: Parquet --------------------------------------------------------------------------------------
  dataCase('parquet/garbage', 'garbage.parquet', `prompt\tchosen\trejected\n${randomHex(400)}\n`, 'refuse', ['$FILE', 'PAR1']);
  dataCase('parquet/random', 'random.parquet', randomBytes(3000, 5), 'refuse', ['$FILE']);
  dataCase('parquet/magic-then-garbage', 'magic.parquet', concatBytes(enc.encode('PAR1'), randomBytes(500, 9)), 'refuse', ['$FILE']);
  dataCase('parquet/magic-only', 'magic-only.parquet', 'PAR1', 'refuse', ['$FILE']);
  dataCase('parquet/jsonl-renamed', 'renamed.parquet', jsonl(GOOD), 'refuse', ['$FILE', 'PAR1']);
  const pq = readFileSync(join(REPO, '../shared/fixtures/parquet/duckdb-default.parquet'));
  dataCase('parquet/truncated', 'truncated.parquet', pq.subarray(0, Math.floor(pq.length / 2)), 'refuse', ['$FILE']);
  dataCase('parquet/footer-cut', 'footer-cut.parquet', pq.subarray(0, pq.length - 4), 'refuse', ['$FILE']);
  // -- datasets: lengths --------------------------------------------------------------------------------------
  // The corpus test reads data as `train` does with max_length 256 / max_prompt_length 128; the model's
  // max_position_embeddings is the tiny model's 2048 unless a case says otherwise.
  const words = (n: number) => 'word '.repeat(n);
  // TRL 1.13 cuts the longer answer to max_length tokens and the other one by as many: both stay, both counted.
  dataCase('length/long-completions-truncated', 'long-completions.jsonl', jsonl([...GOOD, row('Translate: x', words(300), words(290))]), 'warn', ['truncated: ', '1 completions']);
  // One long answer beside a short one: TRL 1.13's cut leaves the short one empty, so the row is set aside.
  dataCase('length/long-completion-cut-to-nothing', 'long-completion.jsonl', jsonl([...GOOD, row('Translate: x', words(600), 'short')]), 'warn', ['row 5', 'cut to nothing']);
  // TRL 1.13 never cuts a prompt: a 400-token prompt stays, counted as longer than max_length.
  dataCase('length/long-prompt-kept', 'long-prompt.jsonl', jsonl([...GOOD, row(words(400), 'a', 'b')]), 'warn', ['kept longer than max_length', ': 1']);
  // The same prompt on a 64-position model: set aside, its length and the model's limit named.
  dataCase('length/prompt-over-positions', 'over-positions.jsonl', jsonl([...GOOD, row(words(400), 'a', 'b')]), 'warn', ['row 5', 'max_position_embeddings', "the model's 64 positions", 'set aside'], undefined, 64);
  dataCase('length/answer-over-positions', 'answer-over-positions.jsonl', jsonl([...GOOD, row('Translate: x', words(100), words(90))]), 'warn', ['row 5', "the model's 64 positions", 'set aside'], undefined, 64);
  dataCase('length/over-positions-csv', 'over-positions.csv', csv(header, [...cells, [words(400), 'a', 'b']]), 'warn', ['row 5', 'max_position_embeddings'], undefined, 64);
  // Every row too long for the model: nothing usable, refused naming the rows.
  dataCase('length/all-over-positions', 'all-over-positions.jsonl', jsonl(GOOD.map((r) => row(words(80) + r.prompt, r.chosen, r.rejected))), 'refuse', ['$FILE', 'no usable rows', 'row 1', 'max_position_embeddings'], undefined, 64);
  // Rows far too long to tokenize: set aside unread (a 50 MB row hung in tokenization); 4 MB and 1 MB here.
  dataCase('length/huge-prompt', 'huge-prompt.jsonl', jsonl([...GOOD, row('x'.repeat(4 << 20), 'a', 'b')]), 'warn', ['row 5', 'prompt', '4,194,304 characters', 'set aside without tokenizing']);
  dataCase('length/huge-answer', 'huge-answer.jsonl', jsonl([...GOOD, row('Translate: x', 'ab '.repeat(1 << 18), 'b')]), 'warn', ['row 5', 'chosen', 'set aside without tokenizing']);
  dataCase('length/huge-answer-tsv', 'huge-answer.tsv', csv(header, [...cells, ['Translate: x', 'a', 'cd '.repeat(1 << 18)]], '\t'), 'warn', ['row 5', 'rejected', 'set aside without tokenizing']);

  // -- text files for translate and score ---------------------------------------------------------------------
  const ref = file('text/ref.txt', 'Guten Morgen\nDanke\n');
  const textCases: [string, string | Uint8Array, string[]][] = [
    ['utf16le-bom', concatBytes(Uint8Array.of(0xff, 0xfe), utf16('Guten Morgen\nDanke\n', true)), ['UTF-16']],
    ['utf16be-bom', concatBytes(Uint8Array.of(0xfe, 0xff), utf16('Guten Morgen\nDanke\n', false)), ['UTF-16']],
    ['utf16le-no-bom', utf16('Guten Morgen\nDanke\n', true), ['UTF-16']],
    ['binary', randomBytes(1000, 13), ['binary']],
    ['invalid-utf8', concatBytes(enc.encode('Guten Morgen\nDan'), Uint8Array.of(0xff, 0xfe, 0x80), enc.encode('ke\n')), ['line 2', 'UTF-8']],
    ['latin1', Uint8Array.from([...enc.encode('Gr'), 0xfc, ...enc.encode('n\nDanke\n')]), ['line 1', 'UTF-8']],
    ['gzip', gzipSync(Buffer.from('Guten Morgen\nDanke\n')), ['binary']],
    ['utf32le-bom', concatBytes(Uint8Array.of(0xff, 0xfe, 0, 0), new Uint8Array(16)), ['UTF-32']],
  ];
  for (const [what, data, names] of textCases) {
    const hyp = file(`text/hyp-${what}.txt`, data);
    add({ id: `text/score-hyp-${what}`, entry: 'cli', argv: ['score', '--hyp', hyp, '--ref', ref], expect: 'refuse', names: [hyp, ...names] });
    add({ id: `text/score-ref-${what}`, entry: 'cli', argv: ['score', '--hyp', ref, '--ref', hyp], expect: 'refuse', names: [hyp, ...names] });
  }
  add({ id: 'text/score-line-counts', entry: 'cli', argv: ['score', '--hyp', file('text/three.txt', 'a\nb\nc\n'), '--ref', ref], expect: 'refuse', names: ['three.txt', 'ref.txt'] });
  add({ id: 'text/score-missing-hyp', entry: 'cli', argv: ['score', '--hyp', join(root, 'text/nope.txt'), '--ref', ref], expect: 'refuse', names: ['nope.txt'] });
  add({ id: 'text/score-directory', entry: 'cli', argv: ['score', '--hyp', join(root, 'text'), '--ref', ref], expect: 'refuse', names: [join(root, 'text'), 'folder'] });
  add({ id: 'text/score-ok', entry: 'cli', argv: ['score', '--hyp', ref, '--ref', ref], expect: 'ok', names: [] });

  // -- model folders (from the tiny demo model) ---------------------------------------------------------------
  const tinyConfig = JSON.parse(readFileSync(join(TINY, 'config.json'), 'utf8')) as Record<string, unknown>;
  const tinyWeights = new Uint8Array(readFileSync(join(TINY, 'model.safetensors')));
  const offsets = tensorOffsets(tinyWeights);
  const model = (id: string, o: { config?: Record<string, unknown> | string | null; weights?: Uint8Array | null; extra?: Record<string, string | Uint8Array>; tokenizer?: string | null }, expect: CorpusCase['expect'], names: string[], knownFailing?: string, quant: CorpusCase['quant'] = 'none') => {
    const dir = join(root, 'models', id);
    mkdirSync(dir, { recursive: true });
    // Unchanged files are links to the demo model's, so the corpus stays small (about 3 MB a copy otherwise).
    const put = (f: string, v: string | Uint8Array | undefined) => (v === undefined ? symlinkSync(join(TINY, f), join(dir, f)) : writeFileSync(join(dir, f), v));
    if (o.config !== null) put('config.json', o.config === undefined ? undefined : typeof o.config === 'string' ? o.config : JSON.stringify(o.config));
    if (o.weights !== null) put('model.safetensors', o.weights);
    if (o.tokenizer !== null) put('tokenizer.json', o.tokenizer);
    put('tokenizer_config.json', undefined);
    for (const [f, d] of Object.entries(o.extra ?? {})) writeFileSync(join(dir, f), d);
    add({ id: `model/${id}`, entry: 'model', path: dir, quant, expect, names: names.map((n) => n.replace('$DIR', dir)), knownFailing });
  };
  model('ok', {}, 'ok', []);
  model('no-config-no-weights', { config: null, weights: null }, 'refuse', ['no config.json']);
  model('config-invalid-json', { config: '{"hidden_size": 32,' }, 'refuse', ['config.json', 'invalid JSON']);
  model('config-array', { config: '[1, 2]' }, 'refuse', ['config.json']);
  for (const f of ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'vocab_size', 'intermediate_size', 'architectures']) {
    const c = { ...tinyConfig };
    delete c[f];
    model(`config-missing-${f}`, { config: c }, 'refuse', ['config.json', f]);
    model(`config-string-${f}`, { config: { ...tinyConfig, [f]: f === 'architectures' ? 'Llama' : 'big' } }, 'refuse', ['config.json', f]);
  }
  model('config-unknown-architecture', { config: { ...tinyConfig, architectures: ['GPT2LMHeadModel'] } }, 'refuse', ['config.json', 'GPT2LMHeadModel']);
  model('config-heads-not-dividing', { config: { ...tinyConfig, num_key_value_heads: 3 } }, 'refuse', ['config.json', 'num_key_value_heads']);
  for (const [k, v] of [['rope_theta', 0], ['rope_theta', -10000], ['rms_norm_eps', -1e-5], ['max_position_embeddings', 0], ['hidden_size', -32]] as const) {
    model(`config-${k}-${v}`, { config: { ...tinyConfig, [k]: v } }, 'refuse', ['config.json', k]);
  }
  model('weights-missing', { weights: null }, 'refuse', ['model.safetensors']);
  model('weights-empty', { weights: new Uint8Array(0) }, 'refuse', ['model.safetensors']);
  model('weights-truncated', { weights: tinyWeights.subarray(0, tinyWeights.length >> 1) }, 'refuse', ['model.safetensors']);
  model('weights-header-huge', { weights: concatBytes(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0), tinyWeights.subarray(8)) }, 'refuse', ['model.safetensors']);
  model('weights-header-not-json', { weights: concatBytes(Uint8Array.of(16, 0, 0, 0, 0, 0, 0, 0), enc.encode('{not json here!!')) }, 'refuse', ['model.safetensors']);
  model('weights-random', { weights: randomBytes(5000, 17) }, 'refuse', ['model.safetensors']);
  model('sharded-index-missing-shard', { weights: null, extra: { 'model.safetensors.index.json': JSON.stringify({ weight_map: { 'model.embed_tokens.weight': 'model-00001-of-00002.safetensors' } }) } }, 'refuse', ['model-00001-of-00002.safetensors']);
  model('sharded-index-invalid', { weights: null, extra: { 'model.safetensors.index.json': '{"weight_map": ' } }, 'refuse', ['model.safetensors.index.json']);
  model('tokenizer-invalid-json', { tokenizer: '{"model": ' }, 'refuse', ['tokenizer.json']);
  const tok = JSON.parse(readFileSync(join(TINY, 'tokenizer.json'), 'utf8')) as { model: Record<string, unknown> };
  model('tokenizer-unknown-model-type', { tokenizer: JSON.stringify({ ...tok, model: { ...tok.model, type: 'Morpheme' } }) }, 'refuse', ['tokenizer.json', 'Morpheme']);
  model('tokenizer-ids-beyond-embedding', { config: { ...tinyConfig, vocab_size: 1000 }, weights: retypeVocab(tinyWeights, offsets, 1000) }, 'refuse', ['tokenizer.json', 'vocab_size']);
  // Tensors: missing, wrong shape, wrong dtype, non-finite — for every kind of tensor.
  const kinds = ['model.embed_tokens.weight', 'model.layers.0.self_attn.q_proj.weight', 'model.layers.1.mlp.down_proj.weight', 'model.layers.0.input_layernorm.weight', 'model.norm.weight'];
  for (const name of kinds) {
    const short = name.replace(/^model\./, '').replace(/\.weight$/, '');
    model(`tensor-missing-${short}`, { weights: dropTensor(tinyWeights, offsets, name) }, 'refuse', [name, 'missing']);
    for (const [v, label] of [[NaN, 'nan'], [Infinity, 'inf'], [-Infinity, 'neginf']] as const) {
      const w = tinyWeights.slice();
      const t = offsets.get(name)!;
      poison(w.subarray(t.start, t.end), t.dtype, 5, v);
      for (const quant of label === 'nan' ? (['none', 'q4_0', 'q8_0'] as const) : (['none'] as const)) {
        if (quant !== 'none' && name.includes('norm')) continue;
        model(`tensor-${label}-${short}${quant === 'none' ? '' : `-${quant}`}`, { weights: w }, 'refuse', [name, 'non-finite'], undefined, quant);
      }
    }
  }
  model('tensor-wrong-shape', { weights: reshape(tinyWeights, offsets, 'model.layers.0.self_attn.k_proj.weight') }, 'refuse', ['model.layers.0.self_attn.k_proj.weight', 'shape']);
  model('tensor-int-dtype', { weights: retype(tinyWeights, offsets, 'model.norm.weight', 'I16') }, 'refuse', ['model.norm.weight', 'I16']);
  model('path-missing', { config: null, weights: null }, 'refuse', []);
  cases[cases.length - 1].path = join(root, 'models', 'does-not-exist');
  cases[cases.length - 1].names = [join(root, 'models', 'does-not-exist')];

  // -- GGUF files (the tiny model converted) ------------------------------------------------------------------
  const gguf = (id: string, bytes: Uint8Array, expect: CorpusCase['expect'], names: string[], knownFailing?: string, quant: CorpusCase['quant'] = 'none') => {
    const p = file(`gguf/${id}.gguf`, bytes);
    add({ id: `gguf/${id}`, entry: 'model', path: p, quant, expect, names: names.map((n) => n.replace('$FILE', `${id}.gguf`)), knownFailing });
  };
  const base = tinyGguf(tinyConfig, tinyWeights, offsets, {});
  gguf('bad-magic', concatBytes(enc.encode('GGUX'), base.subarray(4)), 'refuse', ['$FILE']);
  gguf('version-99', withU32(base, 4, 99), 'refuse', ['$FILE', '99']);
  gguf('truncated-header', base.subarray(0, 40), 'refuse', ['$FILE']);
  gguf('truncated-data', base.subarray(0, base.length - 1000), 'refuse', ['$FILE']);
  gguf('tensor-count-huge', withU64(base, 8, 2n ** 40n), 'refuse', ['$FILE']);
  gguf('metadata-count-huge', withU64(base, 16, 2n ** 40n), 'refuse', ['$FILE']);
  gguf('empty', new Uint8Array(0), 'refuse', ['$FILE']);
  gguf('random', randomBytes(4000, 23), 'refuse', ['$FILE']);
  gguf('unknown-architecture', tinyGguf(tinyConfig, tinyWeights, offsets, { arch: 'gpt2' }), 'refuse', ['$FILE', 'gpt2']);
  gguf('missing-head-count', tinyGguf(tinyConfig, tinyWeights, offsets, { drop: 'llama.attention.head_count' }), 'refuse', ['$FILE', 'head_count']);
  gguf('missing-tensor', tinyGguf(tinyConfig, tinyWeights, offsets, { dropTensor: 'blk.1.ffn_up.weight' }), 'refuse', ['$FILE', 'model.layers.1.mlp.up_proj.weight', 'missing']);
  for (const [tensor, v, label] of [['blk.0.attn_v.weight', NaN, 'nan-attn-v'], ['token_embd.weight', Infinity, 'inf-embd'], ['output_norm.weight', NaN, 'nan-output-norm'], ['blk.1.ffn_down.weight', NaN, 'nan-ffn-down']] as const) {
    for (const quant of tensor.includes('norm') ? (['none'] as const) : (['none', 'q4_0'] as const)) {
      gguf(`${label}${quant === 'none' ? '' : `-${quant}`}`, tinyGguf(tinyConfig, tinyWeights, offsets, { poison: [tensor, v] }), 'refuse', ['$FILE', tensor, 'non-finite'], undefined, quant);
    }
  }
  gguf('q8_0-nan-scale', tinyGguf(tinyConfig, tinyWeights, offsets, { q8: 'blk.0.attn_q.weight', poisonScale: true }), 'refuse', ['$FILE', 'blk.0.attn_q.weight', 'non-finite']);

  // -- adapters (PEFT folders for the tiny model) --------------------------------------------------------------
  const adapterCfg = { peft_type: 'LORA', r: 2, lora_alpha: 4, lora_dropout: 0, target_modules: ['q_proj', 'v_proj'], base_model_name_or_path: 'tiny', bias: 'none', task_type: 'CAUSAL_LM' };
  const C = tinyConfig.hidden_size as number;
  const kv = (tinyConfig.num_key_value_heads as number) * (tinyConfig.head_dim as number);
  const loraTensors = (o: { poison?: [string, number]; dtype?: 'F32' | 'I32'; drop?: string; extra?: string; shapeR?: number } = {}) => {
    const ts = [];
    for (let l = 0; l < (tinyConfig.num_hidden_layers as number); l++) {
      for (const [m, out] of [['q_proj', C], ['v_proj', kv]] as const) {
        for (const [w, shape] of [['A', [o.shapeR ?? 2, C]], ['B', [out, o.shapeR ?? 2]]] as const) {
          const name = `base_model.model.model.layers.${l}.self_attn.${m}.lora_${w}.weight`;
          if (name === o.drop) continue;
          const v = new Float32Array(shape[0] * shape[1]).map((_, i) => Math.sin(i) * 0.01);
          if (o.poison?.[0] === name) v[3] = o.poison[1];
          ts.push({ name, dtype: (o.dtype ?? 'F32') as 'F32', shape: [...shape], data: new Uint8Array(v.buffer) });
        }
      }
    }
    if (o.extra) ts.push({ name: o.extra, dtype: 'F32' as const, shape: [2, C], data: new Uint8Array(8 * C) });
    return writeSafetensors(ts);
  };
  const adapter = (id: string, cfg: unknown, weights: Uint8Array | null, expect: CorpusCase['expect'], names: string[], knownFailing?: string) => {
    const dir = join(root, 'adapters', id);
    mkdirSync(dir, { recursive: true });
    if (cfg !== null) writeFileSync(join(dir, 'adapter_config.json'), typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
    if (weights) writeFileSync(join(dir, 'adapter_model.safetensors'), weights);
    add({ id: `adapter/${id}`, entry: 'adapter', path: dir, expect, names, knownFailing });
  };
  const A0 = 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight';
  const B1 = 'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight';
  adapter('ok', adapterCfg, loraTensors(), 'ok', []);
  adapter('no-config', null, loraTensors(), 'refuse', ['adapter_config.json']);
  adapter('no-weights', adapterCfg, null, 'refuse', ['adapter_model.safetensors']);
  adapter('config-invalid-json', '{"r": 2,', loraTensors(), 'refuse', ['adapter_config.json']);
  adapter('config-not-lora', { ...adapterCfg, peft_type: 'PREFIX_TUNING' }, loraTensors(), 'refuse', ['adapter_config.json', 'PREFIX_TUNING']);
  adapter('config-r-zero', { ...adapterCfg, r: 0 }, loraTensors(), 'refuse', ['adapter_config.json', 'r']);
  adapter('config-r-mismatch', { ...adapterCfg, r: 4 }, loraTensors(), 'refuse', ['adapter_model.safetensors', 'shape']);
  adapter('config-no-targets', { ...adapterCfg, target_modules: undefined }, loraTensors(), 'refuse', ['adapter_config.json', 'target_modules']);
  adapter('config-unknown-target', { ...adapterCfg, target_modules: ['q_proj', 'v_proj', 'wq'] }, loraTensors(), 'refuse', ['wq']);
  adapter('tensor-missing', adapterCfg, loraTensors({ drop: B1 }), 'refuse', ['adapter_model.safetensors', B1]);
  adapter('tensor-unknown-module', adapterCfg, loraTensors({ extra: 'base_model.model.model.layers.0.self_attn.rotary.lora_A.weight' }), 'refuse', ['rotary']);
  adapter('tensor-layer-out-of-range', adapterCfg, loraTensors({ extra: 'base_model.model.model.layers.9.self_attn.q_proj.lora_A.weight' }), 'refuse', ['layers.9', 'does not exist']);
  adapter('tensor-int-dtype', adapterCfg, loraTensors({ dtype: 'I32' }), 'refuse', ['I32']);
  adapter('weights-truncated', adapterCfg, loraTensors().subarray(0, 300), 'refuse', ['adapter_model.safetensors']);
  adapter('weights-random', adapterCfg, randomBytes(2000, 29), 'refuse', ['adapter_model.safetensors']);
  for (const [name, v, label] of [[A0, NaN, 'nan-A'], [B1, Infinity, 'inf-B'], [A0, -Infinity, 'neginf-A']] as const) {
    adapter(`tensor-${label}`, adapterCfg, loraTensors({ poison: [name, v] }), 'refuse', ['adapter_model.safetensors', name]);
  }

  // -- checkpoints (a train --out folder's checkpoints/run.safetensors) -----------------------------------------
  const state = (o: Record<string, unknown> = {}): RunState => ({
    version: 1, runId: 'run', step: 4, totalSteps: 10, scheduleSteps: 10, cursor: { epoch: 0, position: 4, rngState: [1, 2, 3, 4], trainSize: 8 }, config: presetConfig('quick'),
    modelName: 'tiny', modelFingerprint: 'm', datasetName: 'd', datasetFingerprint: 'd', skippedSteps: 0, history: [], evals: [], createdAt: 1, savedAt: 2, ...o,
  } as RunState);
  const moments = (poison?: number) => new Map([['w', Float32Array.of(1, 2, 3)], ['w.exp_avg', Float32Array.of(0.1, poison ?? 0.2, 0.3)], ['w.exp_avg_sq', Float32Array.of(1e-4, 2e-4, 3e-4)]]);
  const ckpt = (id: string, bytes: Uint8Array, expect: CorpusCase['expect'], names: string[]) => {
    const p = file(`checkpoints/${id}/run.safetensors`, bytes);
    add({ id: `checkpoint/${id}`, entry: 'checkpoint', path: join(p, '..'), expect, names: names.map((n) => n.replace('$FILE', p)) });
  };
  ckpt('ok', encodeCheckpoint({ state: state(), tensors: moments() }), 'ok', []);
  const stateBreaks: [string, Record<string, unknown>, string][] = [
    ['null-config', { config: null }, 'config'], ['null-history', { history: null }, 'history'], ['null-cursor', { cursor: null }, 'cursor'],
    ['string-step', { step: 'four' }, 'step'], ['negative-step', { step: -3 }, 'step'], ['fractional-step', { step: 2.5 }, 'step'],
    ['zero-total', { totalSteps: 0 }, 'totalSteps'], ['null-evals', { evals: null }, 'evals'], ['bad-evals', { evals: [{ step: 1 }] }, 'evals'],
    ['missing-run-id', { runId: undefined }, 'runId'], ['missing-fingerprint', { datasetFingerprint: undefined }, 'datasetFingerprint'],
    ['null-lr', { config: { ...presetConfig('quick'), lr: null } }, 'config.lr'], ['unknown-loss', { config: { ...presetConfig('quick'), loss: 'kto' } }, 'config.loss'],
    ['unknown-schedule', { config: { ...presetConfig('quick'), schedule: 'step' } }, 'config.schedule'], ['bad-quant', { config: { ...presetConfig('quick'), quant: 'q3' } }, 'config.quant'],
    ['rank-zero', { config: { ...presetConfig('quick'), r: 0 } }, 'config.r'], ['targets-empty', { config: { ...presetConfig('quick'), targets: [] } }, 'config.targets'],
    ['saved-at-string', { savedAt: 'yesterday' }, 'savedAt'], ['skipped-negative', { skippedSteps: -1 }, 'skippedSteps'],
  ];
  for (const [id, o, field] of stateBreaks) ckpt(`state-${id}`, encodeCheckpoint({ state: state(o), tensors: moments() }), 'refuse', ['$FILE', field]);
  const cursorBreaks: [string, unknown, string][] = [
    ['string', 'garbage', 'cursor'], ['negative-position', { epoch: 0, position: -4, rngState: [1, 2, 3, 4], trainSize: 8 }, 'cursor.position'],
    ['zero-rng', { epoch: 0, position: 1, rngState: [0, 0, 0, 0], trainSize: 8 }, 'cursor.rngState'], ['short-rng', { epoch: 0, position: 1, rngState: [1], trainSize: 8 }, 'cursor.rngState'],
    ['fraction-epoch', { epoch: 0.5, position: 1, rngState: [1, 2, 3, 4], trainSize: 8 }, 'cursor.epoch'], ['position-past-epoch', { epoch: 0, position: 999, rngState: [1, 2, 3, 4], trainSize: 8 }, 'cursor.position'],
    ['other-train-size', { epoch: 0, position: 1, rngState: [1, 2, 3, 4], trainSize: 99 }, '99 train pairs'],
  ];
  for (const [id, cursor, field] of cursorBreaks) ckpt(`cursor-${id}`, encodeCheckpoint({ state: state({ cursor }), tensors: moments() }), 'refuse', [field]);
  ckpt('moment-nan', encodeCheckpoint({ state: state(), tensors: moments(NaN) }), 'refuse', ['$FILE', 'w.exp_avg[1] = NaN']);
  ckpt('moment-inf', encodeCheckpoint({ state: state(), tensors: moments(Infinity) }), 'refuse', ['$FILE', 'w.exp_avg[1] = Infinity']);
  ckpt('truncated', encodeCheckpoint({ state: state(), tensors: moments() }).subarray(0, 200), 'refuse', ['$FILE']);
  ckpt('not-safetensors', randomBytes(300, 31), 'refuse', ['$FILE']);
  ckpt('no-run-state', writeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Uint8Array(4) }]), 'refuse', ['$FILE', 'run_state']);
  ckpt('run-state-not-json', writeSafetensors([{ name: 'w', dtype: 'F32', shape: [1], data: new Uint8Array(4) }], { run_state: '{"version": 1,' }), 'refuse', ['$FILE', 'not valid JSON']);
  ckpt('version-2', writeSafetensors([], { run_state: JSON.stringify({ ...state(), version: 2 }) }), 'refuse', ['$FILE', 'version 2']);

  // -- command lines (parsing and validation before any GPU work) -------------------------------------------------
  const data = file('cli/pairs.jsonl', jsonl(GOOD));
  const missing = join(root, 'cli/missing.jsonl');
  const cli = (id: string, argv: string[], names: string[], knownFailing?: string) => add({ id: `cli/${id}`, entry: 'cli', argv, expect: 'refuse', names, knownFailing });
  cli('unknown-command', ['trian'], ['trian']);
  cli('unknown-option', ['train', '--modle', TINY], ['--modle']);
  cli('missing-value', ['train', '--model'], ['--model']);
  cli('number-expected', ['train', '--lr', 'fast'], ['--lr', 'fast']);
  cli('out-required', ['train', '--model', TINY, '--data', data], ['--out']);
  cli('model-missing', ['logps', '--model', join(root, 'cli/no-model'), '--data', data, '--out', join(root, 'cli/l1.json')], ['no-model']);
  cli('data-missing', ['logps', '--model', TINY, '--data', missing, '--out', join(root, 'cli/l2.json')], ['missing.jsonl']);
  cli('quant-unknown', ['logps', '--model', TINY, '--data', data, '--quant', 'q3_k'], ['--quant', 'q3_k']);
  cli('resume-nothing', ['train', '--model', TINY, '--data', data, '--out', join(root, 'cli/empty-out'), '--resume'], ['no run to resume']);
  cli('rank-zero', ['train', '--model', TINY, '--data', missing, '--out', join(root, 'cli/o1'), '--r', '0'], ['r']);
  cli('lr-zero', ['train', '--model', TINY, '--data', missing, '--out', join(root, 'cli/o2'), '--lr', '0'], ['--lr']);
  cli('batch-fraction', ['train', '--model', TINY, '--data', missing, '--out', join(root, 'cli/o3'), '--batch-size', '1.5'], ['--batch-size']);
  cli('max-steps-negative', ['train', '--model', TINY, '--data', missing, '--out', join(root, 'cli/o4'), '--max-steps', '-1'], ['--max-steps']);
  cli('loss-kto', ['train', '--model', TINY, '--data', missing, '--out', join(root, 'cli/o5'), '--loss', 'kto'], ['--loss', 'kto']);
  cli('schedule-unknown', ['train', '--model', TINY, '--data', missing, '--out', join(root, 'cli/o6'), '--schedule', 'step'], ['--schedule', 'step']);
  cli('dtype-f64', ['train', '--model', TINY, '--data', missing, '--out', join(root, 'cli/o7'), '--dtype', 'f64'], ['--dtype', 'f64']);
  cli('eval-fraction-negative', ['train', '--model', TINY, '--data', missing, '--out', join(root, 'cli/o8'), '--eval-fraction', '-0.1'], ['--eval-fraction']);
  cli('logps-stray-positional', ['logps', 'stray', '--model', TINY, '--data', missing, '--out', join(root, 'cli/l3.json')], ['stray']);
  cli('score-missing-ref', ['score', '--hyp', data], ['--ref']);
  cli('data-is-directory', ['logps', '--model', TINY, '--data', join(root, 'cli'), '--out', join(root, 'cli/l4.json')], [join(root, 'cli')]);
  return cases;
}

// ---- byte builders --------------------------------------------------------------------------------------------

function concatBytes(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function utf16(s: string, le: boolean): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out[2 * i + (le ? 0 : 1)] = c & 0xff;
    out[2 * i + (le ? 1 : 0)] = c >> 8;
  }
  return out;
}

function randomBytes(n: number, seed: number): Uint8Array {
  let x = seed * 2654435761;
  return Uint8Array.from({ length: n }, () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0) >>> 24));
}

function randomHex(n: number): string {
  return [...randomBytes(n, 41)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function withU32(b: Uint8Array, at: number, v: number): Uint8Array {
  const out = b.slice();
  new DataView(out.buffer).setUint32(at, v, true);
  return out;
}

function withU64(b: Uint8Array, at: number, v: bigint): Uint8Array {
  const out = b.slice();
  new DataView(out.buffer).setBigUint64(at, v, true);
  return out;
}

type Offsets = ReturnType<typeof tensorOffsets>;

/** The file's tensors re-written, each through `edit` (null drops it). */
function rewrite(bytes: Uint8Array, offsets: Offsets, edit: (name: string, t: { dtype: string; shape: number[]; data: Uint8Array }) => { dtype: string; shape: number[]; data: Uint8Array } | null): Uint8Array {
  const ts = [];
  for (const [name, o] of offsets) {
    const t = edit(name, { dtype: o.dtype, shape: o.shape, data: bytes.slice(o.start, o.end) });
    if (t) ts.push({ name, dtype: t.dtype as 'F32', shape: t.shape, data: t.data });
  }
  return writeSafetensors(ts);
}
const dropTensor = (b: Uint8Array, o: Offsets, name: string) => rewrite(b, o, (n, t) => (n === name ? null : t));
const reshape = (b: Uint8Array, o: Offsets, name: string) => rewrite(b, o, (n, t) => (n === name ? { ...t, shape: [t.shape[1], t.shape[0]] } : t));
const retype = (b: Uint8Array, o: Offsets, name: string, dtype: string) => rewrite(b, o, (n, t) => (n === name ? { ...t, dtype } : t));
/** The embedding cut to `V` rows (V below the tokenizer's vocabulary). */
const retypeVocab = (b: Uint8Array, o: Offsets, V: number) =>
  rewrite(b, o, (n, t) => (n === 'model.embed_tokens.weight' ? { ...t, shape: [V, t.shape[1]], data: t.data.slice(0, V * t.shape[1] * dtypeBytes(t.dtype)) } : t));

/** The tiny model as a llama GGUF (F32 tensors; `q8` makes one Q8_0), optionally broken one way. */
function tinyGguf(cfg: Record<string, unknown>, bytes: Uint8Array, offsets: Offsets, o: { arch?: string; drop?: string; dropTensor?: string; poison?: [string, number]; q8?: string; poisonScale?: boolean }): Uint8Array {
  const arch = o.arch ?? 'llama';
  const u32 = (key: string, value: number): GgufEntry => ({ key, type: GgufValueType.UINT32, value });
  const meta: GgufEntry[] = [
    { key: 'general.architecture', type: GgufValueType.STRING, value: arch } as GgufEntry,
    u32(`${arch}.embedding_length`, cfg.hidden_size as number),
    u32(`${arch}.feed_forward_length`, cfg.intermediate_size as number),
    u32(`${arch}.block_count`, cfg.num_hidden_layers as number),
    u32(`${arch}.attention.head_count`, cfg.num_attention_heads as number),
    u32(`${arch}.attention.head_count_kv`, cfg.num_key_value_heads as number),
    { key: `${arch}.attention.layer_norm_rms_epsilon`, type: GgufValueType.FLOAT32, value: 1e-5 } as GgufEntry,
    { key: `${arch}.rope.freq_base`, type: GgufValueType.FLOAT32, value: 10000 } as GgufEntry,
    u32(`${arch}.context_length`, 2048),
    u32(`${arch}.vocab_size`, cfg.vocab_size as number),
    // A four-token vocabulary: the loader reads the tokenizer first, and these cases are about the tensors.
    { key: 'tokenizer.ggml.model', type: GgufValueType.STRING, value: 'llama' } as GgufEntry,
    { key: 'tokenizer.ggml.tokens', type: GgufValueType.ARRAY, itemType: GgufValueType.STRING, value: ['<unk>', '<s>', '</s>', '▁a'] } as GgufEntry,
    { key: 'tokenizer.ggml.scores', type: GgufValueType.ARRAY, itemType: GgufValueType.FLOAT32, value: [0, 0, 0, -1] } as GgufEntry,
    { key: 'tokenizer.ggml.token_type', type: GgufValueType.ARRAY, itemType: GgufValueType.INT32, value: [2, 3, 3, 1] } as GgufEntry,
    u32('tokenizer.ggml.bos_token_id', 1),
    u32('tokenizer.ggml.eos_token_id', 2),
  ].filter((e) => e.key !== o.drop);
  const tensors = [];
  for (const [name, t] of offsets) {
    const g = hfToGgufName(name);
    if (!g || g === o.dropTensor) continue;
    let data: Uint8Array = bytes.slice(t.start, t.end);
    let type = t.dtype === 'F32' ? GgmlType.F32 : GgmlType.F16;
    if (o.poison?.[0] === g) poison(data, t.dtype, 5, o.poison[1]);
    if (o.q8 === g) {
      data = q8(toF32(data, t.dtype), o.poisonScale ?? false);
      type = GgmlType.Q8_0;
    }
    tensors.push({ name: g, type, dims: [...t.shape].reverse(), data });
  }
  return writeGguf(meta, tensors);
}

/** ggml Q8_0 blocks (f16 scale + 32 int8); `poisonScale` makes the first block's scale NaN. */
function q8(x: Float32Array, poisonScale: boolean): Uint8Array {
  const out = new Uint8Array((x.length / 32) * 34);
  const dv = new DataView(out.buffer);
  for (let b = 0; b < x.length / 32; b++) {
    let amax = 0;
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(x[b * 32 + i]));
    const d = amax / 127;
    dv.setUint16(b * 34, poisonScale && b === 0 ? 0x7e00 : f16Bits(d), true);
    for (let i = 0; i < 32; i++) dv.setInt8(b * 34 + 2 + i, d ? Math.round(x[b * 32 + i] / d) : 0);
  }
  return out;
}

function toF32(data: Uint8Array, dtype: string): Float32Array {
  if (dtype === 'F32') return new Float32Array(data.buffer, data.byteOffset, data.byteLength / 4);
  const dv = new DataView(data.buffer, data.byteOffset);
  return Float32Array.from({ length: data.byteLength / 2 }, (_, i) => {
    const h = dv.getUint16(2 * i, true);
    const e = (h >> 10) & 0x1f;
    const m = h & 0x3ff;
    const v = e === 0 ? m * 2 ** -24 : (1 + m / 1024) * 2 ** (e - 15);
    return h & 0x8000 ? -v : v;
  });
}

function f16Bits(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0];
  const e = ((u >> 23) & 0xff) - 127 + 15;
  if (e <= 0) return 0;
  return ((u >> 16) & 0x8000) | (Math.min(e, 30) << 10) | ((u >> 13) & 0x3ff);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: npx tsx scripts/make-corpus.ts OUT_DIR');
    process.exit(2);
  }
  const cases = makeCorpus(dir);
  writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases, null, 1));
  console.log(`${cases.length} cases written to ${dir} (cases.json lists each with its expected outcome)`);
}

