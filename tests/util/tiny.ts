// The tiny demo model (public/models/tiny) on the GPU with its tokenizer and a decoder, for tests that decode.
import { resolve } from 'node:path';
import type { GpuContext } from '../../src/gpu/context.ts';
import { Decoder } from '../../src/generate/decoder.ts';
import { loadTokenizer } from '../../src/io/tokenizer.ts';
import { openModel } from '../../src/model/load.ts';
import { loadBaseModel, releaseBaseModel, type BaseModel } from '../../src/model/model.ts';
import { nodeFiles } from '../../src/model/node-files.ts';
import type { TextTokenizer } from '../../src/model/tokenizer.ts';
import { REPO } from '../train/util.ts';
import { gpu } from './gpu.ts';

export const TINY = resolve(REPO, 'public/models/tiny');

export interface TinyDecoding {
  ctx: GpuContext;
  base: BaseModel;
  tok: TextTokenizer;
  dec: Decoder;
  release(): void;
}

/** Loads the tiny model unquantized, its tokenizer, and a decoder without an adapter. */
export async function loadTinyDecoding(): Promise<TinyDecoding> {
  const ctx = await gpu();
  const opened = await openModel(nodeFiles(TINY));
  const base = await loadBaseModel(ctx, opened.cfg, opened.reader, 'none').finally(() => opened.close());
  const tok = await loadTokenizer({ tokenizerJson: opened.tokenizerJson!, tokenizerConfig: opened.tokenizerConfig ?? undefined });
  const dec = new Decoder(ctx, base, null);
  return { ctx, base, tok, dec, release: () => (dec.release(), releaseBaseModel(ctx, base)) };
}
