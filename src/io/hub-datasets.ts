// Preference datasets from the Hugging Face Hub by id: `hf://datasets/OWNER/NAME[/CONFIG/SPLIT]`.
// Every Hub dataset, whatever it was uploaded as, has a Parquet conversion on its `refs/convert/parquet`
// branch, laid out `CONFIG/SPLIT/NNNN.parquet` (`CONFIG/partial-SPLIT/…` when only the first ~5 GB were
// converted). That branch's tree, from the revision API, lists configs, splits, shards and sizes and pins the
// commit; the shards then download like model files (streamed into the store — Cache API or the Python Hugging
// Face cache — with progress, resumed in Node after a cut) and are read one row group at a time.
import { openParquetParts, readPreferenceParts, type OpenedRecords, type ReadOptions, type ReadResult } from '../data/read.ts';
import { blobSource, type RandomAccessSource } from '../data/source.ts';
import { DataFileError } from '../data/types.ts';
import { checkRepoId, downloadRepoFile, hubRepoInfo, PERSIST_ABOVE_BYTES, requestPersistentStorage, storeFor, type HubOptions, type HubProgress, type HubRepoInfo } from './hub.ts';

export const PARQUET_REVISION = 'refs/convert/parquet';

export interface HubDatasetSpec {
  repo: string;
  config?: string;
  split?: string;
}

/** `hf://datasets/OWNER/NAME[/CONFIG/SPLIT]`, or null when `s` is not such a spec. Throws when it is one but malformed. */
export function parseHfDatasetSpec(s: string): HubDatasetSpec | null {
  if (!s.startsWith('hf://')) return null;
  const m = /^hf:\/\/datasets\/([^/]+\/[^/]+)(?:\/([^/]+)\/([^/]+))?\/?$/.exec(s);
  if (!m) throw new Error(`${s}: a Hub dataset is written hf://datasets/OWNER/NAME or hf://datasets/OWNER/NAME/CONFIG/SPLIT`);
  checkRepoId(m[1]);
  return { repo: m[1], config: m[2] && decodeURIComponent(m[2]), split: m[3] && decodeURIComponent(m[3]) };
}

export const isHfDatasetSpec = (s: string) => s.startsWith('hf://');

export function formatHfDatasetSpec(spec: HubDatasetSpec): string {
  return `hf://datasets/${spec.repo}${spec.config && spec.split ? `/${spec.config}/${spec.split}` : ''}`;
}

export interface HubParquetShard {
  file: string;
  size: number | undefined;
}

export interface HubParquetSplit {
  config: string;
  split: string;
  /** Only the first part of the split was converted (the Hub's `partial-SPLIT` folders). */
  partial: boolean;
  shards: HubParquetShard[];
}

export interface HubParquetListing {
  repo: string;
  commit: string;
  splits: HubParquetSplit[];
}

/** The configs, splits and shards of a dataset's Parquet conversion, pinned to its commit. */
export async function listHubParquet(repo: string, opts: HubOptions = {}): Promise<HubParquetListing> {
  return parquetListing(await hubRepoInfo('dataset', repo, { ...opts, revision: PARQUET_REVISION }));
}

function parquetListing(info: HubRepoInfo): HubParquetListing {
  const repo = info.repo;
  if (!info.siblings) throw new Error(`Hub: dataset ${repo}: the Parquet listing needs the Hub (offline, and no listing is cached)`);
  const byKey = new Map<string, HubParquetSplit>();
  for (const s of info.siblings) {
    const m = /^([^/]+)\/(partial-)?([^/]+)\/[^/]+\.parquet$/.exec(s.rfilename);
    if (!m) continue;
    const key = `${m[1]}\u0000${m[3]}`;
    let split = byKey.get(key);
    if (!split) byKey.set(key, (split = { config: m[1], split: m[3], partial: !!m[2], shards: [] }));
    split.shards.push({ file: s.rfilename, size: s.lfs?.size ?? s.size });
  }
  for (const s of byKey.values()) s.shards.sort((a, b) => (a.file < b.file ? -1 : 1));
  return { repo, commit: info.commit, splits: [...byKey.values()] };
}

