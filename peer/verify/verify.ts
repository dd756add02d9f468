// Checks which pieces of a torrent are already on disk and correct, hashing in parallel on all cores.
// Each worker reads its own pieces (positional reads from the page cache into a small private buffer),
// so pieces are never copied between threads; the main thread only hands out piece ranges. A torrent of a
// client checks on the client's hashing threads (`pool`, pool-check.ts); `btpeer verify` and `bench`, with
// no client, start workers of their own for the check.
import { availableParallelism } from "node:os";
import * as path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { StorageError, type StorageErrorCode } from "../storage/errors.ts";
import { layoutFiles } from "../storage/layout.ts";
import { partsNameFor } from "../storage/torrent-storage.ts";
import type { HashPool } from "./hash-pool.ts";
import { checkOnPool } from "./pool-check.ts";
import type { FromWorker, InitMessage, JobMessage } from "./protocol.ts";

export interface VerifyOptions {
  /** Hashing workers (default: one per core), started for this check; not used with `pool`. */
  workers?: number;
  /** The client's hashing threads: the check runs on them (and takes no turn: they bound it) instead of on workers of its own. */
  pool?: HashPool;
  /** Called after each batch of pieces: pieces checked so far, and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Pieces known to be missing (e.g. in files just created): reported missing without being read. */
  skip?: (index: number) => boolean;
  /** Ends the check at once (its workers too; a stopped torrent's must not keep the process alive): what was found so far is returned. */
  signal?: AbortSignal;
}

export type VerifyMeta = Pick<Metainfo, "name" | "multiFile" | "files" | "pieceLength" | "pieceCount" | "length" | "pieceHashes"> &
  Partial<Pick<Metainfo, "infoHash">>;

// About 16 MiB per job: large enough that messages cost nothing, small enough to balance the cores.
const JOB_BYTES = 16 * 1024 * 1024;

/**
 * Where a worker's code is. From source: next to this file. In the compiled binary (`npm run build`
 * lists peer/verify/<name>.ts as extra entry points, so the bundle's root is peer/) every module is
 * inlined into the entry at $bunfs/root/btpeer and the worker sits at $bunfs/root/verify/<name>.js.
 */
export function workerUrl(name: "worker" | "hash-pool-worker"): string {
  const compiled = import.meta.url.includes("$bunfs") || import.meta.url.includes("~BUN");
  return compiled ? new URL(`./verify/${name}.js`, import.meta.url).href : new URL(`./${name}.ts`, import.meta.url).href;
}

function startWorker(): Worker {
  return new Worker(workerUrl("worker"));
}

/**
 * The check running now (of any torrent of this process): checks take turns. Each already keeps every
 * core busy, and a daemon starting thousands of torrents must not start thousands of threads at once.
 */
let turn: Promise<unknown> = Promise.resolve();

/** Hashes what is already on disk; missing or short files just mean missing pieces. */
export async function verifyExisting(meta: VerifyMeta, dir: string, opts: VerifyOptions = {}): Promise<Bitfield> {
  const skip = opts.skip ?? (() => false);
  let total = 0;
  for (let i = 0; i < meta.pieceCount; i++) if (!skip(i)) total++;
  if (total === 0) return new Bitfield(meta.pieceCount);
  if (opts.pool) return checkOnPool(opts.pool, meta, dir, opts, skip, total);
  const mine = turn.then(() => hashPieces(meta, dir, opts, skip, total));
  turn = mine.catch(() => {});
  return mine;
}

async function hashPieces(meta: VerifyMeta, dir: string, opts: VerifyOptions, skip: (index: number) => boolean, total: number): Promise<Bitfield> {
  const result = new Bitfield(meta.pieceCount);
  const pieceCount = meta.pieceCount;
  if (opts.signal?.aborted) return result; // stopped while waiting for its turn
  const wanted = Math.max(1, opts.workers ?? availableParallelism());
  // At least ~4 jobs per worker so a slow worker does not hold up the end.
  const perJob = Math.max(1, Math.min(Math.floor(JOB_BYTES / meta.pieceLength), Math.ceil(total / (wanted * 4))));
  const workerCount = Math.min(wanted, Math.ceil(total / perJob));
  const init: InitMessage = {
    type: "init",
    dir: path.resolve(dir),
    files: layoutFiles(meta, dir),
    pieceLength: meta.pieceLength,
    pieceCount: meta.pieceCount,
    length: meta.length,
    pieceHashes: meta.pieceHashes,
    partsName: partsNameFor(meta),
  };
  const workers = Array.from({ length: workerCount }, startWorker);
  let nextPiece = 0;
  let donePieces = 0;

  // A job is a run of consecutive pieces to check, at most perJob long.
  const nextJob = (): JobMessage | null => {
    while (nextPiece < pieceCount && skip(nextPiece)) nextPiece++;
    if (nextPiece >= pieceCount) return null;
    const first = nextPiece;
    while (nextPiece < pieceCount && nextPiece - first < perJob && !skip(nextPiece)) nextPiece++;
    return { type: "job", first, count: nextPiece - first };
  };

  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (code: StorageErrorCode, message: string) => reject(new StorageError(code, `verifying ${dir}: ${message}`));
      opts.signal?.addEventListener("abort", () => resolve(), { once: true });
      for (const w of workers) {
        w.onmessage = (event: MessageEvent<FromWorker>) => {
          const m = event.data;
          if (m.type === "error") return fail(m.code as StorageErrorCode, m.message);
          for (let k = 0; k < m.ok.length; k++) if (m.ok[k] === 1) result.set(m.first + k);
          donePieces += m.ok.length;
          opts.onProgress?.(donePieces, total);
          if (donePieces === total) return resolve();
          const job = nextJob();
          if (job) w.postMessage(job);
        };
        w.onerror = (event) => fail("io", `hashing worker failed: ${event.message}`);
        w.postMessage(init);
        // Two jobs in flight per worker, so it never idles while the main thread answers.
        for (let k = 0; k < 2; k++) {
          const job = nextJob();
          if (job) w.postMessage(job);
        }
      }
    });
  } finally {
    for (const w of workers) w.terminate();
  }
  return result;
}
