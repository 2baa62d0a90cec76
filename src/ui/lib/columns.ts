// Column names of a file in an unknown layout, for the mapping selector. Reads only the head of the file;
// nested objects are offered as dotted paths (ALMA-R's "translation.de"), as the data layer accepts them.

const HEAD_BYTES = 256 * 1024;

export function keysOf(obj: unknown, prefix = '', depth = 0, out: string[] = []): string[] {
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return out;
  for (const [k, v] of Object.entries(obj as Record<string, unknown>)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (v && typeof v === 'object' && !Array.isArray(v) && depth < 2) keysOf(v, path, depth + 1, out);
    else out.push(path);
  }
  return out;
}

function splitDelimited(line: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out.map((s) => s.trim()).filter(Boolean);
}

/** Column names from the text at the head of a file, by the file's extension. */
export function columnsFromText(name: string, text: string): string[] {
  const n = name.toLowerCase().replace(/\.gz$/, '');
  const firstLine = text.split(/\r?\n/).find((l) => l.trim()) ?? '';
  if (n.endsWith('.csv')) return splitDelimited(firstLine, ',');
  if (n.endsWith('.tsv')) return splitDelimited(firstLine, '\t');
  if (n.endsWith('.jsonl')) {
    try {
      return keysOf(JSON.parse(firstLine));
    } catch {
      return [];
    }
  }
  if (n.endsWith('.json')) {
    // The head of a big array is not valid JSON; take the first complete object by brace matching.
    const start = text.indexOf('{', text.indexOf('[') + 1);
    let depth = 0;
    let inStr = false;
    for (let i = Math.max(0, start); i < text.length; i++) {
      const c = text[i];
      if (inStr) {
        if (c === '\\') i++;
        else if (c === '"') inStr = false;
      } else if (c === '"') inStr = true;
      else if (c === '{') depth++;
      else if (c === '}' && --depth === 0) {
        try {
          return keysOf(JSON.parse(text.slice(start, i + 1)));
        } catch {
          return [];
        }
      }
    }
  }
  return [];
}

export async function sniffColumns(file: Blob & { name?: string }): Promise<string[]> {
  const name = file.name ?? '';
  if (/\.parquet$/i.test(name)) return [];
  let blob: Blob = file.slice(0, HEAD_BYTES);
  if (/\.gz$/i.test(name) && typeof DecompressionStream !== 'undefined') {
    const stream = file.stream().pipeThrough(new DecompressionStream('gzip'));
    const reader = stream.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    while (size < HEAD_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.length;
    }
    await reader.cancel().catch(() => {});
    blob = new Blob(chunks as BlobPart[]);
  }
  return columnsFromText(name, await blob.text());
}

// Column names in common preference datasets, most specific first: TRL and Anthropic HH (chosen/rejected),
// SHP and StackExchange-paired (response_j is the preferred answer, response_k the other), UltraFeedback-style
// preferred/dispreferred, and plain good/bad, better/worse, positive/negative.
const GUESSES: Record<'prompt' | 'source' | 'chosen' | 'rejected', string[]> = {
  prompt: ['prompt', 'question', 'instruction', 'query', 'history', 'input'],
  source: ['source', 'src', 'source_text', 'src_text', 'sentence'],
  chosen: ['chosen', 'preferred', 'response_j', 'chosen_response', 'good', 'better', 'accepted', 'positive', 'pos', 'winner', 'win'],
  rejected: ['rejected', 'dispreferred', 'response_k', 'rejected_response', 'bad', 'worse', 'declined', 'negative', 'neg', 'loser', 'lose'],
};

/**
 * A first guess at the column mapping from the column names (exact names, case-insensitive, the last part of
 * a dotted path too); a role with no likely column is left out, for the user to pick.
 */
export function guessMapping(columns: string[]): Record<string, string> {
  const norm = (c: string) => c.toLowerCase().split('.').pop()!.replace(/[\s-]+/g, '_');
  const find = (names: string[], taken: Set<string>) => {
    for (const n of names) {
      const hit = columns.find((c) => !taken.has(c) && (c.toLowerCase() === n || norm(c) === n));
      if (hit) return hit;
    }
    return undefined;
  };
  const out: Record<string, string> = {};
  const taken = new Set<string>();
  for (const role of ['chosen', 'rejected', 'prompt', 'source'] as const) {
    if (role === 'source' && out.prompt) break;
    const hit = find(GUESSES[role], taken);
    if (hit) {
      out[role] = hit;
      taken.add(hit);
    }
  }
  return out;
}
