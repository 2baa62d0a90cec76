// A Hugging Face Hub dataset by id: the id, then a config and a split from the Hub's Parquet listing (every
// dataset has one, on its refs/convert/parquet branch), then Load. The worker downloads and reads the shards;
// this component only asks for the listing and names the choice. The Data screen and the preference builder use it.
import { useState } from 'react';
import { chooseSplit, parseHfDatasetSpec, type HubDatasetSpec, type HubParquetListing, type HubParquetSplit } from '../../io/hub-datasets.ts';
import { PERSIST_ABOVE_BYTES, requestPersistentStorage } from '../../io/hub.ts';
import { formatBytes } from '../lib/format.ts';
import { useStudio } from '../store/context.tsx';
import { errorMessage } from '../store/types.ts';
import { HubToken } from './HubToken.tsx';
import { Select, TextInput } from './fields.tsx';

const REPO_ID = /^[\w.-]+\/[\w.-]+$/;

/** "owner/name", or a pasted hf://datasets/OWNER/NAME[/CONFIG/SPLIT] (its config and split preselected). */
function parseId(raw: string): { spec: HubDatasetSpec | null; error?: string } {
  const s = raw.trim();
  if (!s) return { spec: null };
  if (s.startsWith('hf://')) {
    try {
      return { spec: parseHfDatasetSpec(s) };
    } catch (e) {
      return { spec: null, error: errorMessage(e) };
    }
  }
  const id = s.replace(/^https?:\/\/huggingface\.co\/datasets\//, '').replace(/\/+$/, '');
  return REPO_ID.test(id) ? { spec: { repo: id } } : { spec: null, error: 'A dataset id is OWNER/NAME, e.g. trl-lib/ultrafeedback_binarized' };
}

const splitBytes = (s: HubParquetSplit): number | null => {
  const sizes = s.shards.map((x) => x.size);
  return sizes.every((x) => x !== undefined) ? sizes.reduce((a, b) => a! + b!, 0)! : null;
};
const splitSize = (s: HubParquetSplit) => {
  const b = splitBytes(s);
  return b === null ? 'size unknown' : formatBytes(b);
};

/**
 * navigator.storage.persist() exists on the page only (not in the worker that downloads), so a large split asks
 * here, before the worker starts: the Cache API then keeps the shards under storage pressure.
 */
async function persistFor(s: HubParquetSplit): Promise<void> {
  const b = splitBytes(s);
  if (b !== null && b > PERSIST_ABOVE_BYTES) await requestPersistentStorage();
}

export interface HubDatasetInputProps {
  /** What the input is for, in its legend ("Hub dataset", "Parallel data from the Hub"). */
  legend: string;
  /** Shown under the id. */
  hint: string;
  disabled?: boolean;
  /** Show the session's access token field here (once per screen). */
  tokenField?: boolean;
  onLoad: (spec: HubDatasetSpec) => void;
}

export function HubDatasetInput({ legend, hint, disabled, tokenField = true, onLoad }: HubDatasetInputProps) {
  const list = useStudio((s) => s.listHubDataset);
  const [raw, setRaw] = useState('');
  const [listing, setListing] = useState<HubParquetListing | null>(null);
  const [config, setConfig] = useState('');
  const [split, setSplit] = useState('');
  const [listStatus, setListingStatus] = useState<'idle' | 'listing'>('idle');
  const [error, setError] = useState<string | null>(null);
  const parsed = parseId(raw);
  const busy = disabled || listStatus === 'listing';

  const fetchListing = async () => {
    const spec = parsed.spec;
    if (!spec) return;
    setListingStatus('listing');
    setError(null);
    setListing(null);
    try {
      const l = await list(spec.repo);
      if (!l.splits.length) throw new Error(`${spec.repo}: the Hub has no Parquet conversion of this dataset (refs/convert/parquet is empty)`);
      // The preselection is the CLI's default for hf://datasets/OWNER/NAME (the `default` config, `train`), else the first.
      let pick: HubParquetSplit;
      try {
        pick = chooseSplit(l, spec);
      } catch {
        pick = l.splits.find((s) => s.config === spec.config) ?? l.splits[0];
      }
      setListing(l);
      setConfig(pick.config);
      setSplit(pick.split);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setListingStatus('idle');
    }
  };

  const configs = listing ? [...new Set(listing.splits.map((s) => s.config))] : [];
  const splits = listing ? listing.splits.filter((s) => s.config === config) : [];
  const chosen = splits.find((s) => s.split === split);
  return (
    <fieldset className="hub-dataset">
      <legend>{legend}</legend>
      <div className="inline">
        <TextInput label="Dataset id" value={raw} placeholder="owner/name" hint={hint} error={parsed.error} disabled={disabled} onChange={(v) => (setRaw(v), setListing(null), setError(null))} />
        <button type="button" className="secondary" disabled={busy || !parsed.spec} onClick={() => void fetchListing()}>
          {listStatus === 'listing' ? 'Listing…' : 'List configs and splits'}
        </button>
      </div>
      {listing && (
        <>
          <div className="inline">
            <Select label="Config" value={config} options={configs.map((c) => ({ value: c, label: c }))} disabled={disabled} onChange={(c) => (setConfig(c), setSplit(listing.splits.find((s) => s.config === c)?.split ?? ''))} />
            <Select
              label="Split"
              value={split}
              options={splits.map((s) => ({ value: s.split, label: `${s.split} · ${s.shards.length} shard${s.shards.length === 1 ? '' : 's'}, ${splitSize(s)}${s.partial ? ' (partly converted)' : ''}` }))}
              disabled={disabled}
              onChange={setSplit}
            />
            <button type="button" disabled={disabled || !chosen} onClick={() => chosen && void persistFor(chosen).then(() => onLoad({ repo: listing.repo, config: chosen.config, split: chosen.split }))}>
              Load from the Hub
            </button>
          </div>
          <p className="muted small" data-testid="hub-listing">
            {listing.repo} at commit {listing.commit.slice(0, 8)}: {listing.splits.length} split{listing.splits.length === 1 ? '' : 's'} in {configs.length} config{configs.length === 1 ? '' : 's'}. Shards are
            downloaded once into this browser's cache and read one row group at a time.
          </p>
        </>
      )}
      {error && (
        <p className="note error" role="alert">
          {error}
        </p>
      )}
      {tokenField && <HubToken what="models and datasets" />}
    </fieldset>
  );
}
