// The small fixed evaluation at the end of a run: up to 8 held-out prompts decoded greedily with the base
// model and with the adapter, scored against the chosen answers (chrF2, chrF++, BLEU). The engine keeps the
// numbers with the run; both front doors see them.
import type { PreferenceRow } from '../data/types.ts';
import type { GpuContext } from '../gpu/context.ts';
import { Decoder } from '../generate/decoder.ts';
import { completePrompts } from '../generate/translate.ts';
import type { Lora } from '../model/lora.ts';
import type { BaseModel } from '../model/model.ts';
import type { TextTokenizer } from '../model/tokenizer.ts';
import type { EvalSample } from '../train/config.ts';
import { scoreTranslations } from './index.ts';

/** Prompts decoded at most: 8 keep the check under a few seconds on the tiny model and small on real ones. */
export const GENERATION_EVAL_ROWS = 8;

/**
 * The `gen/…` metrics and the outputs they score (the studio shows a few side by side), or null when no eval
 * row is plain text (chat rows have no single reference string).
 */
export async function generationEval(ctx: GpuContext, base: BaseModel, lora: Lora, tokenizer: TextTokenizer, evalRows: PreferenceRow[]): Promise<{ metrics: Record<string, number>; samples: EvalSample[] } | null> {
  const rows = evalRows.filter((r): r is PreferenceRow & { kind: 'text' } => r.kind === 'text').slice(0, GENERATION_EVAL_ROWS);
  if (!rows.length) return null;
  const dec = new Decoder(ctx, base, lora);
  try {
    const prompts = rows.map((r) => r.prompt);
    const refs = rows.map((r) => r.chosen.trim());
    // Translation rows answer on one line (ALMA); other rows stop at EOS.
    const opts = { maxNewTokens: 64, stopAtNewline: rows.every((r) => !!r.langPair) };
    // useLora is passed each time: completePrompts switches the adapter on unless told otherwise.
    const baseOut = await completePrompts(dec, tokenizer, prompts, { ...opts, useLora: false });
    const tunedOut = await completePrompts(dec, tokenizer, prompts, { ...opts, useLora: true });
    const b = scoreTranslations(baseOut, refs);
    const t = scoreTranslations(tunedOut, refs);
    const samples = prompts.map((prompt, i) => ({ prompt, reference: refs[i], base: baseOut[i], adapter: tunedOut[i] }));
    const metrics = {
      'gen/chrf2_base': b.chrf2.score,
      'gen/chrf2_adapter': t.chrf2.score,
      'gen/chrfpp_base': b.chrfpp.score,
      'gen/chrfpp_adapter': t.chrfpp.score,
      'gen/bleu_base': b.bleu.score,
      'gen/bleu_adapter': t.bleu.score,
      'gen/examples': rows.length,
    };
    return { metrics, samples };
  } finally {
    dec.release();
  }
}
