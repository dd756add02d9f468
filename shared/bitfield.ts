// Which pieces a peer (or we) have, in BEP 3 wire form: piece 0 is the high bit of byte 0.
import { WireError } from "./wire/errors.ts";

/** Bytes a bitfield of `pieceCount` pieces takes on the wire. */
export const bitfieldLength = (pieceCount: number): number => Math.ceil(pieceCount / 8);

/** True when the bits past the last piece (which BEP 3 says must be zero) are all clear. */
export function spareBitsClear(bytes: Uint8Array, pieceCount: number): boolean {
  const spare = bitfieldLength(pieceCount) * 8 - pieceCount;
  if (spare === 0) return true;
  const last = bytes[bytes.length - 1] ?? 0;
  return (last & ((1 << spare) - 1)) === 0;
}

export class Bitfield {
  readonly pieceCount: number;
  /** The wire form; kept in sync by set/clear. */
  readonly bytes: Uint8Array;
  #count = 0;

  /** `bytes`, when given, is copied; it must be exactly ceil(pieceCount / 8) bytes. */
  constructor(pieceCount: number, bytes?: Uint8Array) {
    if (!Number.isInteger(pieceCount) || pieceCount < 0) throw new RangeError(`bad piece count ${pieceCount}`);
    this.pieceCount = pieceCount;
    const length = bitfieldLength(pieceCount);
    if (bytes && bytes.length !== length) {
      throw new WireError("bad-bitfield", `a bitfield for ${pieceCount} pieces is ${length} bytes, got ${bytes.length}`);
    }
    this.bytes = bytes ? bytes.slice() : new Uint8Array(length);
    if (bytes) {
      // Spare bits would be counted as pieces that do not exist.
      const spare = length * 8 - pieceCount;
      if (spare > 0) this.bytes[length - 1]! &= 0xff << spare;
      for (const b of this.bytes) this.#count += popcount8(b);
    }
  }

  /** From a peer's `bitfield` message: wrong length or spare bits set are protocol errors. */
  static fromWire(bytes: Uint8Array, pieceCount: number): Bitfield {
    const length = bitfieldLength(pieceCount);
    if (bytes.length !== length) {
      throw new WireError("bad-bitfield", `a bitfield for ${pieceCount} pieces is ${length} bytes, got ${bytes.length}`);
    }
    if (!spareBitsClear(bytes, pieceCount)) throw new WireError("bad-bitfield", "bitfield has spare bits set past the last piece");
    return new Bitfield(pieceCount, bytes);
  }

  /** Every piece set (a seed's, or a fast peer's `have-all`). */
  static full(pieceCount: number): Bitfield {
    return new Bitfield(pieceCount, new Uint8Array(bitfieldLength(pieceCount)).fill(0xff));
  }

  has(i: number): boolean {
    if (!(i >= 0 && i < this.pieceCount)) return false;
    return (this.bytes[i >>> 3]! & (0x80 >>> (i & 7))) !== 0;
  }

  set(i: number): void {
    this.#check(i);
    const mask = 0x80 >>> (i & 7);
    const byte = this.bytes[i >>> 3]!;
    if ((byte & mask) === 0) {
      this.bytes[i >>> 3] = byte | mask;
      this.#count++;
    }
  }

  clear(i: number): void {
    this.#check(i);
    const mask = 0x80 >>> (i & 7);
    const byte = this.bytes[i >>> 3]!;
    if ((byte & mask) !== 0) {
      this.bytes[i >>> 3] = byte & ~mask;
      this.#count--;
    }
  }

  /** Number of pieces set (kept as a running count: O(1)). */
  count(): number {
    return this.#count;
  }

  isComplete(): boolean {
    return this.#count === this.pieceCount;
  }

  #check(i: number): void {
    if (!Number.isInteger(i) || i < 0 || i >= this.pieceCount) {
      throw new RangeError(`piece index ${i} is outside 0..${this.pieceCount - 1}`);
    }
  }
}

function popcount8(b: number): number {
  b = b - ((b >>> 1) & 0x55);
  b = (b & 0x33) + ((b >>> 2) & 0x33);
  return (b + (b >>> 4)) & 0x0f;
}
