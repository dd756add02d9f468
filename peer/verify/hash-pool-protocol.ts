// Messages between the client's HashPool (main thread) and its hashing threads (hash-pool-worker.ts),
// and the piece-hash comparison both sides make. A thread serves many torrents: each downloading torrent's
// shared piece pool is registered with it under an id, and a job names that id and a place in the pool.
// Messages to one thread arrive in order, so a thread knows a registration before any job of it, and an
// unregister reaches it only after the jobs sent before it.

export type HashPoolRequest =
  | { type: "register"; registration: number; pool: SharedArrayBuffer; pieceHashes: Uint8Array }
  | { type: "unregister"; registration: number }
  /** Does the registration's pool[offset, offset + length) hash to piece `index`'s SHA-1? */
  | { type: "check"; job: number; registration: number; index: number; offset: number; length: number };

export type HashPoolReply = { type: "result"; job: number; ok: boolean } | { type: "error"; job: number; message: string };

/** True when the first 20 bytes of `digest` are piece `index`'s SHA-1 in `pieceHashes` (20 bytes each). */
export function matchesPieceHash(digest: Uint8Array, pieceHashes: Uint8Array, index: number): boolean {
  const expected = pieceHashes.subarray(index * 20, index * 20 + 20);
  if (expected.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (digest[i] !== expected[i]) return false;
  return true;
}
