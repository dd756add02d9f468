// The piece memory a download works in: each piece under way holds one slot of the pool, made ready when
// the piece starts (the zeros of its padding already in) and given back once it is written or given up.
// New pieces wait while too many finished ones wait for their check or write (MAX_WRITES_IN_FLIGHT). The
// pool and its hashing thread come and go together (null while the torrent does not download).
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import type { PaddingMap } from "../storage/padding.ts";
import type { PieceHasher } from "../verify/hash-pool.ts";
import { PieceAssembly } from "./piece-assembly.ts";
import type { BufferPool } from "./pool.ts";

/**
 * Finished pieces waiting for their hash check or write before no new piece is started: when the disk is slower than
 * the network, the download waits for it instead of filling the whole pool (memory stays near what is
 * in flight; the pool's slots are reused lowest first, so untouched slots never become resident). Enough to ride
 * out the hashing thread or the I/O pool waiting for a core on a busy machine, where one 1 MiB write into the
 * page cache took 2 ms and more: with 8, most calls for more blocks found no piece could start, the request
 * pipeline ran dry and the seeder idled; 24 was faster in 24 of 27 paired 1 GiB downloads (32 no faster than 24).
 */
export const MAX_WRITES_IN_FLIGHT = 24;

const ZERO_BLOCK = new Uint8Array(BLOCK_SIZE);

export class PieceSlots {
  /** `start` bound once, for the picker (made at the first pick). */
  #starter: ((index: number, length: number) => PieceAssembly | null) | null = null;

  constructor(
    /** Null while the torrent does not download (seeding, paused): a torrent holds memory only while it needs it. */
    private pool: BufferPool | null,
    /** Checks finished pieces on another thread; null: hash on this one as blocks arrive. */
    public hasher: PieceHasher | null,
    private readonly padding: PaddingMap,
  ) {}

  /** Takes the pool and its hashing thread (or takes them away). */
  use(pool: BufferPool | null, hasher: PieceHasher | null): void {
    this.pool = pool;
    this.hasher = hasher;
  }

  /** The pool's slots; 0 without a pool. */
  get slotCount(): number {
    return this.pool?.slotCount ?? 0;
  }

  get held(): boolean {
    return this.pool !== null;
  }

  /** A new piece may start now: a slot is free and fewer than MAX_WRITES_IN_FLIGHT pieces wait for their write. */
  mayStart(writing: number): boolean {
    return this.pool !== null && this.pool.freeCount > 0 && writing < MAX_WRITES_IN_FLIGHT;
  }

  /** `start`, as the picker takes it. */
  get starter(): (index: number, length: number) => PieceAssembly | null {
    return (this.#starter ??= (index, length) => this.start(index, length));
  }

  /** Piece `index` in a free slot, or null when none is free. */
  start(index: number, length: number): PieceAssembly | null {
    const slot = this.pool?.acquire();
    if (!slot) return null;
    const assembly = new PieceAssembly(slot, index, length, { hashOnArrival: !this.hasher });
    // The picker counts blocks wholly in padding as received: their zeros go into the slot here.
    if (!this.padding.empty) {
      for (let b = 0; b < assembly.blockCount; b++) {
        if (this.padding.blockIsPadding(index, b)) assembly.addBlock(b * BLOCK_SIZE, ZERO_BLOCK.subarray(0, assembly.blockLength(b)));
      }
    }
    return assembly;
  }

  /** The piece's slot goes back to the pool. */
  release(assembly: PieceAssembly): void {
    this.pool!.release(assembly.slot);
  }
}
