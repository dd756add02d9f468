// Buffer pool: acquire/release rate against allocating a fresh piece buffer each time, and the heap
// before and after millions of acquire/release pairs (flat = no allocation in steady state).
import { heapStats } from "bun:jsc";
import { BufferPool } from "../peer/pieces/pool.ts";
import { medianOf, type Row } from "../peer/bench/table.ts";

const SLOT = 256 * 1024;

function ratePerSecond(ops: number, fn: (n: number) => void): number {
  const start = Bun.nanoseconds();
  fn(ops);
  return ops / ((Bun.nanoseconds() - start) / 1e9);
}

function heapAfterGc(): { bytes: number; objects: number } {
  Bun.gc(true);
  const s = heapStats();
  return { bytes: s.heapSize, objects: s.objectCount };
}

export interface PoolOptions {
  rounds?: number;
  /** acquire/release pairs for the heap check (default 5 million). */
  heapOps?: number;
}

export async function benchPool(opts: PoolOptions = {}): Promise<Row[]> {
  const rounds = opts.rounds ?? 3;
  const pool = new BufferPool({ slotSize: SLOT, totalBytes: 64 * 1024 * 1024 });
  const held = new Array(8);
  // Keep a few slots held, like a download with pieces in flight, and cycle the rest.
  const cycle = (n: number) => {
    for (let i = 0; i < n; i++) {
      const k = i & 7;
      if (held[k]) pool.release(held[k]);
      held[k] = pool.acquire();
    }
  };
  let sink = 0;
  const allocate = (n: number) => {
    for (let i = 0; i < n; i++) sink += new Uint8Array(SLOT).length;
  };
  cycle(100_000);
  const poolRate = await medianOf(rounds, () => ratePerSecond(2_000_000, cycle));
  const allocRate = await medianOf(rounds, () => ratePerSecond(20_000, allocate));

  const heapOps = opts.heapOps ?? 5_000_000;
  const before = heapAfterGc();
  const start = performance.now();
  // Bounded in count and in time (30 s), whichever comes first.
  let done = 0;
  while (done < heapOps && performance.now() - start < 30_000) {
    cycle(100_000);
    done += 100_000;
  }
  const after = heapAfterGc();
  return [
    {
      figure: "pool: acquire + release of a 256 KiB slot",
      value: poolRate,
      unit: "ops/s",
      reference: { label: "new Uint8Array(256 KiB) instead", value: allocRate + (sink & 0) },
    },
    {
      figure: `pool: heap growth over ${(done / 1e6).toFixed(1)} M acquire/release (after GC)`,
      value: (after.bytes - before.bytes) / 1024,
      unit: "KiB",
      reference: { label: "heap before", value: before.bytes / 1024 },
      target: "~0",
    },
    {
      figure: `pool: live objects added over the same run`,
      value: after.objects - before.objects,
      unit: "objects",
      reference: { label: "objects before", value: before.objects },
      target: "~0",
    },
  ];
}
