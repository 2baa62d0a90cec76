// What every model-using command does first: open the GPU, the model, its tokenizer, an adapter, the data.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { formatReport, tokenizePairs, withTokenization, type PreferenceRow, type TokenizedPair } from '../data/index.ts';
import { readPreferenceFilePath } from '../data/node-file.ts';
import { describeCapabilities } from '../gpu/caps.ts';
import { GpuContext } from '../gpu/context.ts';
import { importPeftAdapter } from '../io/peft.ts';
import { loadTokenizer } from '../io/tokenizer.ts';
import { ggufTokenizerFiles } from '../io/gguf-tokenizer.ts';
import { adapterInit } from '../model/adapter.ts';
import { openModel, type OpenedModel } from '../model/load.ts';
import { createLora, type Lora, type LoraConfig } from '../model/lora.ts';
import { loadBaseModel, type BaseModel } from '../model/model.ts';
import { QUANTS, type Quant } from '../model/projections.ts';
import { nodeFiles } from '../model/node-files.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';

export const log = (msg: string) => process.stderr.write(`${msg}\n`);

export function parseQuant(q: unknown): Quant {
  if (!QUANTS.includes(q as Quant)) throw new Error(`--quant: expected one of ${QUANTS.join(', ')}, got ${JSON.stringify(q)}`);
  return q as Quant;
}

export async function openGpu(): Promise<GpuContext> {
  const ctx = await GpuContext.create();
  log(`gpu: ${describeCapabilities(ctx.caps)}`);
  return ctx;
}

export interface LoadedModel {
  opened: OpenedModel;
  base: BaseModel;
  tokenizer: TextTokenizer | null;
}

export async function loadModelFromPath(ctx: GpuContext, path: string, quant: Quant): Promise<LoadedModel> {
  const opened = await openModel(nodeFiles(path));
  const t0 = performance.now();
  const base = await loadBaseModel(ctx, opened.cfg, opened.reader, quant).finally(() => opened.close());
  const c = opened.cfg;
  log(`model: ${opened.name} (${c.architecture}, L ${c.L}, C ${c.C}, H ${c.H}/${c.Hkv}, V ${c.V}); base ${quant}: ${(base.bytes / 2 ** 20).toFixed(1)} MiB on the GPU, loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  let tokenizer: TextTokenizer | null = null;
  if (opened.tokenizerJson) tokenizer = await loadTokenizer({ tokenizerJson: opened.tokenizerJson, tokenizerConfig: opened.tokenizerConfig ?? undefined });
  else if (opened.ggufMetadata) tokenizer = await loadTokenizer(ggufTokenizerFiles(opened.ggufMetadata as never, opened.reader.source));
  return { opened, base, tokenizer };
}

/** A LoRA from a PEFT folder, or a fresh one with PEFT's initialisation. */
export async function loraFor(ctx: GpuContext, m: LoadedModel, adapterDir: string | undefined, fresh: LoraConfig, seed: number): Promise<Lora> {
  if (!adapterDir) return createLora(ctx, m.opened.cfg, fresh, seed);
  const cfgFile = join(adapterDir, 'adapter_config.json');
  const wFile = join(adapterDir, 'adapter_model.safetensors');
  for (const f of [cfgFile, wFile]) if (!existsSync(f)) throw new Error(`${f}: not found (an adapter folder holds adapter_config.json and adapter_model.safetensors)`);
  const a = await importPeftAdapter({ config: readFileSync(cfgFile, 'utf8'), weights: new Uint8Array(readFileSync(wFile)) }, m.opened.configJson as never);
  const { config, init } = adapterInit(a);
  log(`adapter: ${adapterDir} (r ${config.r}, alpha ${config.alpha}, ${config.targets === 'all-linear' ? 'all-linear' : config.targets.join(',')})`);
  return createLora(ctx, m.opened.cfg, { ...config, dropout: 0 }, seed, init);
}

export async function loadPairs(
  path: string,
  tokenizer: TextTokenizer | null,
  opts: { maxLength: number; maxPromptLength: number; truncationMode?: 'keep_end' | 'keep_start'; dropLongPrompts?: boolean },
): Promise<{ pairs: TokenizedPair[]; rows: PreferenceRow[] }> {
  if (!tokenizer) throw new Error('the model has no tokenizer (tokenizer.json or GGUF vocabulary); text data cannot be tokenized');
  const read = await readPreferenceFilePath(path);
  const tok = tokenizePairs(read.rows, tokenizer, opts);
  const report = withTokenization(read.report, tok);
  log(`data: ${path} (${read.detected.container}, ${read.detected.format}): ${tok.pairs.length} pairs usable`);
  const text = formatReport(report);
  // Rows set aside, warnings and truncation are all things the user must hear about, not only issues.
  const t = report.tokenization;
  if (report.issues.length || report.warnings.length || t?.truncatedPrompts || t?.truncatedCompletions || t?.droppedLongPrompts || tok.pairs.length === 0) log(text);
  if (tok.pairs.length === 0) throw new Error(`${path}: no usable rows`);
  return { pairs: tok.pairs, rows: read.rows };
}
