// The piece memory of a downloading torrent: a pool cut from the client's budget, registered with the
// client's hashing threads so they read pieces in place in it. Held only while the torrent downloads, so a
// seeding or paused torrent costs no pool and no registration (a daemon may hold thousands of them).
import type { Metainfo } from "../../shared/metainfo/types.ts";
import type { PoolBudget } from "../client/pool-budget.ts";
import type { Downloader } from "../pieces/downloader.ts";
import { BufferPool } from "../pieces/pool.ts";
import { DIRECT_ALIGNMENT } from "../storage/direct-writes.ts";
import type { HashPool, PieceHasher } from "../verify/hash-pool.ts";

export class PieceMemory {
  private held: { pool: BufferPool; hasher: PieceHasher; bytes: number } | null = null;

  constructor(
    private readonly budget: PoolBudget,
    private readonly hashing: HashPool,
    private readonly meta: Pick<Metainfo, "pieceLength" | "pieceHashes">,
    /** What the torrent asks of the budget. */
    private readonly wanted: number,
    private readonly downloader: Pick<Downloader, "useMemory">,
  ) {}

  take(): void {
    if (this.held) return;
    const bytes = this.budget.reserve(this.wanted);
    // Pieces are checked on hashing threads that read them in place, so the pool is shared memory.
    // Page-aligned slots: a verified piece can then be written with O_DIRECT straight from its slot. Every
    // block passes through this memory three times (copied in, hashed, written): on huge pages where the
    // system allows.
    const pool = new BufferPool({ slotSize: this.meta.pieceLength, totalBytes: bytes, shared: true, align: DIRECT_ALIGNMENT, hugePages: true });
    const hasher = this.hashing.register(pool.buffer as SharedArrayBuffer, this.meta.pieceHashes);
    this.held = { pool, hasher, bytes };
    this.downloader.useMemory(pool, hasher);
  }

  /** Only once no piece is under way (complete, or after abandonAll and writesSettled). */
  giveBack(): void {
    if (!this.held) return;
    this.downloader.useMemory(null, null);
    this.held.hasher.release();
    this.budget.release(this.held.bytes);
    this.held = null;
  }
}
