// Where the Hub access token is kept: sessionStorage by default (gone when the tab closes), localStorage only
// when the user asks to be remembered. Never in the store's persisted state or in a URL.
const KEY = 'cpo-studio:hub-token';

function stores(): { session?: Storage; local?: Storage } {
  try {
    return { session: globalThis.sessionStorage, local: globalThis.localStorage };
  } catch {
    return {}; // storage blocked: the token lives in memory only
  }
}

export function loadHubToken(): { token: string; remember: boolean } {
  const { session, local } = stores();
  const remembered = local?.getItem(KEY);
  if (remembered) return { token: remembered, remember: true };
  return { token: session?.getItem(KEY) ?? '', remember: false };
}

export function saveHubToken(token: string, remember: boolean): void {
  const { session, local } = stores();
  const t = token.trim();
  if (remember && t) local?.setItem(KEY, t);
  else local?.removeItem(KEY);
  if (!remember && t) session?.setItem(KEY, t);
  else session?.removeItem(KEY);
}
