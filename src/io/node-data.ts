// Node: `--data` as the CLI takes it, a path or a Hub dataset (hf://datasets/OWNER/NAME[/CONFIG/SPLIT]) read
// through the Python Hugging Face cache with the environment huggingface_hub reads (HF_HOME, HF_HUB_CACHE,
// HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE).
import { readPreferenceFilePath } from '../data/node-file.ts';
import type { ReadOptions, ReadResult } from '../data/read.ts';
import { hubOptionsFromEnv, type HfEnv } from './hf-cache.ts';
import { isHfDatasetSpec, readHubDataset } from './hub-datasets.ts';

export interface DataSpecOptions {
  env?: HfEnv;
  /** Download progress of a Hub dataset (bytes of all its shards). */
  onDownload?: (loaded: number, total: number | null) => void;
}

export async function readPreferenceData(spec: string, options: ReadOptions = {}, extra: DataSpecOptions = {}): Promise<ReadResult> {
  if (!isHfDatasetSpec(spec)) return readPreferenceFilePath(spec, options);
  return readHubDataset(spec, { ...hubOptionsFromEnv(extra.env), onOverall: extra.onDownload, read: options });
}
