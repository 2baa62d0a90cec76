// `eval --model PATH --adapter DIR (--input SRC --ref REF | --data FILE) [--src-lang de --tgt-lang en]`:
// translates held-out sources with the base model and with the adapter, scores both with chrF2, chrF++ and
// BLEU (sacreBLEU defaults), prints them side by side, and writes base.txt, adapter.txt, scores.json to --out.
// With --data (translation triplets or ALMA-R), each row's ALMA prompt is used as is and its chosen
// translation is the reference; --src-lang/--tgt-lang then keep one direction.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { almaPrompt } from '../data/rows/languages.ts';
import { scoreTranslations, type TranslationScores } from '../eval/index.ts';
import { checkedLanguage, completePrompts } from '../generate/translate.ts';
import { command, helpOr, parseArgs, required, UsageError, type ArgSpec, type Parsed } from './args.ts';
import { checkReport, log, openGpu, readData, readLines, STRICT_OPTION } from './session.ts';
import { DECODE_SPEC, decodeOptions, openDecoder, progressLogger } from './translate.ts';

const SPEC: ArgSpec = {
  ...DECODE_SPEC,
  adapter: { type: 'string', help: 'PEFT adapter folder to compare with the base model' },
  input: { type: 'string', help: 'sources, one per line (with --ref)' },
  ref: { type: 'string', help: 'references, line-aligned with --input' },
  data: { type: 'string', help: 'translation triplets or ALMA-R file (or hf://datasets/…) instead of --input/--ref (chosen = reference)' },
  'src-lang': { type: 'string', help: 'source language code (required with --input)' },
  'tgt-lang': { type: 'string', help: 'target language code (required with --input)' },
  limit: { type: 'number', integer: true, min: 1, help: 'evaluate the first N segments only' },
  show: { type: 'number', default: 3, integer: true, min: 0, help: 'segments printed side by side' },
  out: { type: 'string', help: 'folder for base.txt, adapter.txt and scores.json' },
  strict: STRICT_OPTION,
};
const SYNOPSIS = '--model PATH --adapter DIR (--input SRC --ref REF | --data FILE) --src-lang de --tgt-lang en [--limit N] [--out DIR] [options]';

interface Segments {
  prompts: string[];
  sources: string[];
  refs: string[];
}

/** The source sentence inside an ALMA prompt ("…\nGerman: SOURCE\nEnglish:"), for display. */
function sourceOf(prompt: string): string {
  const m = /^Translate this from [^\n]* to [^\n]*:\n[^:\n]+: ([\s\S]*)\n[^:\n]+:$/.exec(prompt);
  return m ? m[1] : prompt;
}

async function segments(a: Parsed): Promise<Segments> {
  const src = a['src-lang'] === undefined ? undefined : checkedLanguage(a['src-lang'] as string, '--src-lang');
  const tgt = a['tgt-lang'] === undefined ? undefined : checkedLanguage(a['tgt-lang'] as string, '--tgt-lang');
  if (a.data !== undefined) {
    if (a.input !== undefined || a.ref !== undefined) throw new UsageError('eval: give --data or --input/--ref, not both');
    if ((src === undefined) !== (tgt === undefined)) throw new UsageError('eval: --src-lang and --tgt-lang go together');
    const pair = src ? `${src}-${tgt}` : undefined;
    const read = await readData(a.data as string, { directions: pair ? [pair] : undefined, dropDuplicates: false });
    checkReport(read.report, !!a.strict);
    const rows = read.rows.flatMap((r) => (r.kind === 'text' && (!pair || !r.langPair || r.langPair === pair) ? [r] : []));
    log(`data: ${String(a.data)} (${read.detected.container}, ${read.detected.format}): ${rows.length} segments${pair ? ` for ${pair}` : ''}`);
    if (rows.length === 0) throw new Error(`eval: ${String(a.data)} has no text rows${pair ? ` for ${pair}` : ''}`);
    return { prompts: rows.map((r) => r.prompt), sources: rows.map((r) => sourceOf(r.prompt)), refs: rows.map((r) => r.chosen) };
  }
  const input = required<string>(a, 'input', 'eval');
  const refFile = required<string>(a, 'ref', 'eval');
  if (!src || !tgt) throw new UsageError('eval: --src-lang and --tgt-lang are required with --input');
  const sources = readLines(input);
  const refs = readLines(refFile);
  if (sources.length !== refs.length) throw new Error(`eval: ${input} has ${sources.length} lines but ${refFile} has ${refs.length}`);
  if (sources.length === 0) throw new Error(`eval: ${input} has no lines`);
  return { prompts: sources.map((s) => almaPrompt(src, tgt, s)), sources, refs };
}

