// A torrent's check of what is on disk: hashes the pieces asked for (on the client's hashing threads,
// verify/pool-check.ts) and sets or clears exactly those in `have`; the others keep what `have` said.
// TorrentCheck is one such check as the torrent runs it: aborted by a pause or the end, run again later.
import type { Bitfield } from "../../shared/bitfield.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { HashPool } from "../verify/hash-pool.ts";
import { verifyExisting } from "../verify/verify.ts";
import type { TorrentEvent } from "./events.ts";

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

export interface TorrentCheckHooks {
  /** Still in state `checking`: false once the torrent paused, stopped or failed meanwhile. */
  stillChecking(): boolean;
  emit(event: TorrentEvent): void;
  /** Disk trouble reading the data: the torrent ends (anything else is a bug, thrown). */
  storageFailed(error: unknown): void;
  /** The check ran to its end: `have` holds what it found. */
  checked(count: number): void;
}

/**
 * A check a torrent is to run before it trusts `have` (at start, or a re-check), until one run goes to its
 * end. A pause or the torrent's end aborts the run under way at once (`have` untouched); the torrent runs
 * it again when it resumes.
 */
export class TorrentCheck {
  /** The run under way (or waiting its turn on the hashing threads). */
  #abort: AbortController | null = null;

  constructor(
    private readonly torrent: { readonly meta: Metainfo; readonly dir: string; readonly have: Bitfield; readonly host: { readonly hashing: HashPool } },
    /** The pieces to hash. */
    private readonly which: (index: number) => boolean,
    private readonly hooks: TorrentCheckHooks,
  ) {}

  /** Hashes the pieces named and sets or clears them in `have`; returns how many it was to hash. */
  async run(): Promise<number> {
    const { meta, dir, have, host } = this.torrent;
    const { hooks, which } = this;
    const count = countPieces(meta.pieceCount, which);
    hooks.emit({ event: "checking", pieces: count });
    const abort = new AbortController();
    if (!hooks.stillChecking()) abort.abort(); // ended or paused already
    this.#abort = abort;
    try {
      await checkPieces(meta, dir, have, which, () => hooks.stillChecking(), abort.signal, host.hashing);
    } catch (error) {
      hooks.storageFailed(error);
    } finally {
      if (this.#abort === abort) this.#abort = null;
    }
    if (hooks.stillChecking()) hooks.checked(count);
    return count;
  }

  /** Ends the run under way at once. */
  abort(): void {
    this.#abort?.abort();
  }
}
