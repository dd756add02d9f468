// RC4, the stream cipher MSE/PE uses for the payload (BitTorrent's "protocol encryption"). RC4 is weak
// as cryptography; MSE uses it for obfuscation only, and the spec fixes it, so we cannot pick another.
// Works on Uint8Array in place or from one buffer into another, with no allocation per call.

/** Keystream bytes the spec says to throw away after keying (the first bytes of RC4 leak key bits). */
export const MSE_RC4_DISCARD = 1024;

export class Rc4 {
  private readonly s = new Uint8Array(256);
  private i = 0;
  private j = 0;

  constructor(key: Uint8Array) {
    if (key.length === 0 || key.length > 256) throw new RangeError("an RC4 key is 1 to 256 bytes");
    const s = this.s;
    for (let k = 0; k < 256; k++) s[k] = k;
    let j = 0;
    for (let k = 0; k < 256; k++) {
      const t = s[k]!;
      j = (j + t + key[k % key.length]!) & 0xff;
      s[k] = s[j]!;
      s[j] = t;
    }
  }

  /** XORs the keystream over `bytes[start, end)`, in place. */
  apply(bytes: Uint8Array, start = 0, end = bytes.length): void {
    this.applyTo(bytes, start, bytes, start, end - start);
  }

  /** Writes `src[srcAt..+length)` XOR keystream to `dst[dstAt..)`; `src` and `dst` may be the same buffer. */
  applyTo(src: Uint8Array, srcAt: number, dst: Uint8Array, dstAt: number, length: number): void {
    if (length < 0 || srcAt < 0 || dstAt < 0 || srcAt + length > src.length || dstAt + length > dst.length) {
      throw new RangeError("RC4 range outside its buffer");
    }
    // Locals, not fields, in the loop: this is the whole cost of an encrypted connection.
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let n = 0; n < length; n++) {
      i = (i + 1) & 0xff;
      const a = s[i]!;
      j = (j + a) & 0xff;
      const b = s[j]!;
      s[i] = b;
      s[j] = a;
      dst[dstAt + n] = src[srcAt + n]! ^ s[(a + b) & 0xff]!;
    }
    this.i = i;
    this.j = j;
  }

  /** Advances the keystream by `n` bytes without using them. */
  skip(n: number): void {
    const s = this.s;
    let i = this.i;
    let j = this.j;
    for (let k = 0; k < n; k++) {
      i = (i + 1) & 0xff;
      const a = s[i]!;
      j = (j + a) & 0xff;
      s[i] = s[j]!;
      s[j] = a;
    }
    this.i = i;
    this.j = j;
  }

  /** The cipher's whole state (258 bytes) into `into`: cheap enough to take before every write. */
  saveState(into: Uint8Array): void {
    into.set(this.s);
    into[256] = this.i;
    into[257] = this.j;
  }

  restoreState(from: Uint8Array): void {
    this.s.set(from.subarray(0, 256));
    this.i = from[256]!;
    this.j = from[257]!;
  }
}

/** An RC4 cipher keyed and past the discarded keystream, as MSE uses it. */
export function mseRc4(key: Uint8Array): Rc4 {
  const rc4 = new Rc4(key);
  rc4.skip(MSE_RC4_DISCARD);
  return rc4;
}

/** Size of the buffer `saveState` fills. */
export const RC4_STATE_BYTES = 258;
