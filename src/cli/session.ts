// What the CLI's commands share on top of the engine's wiring (src/engine/session.ts): files named in messages,
// progress lines on stderr, the data report printed for every dataset read, a PEFT adapter folder as a LoRA.
import { existsSync, openAsBlob, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatReport, type OpenedRecords, type ReadOptions, type ReadResult } from '../data/index.ts';
import { readTextLines } from '../data/node-text.ts';
import { readPreferenceFile } from '../data/read.ts';
import { issueTotal } from '../data/report.ts';
import type { ValidationReport } from '../data/types.ts';
import { loadModel, requireTokenizer, type LoadedModel, type PlanSteps, type Progress } from '../engine/session.ts';
import { describeCapabilities } from '../gpu/caps.ts';
import { GpuContext } from '../gpu/context.ts';
import { ADAPTER_CONFIG, ADAPTER_WEIGHTS, importPeftAdapter, type LoraAdapter } from '../io/peft.ts';
import { adapterInit } from '../model/adapter.ts';
import type { ModelConfig } from '../model/config.ts';
import { createLora, type Lora, type LoraConfig } from '../model/lora.ts';
import { nodeFiles } from '../model/node-files.ts';
import { isHfDatasetSpec, type HubDatasetRead } from '../io/hub-datasets.ts';
import { openHubData, readPreferenceData, resolveModelPath } from '../io/node-data.ts';
import type { Quant } from '../model/projections.ts';

export type { LoadedModel };

export const log = (msg: string) => process.stderr.write(`${msg}\n`);

/** A Progress callback that logs "label: what loaded/total" on stderr: the first call, then at most once a second, and the last. */
export function progressLog(label: string): Progress {
  const t0 = performance.now();
  let last = -Infinity;
  let lastLine = '';
  return ({ loaded, total, what }) => {
    const now = performance.now();
    const line = `${what} ${loaded}/${total}`;
    if ((loaded < total && now - last < 1000) || line === lastLine) return;
    last = now;
    lastLine = line;
    log(`${label}: ${what} ${loaded}/${total}${loaded >= total ? ` (${((now - t0) / 1000).toFixed(1)} s)` : ''}`);
  };
}

export async function openGpu(): Promise<GpuContext> {
  const ctx = await GpuContext.create();
  log(`gpu: ${describeCapabilities(ctx.caps)}`);
  return ctx;
}

/** The model at `path` (a Hugging Face folder or a .gguf file) through the engine's loader, with progress. */
export async function loadModelFromPath(ctx: GpuContext, path: string, quant: Quant, plan?: PlanSteps, compileAhead: 'all' | 'forward' = 'all'): Promise<LoadedModel> {
  const dir = await modelFolder(path);
  const t0 = performance.now();
  const m = await loadModel(ctx, nodeFiles(dir), quant, path, progressLog('model'), plan, compileAhead);
  const c = m.opened.cfg;
  const pre = m.precompiled.pipelines ? `, ${m.precompiled.pipelines} pipelines compiled alongside${m.precompiled.rest ? ' (the forward\'s; the rest beside it)' : ''}` : '';
  log(`model: ${path} (${c.architecture}, L ${c.L}, C ${c.C}, H ${c.H}/${c.Hkv}, V ${c.V}); base ${quant}: ${(m.base.bytes / 2 ** 20).toFixed(1)} MiB on the GPU, loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s${pre}`);
  return m;
}

/** Refuses a path that is missing or a folder where a file is expected, naming it (never a bare EISDIR). */
export function checkFile(path: string, what = 'file'): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    throw new Error(`${path}: no such ${what}`);
  }
  if (st.isDirectory()) throw new Error(`${path}: is a folder, but a ${what} is expected here`);
}

/** Refuses an output path that is an existing folder (a file is written there). */
export function checkOutFile(path: string): void {
  if (existsSync(path) && statSync(path).isDirectory()) throw new Error(`${path}: is a folder, but the output is a file`);
}

/** A data file as a Blob the engine reads lazily (fs.openAsBlob), named by its path for messages and detection. */
export async function dataBlob(path: string): Promise<Blob & { name: string }> {
  checkFile(path, 'data file');
  return Object.assign(await openAsBlob(path), { name: path });
}

/** Text lines as sacreBLEU reads them: split on '\n', the final newline starts no line, CR of CRLF dropped. */
export function readLines(path: string): string[] {
  checkFile(path);
  return readTextLines(path); // UTF-8 only: UTF-16, binary and invalid UTF-8 are refused naming the encoding or line
}

/** Hub download progress on stderr, in progressLog's lines. */
function downloadProgress(label: string, what: string): (loaded: number, total: number | null) => void {
  const p = progressLog(label);
  return (loaded, total) => p({ loaded, total: total ?? loaded, what: `download ${what}` });
}

/**
 * `--model` as a folder or .gguf file, or a Hub id (OWNER/NAME[@REVISION]) from the Python Hugging Face cache,
 * downloading what it lacks (HF_HOME, HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE as huggingface_hub).
 */
