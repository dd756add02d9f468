// Messages between a download (SlotHasher, main thread) and its hashing thread (slot-hash-worker.ts),
// and the piece-hash comparison both sides make.

export type SlotHashRequest =
  | { type: "init"; pool: SharedArrayBuffer; pieceHashes: Uint8Array }
  /** Does pool[offset, offset + length) hash to piece `index`'s SHA-1? */
  | { type: "check"; id: number; index: number; offset: number; length: number };

export type SlotHashReply = { type: "result"; id: number; ok: boolean } | { type: "error"; id: number; message: string };

/** True when the first 20 bytes of `digest` are piece `index`'s SHA-1 in `pieceHashes` (20 bytes each). */
export function matchesPieceHash(digest: Uint8Array, pieceHashes: Uint8Array, index: number): boolean {
  const expected = pieceHashes.subarray(index * 20, index * 20 + 20);
  if (expected.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (digest[i] !== expected[i]) return false;
  return true;
}
