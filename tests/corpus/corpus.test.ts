// The broken-input corpus (scripts/make-corpus.ts) through the CLI's own entry points: command lines through
// runCli (what `npm run cli` runs), data files through readData + the engine's tokenization + checkReport, model folders and GGUF files through
// loadModelFromPath, adapters through loraFor, checkpoints through the folder store `train --resume` reads
// (and the data cursor a resume restores). Every case must end as expected — a refusal naming the file and
// the line, field or tensor, or a warning listing the rows set aside — never a JavaScript error surfacing
// (a stack trace), a hang, or a silent success. Cases marked knownFailing must still fail, so a fix that
// lands elsewhere gets noticed and the mark removed. A few cases also run as real `node` processes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/cli.ts';
import { checkReport, loadModelFromPath, loraFor, readData, type LoadedModel } from '../../src/cli/session.ts';
import { prepareDataset } from '../../src/engine/session.ts';
import { PairBatcher, type TokenizedPair } from '../../src/data/index.ts';
import { GpuContext } from '../../src/gpu/context.ts';
import { releaseLora } from '../../src/model/lora.ts';
import { releaseBaseModel } from '../../src/model/model.ts';
import type { TextTokenizer } from '../../src/model/tokenizer.ts';
import { batchSource } from '../../src/train/batches.ts';
import { FolderRunStore } from '../../src/train/node-store.ts';
import { makeCorpus, TINY, type CorpusCase } from '../../scripts/make-corpus.ts';
import { REPO } from '../train/util.ts';

const root = mkdtempSync(join(tmpdir(), 'cpo-corpus-'));
const cases = makeCorpus(root);
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** What a JavaScript error escaping to the user looks like, in any message. */
const CRASH = /Cannot read propert|is not a function|is not iterable|undefined is not|Maximum call stack|Invalid array length|Invalid typed array length|\n\s+at .+:\d+:\d+/;
const JS_ERRORS = ['TypeError', 'RangeError', 'ReferenceError', 'SyntaxError'];
// A hang is minutes (a 50 MB row in tokenization); the first q4_0 load in a process compiles its step's
// pipelines ahead (engine/session.ts loadModel: about 30 s on a loaded SwiftShader), which 20 s cut off.
const CASE_TIMEOUT_MS = 60_000;

interface Outcome {
  kind: 'refused' | 'succeeded' | 'crashed' | 'hung';
  text: string; // the refusal's message, or everything logged
}

let ctx: GpuContext;
let tokenizer: TextTokenizer;
let tiny: LoadedModel;
// Eight pairs in batches of two: the checkpoint cases' cursors are for trainSize 8 (four batches an epoch).
const pairs: TokenizedPair[] = Array.from({ length: 10 }, (_, i) => ({ index: i, promptIds: [1, 5 + i], chosenIds: [7, 2], rejectedIds: [8, 2] }) as TokenizedPair);

beforeAll(async () => {
  ctx = await GpuContext.create();
  tiny = await loadModelFromPath(ctx, TINY, 'none');
  tokenizer = tiny.tokenizer!;
}, 120_000);
afterAll(() => {
  releaseBaseModel(ctx, tiny.base);
  ctx.destroy();
});

async function run(c: CorpusCase): Promise<Outcome> {
  const log: string[] = [];
  const write = process.stderr.write;
  const saved = { error: console.error, log: console.log, warn: console.warn };
  const sink = (...a: unknown[]) => void log.push(a.map(String).join(' '));
  process.stderr.write = ((chunk: unknown) => (log.push(String(chunk)), true)) as typeof process.stderr.write;
  Object.assign(console, { error: sink, log: sink, warn: sink });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hang = new Promise<Outcome>((r) => (timer = setTimeout(() => r({ kind: 'hung', text: log.join('\n') }), CASE_TIMEOUT_MS)));
  try {
    return await Promise.race([hang, attempt(c, log)]);
  } finally {
    clearTimeout(timer);
    process.stderr.write = write;
    Object.assign(console, saved);
  }
}

