// `score` CLI: file reading, line-count checks, and the printed sacreBLEU-style lines.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { captureOutput } from '../cli/run.ts';
import { scoreCommand } from '../../src/cli/score.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-score-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, lines: string[], eol = '\n'): string {
  const p = join(dir, name);
  writeFileSync(p, lines.join(eol) + eol, 'utf8');
  return p;
}

const io = captureOutput();

// The sacreBLEU README multi-reference example.
const HYP = ['The dog bit the man.', "It wasn't surprising.", 'The man had just bitten him.'];
const REF1 = ['The dog bit the man.', 'It was not unexpected.', 'The man bit him first.'];
const REF2 = ['The dog had bit the man.', 'No one was surprised.', 'The man had bitten the dog.'];

describe('scoreCommand', () => {
  it('prints chrF2, chrF++ and BLEU with signatures for two references', async () => {
    const code = await scoreCommand(['--hyp', file('h.txt', HYP), '--ref', file('r1.txt', REF1), '--ref', file('r2.txt', REF2, '\r\n')]);
    expect(io.err).toEqual([]);
    expect(code).toBe(0);
    expect(io.out).toHaveLength(3);
    expect(io.out[0]).toMatch(/^chrF2\|nrefs:2\|case:mixed\|eff:yes\|nc:6\|nw:0\|space:no\|version:\S+ = 59\.73$/);
    expect(io.out[1]).toMatch(/^chrF2\+\+\|nrefs:2\|case:mixed\|eff:yes\|nc:6\|nw:2\|space:no\|version:\S+ = \d+\.\d\d$/);
    expect(io.out[2]).toMatch(
      /^BLEU\|nrefs:2\|case:mixed\|eff:no\|tok:13a\|smooth:exp\|version:\S+ = 48\.53 82\.4\/50\.0\/45\.5\/37\.5 \(BP = 0\.943 ratio = 0\.944 hyp_len = 17 ref_len = 18\)$/,
    );
  });

  it('names the files and line counts when they differ', async () => {
    const hyp = file('h3.txt', HYP);
    const ref = file('r2lines.txt', REF1.slice(0, 2));
    const code = await scoreCommand(['--hyp', hyp, '--ref', ref]);
    expect(code).toBe(1);
    expect(io.err.join('\n')).toContain(`${hyp} has 3 lines but ${ref} has 2 lines`);
    expect(io.out).toEqual([]);
  });

  it('rejects missing arguments and unreadable files', async () => {
    expect(await scoreCommand(['--hyp', file('h4.txt', HYP)])).toBe(2);
    expect(io.err.join('\n')).toMatch(/--ref is required/);
    expect(await scoreCommand(['--hyp', join(dir, 'nope.txt'), '--ref', file('r4.txt', REF1)])).toBe(1);
    expect(io.err.join('\n')).toMatch(/nope\.txt/);
  });

  it('--width changes printed precision', async () => {
    const code = await scoreCommand(['--hyp', file('h5.txt', HYP), '--ref', file('r5.txt', REF1), '--ref', file('r6.txt', REF2), '--width', '1']);
    expect(code).toBe(0);
    expect(io.out[2]).toMatch(/ = 48\.5 82\.4\//);
  });
});
