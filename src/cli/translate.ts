// `translate --model PATH [--adapter DIR] --src-lang de --tgt-lang en --input FILE [options]`: one source a line
// in, one translation a line on stdout (ALMA prompt, KV-cache decoding on the GPU); progress on stderr.
import { Decoder } from '../generate/decoder.ts';
import { checkedLanguage, translate, type TranslateOptions } from '../generate/translate.ts';
import type { GpuContext } from '../gpu/context.ts';
import { releaseLora, type Lora } from '../model/lora.ts';
import { releaseBaseModel } from '../model/model.ts';
import { QUANTS, type Quant } from '../model/projections.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import { command, helpOr, parseArgs, required, UsageError, type ArgSpec } from './args.ts';
import { loadModelFromPath, log, loraFor, openGpu, readLines, requireTokenizer, type LoadedModel } from './session.ts';

/** Options every generating command shares. */
export const DECODE_SPEC: ArgSpec = {
  model: { type: 'string', help: 'Hugging Face model folder, .gguf file, or Hub id OWNER/NAME[@REVISION] (Hugging Face cache)' },
  quant: { type: 'string', default: 'q4_0', choices: QUANTS, help: 'base linear layers' },
  beams: { type: 'number', default: 1, integer: true, min: 1, help: 'beam search width (ALMA evaluates with 5)' },
  'max-new-tokens': { type: 'number', default: 256, integer: true, min: 1, help: 'tokens generated at most per source' },
  batch: { type: 'number', default: 8, integer: true, min: 1, help: 'sources decoded at once (each takes --beams sequences)' },
  sample: { type: 'boolean', help: 'sample instead of greedy/beam decoding' },
  temperature: { type: 'number', default: 1, min: 0, minExclusive: true, help: 'sampling temperature' },
  'top-p': { type: 'number', default: 1, min: 0, max: 1, minExclusive: true, help: 'sampling nucleus' },
  seed: { type: 'number', default: 0, integer: true, help: 'sampling seed' },
};

const SPEC: ArgSpec = {
  ...DECODE_SPEC,
  adapter: { type: 'string', help: 'PEFT adapter folder (default: the base model alone)' },
  'src-lang': { type: 'string', help: 'source language code (de, cs, is, zh, ru, en, …)' },
  'tgt-lang': { type: 'string', help: 'target language code' },
  input: { type: 'string', help: 'sources, one per line' },
};
const SYNOPSIS = '--model PATH [--adapter DIR] --src-lang de --tgt-lang en --input FILE [options]';

/** The decoding options of DECODE_SPEC, checked. */
export function decodeOptions(a: Record<string, unknown>, command: string): Omit<TranslateOptions, 'srcLang' | 'tgtLang'> & { numBeams: number; maxNewTokens: number } {
  const o = {
    numBeams: a.beams as number,
    maxNewTokens: a['max-new-tokens'] as number,
    batchSize: a.batch as number,
    doSample: !!a.sample,
    temperature: a.temperature as number,
    topP: a['top-p'] as number,
    seed: a.seed as number,
  };
  if (o.doSample && o.numBeams > 1) throw new UsageError(`${command}: --sample and --beams > 1 do not combine`);
  return o;
}

/** The model, its tokenizer, the adapter (if any) and a decoder over them; release() frees all of it. */
export async function openDecoder(ctx: GpuContext, a: Record<string, unknown>, command: string): Promise<{ m: LoadedModel; tokenizer: TextTokenizer; lora: Lora | null; dec: Decoder; release(): void }> {
  const m = await loadModelFromPath(ctx, required<string>(a, 'model', command), a.quant as Quant, () => null); // decoding: no training step to compile ahead
  let tokenizer: TextTokenizer;
  try {
    tokenizer = requireTokenizer(m, 'text cannot be decoded');
  } catch (e) {
    releaseBaseModel(ctx, m.base);
    throw e;
  }
  const adapter = a.adapter as string | undefined;
  const lora = adapter ? await loraFor(ctx, m, adapter, { r: 1, alpha: 1, dropout: 0, targets: 'all-linear', useRslora: false }, 0) : null;
  const dec = new Decoder(ctx, m.base, lora);
  return {
    m,
    tokenizer,
    lora,
    dec,
    release() {
      dec.release();
      if (lora) releaseLora(ctx, lora);
      releaseBaseModel(ctx, m.base);
    },
  };
}

/** Logs "label: done/total, elapsed" on stderr at most every 2 s, and at the end. */
export function progressLogger(label: string): (done: number, total: number) => void {
  const t0 = performance.now();
  let last = 0;
  return (done, total) => {
    const now = performance.now();
    if (done < total && now - last < 2000) return;
    last = now;
    const s = (now - t0) / 1000;
    log(`${label}: ${done}/${total} in ${s.toFixed(1)} s (${(done / s).toFixed(2)} sources/s)`);
  };
}

export const translateCommand = command('translate', async (argv: string[]): Promise<number> => {
  const a = parseArgs(argv, SPEC, 'translate');
  if (helpOr(a, 'translate', SYNOPSIS, SPEC)) return 0;
  const srcLang = checkedLanguage(required<string>(a, 'src-lang', 'translate'), '--src-lang');
  const tgtLang = checkedLanguage(required<string>(a, 'tgt-lang', 'translate'), '--tgt-lang');
  const opts = decodeOptions(a, 'translate');
  const sources = readLines(required<string>(a, 'input', 'translate'));
  if (sources.length === 0) throw new Error(`translate: ${String(a.input)} has no lines`);
  const ctx = await openGpu();
  try {
    const s = await openDecoder(ctx, a, 'translate');
    try {
      const out = await translate(s.dec, s.tokenizer, sources, {
        ...opts,
        srcLang,
        tgtLang,
        useLora: !!s.lora,
        onProgress: progressLogger('translate'),
      });
      // One line per source, whatever the model wrote.
      for (const t of out) console.log(t.replace(/\r?\n/g, ' '));
      return 0;
    } finally {
      s.release();
    }
  } finally {
    ctx.destroy();
  }
});
