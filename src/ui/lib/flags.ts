// Feature flags: off until the engine supports the feature. Turn one on with ?compare=1 in the URL
// (remembered in localStorage) or localStorage['cpo-studio:flag:compare'] = '1'.

export type Flag = 'compare';

export function flagEnabled(flag: Flag, search = globalThis.location?.search ?? ''): boolean {
  const key = `cpo-studio:flag:${flag}`;
  const q = new URLSearchParams(search).get(flag);
  try {
    if (q === '1') globalThis.localStorage?.setItem(key, '1');
    if (q === '0') globalThis.localStorage?.removeItem(key);
    return q === '1' || (q !== '0' && globalThis.localStorage?.getItem(key) === '1');
  } catch {
    return q === '1'; // storage may be blocked
  }
}
