// The studio's presets are the engine's (src/train/presets.ts, which the CLI offers too): this module only
// names them for the UI. A preset is picked by its label ("Quick try"); the config carries its id ("quick"),
// as a run started from the CLI would.
import type { RunConfig } from '../../engine/types.ts';
import { PRESETS as ENGINE_PRESETS, presetConfig as enginePresetConfig } from '../../train/presets.ts';

/** A run name from a label: "Quick try" → "quick-try". */
const slug = (label: string) => label.toLowerCase().replace(/\(.*?\)/g, '').trim().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

export interface PresetInfo {
  id: string;
  label: string;
  description: string;
}

export const PRESET_INFO: PresetInfo[] = Object.entries(ENGINE_PRESETS).map(([id, p]) => ({ id, label: p.label, description: p.description }));

/**
 * How often the studio's presets evaluate on the held-out split, so the charts show eval points as the run
 * goes (the engine's presets, as the CLI runs them, evaluate at the end only). Quick try: 3 points in 30 steps.
 */
const EVAL_EVERY: Record<string, number> = { quick: 10, 'alma-r': 100 };

/** The full config of each preset, keyed by its label. */
export const PRESETS: Record<string, RunConfig> = Object.fromEntries(
  PRESET_INFO.map((p) => [p.label, enginePresetConfig(p.id, { name: slug(p.label), ...(EVAL_EVERY[p.id] ? { evalEvery: EVAL_EVERY[p.id] } : {}) })]),
);

export const PRESET_NAMES = PRESET_INFO.map((p) => p.label);
export const DEFAULT_PRESET = 'Quick try';

function infoOf(nameOrId: string): PresetInfo | undefined {
  return PRESET_INFO.find((p) => p.label === nameOrId || p.id === nameOrId);
}

/** A fresh copy of a preset, by label or id. */
export function presetConfig(nameOrId: string): RunConfig {
  const p = infoOf(nameOrId);
  if (!p) throw new Error(`unknown preset ${nameOrId}`);
  return structuredClone(PRESETS[p.label]);
}

/** The label to show for a config's preset field ("quick" → "Quick try"); "custom" and unknown ids pass through. */
export function presetLabel(preset: string): string {
  return infoOf(preset)?.label ?? preset;
}

/** Whether `config.preset` names the preset with this label. */
export function isPreset(config: RunConfig, label: string): boolean {
  return infoOf(config.preset)?.label === label;
}
