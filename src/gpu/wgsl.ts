// A tiny preprocessor so one .wgsl file can serve several weight types and tile sizes:
//   `#if NAME` / `#elif NAME` / `#else` / `#endif` keep or drop lines by a truthy define,
//   `{{NAME}}` is replaced by the define's value. A placeholder alone on its line is a generated block (the
//   unrolled statements of an `<op>.gen.ts`): every line of a multi-line value gets the placeholder's indent, so
//   generators write their lines unindented and the expanded WGSL still reads as the .wgsl file is laid out.
// Shared snippets are joined by the caller (e.g. the quantized-weight loaders before a matmul).

export type Defines = Record<string, string | number | boolean>;

/**
 * A kernel's source as a function of its defines (the inputs of its generator, not the expanded snippets).
 * GpuContext.compile caches pipelines under shaderKey(name, defines), so a key names every define by
 * construction; scripts/print-wgsl.ts prints `build(defines)` for any registered shader.
 */
export interface Shader<D extends Defines = Defines> {
  readonly name: string;
  /** What the defines mean, for print-wgsl's listing. */
  readonly doc: string;
  /** Defines that build a typical variant (print-wgsl's default, and proof that it compiles). */
  readonly example: D;
  build(defines: D): string;
}

export function defineShader<D extends Defines>(name: string, doc: string, example: D, build: (d: D) => string): Shader<D> {
  return { name, doc, example, build };
}

/** The pipeline cache key: the shader's name and every define, sorted, so equal defines give equal keys. */
export function shaderKey(name: string, defines: Defines): string {
  const parts = Object.keys(defines).sort().map((k) => `${k}=${String(defines[k])}`);
  return `${name}(${parts.join(',')})`;
}

/** A pipeline's id (GpuContext's cache and pipelineIds): its module's key and the entry point. */
export function keyedPipelineId(key: string, entryPoint = 'main'): string {
  return `${key}#${entryPoint}`;
}

/** The id of a kernel's pipeline for these defines. */
export function pipelineId(p: { shader: { name: string }; defines: Defines; entryPoint?: string }): string {
  return keyedPipelineId(shaderKey(p.shader.name, p.defines), p.entryPoint);
}

export function preprocess(source: string, defines: Defines = {}): string {
  const out: string[] = [];
  // Each frame: is this branch live, has any branch of this #if been taken, was the parent live.
  const stack: { live: boolean; taken: boolean; parent: boolean }[] = [];
  const live = () => (stack.length ? stack[stack.length - 1].live : true);
  const truthy = (name: string) => {
    const neg = name.startsWith('!');
    const v = defines[neg ? name.slice(1) : name];
    const t = v !== undefined && v !== false && v !== 0 && v !== '0' && v !== '';
    return neg ? !t : t;
  };
  source.split('\n').forEach((line, i) => {
    const m = /^\s*#(if|elif|else|endif)\b\s*(\S*)/.exec(line);
    if (!m) {
      if (live()) out.push(line);
      return;
    }
    const [, dir, arg] = m;
    if (dir === 'if') {
      const parent = live();
      const t = parent && truthy(arg);
      stack.push({ live: t, taken: t, parent });
    } else {
      const top = stack[stack.length - 1];
      if (!top) throw new Error(`wgsl preprocess: #${dir} without #if at line ${i + 1}`);
      if (dir === 'elif') {
        top.live = top.parent && !top.taken && truthy(arg);
        top.taken ||= top.live;
      } else if (dir === 'else') {
        top.live = top.parent && !top.taken;
        top.taken = true;
      } else stack.pop();
    }
  });
  if (stack.length) throw new Error('wgsl preprocess: unterminated #if');
  return out
    .join('\n')
    .replace(/^([ \t]*)\{\{(\w+)\}\}[ \t]*$/gm, (_, indent: string, name: string) => indent + value(name).replaceAll('\n', `\n${indent}`))
    .replace(/\{\{(\w+)\}\}/g, (_, name: string) => value(name));

  function value(name: string): string {
    if (!(name in defines)) throw new Error(`wgsl preprocess: {{${name}}} has no define`);
    return String(defines[name]);
  }
}
