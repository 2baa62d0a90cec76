// The preference dataset: the file, how it is read (format override, column mapping, split) and the
// engine's answer (preview rows and validation report).
import type { DatasetInfo } from '../../engine/types.ts';
import { guessMapping, sniffColumns } from '../lib/columns.ts';
import { hubAccess } from '../lib/hub-access.ts';
import { throttle } from '../lib/throttle.ts';
import { errorMessage, type Progress, type SliceCreator } from './types.ts';
import type { DataSettings, DataSlice, DataLengths } from './slices.ts';

export type { DataSettings, DataSlice, DataLengths };

/** Messages by which the data layer says it did not recognise the layout. */
const UNKNOWN_LAYOUT = /unknown (row )?format|no known (format|layout)|could not detect|cannot detect|column mapping|mapping/i;

export function needsMappingFor(info: DatasetInfo | null, error: string | null): boolean {
  if (error) return UNKNOWN_LAYOUT.test(error);
  return !!info && info.rowsRead > 0 && info.rowsUsable === 0 && (info.format === 'unknown' || info.format === 'mapping' || info.format === '');
}

export const createDataSlice: SliceCreator<DataSlice> = (deps) => (set, get) => ({
  dataFile: null,
  dataHub: null,
  dataSettings: { format: '', mapping: null, evalFraction: 0.02, seed: 42 },
  dataStatus: 'idle',
  dataProgress: null,
  dataInfo: null,
  dataError: null,
  needsMapping: false,
  columns: [],
  dataLengths: null,
  async setDataFile(file) {
    set((s) => ({ dataFile: file, dataHub: null, dataInfo: null, needsMapping: false, columns: [], dataSettings: { ...s.dataSettings, format: '', mapping: null } }));
    await get().loadDataset();
  },
  async setDataHub(spec) {
    set((s) => ({ dataHub: spec, dataFile: null, dataInfo: null, needsMapping: false, columns: [], dataSettings: { ...s.dataSettings, format: '', mapping: null } }));
    await get().loadDataset();
  },
  listHubDataset: (repo) => deps.engine.listHubDataset(repo, hubAccess(get().hubToken)),
  setDataSettings: (patch) => set((s) => ({ dataSettings: { ...s.dataSettings, ...patch } })),
  async loadDataset(want) {
    const file = get().dataFile;
    const hub = get().dataHub;
    if (!file && !hub) return;
    const { dataSettings: ds, config } = get();
    const lengths: DataLengths = want ?? { maxLength: config.maxLength, maxPromptLength: config.maxPromptLength };
    set({ dataStatus: 'loading', dataError: null, dataProgress: null });
    const progress = throttle((p: Progress) => set({ dataProgress: p }), deps.progressIntervalMs ?? 250);
    let info: DatasetInfo | null = null;
    let error: string | null = null;
    const opts = {
      ...(ds.format ? { format: ds.format } : {}),
      ...(ds.mapping ? { mapping: ds.mapping } : {}),
      maxLength: lengths.maxLength,
      maxPromptLength: lengths.maxPromptLength,
      evalFraction: ds.evalFraction,
      seed: ds.seed,
    };
    try {
      info = file ? await deps.engine.loadDataset(file, opts, progress) : await deps.engine.loadHubDataset(hub!, hubAccess(get().hubToken), opts, progress);
    } catch (e) {
      error = errorMessage(e);
    }
    progress.cancel();
    // A newer file may have been dropped (or a Hub split chosen) while this one loaded.
    if (get().dataFile !== file || get().dataHub !== hub) return;
    const needsMapping = needsMappingFor(info, error) || (get().needsMapping && !!error);
    set({ dataStatus: error ? 'error' : 'ready', dataInfo: info, dataError: error, dataProgress: null, needsMapping, dataLengths: error ? null : lengths });
    // A Hub split's columns are in the worker's report; the mapping is then typed by hand.
    if (needsMapping && file && get().columns.length === 0) {
      const columns = await sniffColumns(file).catch(() => []);
      // A first guess the user confirms with "Read with this mapping" (never applied unseen).
      const guess = guessMapping(columns);
      if (get().dataFile === file) set((s) => ({ columns, dataSettings: s.dataSettings.mapping || !Object.keys(guess).length ? s.dataSettings : { ...s.dataSettings, mapping: guess, format: 'mapping' } }));
    }
  },
});
