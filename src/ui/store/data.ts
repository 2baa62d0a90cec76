// The preference dataset: the file, how it is read (format override, column mapping, split) and the
// engine's answer (preview rows and validation report).
import type { DatasetInfo } from '../../engine/types.ts';
import { guessMapping, sniffColumns } from '../lib/columns.ts';
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
  dataSettings: { format: '', mapping: null, evalFraction: 0.02, seed: 42 },
  dataStatus: 'idle',
  dataProgress: null,
  dataInfo: null,
  dataError: null,
  needsMapping: false,
  columns: [],
  dataLengths: null,
  async setDataFile(file) {
    set((s) => ({ dataFile: file, dataInfo: null, needsMapping: false, columns: [], dataSettings: { ...s.dataSettings, format: '', mapping: null } }));
    await get().loadDataset();
  },
  setDataSettings: (patch) => set((s) => ({ dataSettings: { ...s.dataSettings, ...patch } })),
  async loadDataset(want) {
    const file = get().dataFile;
    if (!file) return;
    const { dataSettings: ds, config } = get();
    const lengths: DataLengths = want ?? { maxLength: config.maxLength, maxPromptLength: config.maxPromptLength };
    set({ dataStatus: 'loading', dataError: null, dataProgress: null });
    const progress = throttle((p: Progress) => set({ dataProgress: p }), deps.progressIntervalMs ?? 250);
    let info: DatasetInfo | null = null;
    let error: string | null = null;
    try {
      info = await deps.engine.loadDataset(
        file,
        {
          ...(ds.format ? { format: ds.format } : {}),
          ...(ds.mapping ? { mapping: ds.mapping } : {}),
          maxLength: lengths.maxLength,
          maxPromptLength: lengths.maxPromptLength,
          evalFraction: ds.evalFraction,
          seed: ds.seed,
        },
        progress,
      );
    } catch (e) {
      error = errorMessage(e);
    }
    progress.cancel();
    // A newer file may have been dropped while this one loaded.
    if (get().dataFile !== file) return;
    const needsMapping = needsMappingFor(info, error) || (get().needsMapping && !!error);
    set({ dataStatus: error ? 'error' : 'ready', dataInfo: info, dataError: error, dataProgress: null, needsMapping, dataLengths: error ? null : lengths });
    if (needsMapping && get().columns.length === 0) {
      const columns = await sniffColumns(file).catch(() => []);
      // A first guess the user confirms with "Read with this mapping" (never applied unseen).
      const guess = guessMapping(columns);
      if (get().dataFile === file) set((s) => ({ columns, dataSettings: s.dataSettings.mapping || !Object.keys(guess).length ? s.dataSettings : { ...s.dataSettings, mapping: guess, format: 'mapping' } }));
    }
  },
});
