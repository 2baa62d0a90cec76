// `score --hyp FILE --ref FILE [--ref FILE2 ...] [--width N]`: chrF2, chrF++ and BLEU of a
// line-aligned hypothesis file against one or more reference files, sacreBLEU defaults.
import { readTextLines } from '../data/node-text.ts';
import { formatBleu, formatChrf, scoreTranslations } from '../eval/index.ts';
import { parseArgs, required, usage, type ArgSpec } from './args.ts';

const SPEC: ArgSpec = {
  hyp: { type: 'string', help: 'hypotheses, one segment per line' },
  ref: { type: 'strings', help: 'references, line-aligned with --hyp; repeat for more references' },
  width: { type: 'number', default: 2, help: 'decimals printed for the scores' },
  help: { type: 'boolean', help: 'show this help' },
};
const SYNOPSIS = '--hyp FILE --ref FILE [--ref FILE2 ...] [--width N]';

interface ScoreArgs {
  hyp: string;
  refs: string[];
  width: number;
}

function parse(argv: string[]): ScoreArgs | 'help' {
  const p = parseArgs(argv[0] === 'score' ? argv.slice(1) : argv, SPEC, 'score');
  if (p.help) return 'help';
  if (p._.length > 0) throw new Error(`score: unexpected argument ${JSON.stringify(p._[0])}`);
  const hyp = required<string>(p, 'hyp', 'score');
  const refs = required<string[]>(p, 'ref', 'score');
  const width = p.width as number;
  if (!Number.isInteger(width) || width < 0 || width > 20) throw new Error('score: --width needs an integer 0..20');
  return { hyp, refs, width };
}

/** File lines as sacreBLEU reads them: split on '\n' only, final newline not starting a line, CR of CRLF dropped. */
function readLines(path: string): string[] {
  return readTextLines(path);
}

export async function scoreCommand(argv: string[]): Promise<number> {
  let parsed: ScoreArgs | 'help';
  try {
    parsed = parse(argv);
  } catch (e) {
    console.error(`${(e as Error).message}\n${usage('score', SYNOPSIS, SPEC)}`);
    return 2;
  }
  if (parsed === 'help') {
    console.log(usage('score', SYNOPSIS, SPEC));
    return 0;
  }
  let hyps: string[];
  let refs: string[][];
  try {
    hyps = readLines(parsed.hyp);
    refs = parsed.refs.map(readLines);
  } catch (e) {
    console.error(`score: ${(e as Error).message}`);
    return 1;
  }
  if (hyps.length === 0) {
    console.error(`score: ${parsed.hyp} has no lines`);
    return 1;
  }
  const mismatched = refs.flatMap((r, k) => (r.length === hyps.length ? [] : [`${parsed.refs[k]} has ${r.length} lines`]));
  if (mismatched.length > 0) {
    console.error(`score: line counts differ: ${parsed.hyp} has ${hyps.length} lines but ${mismatched.join(', ')}`);
    return 1;
  }
  let scores;
  try {
    scores = scoreTranslations(hyps, refs);
  } catch (e) {
    console.error(`score: ${(e as Error).message}`);
    return 1;
  }
  const { chrf2, chrfpp, bleu } = scores;
  const width = parsed.width;
  console.log(formatChrf(chrf2, { width, signature: chrf2.signature }));
  console.log(formatChrf(chrfpp, { width, signature: chrfpp.signature }));
  console.log(formatBleu(bleu, { width, signature: bleu.signature }));
  return 0;
}
