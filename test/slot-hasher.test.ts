import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { BufferPool } from "../peer/pieces/pool.ts";
import { SlotHasher } from "../peer/verify/slot-hasher.ts";

const PIECE = 256 * 1024;

/** A shared pool of `pieces` slots filled with distinct bytes, and the SHA-1 of each slot. */
function poolWithPieces(pieces: number) {
  const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE * pieces, shared: true });
  const hashes = new Uint8Array(20 * pieces);
  const slots = Array.from({ length: pieces }, (_, i) => {
    const slot = pool.acquire()!;
    for (let k = 0; k < PIECE; k += 4096) slot.bytes.fill((i * 31 + k / 4096) & 0xff, k, k + 4096);
    hashes.set(createHash("sha1").update(slot.bytes).digest(), i * 20);
    return slot;
  });
  return { pool, hashes, slots };
}

describe("SlotHasher (finished pieces checked on the hashing thread, in place in the shared pool)", () => {
  test("a piece whose bytes match its hash passes, one with a single changed byte fails", async () => {
    const { pool, hashes, slots } = poolWithPieces(4);
    const hasher = new SlotHasher(pool.buffer as SharedArrayBuffer, hashes);
    try {
      expect(await hasher.check(0, slots[0]!.bytes)).toBe(true);
      slots[1]!.bytes[PIECE - 1]! ^= 1;
      expect(await hasher.check(1, slots[1]!.bytes)).toBe(false);
      // Checked against the right piece's hash: piece 2's bytes are not piece 3.
      expect(await hasher.check(3, slots[2]!.bytes)).toBe(false);
    } finally {
      hasher.stop();
    }
  });

  test("many pieces in flight at once each get their own answer", async () => {
    const { pool, hashes, slots } = poolWithPieces(16);
    slots[5]!.bytes[100]! ^= 0xff;
    slots[11]!.bytes[0]! ^= 0xff;
    const hasher = new SlotHasher(pool.buffer as SharedArrayBuffer, hashes);
    try {
      const answers = await Promise.all(slots.map((s, i) => hasher.check(i, s.bytes)));
      expect(answers).toEqual(slots.map((_, i) => i !== 5 && i !== 11));
      expect(hasher.pending).toBe(0);
    } finally {
      hasher.stop();
    }
  });

  test("a short last piece is hashed over its own length only", async () => {
    const { pool, slots } = poolWithPieces(1);
    const length = 1000;
    const hashes = new Uint8Array(createHash("sha1").update(slots[0]!.bytes.subarray(0, length)).digest());
    const hasher = new SlotHasher(pool.buffer as SharedArrayBuffer, hashes);
    try {
      expect(await hasher.check(0, slots[0]!.bytes.subarray(0, length))).toBe(true);
    } finally {
      hasher.stop();
    }
  });

  test("once the thread is gone, pieces still get checked (on the calling thread)", async () => {
    const { pool, hashes, slots } = poolWithPieces(2);
    const hasher = new SlotHasher(pool.buffer as SharedArrayBuffer, hashes);
    const before = hasher.check(0, slots[0]!.bytes); // in flight when the thread ends
    hasher.stop();
    slots[1]!.bytes[7]! ^= 1;
    expect(await before).toBe(true);
    expect(await hasher.check(0, slots[0]!.bytes)).toBe(true);
    expect(await hasher.check(1, slots[1]!.bytes)).toBe(false);
  });

  test("refuses bytes that are not in its pool (it could not read them from the other thread)", () => {
    const { pool, hashes } = poolWithPieces(1);
    const hasher = new SlotHasher(pool.buffer as SharedArrayBuffer, hashes);
    try {
      expect(() => hasher.check(0, new Uint8Array(PIECE))).toThrow(/shared pool/);
    } finally {
      hasher.stop();
    }
  });
});
