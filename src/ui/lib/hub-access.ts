// Where the studio's Hub requests go and with which token. The address is settings.hubUrl (src/settings.ts),
// which this origin may override with localStorage['cpo-studio:settings'] = '{"hubUrl": "http://127.0.0.1:8080"}'
// (a mirror, or the local Hub-shaped server of the browser tests). Storage rather than a URL parameter: a link
// must never be able to send the session's token to another host. The worker has its own copy of settings,
// so the address travels with each request (HubAccess), as the token does.
import type { HubAccess } from '../../engine/types.ts';
import { settings } from '../../settings.ts';

export const SETTINGS_KEY = 'cpo-studio:settings';

export function studioHubUrl(): string {
  try {
    const raw = globalThis.localStorage?.getItem(SETTINGS_KEY);
    const url = raw ? (JSON.parse(raw) as { hubUrl?: unknown }).hubUrl : undefined;
    if (typeof url === 'string' && /^https?:\/\/[^/\s]+/.test(url)) return url.replace(/\/+$/, '');
  } catch {
    // unreadable storage or JSON: the default address
  }
  return settings.hubUrl;
}

export function hubAccess(token: string): HubAccess {
  const t = token.trim();
  return { hubUrl: studioHubUrl(), ...(t ? { token: t } : {}) };
}
