// FNV-1a (32-bit, two lanes with different offsets = 64 bits of fingerprint) over numbers and strings:
// enough to tell "is this the same model/dataset" when a run resumes, cheap enough to run on every load.

export class Fingerprint {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;

  number(n: number): this {
    return this.word(n | 0).word(Math.floor(n / 2 ** 32) | 0);
  }

  numbers(xs: ArrayLike<number>): this {
    this.number(xs.length);
    for (let i = 0; i < xs.length; i++) this.word(xs[i] | 0);
    return this;
  }

  string(s: string): this {
    this.number(s.length);
    for (let i = 0; i < s.length; i++) this.word(s.charCodeAt(i));
    return this;
  }

  private word(w: number): this {
    for (let k = 0; k < 4; k++) {
      const byte = (w >>> (8 * k)) & 0xff;
      this.a = Math.imul(this.a ^ byte, 0x01000193) >>> 0;
      this.b = Math.imul(this.b ^ byte, 0x01000193) >>> 0;
    }
    return this;
  }

  hex(): string {
    return this.a.toString(16).padStart(8, '0') + this.b.toString(16).padStart(8, '0');
  }
}