export async function modelFolder(arg: string): Promise<string> {
  const dir = await resolveModelPath(arg, { onDownload: downloadProgress('model', arg) });
  if (dir !== arg) log(`model: ${arg} is the Hub's, in the Hugging Face cache at ${dir}`);
  return dir;
}

const hubDataLine = (hub: HubDatasetRead) => `data: ${hub.name} (the Hub's Parquet conversion at commit ${hub.commit.slice(0, 8)})`;

/** A Hub dataset's records, for readers with their own row rules (build-prefs), with download progress on stderr. */
export async function hubRecords(spec: string): Promise<OpenedRecords> {
  const { records, hub } = await openHubData(spec, { onDownload: downloadProgress('data', spec) });
  log(hubDataLine(hub));
  if (hub.partial) log(`data: the Hub converted only the first part of this split to Parquet; the rows read are that part`);
  return records;
}

/** Reads a preference file, or a Hub dataset (hf://datasets/OWNER/NAME[/CONFIG/SPLIT]), with progress on stderr. */
export async function readData(path: string, options: Omit<ReadOptions, 'name' | 'onProgress'> = {}): Promise<ReadResult> {
  const p = progressLog('data');
  if (isHfDatasetSpec(path)) {
    const read = await readPreferenceData(path, { ...options, onProgress: (loaded, total) => p({ loaded, total: total ?? loaded, what: `read ${path}` }) }, { onDownload: downloadProgress('data', path) });
    log(hubDataLine(read.hub!));
    return read;
  }
  const blob = await dataBlob(path);
  return readPreferenceFile(blob, { ...options, name: path, onProgress: (loaded, total) => p({ loaded, total: total ?? blob.size, what: `read ${path}` }) });
}

/** The first set-aside rows, for messages: "row 3 (line 4) [chosen]: missing field: …". */
export function firstIssues(report: ValidationReport, n = 3): string {
  return report.issues
    .slice(0, n)
    .map((i) => `row ${i.row}${i.line !== undefined && i.line !== i.row ? ` (line ${i.line})` : ''}${i.field ? ` [${i.field}]` : ''}: ${i.reason}: ${i.message}`)
    .join('; ');
}

/**
 * Prints the data report on stderr (every command that reads a dataset does), then refuses what cannot go
 * on: no usable rows, or with --strict any row set aside. `print`: 'always', or 'on-error' (a first check of
 * the file as read, before a model loads, that stays quiet unless it refuses), or 'never' (printed elsewhere).
 */
export function checkReport(report: ValidationReport, strict: boolean, print: 'always' | 'on-error' | 'never' = 'always'): void {
  const setAside = issueTotal(report);
  let error: string | null = null;
  if (strict && setAside > 0) error = `${report.file}: ${setAside} row${setAside === 1 ? '' : 's'} set aside (--strict): ${firstIssues(report)}`;
  else if (report.rowsUsable === 0 || report.tokenization?.pairs === 0) error = `${report.file}: no usable rows${setAside ? `: ${firstIssues(report)}` : ''}`;
  if (print === 'always' || (print === 'on-error' && error)) log(formatReport(report));
  if (error) throw new Error(error);
}

export const STRICT_OPTION = { type: 'boolean', help: 'refuse the data file if any row is set aside (exit 1, the first rows named)' } as const;

/** A PEFT adapter folder, checked against the model's dimensions (the files are named when missing). */
export async function readPeftFolder(dir: string, c: ModelConfig): Promise<LoraAdapter> {
  const files = [join(dir, ADAPTER_CONFIG), join(dir, ADAPTER_WEIGHTS)];
  for (const f of files) if (!existsSync(f)) throw new Error(`${f}: not found (an adapter folder holds ${ADAPTER_CONFIG} and ${ADAPTER_WEIGHTS})`);
  const dims = { hidden_size: c.C, intermediate_size: c.F, num_hidden_layers: c.L, num_attention_heads: c.H, num_key_value_heads: c.Hkv, head_dim: c.D };
  return importPeftAdapter({ config: readFileSync(files[0], 'utf8'), weights: new Uint8Array(readFileSync(files[1])) }, dims);
}

/** A LoRA from a PEFT folder, or a fresh one with PEFT's initialisation. */
export async function loraFor(ctx: GpuContext, m: LoadedModel, adapterDir: string | undefined, fresh: LoraConfig, seed: number): Promise<Lora> {
  if (!adapterDir) return createLora(ctx, m.opened.cfg, fresh, seed);
  const { config, init } = adapterInit(await readPeftFolder(adapterDir, m.opened.cfg));
  log(`adapter: ${adapterDir} (r ${config.r}, alpha ${config.alpha}, ${config.targets === 'all-linear' ? 'all-linear' : config.targets.join(',')})`);
  return createLora(ctx, m.opened.cfg, { ...config, dropout: 0 }, seed, init);
}

export { requireTokenizer };
