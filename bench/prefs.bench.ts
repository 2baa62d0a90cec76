// Preference building throughput on the tiny demo model: 8 WMT22 de-en sources × 8 sampled candidates (at most
// 16 new tokens each) decoded in one batch, scored with chrF++ against the reference and selected, as
// `cli build-prefs` does per batch. tok/s counts the new tokens; candidates/s = 64000 / ms.
// Top-p is 1 here: the demo model's random weights give near-uniform distributions, whose nucleus at 0.95 holds
// most of the 32,000 tokens, so the row would time a host-side sort that a trained model's peaked ones do not need.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Decoder } from '../src/generate/decoder.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { loadTokenizer } from '../src/io/tokenizer.ts';
import { openModel } from '../src/model/load.ts';
import { loadBaseModel, releaseBaseModel } from '../src/model/model.ts';
import { nodeFiles } from '../src/model/node-files.ts';
import { DEFAULT_CANDIDATES, decoderCandidates, MemoryPrefsStore, parallelFromLines, PrefsBuilder, type BuildSettings } from '../src/prefs/index.ts';
import type { BenchCase } from './harness.ts';
import type { BenchOptions } from './main.ts';

const TINY = resolve(import.meta.dirname, '../public/models/tiny');
const WMT22 = resolve(import.meta.dirname, '../../shared/data/wmt22/de-en.jsonl');
const SOURCES = 8;
const N = 8;

export async function cases(ctx: GpuContext, _o: BenchOptions): Promise<BenchCase[]> {
  const opened = await openModel(nodeFiles(TINY));
  const base = await loadBaseModel(ctx, opened.cfg, opened.reader, 'none').finally(() => opened.close());
  const tok = await loadTokenizer({ tokenizerJson: opened.tokenizerJson!, tokenizerConfig: opened.tokenizerConfig ?? undefined });
  const lines = readFileSync(WMT22, 'utf8').split('\n').slice(0, SOURCES).map((l) => JSON.parse(l) as { src: string; ref: string });
  const { rows } = parallelFromLines(lines.map((l) => l.src), lines.map((l) => l.ref), 'de-en', ['src', 'ref']);
  const dec = new Decoder(ctx, base, null);
  const settings: BuildSettings = {
    metric: 'chrf++',
    select: { rule: 'worst', margin: 0, includeReference: true, seed: 0 },
    candidates: { ...DEFAULT_CANDIDATES, n: N, topP: 1, maxNewTokens: 16, useLora: false },
    batchSize: SOURCES,
  };
  let seed = 0;
  return [
    {
      name: `build-prefs tiny ${SOURCES} src×${N} samples chrF++ (cand/s=${SOURCES * N * 1000}/ms)`,
      async run() {
        // A new seed each run: the same draws would time the same sequence lengths every time.
        const s = { ...settings, candidates: { ...settings.candidates, seed: seed++ } };
        const b = new PrefsBuilder(rows, decoderCandidates(dec, tok, s.candidates), s, new MemoryPrefsStore(), 'bench', 'tiny');
        const t0 = performance.now();
        await b.run();
        return { ms: performance.now() - t0, tokens: b.stats.tokens };
      },
      dispose() {
        dec.release();
        releaseBaseModel(ctx, base);
      },
    },
  ];
}
