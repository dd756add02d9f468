import { afterAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { BufferPool } from "../peer/pieces/pool.ts";
import { HashPool } from "../peer/verify/hash-pool.ts";

const PIECE = 256 * 1024;

/** A shared pool of `pieces` slots filled with distinct bytes (seeded), and the SHA-1 of each slot. */
function poolWithPieces(pieces: number, seed = 0) {
  const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE * pieces, shared: true });
  const hashes = new Uint8Array(20 * pieces);
  const slots = Array.from({ length: pieces }, (_, i) => {
    const slot = pool.acquire()!;
    for (let k = 0; k < PIECE; k += 4096) slot.bytes.fill((seed * 7 + i * 31 + k / 4096) & 0xff, k, k + 4096);
    hashes.set(createHash("sha1").update(slot.bytes).digest(), i * 20);
    return slot;
  });
  return { buffer: pool.buffer as SharedArrayBuffer, hashes, slots };
}

/** Waits for a condition with a generous safety bound (not a timing assertion). */
async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await Bun.sleep(10);
  }
}

// Real threads that go wrong: one throws on its first piece (an error event), one exits (a close event).
const dir = mkdtempSync(path.join(tmpdir(), "hash-pool-"));
const throwingWorker = path.join(dir, "throws.ts");
writeFileSync(throwingWorker, `self.onmessage = (e) => { if (e.data.type.startsWith("check")) throw new Error("boom"); };\n`);
const exitingWorker = path.join(dir, "exits.ts");
writeFileSync(exitingWorker, `self.onmessage = (e) => { if (e.data.type.startsWith("check")) process.exit(3); };\n`);
// The real hashing thread where native SHA-1 is off (BTPEER_SHA_X2=0, or a CPU without SHA-NI): Bun.CryptoHasher.
const withoutNativeWorker = path.join(dir, "without-native.ts");
const realWorker = path.join(import.meta.dir, "../peer/verify/hash-pool-worker.ts");
writeFileSync(withoutNativeWorker, `process.env.BTPEER_SHA_X2 = "0";\nrequire(${JSON.stringify(realWorker)});\n`);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("HashPool (the client's hashing threads, shared by its torrents' piece pools)", () => {
  test("a piece whose bytes match its hash passes, one with a single changed byte fails", async () => {
    const hashing = new HashPool({ threads: 2 });
    const { buffer, hashes, slots } = poolWithPieces(4);
    const hasher = hashing.register(buffer, hashes);
    try {
      expect(await hasher.check(0, slots[0]!.bytes)).toBe(true);
      slots[1]!.bytes[PIECE - 1]! ^= 1;
      expect(await hasher.check(1, slots[1]!.bytes)).toBe(false);
      // Checked against the right piece's hash: piece 2's bytes are not piece 3.
      expect(await hasher.check(3, slots[2]!.bytes)).toBe(false);
    } finally {
      hasher.release();
      hashing.stopThreads();
    }
  });

  test("two registrations at once: each piece is checked against its own torrent's hashes, on at most `threads` threads", async () => {
    const hashing = new HashPool({ threads: 2 });
    const a = poolWithPieces(12, 1);
    const b = poolWithPieces(12, 2);
    a.slots[3]!.bytes[10]! ^= 0xff;
    b.slots[7]!.bytes[0]! ^= 0xff;
    const ha = hashing.register(a.buffer, a.hashes);
    const hb = hashing.register(b.buffer, b.hashes);
    expect(hashing.threads).toBe(0); // registering starts no thread
    try {
      // The pools' pieces differ (by seed) at the same places: a thread that took one registration's
      // pool or hashes for the other's would answer false.
      const checks = [...a.slots.map((s, i) => ha.check(i, s.bytes)), ...b.slots.map((s, i) => hb.check(i, s.bytes))];
      expect(hashing.threads).toBeGreaterThan(0);
      expect(hashing.threads).toBeLessThanOrEqual(2);
      const answers = await Promise.all(checks);
      expect(answers).toEqual([...a.slots.map((_, i) => i !== 3), ...b.slots.map((_, i) => i !== 7)]);
      expect(ha.pending + hb.pending + hashing.pending).toBe(0);
    } finally {
      ha.release();
      hb.release();
      hashing.stopThreads();
    }
  });

  for (const [sha1, workerUrl] of [
    ["native SHA-1 where the CPU allows", undefined],
    ["Bun.CryptoHasher (BTPEER_SHA_X2=0)", withoutNativeWorker],
  ] as const) {
    test(`pieces handed over together are hashed in batches of up to four, each answered by its own bytes, length and torrent (${sha1})`, async () => {
      const hashing = new HashPool({ threads: 1, workerUrl });
      const a = poolWithPieces(9, 3);
      const b = poolWithPieces(8, 4);
      // A short last piece of b, in a batch with whole ones: each is hashed over its own length.
      const short = 1000 + 17;
      b.hashes.set(createHash("sha1").update(b.slots[7]!.bytes.subarray(0, short)).digest(), 7 * 20);
      a.slots[2]!.bytes[PIECE / 2]! ^= 1;
      a.slots[5]!.bytes[PIECE - 1]! ^= 0x80;
      b.slots[4]!.bytes[0]! ^= 1;
      const ha = hashing.register(a.buffer, a.hashes);
      const hb = hashing.register(b.buffer, b.hashes);
      try {
        // Interleaved, all at once: four batches of four (two torrents in each) and one piece alone.
        const checks: Promise<boolean>[] = [];
        for (let i = 0; i < 9; i++) {
          checks.push(ha.check(i, a.slots[i]!.bytes));
          if (i < 7) checks.push(hb.check(i, b.slots[i]!.bytes));
        }
        checks.push(hb.check(7, b.slots[7]!.bytes.subarray(0, short)));
        const expected: boolean[] = [];
        for (let i = 0; i < 9; i++) {
          expected.push(i !== 2 && i !== 5);
          if (i < 7) expected.push(i !== 4);
        }
        expected.push(true);
        expect(await Promise.all(checks)).toEqual(expected);
        expect(hashing.pending).toBe(0);
        expect(hashing.threads).toBe(1); // answered by the thread, not by the main thread's fallback
      } finally {
        ha.release();
        hb.release();
        hashing.stopThreads();
      }
    });
  }

  test("released while pieces of it wait for their batch: they are still checked, right", async () => {
    const hashing = new HashPool({ threads: 1 });
    const { buffer, hashes, slots } = poolWithPieces(3, 5);
    slots[1]!.bytes[5]! ^= 1;
    const hasher = hashing.register(buffer, hashes);
    try {
      const checks = [hasher.check(0, slots[0]!.bytes), hasher.check(1, slots[1]!.bytes)]; // both wait for more
      hasher.release();
      expect(await Promise.all(checks)).toEqual([true, false]);
    } finally {
      hashing.stopThreads();
    }
  });

  test("a short last piece is hashed over its own length only", async () => {
    const hashing = new HashPool({ threads: 1 });
    const { buffer, slots } = poolWithPieces(1);
    const length = 1000;
    const hashes = new Uint8Array(createHash("sha1").update(slots[0]!.bytes.subarray(0, length)).digest());
    const hasher = hashing.register(buffer, hashes);
    try {
      expect(await hasher.check(0, slots[0]!.bytes.subarray(0, length))).toBe(true);
    } finally {
      hasher.release();
      hashing.stopThreads();
    }
  });

  test("released with checks pending: each still resolves once with its real answer, then no thread is left", async () => {
    const hashing = new HashPool({ threads: 2 });
    const { buffer, hashes, slots } = poolWithPieces(16);
    slots[9]!.bytes[5]! ^= 1;
    const other = poolWithPieces(2, 3);
    const staying = hashing.register(other.buffer, other.hashes);
    const hasher = hashing.register(buffer, hashes);
    const resolutions = slots.map(() => 0);
    const checks = slots.map((s, i) =>
      hasher.check(i, s.bytes).then((ok) => {
        resolutions[i]!++;
        return ok;
      }),
    );
    hasher.release(); // with every check still in flight
    expect(await Promise.all(checks)).toEqual(slots.map((_, i) => i !== 9));
    // After release a check is hashed on the calling thread, and still right.
    expect(await hasher.check(0, slots[0]!.bytes)).toBe(true);
    expect(await hasher.check(9, slots[9]!.bytes)).toBe(false);
    // The other registration is untouched by it.
    expect(await staying.check(1, other.slots[1]!.bytes)).toBe(true);
    staying.release();
    // No registration left and nothing pending: the threads end at once.
    expect(hashing.threads).toBe(0);
    await Bun.sleep(50);
    expect(resolutions).toEqual(slots.map(() => 1));
  });

  test("stopThreads with checks pending hashes them on the calling thread; the next check starts a thread again", async () => {
    const hashing = new HashPool({ threads: 2 });
    const { buffer, hashes, slots } = poolWithPieces(8);
    slots[2]!.bytes[2]! ^= 1;
    const hasher = hashing.register(buffer, hashes);
    try {
      const checks = slots.map((s, i) => hasher.check(i, s.bytes));
      hashing.stopThreads();
      expect(hashing.threads).toBe(0);
      expect(await Promise.all(checks)).toEqual(slots.map((_, i) => i !== 2));
      const again = hasher.check(0, slots[0]!.bytes);
      expect(hashing.threads).toBe(1);
      expect(await again).toBe(true);
    } finally {
      hasher.release();
      hashing.stopThreads();
    }
  });

  test("threads idle for idleMs end; the registration stays usable", async () => {
    const hashing = new HashPool({ threads: 2, idleMs: 50 });
    const { buffer, hashes, slots } = poolWithPieces(4);
    const hasher = hashing.register(buffer, hashes);
    try {
      expect(await Promise.all(slots.map((s, i) => hasher.check(i, s.bytes)))).toEqual([true, true, true, true]);
      await until(() => hashing.threads === 0, "idle threads ended");
      expect(await hasher.check(3, slots[3]!.bytes)).toBe(true);
    } finally {
      hasher.release();
      hashing.stopThreads();
    }
  });

  for (const [how, workerUrl] of [
    ["throws (error event)", throwingWorker],
    ["exits (close event)", exitingWorker],
  ] as const) {
    test(`a thread that ${how}: its pieces and every later one are hashed on the main thread, all answered right`, async () => {
      const hashing = new HashPool({ threads: 2, workerUrl });
      const { buffer, hashes, slots } = poolWithPieces(10);
      slots[4]!.bytes[4]! ^= 1;
      const hasher = hashing.register(buffer, hashes);
      try {
        // Threads keep failing: after a few the pool stops starting them and hashes here.
        for (let round = 0; round < 4; round++) {
          expect(await Promise.all(slots.map((s, i) => hasher.check(i, s.bytes)))).toEqual(slots.map((_, i) => i !== 4));
        }
        expect(hashing.threads).toBe(0);
        expect(hashing.pending).toBe(0);
        expect(hasher.pending).toBe(0);
      } finally {
        hasher.release();
        hashing.stopThreads();
      }
    });
  }

  test("refuses bytes that are not in the registered pool (a thread could not read them)", () => {
    const hashing = new HashPool({ threads: 1 });
    const { buffer, hashes } = poolWithPieces(1);
    const hasher = hashing.register(buffer, hashes);
    try {
      expect(() => hasher.check(0, new Uint8Array(PIECE))).toThrow(/shared pool/);
      expect(hashing.threads).toBe(0);
    } finally {
      hasher.release();
    }
  });
});
