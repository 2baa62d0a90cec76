// `build-prefs --model PATH --data FILE|hf://datasets/… --pair de-en --candidates 8 --metric chrf++ --out prefs.jsonl`: preference
// triplets from parallel text (src/prefs). Progress is kept in OUT.state/ after every batch, so an interrupted
// build (Ctrl-C, a crash) continues where it stopped when the same command runs again.
import { renameSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { openDataFile } from '../data/node-file.ts';
import { isHfDatasetSpec } from '../io/hub-datasets.ts';
import { QUANTS } from '../model/projections.ts';
import { DEFAULT_CANDIDATES, decoderCandidates, parallelFromLines, parseMetric, PrefsBuilder, readParallel, readParallelRecords, REJECT_RULES, toJsonl, type BuildSettings, type ParallelRead, type RejectRule } from '../prefs/index.ts';
import { FolderPrefsStore } from '../prefs/node-store.ts';
import { command, helpOr, parseArgs, required, UsageError, type ArgSpec } from './args.ts';
import { hubRecords, log, openGpu, readLines } from './session.ts';
import { openDecoder } from './translate.ts';

const SPEC: ArgSpec = {
  model: { type: 'string', help: 'Hugging Face model folder or .gguf file' },
  adapter: { type: 'string', help: 'PEFT adapter folder to decode with (default: the base model alone)' },
  quant: { type: 'string', default: 'q4_0', choices: QUANTS, help: 'base linear layers' },
  data: { type: 'string', help: 'parallel data: JSONL/JSON/CSV/TSV/Parquet (gzip too), or a Hub dataset hf://datasets/OWNER/NAME[/CONFIG/SPLIT], with source, reference and language pair columns' },
  source: { type: 'string', help: 'instead of --data: sources, one a line (with --reference and --pair)' },
  reference: { type: 'string', help: 'references, line-aligned with --source' },
  pair: { type: 'string', help: 'direction to build, e.g. de-en (rows of other pairs are skipped; required without a pair column)' },
  systems: { type: 'string', help: "columns with other systems' outputs to add as candidates: all | comma-separated names (default none)" },
  candidates: { type: 'number', default: DEFAULT_CANDIDATES.n, integer: true, min: 0, help: 'candidates per source from the model (0: only the reference and --systems)' },
  strategy: { type: 'string', default: 'sample', choices: ['sample', 'beam'], help: 'sample (temperature, top-p, seed) or the top N of a beam search of width N' },
  temperature: { type: 'number', default: DEFAULT_CANDIDATES.temperature, min: 0, minExclusive: true, help: 'sampling temperature' },
  'top-p': { type: 'number', default: DEFAULT_CANDIDATES.topP, min: 0, max: 1, minExclusive: true, help: 'sampling nucleus' },
  seed: { type: 'number', default: 0, integer: true, min: 0, help: 'seed of the sampling and of random-lower' },
  'max-new-tokens': { type: 'number', default: DEFAULT_CANDIDATES.maxNewTokens, integer: true, min: 1, help: 'tokens generated at most per candidate' },
  batch: { type: 'number', default: 8, integer: true, min: 1, help: 'sources decoded at once (each takes --candidates sequences)' },
  metric: { type: 'string', default: 'chrf++', choices: ['chrf++', 'chrf', 'bleu'], help: 'sentence scores against the reference, as sacreBLEU' },
  rejected: { type: 'string', default: 'worst', choices: REJECT_RULES, help: 'worst (ALMA-R) or a random candidate at least --margin below the best' },
  margin: { type: 'number', default: 0, min: 0, help: 'drop pairs whose chosen and rejected scores differ by less than this' },
  'exclude-reference': { type: 'boolean', help: 'rank only system and model outputs (the reference still scores them)' },
  limit: { type: 'number', integer: true, min: 1, help: 'use the first N usable rows' },
  out: { type: 'string', help: 'preference file to write (JSON Lines, TRL format with the ALMA prompt and the scores)' },
  fresh: { type: 'boolean', help: 'discard the progress saved in OUT.state/ and start over' },
};
const SYNOPSIS = '--model PATH (--data FILE|hf://datasets/OWNER/NAME[/CONFIG/SPLIT] | --source FILE --reference FILE) --pair de-en --out prefs.jsonl [options]';

/** The settings the flags ask for (ranges and choices are checked by parseArgs). */
export function buildSettings(a: Record<string, unknown>): BuildSettings {
  const seed = a.seed as number;
  return {
    metric: parseMetric(a.metric as string),
    select: { rule: a.rejected as RejectRule, margin: a.margin as number, includeReference: !a['exclude-reference'], seed },
    candidates: {
      n: a.candidates as number,
      strategy: a.strategy as 'sample' | 'beam',
      temperature: a.temperature as number,
      topP: a['top-p'] as number,
      seed,
      maxNewTokens: a['max-new-tokens'] as number,
      useLora: !!a.adapter,
    },
    batchSize: a.batch as number,
  };
}

async function readInput(a: Record<string, unknown>): Promise<ParallelRead> {
  const pair = a.pair as string | undefined;
  const systems = a.systems === undefined ? undefined : a.systems === 'all' ? ('all' as const) : String(a.systems).split(',').map((s) => s.trim()).filter(Boolean);
  const limit = a.limit as number | undefined;
  if (a.data !== undefined) {
    if (a.source !== undefined || a.reference !== undefined) throw new UsageError('build-prefs: give --data, or --source with --reference, not both');
    const path = String(a.data);
    if (isHfDatasetSpec(path)) return readParallelRecords(await hubRecords(path), { pair, limit, columns: { systems } });
    const src = await openDataFile(path);
    try {
      return await readParallel(src, { name: path, pair, limit, columns: { systems } });
    } finally {
      await src.close();
    }
  }
  if (a.source === undefined || a.reference === undefined) throw new UsageError('build-prefs: --data, or --source with --reference, is required');
  if (!pair) throw new UsageError('build-prefs: --pair is required with --source/--reference');
  if (systems) throw new UsageError('build-prefs: --systems needs a --data file with system columns');
  const read = parallelFromLines(readLines(String(a.source)), readLines(String(a.reference)), pair, [String(a.source), String(a.reference)]);
  if (limit !== undefined) read.rows = read.rows.slice(0, limit);
  return read;
}

export const buildPrefsCommand = command('build-prefs', async (argv: string[]): Promise<number> => {
  const a = parseArgs(argv, SPEC, 'build-prefs');
  if (helpOr(a, 'build-prefs', SYNOPSIS, SPEC)) return 0;
  const out = required<string>(a, 'out', 'build-prefs');
  required<string>(a, 'model', 'build-prefs');
  const settings = buildSettings(a);
  const { rows, report } = await readInput(a);
  log(`data: ${report.file} (${report.container}): ${rows.length} sources${report.otherPairs ? `, ${report.otherPairs} of other pairs skipped` : ''}${report.issueCount ? `, ${report.issueCount} unusable` : ''}; columns ${report.columns.source} / ${report.columns.reference} / ${report.columns.langs}${report.systems.length ? `; systems ${report.systems.join(', ')}` : ''}`);
  for (const i of report.issues) log(`  line ${i.line ?? i.row + 1}${i.field ? ` (${i.field})` : ''}: ${i.message}`);
  const ctx = await openGpu();
  try {
    const s = await openDecoder(ctx, a, 'build-prefs');
    try {
      const store = new FolderPrefsStore(`${out}.state`);
      const modelId = `${String(a.model)}|${String(a.quant)}|${String(a.adapter ?? '')}`;
      const builder = new PrefsBuilder(rows, decoderCandidates(s.dec, s.tokenizer, settings.candidates), settings, store, basename(out).replace(/[^\w.-]/g, '_'), modelId);
      if (a.fresh) await builder.reset();
      if (await builder.resume()) log(`build-prefs: resuming at source ${builder.done} of ${rows.length} (saved in ${out}.state/)`);
      const onSignal = () => {
        log('\ninterrupted: stopping after the batch in flight…');
        builder.pause();
      };
      process.once('SIGINT', onSignal);
      let last = 0;
      const status = await builder.run((p) => {
        const now = performance.now();
        if (p.done < p.total && now - last < 2000) return;
        last = now;
        const sec = p.stats.elapsedMs / 1000;
        log(`build-prefs: ${p.done}/${p.total} sources, ${p.stats.pairs} pairs; ${(p.stats.modelCandidates / sec).toFixed(1)} candidates/s, ${(p.stats.tokens / sec).toFixed(0)} tokens/s${p.etaMs !== null && p.done < p.total ? `, ~${Math.ceil(p.etaMs / 1000)} s left` : ''}`);
      });
      process.off('SIGINT', onSignal);
      if (status === 'paused') {
        log(`paused at source ${builder.done} of ${rows.length}: run the same command again to continue`);
        return 130;
      }
      const st = builder.stats;
      const tmp = `${out}.tmp`;
      writeFileSync(tmp, toJsonl(builder.records, settings.metric));
      renameSync(tmp, out);
      log(`build-prefs: wrote ${st.pairs} pairs to ${out}; dropped ${st.droppedMargin} below the margin and ${st.droppedTooFew} with fewer than two candidates; the reference was chosen in ${st.referenceChosen}`);
      return 0;
    } finally {
      s.release();
    }
  } finally {
    ctx.destroy();
  }
});
