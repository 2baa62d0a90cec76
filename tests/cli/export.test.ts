// `cli export` on the tiny demo model and an adapter for it: each format written where --out says, readable by
// the project's own readers, and nothing already there replaced without --force.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { GgmlType, openGguf } from '../../src/io/gguf.ts';
import { exportPeftAdapter, importPeftAdapter, moduleShape, type LoraAdapter, type LoraModule } from '../../src/io/peft.ts';
import { memorySource } from '../../src/io/source.ts';
import { Rng } from '../../src/util/rng.ts';
import { startFakeHub } from '../helpers/hub-server.ts';
import { nodeOrt } from '../onnx/ort.ts';
import { REPO } from '../train/util.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpo-export-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const model = resolve(REPO, 'public/models/tiny');
const cfg = JSON.parse(readFileSync(join(model, 'config.json'), 'utf8')) as Record<string, unknown>;

/** The CLI in a child process; asynchronous, so a fake Hub served by this process can answer it. */
function cliIn(env: NodeJS.ProcessEnv, ...args: string[]): Promise<{ status: number; stderr: string }> {
  return new Promise((done) => {
    execFile(process.execPath, ['--import', 'tsx', '--import', './scripts/wgsl-loader.mjs', 'src/cli/main.ts', ...args], { cwd: REPO, encoding: 'utf8', timeout: 120_000, env }, (err, _out, stderr) =>
      done({ status: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}
const cli = (...args: string[]) => cliIn(process.env, ...args);

// An adapter on q_proj and down_proj of both layers, written as train writes it.
const rng = new Rng(3);
const modules: LoraModule[] = ['q_proj', 'down_proj'];
const adapter: LoraAdapter = {
  settings: { r: 2, alpha: 4, dropout: 0, targetModules: modules, useRslora: false, baseModel: 'tiny' },
  pairs: [0, 1].flatMap((layer) =>
    modules.map((module) => {
      const { inFeatures, outFeatures } = moduleShape(cfg as never, module);
      return { layer, module, inFeatures, outFeatures, A: Float32Array.from({ length: 2 * inFeatures }, () => rng.normal()), B: Float32Array.from({ length: outFeatures * 2 }, () => rng.normal()) };
    }),
  ),
};
const adapterDir = join(dir, 'my adapter');
mkdirSync(adapterDir);
const peft = exportPeftAdapter(adapter);
writeFileSync(join(adapterDir, 'adapter_config.json'), peft.config);
writeFileSync(join(adapterDir, 'adapter_model.safetensors'), peft.weights);

// Each CLI call starts node + tsx (5 to 12 s measured under load); a test makes up to three.
describe('cli export', { timeout: 300_000 }, () => {
  it('--format peft writes a folder PEFT reads back, or one .zip', async () => {
    const out = join(dir, 'peft out');
    expect((await cli('export', '--model', model, '--adapter', adapterDir, '--format', 'peft', '--out', out, '--dtype', 'f16')).status).toBe(0);
    const back = await importPeftAdapter({ config: readFileSync(join(out, 'adapter_config.json'), 'utf8'), weights: new Uint8Array(readFileSync(join(out, 'adapter_model.safetensors'))) }, cfg as never);
    expect(back.pairs.map((p) => `${p.layer}.${p.module}`)).toEqual(adapter.pairs.map((p) => `${p.layer}.${p.module}`));
    expect(Math.abs(back.pairs[0].A[0] - adapter.pairs[0].A[0])).toBeLessThan(2e-3 * Math.abs(adapter.pairs[0].A[0]) + 1e-6);
    const zip = join(dir, 'adapter.zip');
    expect((await cli('export', '--model', model, '--adapter', adapterDir, '--format', 'peft', '--out', zip)).status).toBe(0);
    expect(readFileSync(zip).subarray(0, 4)).toEqual(Buffer.from('PK\x03\x04', 'latin1'));
  });

  it('--format gguf writes one llama.cpp LoRA file, and refuses to replace it without --force', async () => {
    const out = join(dir, 'adapter.gguf');
    expect((await cli('export', '--model', model, '--adapter', adapterDir, '--format', 'gguf', '--out', out)).status).toBe(0);
    const g = await openGguf(memorySource(new Uint8Array(readFileSync(out)), 'adapter.gguf'));
    expect([g.metadata.get('general.type'), g.metadata.get('adapter.type'), g.metadata.get('adapter.lora.alpha')]).toEqual(['adapter', 'lora', 4]);
    expect(g.tensors.get('blk.1.ffn_down.weight.lora_b')).toMatchObject({ dims: [2, cfg.hidden_size], type: GgmlType.F32 });
    const again = await cli('export', '--model', model, '--adapter', adapterDir, '--format', 'gguf', '--out', out);
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/adapter\.gguf already exists \(pass --force/);
    expect((await cli('export', '--model', model, '--adapter', adapterDir, '--format', 'gguf', '--out', out, '--force')).status).toBe(0);
  });

  it('--format onnx writes the transformers.js folder, its model runs in onnxruntime-web', async () => {
    const out = join(dir, 'web');
    expect((await cli('export', '--model', model, '--adapter', adapterDir, '--format', 'onnx', '--out', out, '--max-positions', '64')).status).toBe(0);
    for (const f of ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'generation_config.json'), 'utf8'))).toEqual(JSON.parse(readFileSync(join(model, 'generation_config.json'), 'utf8')));
    const session = await nodeOrt().InferenceSession.create(new Uint8Array(readFileSync(join(out, 'onnx/model.onnx'))));
    expect(session.inputNames.slice(0, 3)).toEqual(['input_ids', 'attention_mask', 'position_ids']);
    expect(session.outputNames).toContain('present.1.value');
    await session.release();
  });

  it('--model takes a Hub id, fetched into the Hugging Face cache (HF_HOME) from the Hub (a local fake)', async () => {
    const files = Object.fromEntries(readdirSync(model).map((f) => [f, new Uint8Array(readFileSync(join(model, f)))]));
    const hub = await startFakeHub({ 'someone/tiny': { revisions: { main: files } } });
    try {
      const home = join(dir, 'hf home');
      const out = join(dir, 'hub.gguf');
      const r = await cliIn({ ...process.env, HF_HOME: home, HF_ENDPOINT: hub.url, HF_TOKEN: '' }, 'export', '--model', 'someone/tiny', '--adapter', adapterDir, '--format', 'gguf', '--out', out);
      expect(r.status, r.stderr).toBe(0);
      expect(existsSync(join(home, 'hub/models--someone--tiny'))).toBe(true);
      expect(readFileSync(out)).toEqual(readFileSync(join(dir, 'adapter.gguf')));
    } finally {
      await hub.stop();
    }
  });

  it('names what is wrong: an unknown format (exit 2), a missing adapter file or model (exit 1)', async () => {
    const bad = await cli('export', '--model', model, '--adapter', adapterDir, '--format', 'safetensors', '--out', join(dir, 'x'));
    expect([bad.status, bad.stderr]).toEqual([2, expect.stringMatching(/export: --format must be one of peft, gguf, onnx; got "safetensors"/)]);
    const none = await cli('export', '--model', model, '--adapter', dir, '--format', 'gguf', '--out', join(dir, 'y.gguf'));
    expect([none.status, none.stderr]).toEqual([1, expect.stringMatching(/adapter_config\.json: not found/)]);
    const nowhere = await cli('export', '--model', join(dir, 'no model'), '--adapter', adapterDir, '--format', 'gguf', '--out', join(dir, 'z.gguf'));
    expect([nowhere.status, nowhere.stderr]).toEqual([1, expect.stringMatching(/no model: no such file or folder/)]);
  });
});