/** The split a spec names; without config/split, the `default` config (or the only one) and `train` (or the only split). */
export function chooseSplit(listing: HubParquetListing, spec: HubDatasetSpec): HubParquetSplit {
  const where = formatHfDatasetSpec(spec);
  const all = listing.splits.map((s) => `${s.config}/${s.split}`).join(', ');
  if (!listing.splits.length) throw new Error(`${where}: the Hub has no Parquet conversion of this dataset (refs/convert/parquet is empty)`);
  const configs = [...new Set(listing.splits.map((s) => s.config))];
  const config = spec.config ?? (configs.length === 1 ? configs[0] : configs.includes('default') ? 'default' : undefined);
  if (!config) throw new Error(`${where}: the dataset has several configs; name one as hf://datasets/${spec.repo}/CONFIG/SPLIT (${all})`);
  const inConfig = listing.splits.filter((s) => s.config === config);
  if (!inConfig.length) throw new Error(`${where}: no config ${JSON.stringify(config)}; the dataset has ${all}`);
  const split = spec.split ?? (inConfig.length === 1 ? inConfig[0].split : inConfig.some((s) => s.split === 'train') ? 'train' : undefined);
  const found = inConfig.find((s) => s.split === split);
  if (!found) throw new Error(`${where}: ${split ? `no split ${JSON.stringify(split)}` : 'several splits'} in config ${config}; the dataset has ${all}`);
  return found;
}

export interface HubDatasetOptions extends HubOptions {
  /** Bytes of all shards so far, of their total (null when the listing gave no sizes). */
  onOverall?: (loaded: number, total: number | null) => void;
}

export interface OpenedHubDataset {
  spec: HubDatasetSpec;
  /** hf://datasets/OWNER/NAME/CONFIG/SPLIT, with what was chosen. */
  name: string;
  commit: string;
  split: HubParquetSplit;
  parts: RandomAccessSource[];
}

/** Downloads (or finds in the store) the shards of one split, as random-access sources. */
export async function openHubDataset(spec: HubDatasetSpec | string, opts: HubDatasetOptions = {}): Promise<OpenedHubDataset> {
  const s = typeof spec === 'string' ? parseHfDatasetSpec(spec) : spec;
  if (!s) throw new Error(`${spec}: not a Hub dataset (hf://datasets/OWNER/NAME[/CONFIG/SPLIT])`);
  opts = { ...opts, store: await storeFor(opts) };
  const info = await hubRepoInfo('dataset', s.repo, { ...opts, revision: PARQUET_REVISION });
  const listing = parquetListing(info);
  const split = chooseSplit(listing, s);
  const name = formatHfDatasetSpec({ repo: s.repo, config: split.config, split: split.split });
  const sizes = split.shards.map((x) => x.size);
  const total = sizes.every((x) => x !== undefined) ? sizes.reduce((a, b) => a! + b!, 0)! : null;
  if (total !== null && total > PERSIST_ABOVE_BYTES) await requestPersistentStorage();
  let before = 0;
  const parts: RandomAccessSource[] = [];
  for (const shard of split.shards) {
    const blob = await downloadRepoFile(info, shard.file, {
      ...opts,
      onProgress: (p: HubProgress) => {
        opts.onProgress?.(p);
        opts.onOverall?.(before + p.loaded, total);
      },
    });
    before += blob.size;
    parts.push(blobSource(blob, shard.file));
  }
  return { spec: s, name, commit: listing.commit, split, parts };
}

export interface HubDatasetRead {
  /** hf://datasets/OWNER/NAME/CONFIG/SPLIT */
  name: string;
  commit: string;
  partial: boolean;
}

const hubRead = (ds: OpenedHubDataset): HubDatasetRead => ({ name: ds.name, commit: ds.commit, partial: ds.split.partial });

/**
 * A Hub dataset split's records, rows numbered across its shards, for readers with their own row rules (parallel
 * text for src/prefs); what openRecords gives for one local file.
 */
export async function openHubRecords(spec: HubDatasetSpec | string, opts: HubDatasetOptions & { onRead?: ReadOptions['onProgress'] } = {}): Promise<{ records: OpenedRecords; hub: HubDatasetRead }> {
  const ds = await openHubDataset(spec, opts);
  return { records: openParquetParts(ds.parts, { name: ds.name, onProgress: opts.onRead }), hub: hubRead(ds) };
}

/** A Hub dataset split read as preference rows: one report over all its shards, named by its hf:// spec. */
export async function readHubDataset(
  spec: HubDatasetSpec | string,
  opts: HubDatasetOptions & { read?: ReadOptions } = {},
): Promise<ReadResult & { hub: HubDatasetRead }> {
  const ds = await openHubDataset(spec, opts);
  const result = await readPreferenceParts(ds.parts, { ...opts.read, name: ds.name });
  if (ds.split.partial) {
    result.report.warnings.push(`the Hub converted only the first part of this split to Parquet (partial-${ds.split.split}); the rows read are that part`);
  }
  if (result.report.rowsRead === 0) throw new DataFileError(ds.name, 'holds no rows');
  return { ...result, hub: hubRead(ds) };
}
