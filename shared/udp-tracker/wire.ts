// Big-endian field access shared by the request and response codecs, on the bytes directly: a
// DataView per packet costs more than the few fields it would read (JavaScriptCore allocates it).

export function readU16(b: Uint8Array, at: number): number {
  return (b[at]! << 8) | b[at + 1]!;
}

export function readU32(b: Uint8Array, at: number): number {
  return ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;
}

export function readI32(b: Uint8Array, at: number): number {
  return (b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!;
}

/** An unsigned 64-bit count as a number (exact up to 2^53). */
export function readU64(b: Uint8Array, at: number): number {
  return readU32(b, at) * 0x1_0000_0000 + readU32(b, at + 4);
}

export function readU64Big(b: Uint8Array, at: number): bigint {
  return (BigInt(readU32(b, at)) << 32n) | BigInt(readU32(b, at + 4));
}

export function writeU16(b: Uint8Array, at: number, n: number): void {
  b[at] = n >>> 8;
  b[at + 1] = n;
}

export function writeU32(b: Uint8Array, at: number, n: number): void {
  b[at] = n >>> 24;
  b[at + 1] = n >>> 16;
  b[at + 2] = n >>> 8;
  b[at + 3] = n;
}

export function writeU64Big(b: Uint8Array, at: number, n: bigint): void {
  const v = BigInt.asUintN(64, n);
  writeU32(b, at, Number(v >> 32n));
  writeU32(b, at + 4, Number(v & 0xffff_ffffn));
}

/** A non-negative count as an unsigned 64-bit field (negative or non-finite -> 0, past 2^64 - 1 -> 2^64 - 1). */
export function writeU64(b: Uint8Array, at: number, n: number): void {
  const value = Number.isFinite(n) && n > 0 ? Math.floor(n) : n === Infinity ? 2 ** 64 : 0;
  if (value >= 2 ** 64) {
    writeU32(b, at, 0xffffffff);
    writeU32(b, at + 4, 0xffffffff);
    return;
  }
  writeU32(b, at, Math.floor(value / 0x1_0000_0000));
  writeU32(b, at + 4, value % 0x1_0000_0000);
}
