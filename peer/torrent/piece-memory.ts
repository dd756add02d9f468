// The piece memory of a downloading torrent: a pool cut from the client's budget, and the hashing thread
// that reads pieces in place in it. Held only while the torrent downloads, so a seeding or paused torrent
// costs no pool and no thread (a daemon may hold thousands of them).
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { PoolBudget } from "../client/pool-budget.ts";
import type { Downloader } from "../pieces/downloader.ts";
import { BufferPool } from "../pieces/pool.ts";
import { SlotHasher } from "../verify/slot-hasher.ts";

export class PieceMemory {
  private held: { pool: BufferPool; hasher: SlotHasher; bytes: number } | null = null;

  constructor(
    private readonly budget: PoolBudget,
    private readonly meta: Pick<Metainfo, "pieceLength" | "pieceHashes">,
    /** What the torrent asks of the budget. */
    private readonly wanted: number,
    private readonly downloader: Pick<Downloader, "useMemory">,
  ) {}

  take(): void {
    if (this.held) return;
    const bytes = this.budget.reserve(this.wanted);
    // Pieces are checked on a hashing thread that reads them in place, so the pool is shared memory.
    const pool = new BufferPool({ slotSize: this.meta.pieceLength, totalBytes: bytes, shared: true });
    const hasher = new SlotHasher(pool.buffer as SharedArrayBuffer, this.meta.pieceHashes);
    this.held = { pool, hasher, bytes };
    this.downloader.useMemory(pool, hasher);
  }

  /** Only once no piece is under way (complete, or after abandonAll and writesSettled). */
  giveBack(): void {
    if (!this.held) return;
    this.downloader.useMemory(null, null);
    this.held.hasher.stop();
    this.budget.release(this.held.bytes);
    this.held = null;
  }
}
