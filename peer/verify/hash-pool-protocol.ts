// Messages between the client's HashPool (main thread) and its hashing threads (hash-pool-worker.ts),
// and the piece-hash comparison both sides make. A thread serves many torrents: each downloading torrent's
// shared piece pool is registered with it under an id, and a job names that id and a place in the pool.
// Messages to one thread arrive in order, so a thread knows a registration before any job of it, and an
// unregister reaches it only after the jobs sent before it. A torrent's check of its data on disk sends
// ranges of pieces that the thread reads and hashes itself (disk-check.ts).
import type { DiskRange } from "./disk-check.ts";

/** Does the registration's pool[offset, offset + length) hash to piece `index`'s SHA-1? */
export interface PieceCheck {
  job: number;
  registration: number;
  index: number;
  offset: number;
  length: number;
}

export type HashPoolRequest =
  | { type: "register"; registration: number; pool: SharedArrayBuffer; pieceHashes: Uint8Array }
  | { type: "unregister"; registration: number }
  | ({ type: "check" } & PieceCheck)
  /** Several checks at once, hashed together where the CPU allows (sha1-native.ts); answered by one "results". */
  | { type: "checks"; checks: PieceCheck[] }
  /** Which pieces of the range are on disk and correct? */
  | { type: "check-disk"; job: number; range: DiskRange };

export type HashPoolReply =
  | { type: "result"; job: number; ok: boolean }
  /**
   * A "checks"'s answers in one message, in its order: every message costs both threads a wake-up, a copy and
   * an event.
   */
  | { type: "results"; jobs: number[]; oks: boolean[] }
  /** One byte per piece of the range: 1 when it is on disk and correct. */
  | { type: "disk-result"; job: number; ok: Uint8Array }
  /** The range could not be read (a StorageError's code): the check fails, as it would on any thread. */
  | { type: "disk-error"; job: number; code: string; message: string }
  | { type: "error"; job: number; message: string };

/** True when the first 20 bytes of `digest` are piece `index`'s SHA-1 in `pieceHashes` (20 bytes each). */
export function matchesPieceHash(digest: Uint8Array, pieceHashes: Uint8Array, index: number): boolean {
  const expected = pieceHashes.subarray(index * 20, index * 20 + 20);
  if (expected.length !== 20) return false;
  for (let i = 0; i < 20; i++) if (digest[i] !== expected[i]) return false;
  return true;
}
