// A fixed pool of piece-sized buffers: ONE ArrayBuffer allocated up front, cut into slots whose views are
// made once. acquire/release only move a slot id on a stack, so steady state allocates nothing and
// memory stays flat whatever the torrent's size. When the pool is empty the downloader stops requesting.
import { ptr } from "bun:ffi";
import { adviseHugePages } from "./huge-pages.ts";

export interface PoolSlot {
  readonly id: number;
  /** A fixed view of `slotSize` bytes into the pool's buffer. */
  readonly bytes: Uint8Array;
}

export interface BufferPoolOptions {
  slotSize: number;
  totalBytes: number;
  /** Back the pool with a SharedArrayBuffer so slots can be handed to workers without copying. */
  shared?: boolean;
  /**
   * Start slot 0 on an address that is a multiple of this (a power of two), and so every slot when the slot
   * size is a multiple of it too: piece writes with O_DIRECT (direct-writes.ts) need page-aligned memory.
   * The buffer is over-allocated by that much and the slots cut after the gap: no copy, no second buffer.
   */
  align?: number;
  /** Ask for 2 MiB pages (huge-pages.ts): for memory every received byte passes through. */
  hugePages?: boolean;
}

export class PoolError extends Error {
  override readonly name = "PoolError";
  constructor(
    readonly code: "double-release" | "foreign-slot" | "bad-size",
    message: string,
  ) {
    super(message);
  }
}

export class BufferPool {
  readonly slotSize: number;
  readonly slotCount: number;
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  readonly #slots: PoolSlot[];
  readonly #free: Int32Array;
  readonly #inUse: Uint8Array;
  #freeTop: number;

  constructor(opts: BufferPoolOptions) {
    const { slotSize, totalBytes } = opts;
    if (!Number.isSafeInteger(slotSize) || slotSize < 1) throw new PoolError("bad-size", `slot size must be a positive integer, got ${slotSize}`);
    if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) throw new PoolError("bad-size", `pool size must be a non-negative integer, got ${totalBytes}`);
    // At least one slot: a piece larger than the pool must still be downloadable.
    this.slotSize = slotSize;
    this.slotCount = Math.max(1, Math.floor(totalBytes / slotSize));
    const align = opts.align ?? 1;
    if (!Number.isSafeInteger(align) || align < 1 || (align & (align - 1)) !== 0)
      throw new PoolError("bad-size", `alignment must be a power of two, got ${align}`);
    const bytes = this.slotSize * this.slotCount + (align > 1 ? align : 0);
    this.buffer = opts.shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
    if (opts.hugePages) adviseHugePages(this.buffer); // before the first touch, or it comes too late
    // Large buffers come page-aligned from the allocator already (gap 0); small ones may not.
    const start = align > 1 ? (align - (ptr(new Uint8Array(this.buffer, 0, 1)) % align)) % align : 0;
    this.#slots = Array.from({ length: this.slotCount }, (_, id) => ({ id, bytes: new Uint8Array(this.buffer, start + id * slotSize, slotSize) }));
    this.#free = new Int32Array(this.slotCount);
    // Hand out low ids first: the stack's top is slot 0.
    for (let i = 0; i < this.slotCount; i++) this.#free[i] = this.slotCount - 1 - i;
    this.#freeTop = this.slotCount;
    this.#inUse = new Uint8Array(this.slotCount);
  }

  get freeCount(): number {
    return this.#freeTop;
  }

  /** A free slot, or null when all are in use. The slot's bytes keep whatever they held before. */
  acquire(): PoolSlot | null {
    if (this.#freeTop === 0) return null;
    const id = this.#free[--this.#freeTop]!;
    this.#inUse[id] = 1;
    return this.#slots[id]!;
  }

  release(slot: PoolSlot): void {
    const id = slot.id;
    if (this.#slots[id] !== slot) throw new PoolError("foreign-slot", `slot ${id} does not belong to this pool`);
    if (this.#inUse[id] === 0) throw new PoolError("double-release", `slot ${id} released twice`);
    this.#inUse[id] = 0;
    this.#free[this.#freeTop++] = id;
  }
}
