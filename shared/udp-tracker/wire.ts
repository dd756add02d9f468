// Big-endian field access shared by the request and response codecs.

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** An unsigned 64-bit count as a number (exact up to 2^53). */
export function readU64(v: DataView, at: number): number {
  return v.getUint32(at) * 0x1_0000_0000 + v.getUint32(at + 4);
}

/** A non-negative count as an unsigned 64-bit field (negative or non-finite -> 0, past 2^64 - 1 -> 2^64 - 1). */
export function writeU64(v: DataView, at: number, n: number): void {
  const value = Number.isFinite(n) && n > 0 ? Math.floor(n) : n === Infinity ? 2 ** 64 : 0;
  if (value >= 2 ** 64) {
    v.setUint32(at, 0xffffffff);
    v.setUint32(at + 4, 0xffffffff);
    return;
  }
  v.setUint32(at, Math.floor(value / 0x1_0000_0000));
  v.setUint32(at + 4, value % 0x1_0000_0000);
}
