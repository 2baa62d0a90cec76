// A tiny preprocessor so one .wgsl file can serve several weight types and tile sizes:
//   `#if NAME` / `#elif NAME` / `#else` / `#endif` keep or drop lines by a truthy define,
//   `{{NAME}}` is replaced by the define's value.
// Shared snippets are joined by the caller (e.g. the quantized-weight loaders before a matmul).

export type Defines = Record<string, string | number | boolean>;

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
  return out.join('\n').replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    if (!(name in defines)) throw new Error(`wgsl preprocess: {{${name}}} has no define`);
    return String(defines[name]);
  });
}