async function attempt(c: CorpusCase, log: string[]): Promise<Outcome> {
  try {
    if (c.entry === 'cli') {
      const code = await runCli(c.argv!);
      const text = log.join('\n');
      if (CRASH.test(text)) return { kind: 'crashed', text };
      return { kind: code === 0 ? 'succeeded' : 'refused', text };
    }
    await entry(c);
    const text = log.join('\n');
    return { kind: CRASH.test(text) ? 'crashed' : 'succeeded', text };
  } catch (e) {
    const err = e as Error;
    const text = `${err?.message ?? String(e)}\n${log.join('\n')}`;
    if (!(err instanceof Error) || JS_ERRORS.includes(err.constructor.name) || CRASH.test(err.message)) return { kind: 'crashed', text: `${err?.constructor?.name}: ${text}` };
    return { kind: 'refused', text };
  }
}

async function entry(c: CorpusCase): Promise<void> {
  switch (c.entry) {
    case 'data':
      // As `train` reads data: the file, the engine's tokenization, then the report printed and checked.
      checkReport(prepareDataset(await readData(c.path!), tokenizer, { maxLength: 256, maxPromptLength: 128, evalFraction: 0, seed: 1 }, undefined, c.maxPositions ?? tiny.opened.cfg.maxPositions).report, false);
      return;
    case 'model': {
      const m = await loadModelFromPath(ctx, c.path!, c.quant ?? 'none');
      releaseBaseModel(ctx, m.base);
      return;
    }
    case 'adapter': {
      const lora = await loraFor(ctx, tiny, c.path!, { r: 2, alpha: 4, dropout: 0, targets: 'all-linear', useRslora: false }, 0);
      releaseLora(ctx, lora);
      return;
    }
    case 'checkpoint': {
      const ck = await new FolderRunStore(c.path!).load('run');
      if (!ck) throw new Error(`${c.path}: no checkpoint`);
      batchSource(new PairBatcher(pairs.slice(0, ck.state.cursor && (ck.state.cursor as { trainSize?: number }).trainSize === 99 ? 10 : 8), { batchSize: 2, seed: 1 })).restore(ck.state.cursor);
      return;
    }
  }
}

function verdict(c: CorpusCase, o: Outcome): string | null {
  if (o.kind === 'crashed' || o.kind === 'hung') return `${o.kind}: ${o.text.slice(0, 400)}`;
  const want = c.expect === 'refuse' ? 'refused' : 'succeeded';
  if (o.kind !== want) return `expected to be ${want}, was ${o.kind}: ${o.text.slice(0, 400)}`;
  const missing = c.names.filter((n) => !o.text.includes(n));
  if (missing.length) return `${o.kind} without naming ${missing.map((m) => JSON.stringify(m)).join(', ')}: ${o.text.slice(0, 600)}`;
  return null;
}

describe('the broken-input corpus', () => {
  it('has at least 200 cases of every kind', () => {
    expect(cases.length).toBeGreaterThanOrEqual(200);
    for (const prefix of ['data/', 'model/', 'gguf/', 'adapter/', 'checkpoint/', 'text/', 'cli/']) expect(cases.filter((c) => c.id.startsWith(prefix)).length, prefix).toBeGreaterThanOrEqual(8);
  });

  for (const c of cases) {
    it(`${c.id} (${c.expect}${c.knownFailing ? ', known failing' : ''})`, async () => {
      const problem = verdict(c, await run(c));
      if (c.knownFailing) {
        expect(problem, `${c.id} now ends as expected: remove its knownFailing mark (${c.knownFailing})`).not.toBeNull();
      } else {
        expect(problem, c.id).toBeNull();
      }
    }, CASE_TIMEOUT_MS + 5_000);
  }
});

describe('a few cases as real CLI processes', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-loader.mjs', 'src/cli/main.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
  for (const id of ['text/score-hyp-utf16le-bom', 'cli/unknown-option', 'cli/number-expected']) {
    it(id, () => {
      const c = cases.find((k) => k.id === id)!;
      const r = cli(c.argv!);
      expect([1, 2], r.stderr).toContain(r.status); // 2: a usage error, 1: a refused input
      expect(r.stderr).not.toMatch(CRASH);
      for (const n of c.names) expect(r.stderr).toContain(n);
    }, 70_000);
  }
});
