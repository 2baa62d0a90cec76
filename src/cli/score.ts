// `score --hyp FILE --ref FILE [--ref FILE2 ...] [--width N]`: chrF2, chrF++ and BLEU of a
// line-aligned hypothesis file against one or more reference files, sacreBLEU defaults.
import { formatBleu, formatChrf, scoreTranslations } from '../eval/index.ts';
import { command, helpOr, parseArgs, required, type ArgSpec } from './args.ts';
import { readLines } from './session.ts';

const SPEC: ArgSpec = {
  hyp: { type: 'string', help: 'hypotheses, one segment per line' },
  ref: { type: 'strings', help: 'references, line-aligned with --hyp; repeat for more references' },
  width: { type: 'number', default: 2, integer: true, min: 0, max: 20, help: 'decimals printed for the scores' },
};
const SYNOPSIS = '--hyp FILE --ref FILE [--ref FILE2 ...] [--width N]';

export const scoreCommand = command('score', async (argv: string[]): Promise<number> => {
  const p = parseArgs(argv, SPEC, 'score');
  if (helpOr(p, 'score', SYNOPSIS, SPEC)) return 0;
  const hypFile = required<string>(p, 'hyp', 'score');
  const refFiles = required<string[]>(p, 'ref', 'score');
  const width = p.width as number;
  const hyps = readLines(hypFile);
  const refs = refFiles.map(readLines);
  if (hyps.length === 0) throw new Error(`score: ${hypFile} has no lines`);
  const mismatched = refs.flatMap((r, k) => (r.length === hyps.length ? [] : [`${refFiles[k]} has ${r.length} lines`]));
  if (mismatched.length > 0) throw new Error(`score: line counts differ: ${hypFile} has ${hyps.length} lines but ${mismatched.join(', ')}`);
  const { chrf2, chrfpp, bleu } = scoreTranslations(hyps, refs);
  console.log(formatChrf(chrf2, { width, signature: chrf2.signature }));
  console.log(formatChrf(chrfpp, { width, signature: chrfpp.signature }));
  console.log(formatBleu(bleu, { width, signature: bleu.signature }));
  return 0;
});
