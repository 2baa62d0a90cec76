// The command line as Node users expect it, without a GPU: -h everywhere, usage errors exit 2 naming the
// option and what it accepts, stray arguments refused, folders where files belong named, and `validate`.
// Commands run as spawned processes (what a shell sees) where the exit code is the point, in process otherwise.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { evalCommand } from '../../src/cli/eval.ts';
import { exportCommand } from '../../src/cli/export.ts';
import { logpsCommand } from '../../src/cli/logps.ts';
import { scoreCommand } from '../../src/cli/score.ts';
import { trainCommand } from '../../src/cli/train.ts';
import { translateCommand } from '../../src/cli/translate.ts';
import { validateCommand } from '../../src/cli/validate.ts';
import { captureOutput, spawnCli } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-cli-conv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const good = { prompt: 'Q: 2+2?\nA:', chosen: ' 4', rejected: ' five' };
function dataFile(name: string, lines: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, lines.join('\n') + '\n');
  return p;
}
// Line 2 lacks `rejected`, line 3 is not JSON, line 4 is a good row again.
const mixed = dataFile('mixed.jsonl', [JSON.stringify(good), JSON.stringify({ prompt: 'p', chosen: 'c' }), '{oops', JSON.stringify({ ...good, chosen: ' four' })]);
const clean = dataFile('clean.jsonl', [JSON.stringify(good)]);
const folder = join(dir, 'a-folder');
mkdirSync(folder);

const io = captureOutput();

const COMMANDS = {
  validate: validateCommand,
  logps: logpsCommand('logps'),
  grads: logpsCommand('grads'),
  train: trainCommand,
  translate: translateCommand,
  eval: evalCommand,
  export: exportCommand,
  score: scoreCommand,
};

describe('the cpo-studio process', () => {
  it('exits 0 with the command list for --help, 2 for no command or an unknown one, 2 for an unknown option', async () => {
    const [help, none, unknown, badOption, stray] = await Promise.all([
      spawnCli(['--help']),
      spawnCli([]),
      spawnCli(['trian']),
      spawnCli(['validate', '--data', clean, '--bogus', '1']),
      spawnCli(['logps', 'extra.jsonl']),
    ]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/usage: cpo-studio <command>/);
    for (const c of Object.keys(COMMANDS)) expect(help.stdout).toContain(`  ${c}`);
    expect(none.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "trian"/);
    expect(badOption.code).toBe(2);
    expect(badOption.stderr).toMatch(/validate: unknown option --bogus/);
    expect(badOption.stderr).toMatch(/see cpo-studio validate --help/);
    expect(stray.code).toBe(2);
    expect(stray.stderr).toMatch(/logps: unexpected argument "extra.jsonl"/);
  });

  it('validate: the report on stdout, progress on stderr, exit 0; --json is one object; --strict exits 1 naming the first rows', async () => {
    const [text, json, strict] = await Promise.all([
      spawnCli(['validate', '--data', mixed]),
      spawnCli(['validate', '--data', mixed, '--json']),
      spawnCli(['validate', '--data', mixed, '--strict']),
    ]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/jsonl, trl rows/);
    expect(text.stdout).toMatch(/records read:\s+4/);
    expect(text.stdout).toMatch(/rows usable:\s+2/);
    expect(text.stdout).toMatch(/row 2 \[rejected\]: missing field/);
    expect(text.stdout).toMatch(/characters \(2 rows\)/);
    expect(text.stderr).toMatch(/data: read .*mixed\.jsonl/);
    expect(json.code).toBe(0);
    const j = JSON.parse(json.stdout);
    expect(j).toMatchObject({ container: 'jsonl', format: 'trl', rows: 4, usable: 2, setAside: 2 });
    expect(j.issues).toEqual([
      expect.objectContaining({ line: 2, field: 'rejected', reason: 'missing-field' }),
      expect.objectContaining({ line: 3, field: null, reason: 'malformed-json' }),
    ]);
    expect(j.lengths.chosen).toEqual({ min: 2, max: 5, mean: 3.5, total: 7 });
    expect(strict.code).toBe(1);
    expect(strict.stderr).toMatch(/mixed\.jsonl: 2 rows set aside \(--strict\): row 2 \[rejected\]: missing-field: .*; row 3: malformed-json/);
  });
});

