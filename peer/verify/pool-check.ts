// A torrent's check of its data on disk through the client's hashing threads (HashPool): ranges of pieces
// go to the threads, which read and hash them where they lie (disk-check.ts), so a client checking thousands
// of torrents uses the pool's few threads instead of starting workers per check, and its main thread only
// hands out ranges. Each check keeps at most two ranges per thread in flight, so reading stays bounded and
// many checks at once share the threads. A check of a few small pieces is read on the main thread: a
// message round trip to a thread (or starting one) costs more than hashing them.
import * as path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { pieceSize } from "../../shared/metainfo/types.ts";
import { StorageError } from "../storage/errors.ts";
import { layoutFiles } from "../storage/layout.ts";
import { partsNameFor } from "../storage/torrent-storage.ts";
import { checkRange, type DiskLayout, type DiskRange } from "./disk-check.ts";
import type { HashPool } from "./hash-pool.ts";
import type { VerifyMeta, VerifyOptions } from "./verify.ts";

// At most this much per range: short enough that a downloading torrent's pieces on the same thread wait
// little behind it, and that an aborted check's ranges in flight end soon; long enough that messages cost nothing.
const RANGE_BYTES = 4 * 1024 * 1024;
/** A check of at most this much is read and hashed on the main thread (about what one piece of a small torrent is). */
export const SMALL_CHECK_BYTES = 256 * 1024;

export async function checkOnPool(
  pool: HashPool,
  meta: VerifyMeta,
  dir: string,
  opts: VerifyOptions,
  skip: (index: number) => boolean,
  total: number,
): Promise<Bitfield> {
  const result = new Bitfield(meta.pieceCount);
  const signal = opts.signal;
  if (signal?.aborted) return result;
  const layout: DiskLayout = {
    dir: path.resolve(dir),
    files: layoutFiles(meta, dir),
    pieceLength: meta.pieceLength,
    pieceCount: meta.pieceCount,
    length: meta.length,
    partsName: partsNameFor(meta),
  };
  let bytes = 0;
  for (let i = 0; i < meta.pieceCount && bytes <= SMALL_CHECK_BYTES; i++) if (!skip(i)) bytes += pieceSize(meta, i);
  const small = bytes <= SMALL_CHECK_BYTES;
  // At least ~4 ranges per thread so a slow thread does not hold up the end.
  const perRange = small ? meta.pieceCount : Math.max(1, Math.min(Math.floor(RANGE_BYTES / meta.pieceLength), Math.ceil(total / (pool.size * 4))));
  let nextPiece = 0;
  const nextRange = (): DiskRange | null => {
    while (nextPiece < meta.pieceCount && skip(nextPiece)) nextPiece++;
    if (nextPiece >= meta.pieceCount) return null;
    const first = nextPiece;
    while (nextPiece < meta.pieceCount && nextPiece - first < perRange && !skip(nextPiece)) nextPiece++;
    // Only this range's hashes travel to the thread, not the whole torrent's.
    const hashes = meta.pieceHashes.slice(first * 20, nextPiece * 20);
    return { layout, first, count: nextPiece - first, hashes };
  };
  let done = 0;
  const found = (range: DiskRange, ok: Uint8Array) => {
    for (let k = 0; k < ok.length; k++) if (ok[k] === 1) result.set(range.first + k);
    done += range.count;
    opts.onProgress?.(done, total);
  };
  const fail = (error: StorageError) => new StorageError(error.code, `verifying ${dir}: ${error.message}`);

  if (small) {
    for (let range = nextRange(); range; range = nextRange()) {
      try {
        found(range, checkRange(range));
      } catch (error) {
        throw error instanceof StorageError ? fail(error) : error;
      }
    }
    return result;
  }

  const limit = pool.size * 2;
  let inFlight = 0;
  return new Promise<Bitfield>((resolve, reject) => {
    let settled = false;
    const settle = (error?: StorageError) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      if (error) reject(fail(error));
      else resolve(result);
    };
    // Ends the check at once with what was found so far: its ranges in flight finish on their threads (each
    // closes its files when read) and are dropped; those not yet sent are never read.
    const onAbort = () => settle();
    signal?.addEventListener("abort", onAbort, { once: true });
    const launch = () => {
      for (let range = inFlight < limit ? nextRange() : null; range; range = inFlight < limit ? nextRange() : null) {
        inFlight++;
        const r = range;
        void pool.checkDisk(r, signal).then((outcome) => {
          inFlight--;
          if (settled) return;
          if ("error" in outcome) return settle(outcome.error);
          found(r, outcome.ok);
          if (done === total) return settle();
          launch();
        });
      }
    };
    launch();
  });
}
