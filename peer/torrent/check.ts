// A torrent's check of what is on disk: hashes the pieces asked for (on the client's hashing threads,
// verify/pool-check.ts) and sets or clears exactly those in `have`; the others keep what `have` said.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { HashPool } from "../verify/hash-pool.ts";
import { verifyExisting } from "../verify/verify.ts";

export function countPieces(pieceCount: number, which: (index: number) => boolean): number {
  let count = 0;
  for (let i = 0; i < pieceCount; i++) if (which(i)) count++;
  return count;
}

/**
 * Throws StorageError; `stillWanted` false when it ends (the torrent stopped meanwhile) leaves `have` alone.
 * `signal` ends the hashing itself at once (the torrent stopped).
 */
export async function checkPieces(
  meta: Metainfo,
  dir: string,
  have: Bitfield,
  which: (index: number) => boolean,
  stillWanted: () => boolean,
  signal?: AbortSignal,
  pool?: HashPool,
): Promise<void> {
  const found = await verifyExisting(meta, dir, { skip: (i) => !which(i), signal, pool });
  if (!stillWanted()) return;
  for (let i = 0; i < meta.pieceCount; i++) {
    if (!which(i)) continue;
    if (found.has(i)) have.set(i);
    else have.clear(i);
  }
}
