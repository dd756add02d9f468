import { describe, expect, test } from "bun:test";
import { ptr } from "bun:ffi";
import { BufferPool, PoolError } from "../peer/pieces/pool.ts";

describe("BufferPool", () => {
  test("cuts one buffer into fixed slots that do not overlap", () => {
    const pool = new BufferPool({ slotSize: 1024, totalBytes: 4096 + 100 });
    expect(pool.slotCount).toBe(4);
    expect(pool.buffer.byteLength).toBe(4096);
    const slots = [pool.acquire(), pool.acquire(), pool.acquire(), pool.acquire()];
    const offsets = slots.map((s) => s!.bytes.byteOffset).sort((a, b) => a - b);
    expect(offsets).toEqual([0, 1024, 2048, 3072]);
    for (const s of slots) {
      expect(s!.bytes.buffer).toBe(pool.buffer);
      expect(s!.bytes.length).toBe(1024);
    }
  });

  test("returns null when every slot is in use, and a slot again after a release", () => {
    const pool = new BufferPool({ slotSize: 10, totalBytes: 20 });
    const a = pool.acquire()!;
    const b = pool.acquire()!;
    expect(pool.acquire()).toBeNull();
    expect(pool.freeCount).toBe(0);
    pool.release(a);
    expect(pool.freeCount).toBe(1);
    expect(pool.acquire()).toBe(a);
    expect(b.id).not.toBe(a.id);
  });

  test("has at least one slot even when the pool is smaller than a piece", () => {
    const pool = new BufferPool({ slotSize: 1 << 20, totalBytes: 1000 });
    expect(pool.slotCount).toBe(1);
    expect(pool.acquire()!.bytes.length).toBe(1 << 20);
  });

  test("hands out the same slot objects again: no allocation per acquire", () => {
    const pool = new BufferPool({ slotSize: 16, totalBytes: 64 });
    const first = new Set(Array.from({ length: 4 }, () => pool.acquire()));
    for (const s of first) pool.release(s!);
    const second = new Set(Array.from({ length: 4 }, () => pool.acquire()));
    expect(second).toEqual(first);
  });

  test("throws on a double release", () => {
    const pool = new BufferPool({ slotSize: 8, totalBytes: 16 });
    const a = pool.acquire()!;
    pool.release(a);
    expect(() => pool.release(a)).toThrow(PoolError);
    expect(pool.freeCount).toBe(2);
  });

  test("throws on a slot from another pool", () => {
    const one = new BufferPool({ slotSize: 8, totalBytes: 16 });
    const two = new BufferPool({ slotSize: 8, totalBytes: 16 });
    const a = one.acquire()!;
    expect(() => two.release(a)).toThrow(/does not belong/);
  });

  test("can be backed by a SharedArrayBuffer for workers", () => {
    const pool = new BufferPool({ slotSize: 8, totalBytes: 16, shared: true });
    expect(pool.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  test("with align, every slot starts on an aligned address (O_DIRECT writes from the slot), still one buffer", () => {
    // Small shared buffers are not page-aligned by the allocator: several sizes, so some start off a page.
    for (const slotSize of [4096, 16 * 1024, 64 * 1024]) {
      const pool = new BufferPool({ slotSize, totalBytes: 3 * slotSize, shared: true, align: 4096 });
      const slots = [pool.acquire()!, pool.acquire()!, pool.acquire()!];
      for (const s of slots) {
        expect(ptr(s.bytes) % 4096).toBe(0);
        expect(s.bytes.buffer).toBe(pool.buffer);
        expect(s.bytes.length).toBe(slotSize);
      }
      const offsets = slots.map((s) => s.bytes.byteOffset).sort((a, b) => a - b);
      expect(offsets[1]! - offsets[0]!).toBe(slotSize);
      expect(offsets[2]! + slotSize).toBeLessThanOrEqual(pool.buffer.byteLength);
    }
    expect(() => new BufferPool({ slotSize: 8, totalBytes: 16, align: 3 })).toThrow(PoolError);
  });

  test("rejects a non-positive slot size", () => {
    expect(() => new BufferPool({ slotSize: 0, totalBytes: 16 })).toThrow(PoolError);
  });
});
