// Node: `--data` and `--model` as the CLI takes them. `--data` is a path or a Hub dataset
// (hf://datasets/OWNER/NAME[/CONFIG/SPLIT]); `--model` is a path or a Hub model id (OWNER/NAME[@REVISION]).
// Hub files go through the Python Hugging Face cache with the environment huggingface_hub reads (HF_HOME,
// HF_HUB_CACHE, HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE), so what huggingface-cli fetched is not fetched again.
import { existsSync } from 'node:fs';
import { readPreferenceFilePath } from '../data/node-file.ts';
import type { ReadOptions, ReadResult } from '../data/read.ts';
import { hubModelDir, hubOptionsFromEnv, type HfEnv } from './hf-cache.ts';
import { isHfDatasetSpec, readHubDataset } from './hub-datasets.ts';

export interface HubCliOptions {
  env?: HfEnv;
  /** Download progress (bytes of all files, of their total when known); see stderrProgress. */
  onDownload?: (loaded: number, total: number | null) => void;
}

export async function readPreferenceData(spec: string, options: ReadOptions = {}, extra: HubCliOptions = {}): Promise<ReadResult> {
  if (!isHfDatasetSpec(spec)) return readPreferenceFilePath(spec, options);
  return readHubDataset(spec, { ...hubOptionsFromEnv(extra.env), onOverall: extra.onDownload, read: options });
}

const HUB_MODEL_ID = /^([\w.-]+\/[\w.-]+)(?:@([\w./-]+))?$/;

/**
 * A model folder or file as given, or, when no such path exists and `arg` reads as OWNER/NAME[@REVISION],
 * the Hub model's snapshot folder in the Hugging Face cache (downloading what it lacks).
 */
export async function resolveModelPath(arg: string, extra: HubCliOptions = {}): Promise<string> {
  if (existsSync(arg)) return arg;
  const m = HUB_MODEL_ID.exec(arg);
  if (!m || m[1].split('/').some((p) => p.startsWith('.'))) return arg; // the loader names the missing path
  try {
    return (await hubModelDir(m[1], { env: extra.env, revision: m[2], onOverall: extra.onDownload })).dir;
  } catch (e) {
    // Said as the loader says a missing path, then what the Hub answered for it as a model id.
    const msg = (e as Error).message.replace(/^Hub: /, '');
    throw new Error(`${arg}: no such file or folder, nor a model on the Hub (${msg})`);
  }
}

/**
 * A progress callback that writes `label: 12.3 / 45.6 MiB (27%)` to stderr: in place on a terminal (at most
 * every 200 ms), a line per quarter otherwise (logs stay short).
 */
export function stderrProgress(label: string, stream: NodeJS.WriteStream = process.stderr): (loaded: number, total: number | null) => void {
  const mib = (n: number) => (n / 2 ** 20).toFixed(1);
  let last = 0;
  let quarter = -1;
  let ended = false;
  return (loaded, total) => {
    if (ended) return;
    const done = total !== null && loaded >= total;
    const text = `${label}: ${mib(loaded)}${total !== null ? ` / ${mib(total)} MiB (${Math.floor((100 * loaded) / Math.max(total, 1))}%)` : ' MiB'}`;
    if (stream.isTTY) {
      const now = Date.now();
      if (!done && now - last < 200) return;
      last = now;
      stream.write(`\r${text}${done ? '\n' : ''}`);
    } else {
      const q = total ? Math.floor((4 * loaded) / Math.max(total, 1)) : 0;
      if (q === quarter && !done) return;
      quarter = q;
      stream.write(`${text}\n`);
    }
    ended = done;
  };
}