describe('every command', () => {
  it('prints its usage on stdout for -h and --help, and exits 0', async () => {
    for (const [name, run] of Object.entries(COMMANDS)) {
      for (const flag of ['-h', '--help']) {
        io.out.length = 0;
        expect(await run([flag]), `${name} ${flag}`).toBe(0);
        expect(io.out.join('\n'), name).toMatch(new RegExp(`^usage: cpo-studio ${name} `));
        expect(io.out.join('\n'), name).toMatch(/-h, --help/);
      }
    }
  });

  it('refuses unknown options and stray arguments with exit 2', async () => {
    for (const [name, run] of Object.entries(COMMANDS)) {
      io.err.length = 0;
      expect(await run(['--no-such-option']), name).toBe(2);
      expect(io.err.join('\n')).toContain(`${name}: unknown option --no-such-option`);
      io.err.length = 0;
      expect(await run(['stray']), name).toBe(2);
      expect(io.err.join('\n')).toContain(`${name}: unexpected argument "stray"`);
    }
  });
});

describe('option values (issue 16)', () => {
  const base = ['--model', folder, '--data', clean, '--out', join(dir, 'never')];
  it.each([
    [['--loss', 'kto'], /--loss must be one of sigmoid, hinge, ipo, simpo, dpo, sft; got "kto"/],
    [['--schedule', 'warm'], /--schedule must be one of constant, linear, cosine, inverse_sqrt; got "warm"/],
    [['--dtype', 'f64'], /--dtype must be one of f32, f16; got "f64"/],
    [['--eval-fraction=-0.1'], /--eval-fraction expects a number in \[0, 0\.9\], got "-0\.1"/],
    [['--eval-fraction', '-0.1'], /--eval-fraction needs a value; a value starting with "-" is written --eval-fraction=VALUE/],
    [['--quant', 'q3'], /--quant must be one of none, q8_0, q4_0, f16; got "q3"/],
    [['--max-steps', '2.5'], /--max-steps expects an integer >= 0, got "2\.5"/],
    [['--lr', 'fast'], /--lr expects a number > 0, got "fast"/],
    [['--preset', 'turbo'], /--preset must be one of alma-r, quick, custom; got "turbo"/],
    [['--targets', 'q_proj,qq_proj'], /target_modules: must be all-linear or some of q_proj/],
  ])('train %j is a usage error naming the option and the allowed values', async (extra, message) => {
    expect(await trainCommand([...base, ...extra])).toBe(2);
    expect(io.err.join('\n')).toMatch(message);
  });

  it('logps and grads check their choices too', async () => {
    expect(await logpsCommand('logps')(['--loss', 'kto', ...base])).toBe(2);
    expect(io.err.join('\n')).toMatch(/logps: --loss must be one of/);
    expect(await logpsCommand('grads')(['--targets', 'q_proj,nope', ...base])).toBe(2);
    expect(io.err.join('\n')).toMatch(/grads: --targets: target_modules: unknown module nope/);
  });
});

describe('paths', () => {
  it('a folder where a file is expected is named, never a bare EISDIR', async () => {
    expect(await validateCommand(['--data', folder])).toBe(1);
    expect(await scoreCommand(['--hyp', folder, '--ref', folder])).toBe(1);
    expect(await logpsCommand('logps')(['--model', folder, '--data', clean, '--out', folder])).toBe(1);
    expect(await trainCommand(['--model', folder, '--data', folder, '--out', join(dir, 'o')])).toBe(1);
    const text = io.err.join('\n');
    expect(text).not.toMatch(/EISDIR/);
    expect(text.match(new RegExp(`${folder}: is a folder`, 'g'))).toHaveLength(4);
  });
});

describe('the data report', () => {
  it('eval --data prints it (its bad rows no longer vanish) and --strict refuses them before any model loads', async () => {
    expect(await evalCommand(['--model', folder, '--adapter', folder, '--data', mixed, '--strict'])).toBe(1);
    const text = io.err.join('');
    expect(text).toMatch(/records read:\s+4/);
    expect(text).toMatch(/row 3: malformed JSON/);
    expect(text).toMatch(/2 rows set aside \(--strict\)/);
  });

  it('logps --strict refuses a file with a set-aside row before any model loads', async () => {
    expect(await logpsCommand('logps')(['--model', folder, '--data', mixed, '--out', join(dir, 'x.json'), '--strict'])).toBe(1);
    expect(io.err.join('')).toMatch(/mixed\.jsonl: 2 rows set aside \(--strict\): row 2 \[rejected\]/);
  });

  it('no usable rows is an error naming the first rows', async () => {
    const bad = dataFile('bad.jsonl', ['{"prompt":"a"}', '{"chosen":"b"}']);
    expect(await validateCommand(['--data', bad])).toBe(1);
    expect(io.err.join('')).toMatch(/bad\.jsonl: no usable rows: row 1 \[chosen\]: missing-field/);
  });
});