function table(base: TranslationScores, adapter: TranslationScores): string {
  const rows: [string, number, number][] = [
    ['chrF2', base.chrf2.score, adapter.chrf2.score],
    ['chrF++', base.chrfpp.score, adapter.chrfpp.score],
    ['BLEU', base.bleu.score, adapter.bleu.score],
  ];
  const lines = [`${'metric'.padEnd(8)}${'base'.padStart(9)}${'adapter'.padStart(9)}${'delta'.padStart(9)}`];
  for (const [name, b, a] of rows) {
    const d = a - b;
    lines.push(`${name.padEnd(8)}${b.toFixed(2).padStart(9)}${a.toFixed(2).padStart(9)}${`${d >= 0 ? '+' : ''}${d.toFixed(2)}`.padStart(9)}`);
  }
  return lines.join('\n');
}

const clip = (s: string, n = 100) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export const evalCommand = command('eval', async (argv: string[]): Promise<number> => {
  const a = parseArgs(argv, SPEC, 'eval');
  if (helpOr(a, 'eval', SYNOPSIS, SPEC)) return 0;
  required<string>(a, 'adapter', 'eval');
  const opts = decodeOptions(a, 'eval');
  let seg = await segments(a);
  if (a.limit !== undefined) {
    const n = a.limit as number;
    seg = { prompts: seg.prompts.slice(0, n), sources: seg.sources.slice(0, n), refs: seg.refs.slice(0, n) };
  }
  const ctx = await openGpu();
  try {
    const s = await openDecoder(ctx, a, 'eval');
    let baseOut: string[];
    let adapterOut: string[];
    try {
      baseOut = await completePrompts(s.dec, s.tokenizer, seg.prompts, { ...opts, useLora: false, onProgress: progressLogger('base') });
      adapterOut = await completePrompts(s.dec, s.tokenizer, seg.prompts, { ...opts, useLora: true, onProgress: progressLogger('adapter') });
    } finally {
      s.release();
    }
    const base = scoreTranslations(baseOut, seg.refs);
    const adapter = scoreTranslations(adapterOut, seg.refs);
    console.log(`${seg.prompts.length} segments, ${opts.numBeams > 1 ? `beam ${opts.numBeams}` : opts.doSample ? 'sampling' : 'greedy'}, max ${opts.maxNewTokens} new tokens\n`);
    console.log(table(base, adapter));
    const show = Math.min(seg.prompts.length, a.show as number);
    for (let i = 0; i < show; i++) {
      console.log(`\n[${i + 1}] source:  ${clip(seg.sources[i])}\n    ref:     ${clip(seg.refs[i])}\n    base:    ${clip(baseOut[i])}\n    adapter: ${clip(adapterOut[i])}`);
    }
    if (a.out !== undefined) {
      const dir = a.out as string;
      mkdirSync(dir, { recursive: true });
      const lines = (xs: string[]) => xs.map((x) => x.replace(/\r?\n/g, ' ')).join('\n') + '\n';
      writeFileSync(join(dir, 'base.txt'), lines(baseOut));
      writeFileSync(join(dir, 'adapter.txt'), lines(adapterOut));
      const scores = (t: TranslationScores) => ({
        chrf2: t.chrf2.score,
        chrfpp: t.chrfpp.score,
        bleu: t.bleu.score,
        signatures: { chrf2: t.chrf2.signature, chrfpp: t.chrfpp.signature, bleu: t.bleu.signature },
      });
      const json = {
        model: a.model,
        adapter: a.adapter,
        quant: a.quant,
        segments: seg.prompts.length,
        decoding: { beams: opts.numBeams, maxNewTokens: opts.maxNewTokens, sample: opts.doSample, temperature: opts.temperature, topP: opts.topP, seed: opts.seed },
        scores: { base: scores(base), adapter: scores(adapter) },
      };
      writeFileSync(join(dir, 'scores.json'), JSON.stringify(json, null, 1) + '\n');
      log(`wrote ${join(dir, 'base.txt')}, adapter.txt, scores.json`);
    }
    return 0;
  } finally {
    ctx.destroy();
  }
});
