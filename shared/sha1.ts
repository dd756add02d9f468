// SHA-1 (FIPS 180-4) in plain TypeScript, synchronous and incremental. Web Crypto offers only an
// async one-shot digest, and parsing a torrent must be synchronous; info dictionaries are small, so
// speed here does not matter. Bulk piece hashing in the peer uses Bun's native hasher instead.

export interface Sha1Hasher {
  update(bytes: Uint8Array): Sha1Hasher;
  /** The 20-byte digest; the hasher must not be used afterwards. */
  digest(): Uint8Array;
}

export class Sha1 implements Sha1Hasher {
  private readonly h = new Uint32Array([0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0]);
  private readonly block = new Uint8Array(64);
  private readonly w = new Uint32Array(80);
  private blockUsed = 0;
  private totalBytes = 0;

  update(bytes: Uint8Array): this {
    this.totalBytes += bytes.length;
    let i = 0;
    if (this.blockUsed > 0) {
      const take = Math.min(64 - this.blockUsed, bytes.length);
      this.block.set(bytes.subarray(0, take), this.blockUsed);
      this.blockUsed += take;
      i = take;
      if (this.blockUsed < 64) return this;
      this.compress(this.block, 0);
      this.blockUsed = 0;
    }
    for (; i + 64 <= bytes.length; i += 64) this.compress(bytes, i);
    if (i < bytes.length) {
      this.block.set(bytes.subarray(i));
      this.blockUsed = bytes.length - i;
    }
    return this;
  }

  digest(): Uint8Array {
    const bitsHigh = Math.floor(this.totalBytes / 0x20000000);
    const bitsLow = (this.totalBytes * 8) >>> 0;
    const padding = new Uint8Array(this.blockUsed < 56 ? 64 - this.blockUsed : 128 - this.blockUsed);
    padding[0] = 0x80;
    putUint32(padding, padding.length - 8, bitsHigh);
    putUint32(padding, padding.length - 4, bitsLow);
    this.update(padding);
    // Written byte by byte, not through a DataView of `out.buffer`: reading a small Uint8Array's .buffer
    // makes JavaScriptCore give it an ArrayBuffer of its own for life, and an info hash lives as long as
    // its torrent (10,000 torrents added through the daemon's API held 10,000 such buffers).
    const out = new Uint8Array(20);
    for (let i = 0; i < 5; i++) putUint32(out, i * 4, this.h[i]!);
    return out;
  }

  private compress(data: Uint8Array, offset: number): void {
    const w = this.w;
    for (let t = 0; t < 16; t++) {
      const p = offset + t * 4;
      w[t] = (data[p]! << 24) | (data[p + 1]! << 16) | (data[p + 2]! << 8) | data[p + 3]!;
    }
    for (let t = 16; t < 80; t++) {
      const x = w[t - 3]! ^ w[t - 8]! ^ w[t - 14]! ^ w[t - 16]!;
      w[t] = (x << 1) | (x >>> 31);
    }
    let a = this.h[0]!,
      b = this.h[1]!,
      c = this.h[2]!,
      d = this.h[3]!,
      e = this.h[4]!;
    for (let t = 0; t < 80; t++) {
      let f: number, k: number;
      if (t < 20) (f = (b & c) | (~b & d)), (k = 0x5a827999);
      else if (t < 40) (f = b ^ c ^ d), (k = 0x6ed9eba1);
      else if (t < 60) (f = (b & c) | (b & d) | (c & d)), (k = 0x8f1bbcdc);
      else (f = b ^ c ^ d), (k = 0xca62c1d6);
      const temp = (((a << 5) | (a >>> 27)) + f + e + k + w[t]!) >>> 0;
      e = d;
      d = c;
      c = (b << 30) | (b >>> 2);
      b = a;
      a = temp;
    }
    this.h[0] = this.h[0]! + a;
    this.h[1] = this.h[1]! + b;
    this.h[2] = this.h[2]! + c;
    this.h[3] = this.h[3]! + d;
    this.h[4] = this.h[4]! + e;
  }
}

/** Big-endian. */
function putUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** SHA-1 of `bytes` in one call. */
export function sha1(bytes: Uint8Array): Uint8Array {
  return new Sha1().update(bytes).digest();
}
