// A torrent's check on the client's hashing threads (verify/pool-check.ts), with a real HashPool and its real
// threads, against the check's own workers (`btpeer verify`'s path): the same pieces found on a torrent with a
// corrupted piece, progress up to the total, an abort ends the check and leaves no data file open.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as path from "node:path";
import { pieceSize } from "../../shared/metainfo/types.ts";
import { TorrentStorage, verifyExisting } from "../../peer/storage/index.ts";
import { HashPool } from "../../peer/verify/hash-pool.ts";
import { makeTempDir, removeDir } from "../support/files.ts";
import { contentOf, metainfoOf, randomBytes, type ContentFile } from "../support/metainfo-of.ts";

const tmp = makeTempDir("btpeer-pool-check-");
afterAll(() => removeDir(tmp));
let n = 0;

function writeTorrent(files: ContentFile[], pieceLength: number) {
  const meta = metainfoOf("set", files, pieceLength);
  const all = contentOf(files);
  const dir = path.join(tmp, `t${n++}`);
  const s = TorrentStorage.open(meta, dir);
  for (let i = 0; i < meta.pieceCount; i++) s.writePiece(i, all.slice(i * pieceLength, i * pieceLength + pieceSize(meta, i)));
  s.close();
  return { meta, all, dir };
}

const have = (b: { pieceCount: number; has(i: number): boolean }) => Array.from({ length: b.pieceCount }, (_, i) => i).filter((i) => b.has(i));

/** Descriptors of this process open on a file below `dir` (the hashing threads are this process's too). */
function openBelow(dir: string): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync("/proc/self/fd")) {
    try {
      const target = fs.readlinkSync(`/proc/self/fd/${fd}`);
      if (target.startsWith(dir)) out.push(target);
    } catch {
      // closed while we read
    }
  }
  return out;
}

describe("a check on the client's hashing threads", () => {
  test("finds exactly the pieces the check's own workers find, on a torrent with a corrupted piece, with progress to the total", async () => {
    const PIECE = 32 * 1024;
    const files: ContentFile[] = [
      { path: ["a.bin"], data: randomBytes(700_000) },
      { path: ["empty"], data: new Uint8Array(0) },
      { path: ["d", "b.bin"], data: randomBytes(2_000_000) },
      { path: ["c.bin"], data: randomBytes(250_001) },
    ];
    const { meta, all, dir } = writeTorrent(files, PIECE);
    // Byte 1,000,000 of the torrent is inside d/b.bin at 300,000; c.bin is cut short.
    const fd = fs.openSync(path.join(dir, "set", "d", "b.bin"), "r+");
    fs.writeSync(fd, new Uint8Array([all[1_000_000]! ^ 0xff]), 0, 1, 300_000);
    fs.closeSync(fd);
    fs.truncateSync(path.join(dir, "set", "c.bin"), 100_000);

    const old = await verifyExisting(meta, dir, { workers: 2 });
    const pool = new HashPool({ threads: 2 });
    const seen: number[] = [];
    try {
      const onPool = await verifyExisting(meta, dir, { pool, onProgress: (done, total) => seen.push(done / total) });
      expect(have(onPool)).toEqual(have(old));
      expect(onPool.has(Math.floor(1_000_000 / PIECE))).toBe(false);
      expect(onPool.has(meta.pieceCount - 1)).toBe(false);
      expect(onPool.has(0)).toBe(true);
      expect(seen.at(-1)).toBe(1);
      // Some piece is asked to be skipped: reported missing unread, as on the old path.
      const skip = (i: number) => i % 3 === 0;
      const oldSkipped = await verifyExisting(meta, dir, { workers: 2, skip });
      expect(have(await verifyExisting(meta, dir, { pool, skip }))).toEqual(have(oldSkipped));
      // A one-piece check is read on the main thread and agrees too.
      const one = (i: number) => i !== 5;
      expect(have(await verifyExisting(meta, dir, { pool, skip: one }))).toEqual([5]);
    } finally {
      pool.stopThreads();
    }
  });

  for (const how of ["throws", "exits"] as const) {
    test(`a thread that ${how} on a range: the check's ranges are read on the main thread, with the same result`, async () => {
      const worker = path.join(tmp, `${how}.ts`);
      const act = how === "throws" ? 'throw new Error("boom")' : "process.exit(3)";
      fs.writeFileSync(worker, `self.onmessage = (e) => { if (e.data.type === "check-disk") ${act}; };\n`);
      const { meta, all, dir } = writeTorrent([{ path: ["a.bin"], data: randomBytes(3_000_000) }], 32 * 1024);
      const fd = fs.openSync(path.join(dir, "a.bin"), "r+");
      fs.writeSync(fd, new Uint8Array([all[2_000_000]! ^ 0xff]), 0, 1, 2_000_000);
      fs.closeSync(fd);
      const old = await verifyExisting(meta, dir, { workers: 2 });
      const pool = new HashPool({ threads: 2, workerUrl: worker });
      try {
        const onPool = await verifyExisting(meta, dir, { pool });
        expect(have(onPool)).toEqual(have(old));
        expect(have(onPool).length).toBe(meta.pieceCount - 1);
        expect(pool.pending).toBe(0);
      } finally {
        pool.stopThreads();
      }
    });
  }

  test.skipIf(process.platform !== "linux")("an abort mid-check ends it, and no data file stays open", async () => {
    const PIECE = 64 * 1024;
    const { meta, dir } = writeTorrent(
      [
        { path: ["x.bin"], data: randomBytes(24 * 1024 * 1024) },
        { path: ["y.bin"], data: randomBytes(24 * 1024 * 1024) },
      ],
      PIECE,
    );
    const pool = new HashPool({ threads: 2 });
    const abort = new AbortController();
    let progressAfterAbort = 0;
    try {
      const found = await verifyExisting(meta, dir, {
        pool,
        signal: abort.signal,
        onProgress: () => {
          if (abort.signal.aborted) progressAfterAbort++;
          abort.abort(); // at the first range answered
        },
      });
      // Ended before every piece was hashed, with what was found up to then, and nothing reported after.
      expect(have(found).length).toBeGreaterThan(0);
      expect(have(found).length).toBeLessThan(meta.pieceCount);
      expect(progressAfterAbort).toBe(0);
      // Ranges still on a thread finish (the bound is a safety one); each closed its files before answering,
      // so once all have answered none stays open.
      const deadline = Date.now() + 30_000;
      while (pool.pending > 0 && Date.now() < deadline) await Bun.sleep(10);
      expect(pool.pending).toBe(0);
      expect(openBelow(dir)).toEqual([]);
    } finally {
      pool.stopThreads();
    }
  });
});
