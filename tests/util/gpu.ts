// One GPU context per test file (vitest runs each file in its own process), opened on first use
// and destroyed after the file's last test.
import { afterAll } from 'vitest';
import { GpuContext } from '../../src/gpu/context.ts';

let ctx: Promise<GpuContext> | null = null;

afterAll(async () => {
  if (ctx) (await ctx).destroy();
  ctx = null;
});

export function gpu(): Promise<GpuContext> {
  ctx ??= GpuContext.create();
  return ctx;
}
