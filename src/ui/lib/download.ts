// Saving bytes as a file from the page.
import type { AdapterFiles } from '../../engine/types.ts';

const MIME: Record<string, string> = {
  '.json': 'application/json',
  '.zip': 'application/zip',
  '.safetensors': 'application/octet-stream',
};

function mimeOf(name: string): string {
  const ext = name.slice(name.lastIndexOf('.')).toLowerCase();
  return MIME[ext] ?? 'application/octet-stream';
}

export function downloadBytes(name: string, bytes: Uint8Array | string): void {
  const blob = new Blob([bytes as BlobPart], { type: mimeOf(name) });
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // Revoking at once can cancel the download in some browsers.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** One file (a zip) is saved as it is; several are saved one by one, prefixed so they stay together. */
export async function downloadAdapter(files: AdapterFiles, prefix: string): Promise<string[]> {
  if (files.files.length === 0) throw new Error('the engine returned no adapter files');
  const names = files.files.length === 1 ? [files.files[0].name] : files.files.map((f) => `${prefix}-${f.name}`);
  for (let i = 0; i < files.files.length; i++) {
    downloadBytes(names[i], files.files[i].bytes);
    // Chrome drops rapid successive downloads from one gesture without a short gap.
    if (i < files.files.length - 1) await new Promise((r) => setTimeout(r, 250));
  }
  return names;
}

export function safeFileStem(s: string): string {
  return s.replace(/[^\w.-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'adapter';
}
