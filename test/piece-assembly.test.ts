import { describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { PieceAssembly } from "../peer/pieces/piece-assembly.ts";
import { BufferPool } from "../peer/pieces/pool.ts";
import { BLOCK_SIZE } from "../shared/wire/types.ts";

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}
const sha1 = (b: Uint8Array) => new Uint8Array(createHash("sha1").update(b).digest());

function blocksOf(piece: Uint8Array): { begin: number; data: Uint8Array }[] {
  const out = [];
  for (let begin = 0; begin < piece.length; begin += BLOCK_SIZE) out.push({ begin, data: piece.slice(begin, begin + BLOCK_SIZE) });
  return out;
}

const PIECE = 256 * 1024;

describe("PieceAssembly", () => {
  test("blocks in order verify against the piece's SHA-1 and land in the slot", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const piece = randomBytes(PIECE);
    const a = new PieceAssembly(pool.acquire()!, 3, PIECE);
    expect(a.blockCount).toBe(16);
    for (const b of blocksOf(piece)) {
      expect(a.complete).toBe(false);
      expect(a.addBlock(b.begin, b.data)).toBe(true);
    }
    expect(a.complete).toBe(true);
    expect(a.verify(sha1(piece))).toBe(true);
    expect(a.data).toEqual(piece);
    expect(a.data.buffer).toBe(pool.buffer);
  });

  test("blocks out of order are hashed once the gap fills", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const piece = randomBytes(PIECE);
    const blocks = blocksOf(piece);
    const order = [5, 1, 15, 0, 2, 3, 4, 14, 13, 12, 6, 7, 8, 11, 10, 9];
    const a = new PieceAssembly(pool.acquire()!, 0, PIECE);
    for (const i of order) expect(a.addBlock(blocks[i]!.begin, blocks[i]!.data)).toBe(true);
    expect(a.verify(sha1(piece))).toBe(true);
  });

  test("a duplicate block is refused and copies nothing", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const piece = randomBytes(PIECE);
    const a = new PieceAssembly(pool.acquire()!, 0, PIECE);
    const blocks = blocksOf(piece);
    expect(a.addBlock(0, blocks[0]!.data)).toBe(true);
    expect(a.addBlock(0, new Uint8Array(BLOCK_SIZE).fill(9))).toBe(false);
    expect(a.data.subarray(0, BLOCK_SIZE)).toEqual(blocks[0]!.data);
    expect(a.hasBlock(0)).toBe(true);
    expect(a.hasBlock(1)).toBe(false);
    for (const b of blocks.slice(1)) a.addBlock(b.begin, b.data);
    expect(a.verify(sha1(piece))).toBe(true);
  });

  test("misaligned, wrong-sized and out-of-range blocks are refused", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const a = new PieceAssembly(pool.acquire()!, 0, PIECE);
    expect(a.addBlock(100, new Uint8Array(BLOCK_SIZE))).toBe(false);
    expect(a.addBlock(0, new Uint8Array(BLOCK_SIZE - 1))).toBe(false);
    expect(a.addBlock(0, new Uint8Array(BLOCK_SIZE + 1))).toBe(false);
    expect(a.addBlock(PIECE, new Uint8Array(BLOCK_SIZE))).toBe(false);
    expect(a.addBlock(-BLOCK_SIZE, new Uint8Array(BLOCK_SIZE))).toBe(false);
    expect(a.receivedBlocks).toBe(0);
  });

  test("bad data fails verification", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const piece = randomBytes(PIECE);
    const a = new PieceAssembly(pool.acquire()!, 0, PIECE);
    const blocks = blocksOf(piece);
    blocks[7]!.data[100]! ^= 1;
    for (const b of blocks) a.addBlock(b.begin, b.data);
    expect(a.verify(sha1(piece))).toBe(false);
  });

  test("a last piece shorter than the rest, with a short last block, verifies", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const length = 3 * BLOCK_SIZE + 1234;
    const piece = randomBytes(length);
    const a = new PieceAssembly(pool.acquire()!, 9, length);
    expect(a.blockCount).toBe(4);
    expect(a.blockLength(3)).toBe(1234);
    expect(a.addBlock(3 * BLOCK_SIZE, new Uint8Array(BLOCK_SIZE))).toBe(false);
    for (const b of blocksOf(piece).reverse()) expect(a.addBlock(b.begin, b.data)).toBe(true);
    expect(a.verify(sha1(piece))).toBe(true);
  });

  test("verify before the piece is complete throws", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const a = new PieceAssembly(pool.acquire()!, 0, PIECE);
    a.addBlock(0, new Uint8Array(BLOCK_SIZE));
    expect(() => a.verify(new Uint8Array(20))).toThrow(/not complete/);
  });

  test("a slot reused after an abandoned piece hashes the next piece from scratch", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const slot = pool.acquire()!;
    const abandoned = new PieceAssembly(slot, 0, PIECE);
    abandoned.addBlock(0, randomBytes(BLOCK_SIZE));
    pool.release(slot);
    const piece = randomBytes(PIECE);
    const next = new PieceAssembly(pool.acquire()!, 1, PIECE);
    expect(next.receivedBlocks).toBe(0);
    expect(next.hasBlock(0)).toBe(false);
    for (const b of blocksOf(piece)) next.addBlock(b.begin, b.data);
    expect(next.verify(sha1(piece))).toBe(true);
    // And once more after a verified piece.
    const again = new PieceAssembly(slot, 2, PIECE);
    for (const b of blocksOf(piece)) again.addBlock(b.begin, b.data);
    expect(again.verify(sha1(piece))).toBe(true);
  });

  test("a piece larger than the slot is refused", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    expect(() => new PieceAssembly(pool.acquire()!, 0, PIECE + 1)).toThrow(RangeError);
  });

  test("a block streamed in parts lands in place, hashed, without a second copy", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const piece = randomBytes(PIECE);
    const a = new PieceAssembly(pool.acquire()!, 0, PIECE);
    for (const b of blocksOf(piece)) {
      expect(a.openStream(b.begin, b.data.length)).toBe(true);
      expect(a.openStream(b.begin, b.data.length)).toBe(false); // one streamer per block
      for (let at = 0; at < b.data.length; at += 5000) expect(a.writeBlockPart(b.begin, at, b.data.subarray(at, at + 5000))).toBe(true);
      const view = a.endStream(b.begin, b.data.length);
      expect(view.buffer).toBe(pool.buffer);
      expect(a.addBlock(b.begin, view)).toBe(true);
    }
    expect(a.verify(sha1(piece))).toBe(true);
  });

  test("once another copy of a streamed block lands, or the slot is retired, the stream may not write", () => {
    const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE });
    const piece = randomBytes(PIECE);
    const a = new PieceAssembly(pool.acquire()!, 0, PIECE);
    const [first, second] = blocksOf(piece);
    expect(a.openStream(0, BLOCK_SIZE)).toBe(true);
    expect(a.writeBlockPart(0, 0, new Uint8Array(100).fill(0xee))).toBe(true);
    expect(a.addBlock(0, first!.data)).toBe(true); // e.g. end game: another peer's whole copy
    expect(a.writeBlockPart(0, 100, new Uint8Array(100).fill(0xee))).toBe(false);
    expect(a.data.subarray(0, BLOCK_SIZE)).toEqual(first!.data);
    expect(a.openStream(BLOCK_SIZE, BLOCK_SIZE)).toBe(true);
    a.retire();
    expect(a.writeBlockPart(BLOCK_SIZE, 0, second!.data.subarray(0, 10))).toBe(false);
    expect(a.addBlock(BLOCK_SIZE, second!.data)).toBe(false);
  });
});
