// Feature flags, for features that may be switched off: ?compare=0 in the URL turns one off (remembered in
// localStorage), ?compare=1 back on; localStorage['cpo-studio:flag:compare'] holds the choice.

export type Flag = 'compare';

/** On by default once the engine supports the feature. */
const DEFAULTS: Record<Flag, boolean> = { compare: true };

export function flagEnabled(flag: Flag, search = globalThis.location?.search ?? ''): boolean {
  const key = `cpo-studio:flag:${flag}`;
  const q = new URLSearchParams(search).get(flag);
  try {
    if (q === '1' || q === '0') globalThis.localStorage?.setItem(key, q);
    const stored = globalThis.localStorage?.getItem(key);
    return q === '1' || (q !== '0' && (stored === '1' || (stored !== '0' && DEFAULTS[flag])));
  } catch {
    return q === '1' || (q !== '0' && DEFAULTS[flag]); // storage may be blocked
  }
}
