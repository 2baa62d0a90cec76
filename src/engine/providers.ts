// FileProviders for the browser's model sources: the built-in demo model, dropped files, a dropped GGUF,
// a Hub download. (Node folders are in model/node-files.ts.)
import { downloadHubModel } from '../io/hub.ts';
import { blobSource } from '../io/source.ts';
import type { FileProvider } from '../model/load.ts';
import type { ModelSource } from './types.ts';

export const DEMO_MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

function blobProvider(name: string, files: Map<string, Blob>): FileProvider {
  return {
    name,
    files: () => [...files.keys()],
    open: async (f) => {
      const b = files.get(f);
      if (!b) throw new Error(`${name}: file ${f} is missing`);
      return blobSource(b, f);
    },
  };
}

/** Opens a folder or file on disk (Node only): the CLI passes model/node-files.ts's nodeFiles. */
export type PathFiles = (path: string) => FileProvider;

export async function providerFor(source: ModelSource, onProgress?: (loaded: number, total: number, what: string) => void, baseUrl = '/', pathFiles?: PathFiles): Promise<FileProvider> {
  switch (source.kind) {
    case 'demo': {
      const files = new Map<string, Blob>();
      for (const f of DEMO_MODEL_FILES) {
        const res = await fetch(`${baseUrl}models/tiny/${f}`);
        if (!res.ok) throw new Error(`demo model: ${f}: HTTP ${res.status}`);
        files.set(f, await res.blob());
        onProgress?.(files.size, DEMO_MODEL_FILES.length, f);
      }
      return blobProvider('Tiny demo model', files);
    }
    case 'hub': {
      const r = await downloadHubModel(source.id, { revision: source.revision, token: source.token, hubUrl: source.hubUrl, onOverall: (l, t) => onProgress?.(l, t ?? 0, source.id) });
      return blobProvider(source.id, r.files);
    }
    case 'files': {
      // A dropped folder gives paths like "model/config.json": keep the file names.
      const files = new Map<string, Blob>();
      for (const f of source.files) files.set(f.name.split('/').pop()!, f);
      const root = (source.files[0] as File & { webkitRelativePath?: string })?.webkitRelativePath?.split('/')[0] || 'model';
      return blobProvider(root, files);
    }
    case 'gguf':
      return blobProvider(source.file.name, new Map([[source.file.name, source.file]]));
    case 'path': {
      if (pathFiles) return pathFiles(source.path);
      // Without one (tests run the engine in Node from source), the Node module is loaded here, hidden from
      // the browser bundle.
      const mod = '../model/node-files.ts';
      const { nodeFiles } = (await import(/* @vite-ignore */ mod)) as typeof import('../model/node-files.ts');
      return nodeFiles(source.path);
    }
  }
}
