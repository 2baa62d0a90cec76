// Node: `--data` and `--model` as the CLI takes them. `--data` is a path or a Hub dataset
// (hf://datasets/OWNER/NAME[/CONFIG/SPLIT]); `--model` is a path or a Hub model id (OWNER/NAME[@REVISION]).
// Hub files go through the Python Hugging Face cache with the environment huggingface_hub reads (HF_HOME,
// HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE), so what huggingface-cli fetched is not fetched again.
import { existsSync } from 'node:fs';
import { readPreferenceFilePath } from '../data/node-file.ts';
import type { OpenedRecords, ReadOptions, ReadResult } from '../data/read.ts';
import { hubModelDir, hubOptionsFromEnv, type HfEnv } from './hf-cache.ts';
import { isHfDatasetSpec, openHubRecords, readHubDataset, type HubDatasetRead } from './hub-datasets.ts';

export interface HubCliOptions {
  env?: HfEnv;
  /** Download progress (bytes of all files, of their total when known). */
  onDownload?: (loaded: number, total: number | null) => void;
}

/** ReadResult, with `hub` (the split's hf:// name, the commit read, whether the conversion is partial) for Hub datasets. */
export async function readPreferenceData(spec: string, options: ReadOptions = {}, extra: HubCliOptions = {}): Promise<ReadResult & { hub?: HubDatasetRead }> {
  if (!isHfDatasetSpec(spec)) return readPreferenceFilePath(spec, options);
  return readHubDataset(spec, { ...hubOptionsFromEnv(extra.env), onOverall: extra.onDownload, read: options });
}

/** A Hub dataset's records (its split's Parquet shards, from the Hugging Face cache or downloaded), rows numbered across shards. */
export async function openHubData(spec: string, extra: HubCliOptions = {}): Promise<{ records: OpenedRecords; hub: HubDatasetRead }> {
  return openHubRecords(spec, { ...hubOptionsFromEnv(extra.env), onOverall: extra.onDownload });
}

const HUB_MODEL_ID = /^([\w.-]+\/[\w.-]+)(?:@([\w./-]+))?$/;

/**
 * A model folder or file as given, or, when no such path exists and `arg` reads as OWNER/NAME[@REVISION],
 * the Hub model's snapshot folder in the Hugging Face cache (downloading what it lacks).
 */
export async function resolveModelPath(arg: string, extra: HubCliOptions = {}): Promise<string> {
  if (existsSync(arg)) return arg;
  const m = HUB_MODEL_ID.exec(arg);
  // Not an id, or its owner part is a folder here (`public/models/tni`: a typo in a path, not a Hub lookup):
  // the loader names the missing path.
  if (!m || m[1].split('/').some((p) => p.startsWith('.')) || existsSync(m[1].split('/')[0])) return arg;
  try {
    return (await hubModelDir(m[1], { env: extra.env, revision: m[2], onOverall: extra.onDownload })).dir;
  } catch (e) {
    // Said as the loader says a missing path, then what the Hub answered for it as a model id.
    const msg = (e as Error).message.replace(/^Hub: /, '');
    throw new Error(`${arg}: no such file or folder, nor a model on the Hub (${msg})`);
  }
}
