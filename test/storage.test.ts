import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pieceSize } from "../shared/metainfo/types.ts";
import { StorageError, TorrentStorage } from "../peer/storage/index.ts";
import { storageErrorFrom } from "../peer/storage/errors.ts";
import { KEEP_FREE_BYTES, Preallocator } from "../peer/storage/preallocate.ts";
import { contentOf, metainfoOf, randomBytes, type ContentFile } from "./support/metainfo-of.ts";
import { errorCode } from "./support/error-code.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "btpeer-storage-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const freshDir = () => path.join(tmp, `t${n++}`);

const PIECE = 32 * 1024;
// File boundaries fall inside pieces 0 and 2; a zero-length file sits between b and c.
const FILES: ContentFile[] = [
  { path: ["a.bin"], data: randomBytes(20_000) },
  { path: ["sub", "b.bin"], data: randomBytes(50_000) },
  { path: ["sub", "empty"], data: new Uint8Array(0) },
  { path: ["c.bin"], data: randomBytes(31_000) },
];

/** Byte-for-byte equality, with the lengths in the failure message. */
function expectSame(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(Buffer.compare(actual, expected)).toBe(0);
}

const codeOf = (fn: () => unknown) => errorCode(StorageError, fn);

describe("TorrentStorage", () => {
  test("creates every file at its full length in the torrent's layout, zero-length files too", () => {
    const meta = metainfoOf("multi", FILES, PIECE);
    const dir = freshDir();
    TorrentStorage.open(meta, dir).close();
    for (const f of FILES) expect(fs.statSync(path.join(dir, "multi", ...f.path)).size).toBe(f.data.length);
  });

  test("writes pieces asynchronously, all at once, across file boundaries", async () => {
    const meta = metainfoOf("multi", FILES, PIECE);
    const all = contentOf(FILES);
    const dir = freshDir();
    const s = TorrentStorage.open(meta, dir);
    const pieces = Array.from({ length: meta.pieceCount }, (_, i) => all.slice(i * PIECE, i * PIECE + pieceSize(meta, i)));
    await Promise.all(pieces.map((p, i) => s.writePieceAsync(i, p)));
    for (const f of FILES) expectSame(fs.readFileSync(path.join(dir, "multi", ...f.path)), f.data);
    const rejected = await s.writePieceAsync(0, new Uint8Array(PIECE - 1)).then(
      () => "no error",
      (e: StorageError) => e.code,
    );
    expect(rejected).toBe("bad-range");
    s.close();
  });

  test("a single-file torrent sits directly in the folder", () => {
    const meta = metainfoOf("one.bin", [{ path: ["one.bin"], data: randomBytes(1000) }], PIECE);
    const dir = freshDir();
    TorrentStorage.open(meta, dir).close();
    expect(fs.statSync(path.join(dir, "one.bin")).size).toBe(1000);
  });

  test("writes pieces across file boundaries and reads any block back", () => {
    const meta = metainfoOf("multi", FILES, PIECE);
    const all = contentOf(FILES);
    const dir = freshDir();
    const s = TorrentStorage.open(meta, dir);
    for (let i = meta.pieceCount - 1; i >= 0; i--) s.writePiece(i, all.slice(i * PIECE, i * PIECE + pieceSize(meta, i)));
    for (const f of FILES) expectSame(fs.readFileSync(path.join(dir, "multi", ...f.path)), f.data);
    // A block spanning a.bin -> sub/b.bin, and one spanning b.bin -> (empty) -> c.bin.
    const into = new Uint8Array(10_000 + 7);
    s.readBlock(0, 15_000, 10_000, into, 7);
    expectSame(into.subarray(7), all.subarray(15_000, 25_000));
    s.readBlock(2, 0, 8000, into, 0);
    expectSame(into.subarray(0, 8000), all.subarray(2 * PIECE, 2 * PIECE + 8000));
    // The short last piece.
    const last = meta.pieceCount - 1;
    const lastLen = pieceSize(meta, last);
    const tail = new Uint8Array(lastLen);
    s.readBlock(last, 0, lastLen, tail, 0);
    expectSame(tail, all.subarray(last * PIECE));
    s.close();
  });

  test("keeps data already on disk when opened again", () => {
    const meta = metainfoOf("multi", FILES, PIECE);
    const all = contentOf(FILES);
    const dir = freshDir();
    const s = TorrentStorage.open(meta, dir);
    s.writePiece(0, all.slice(0, PIECE));
    s.close();
    const again = TorrentStorage.open(meta, dir);
    const into = new Uint8Array(PIECE);
    again.readBlock(0, 0, PIECE, into, 0);
    expectSame(into, all.subarray(0, PIECE));
    again.close();
  });

  test("allocates the bytes it adds to files up front (new files and a short file's extension), keeping what was there", () => {
    const meta = metainfoOf("multi", FILES, PIECE);
    const dir = freshDir();
    const first = FILES[0]!;
    const old = first.data.subarray(0, 8_000);
    fs.mkdirSync(path.join(dir, "multi"), { recursive: true });
    fs.writeFileSync(path.join(dir, "multi", ...first.path), old);
    TorrentStorage.open(meta, dir).close();
    for (const f of FILES) {
      const stat = fs.statSync(path.join(dir, "multi", ...f.path));
      expect(stat.size).toBe(f.data.length);
      // Allocated, not a hole a later write has to allocate block by block (preallocate.ts).
      expect(stat.blocks * 512).toBeGreaterThanOrEqual(f.data.length);
    }
    expectSame(fs.readFileSync(path.join(dir, "multi", ...first.path)).subarray(0, old.length), old);
  });

  test("preallocates nothing that would leave the disk without its reserve (ext4 keeps what a failed fallocate took)", () => {
    const file = path.join(tmp, `prealloc-${n++}.bin`);
    const fd = fs.openSync(file, "w+");
    try {
      const disk = fs.statfsSync(tmp);
      const space = new Preallocator(tmp);
      // Far more than the disk holds: refused before fallocate is called, the file stays a hole.
      expect(space.allocate(fd, 0, 2 * disk.bavail * disk.bsize + KEEP_FREE_BYTES)).toBe(false);
      expect(fs.fstatSync(fd).blocks).toBe(0);
      expect(space.allocate(fd, 0, 64 * 1024)).toBe(true);
      expect(fs.fstatSync(fd).blocks * 512).toBeGreaterThanOrEqual(64 * 1024);
    } finally {
      fs.closeSync(fd);
    }
  });

  test("refuses a piece of the wrong size or index and a block outside its piece", () => {
    const meta = metainfoOf("multi", FILES, PIECE);
    const s = TorrentStorage.open(meta, freshDir());
    expect(codeOf(() => s.writePiece(0, new Uint8Array(PIECE - 1)))).toBe("bad-range");
    expect(codeOf(() => s.writePiece(meta.pieceCount, new Uint8Array(PIECE)))).toBe("bad-range");
    expect(codeOf(() => s.readBlock(0, PIECE - 10, 20, new Uint8Array(20), 0))).toBe("bad-range");
    s.close();
  });

  test("refuses a path that would resolve outside the folder and writes nothing", () => {
    const dir = freshDir();
    const evil = metainfoOf(
      "multi",
      [
        { path: ["..", "..", "escaped.bin"], data: randomBytes(10) },
        { path: ["ok"], data: randomBytes(10) },
      ],
      PIECE,
      true,
    );
    expect(codeOf(() => TorrentStorage.open(evil, dir))).toBe("path-escape");
    const evilName = metainfoOf("../outside.bin", [{ path: [], data: randomBytes(10) }], PIECE, false);
    expect(codeOf(() => TorrentStorage.open(evilName, dir))).toBe("path-escape");
    expect(fs.existsSync(path.join(tmp, "escaped.bin"))).toBe(false);
    expect(fs.existsSync(path.join(tmp, "outside.bin"))).toBe(false);
    expect(fs.existsSync(path.join(dir, "multi", "ok"))).toBe(false);
  });

  test("refuses to write through a symlinked folder that points outside", () => {
    const dir = freshDir();
    const outside = fs.mkdtempSync(path.join(tmp, "outside-"));
    fs.mkdirSync(path.join(dir, "multi"), { recursive: true });
    fs.symlinkSync(outside, path.join(dir, "multi", "sub"));
    const meta = metainfoOf("multi", FILES, PIECE);
    expect(codeOf(() => TorrentStorage.open(meta, dir))).toBe("path-escape");
    expect(fs.readdirSync(outside)).toEqual([]);
  });

  test.skipIf(process.getuid?.() === 0)("reports an unwritable folder as `unwritable`", () => {
    const dir = freshDir();
    fs.mkdirSync(dir);
    fs.chmodSync(dir, 0o500);
    try {
      const meta = metainfoOf("multi", FILES, PIECE);
      expect(codeOf(() => TorrentStorage.open(meta, path.join(dir, "inner")))).toBe("unwritable");
      expect(codeOf(() => TorrentStorage.open(meta, dir))).toBe("unwritable");
    } finally {
      fs.chmodSync(dir, 0o700);
    }
  });

  test("reports a folder that cannot be created (a file is in the way) as `unwritable`", () => {
    const blocker = path.join(`${freshDir()}-file`);
    fs.writeFileSync(blocker, "not a folder");
    const meta = metainfoOf("multi", FILES, PIECE);
    expect(codeOf(() => TorrentStorage.open(meta, path.join(blocker, "inner")))).toBe("unwritable");
  });

  test("maps a real ENOSPC from the OS to `disk-full`", () => {
    const fd = fs.openSync("/dev/full", "w");
    try {
      fs.writeSync(fd, new Uint8Array(10), 0, 10, 0);
      throw new Error("writing to /dev/full succeeded");
    } catch (error) {
      expect(storageErrorFrom(error, "/dev/full").code).toBe("disk-full");
    } finally {
      fs.closeSync(fd);
    }
  });

  test("reading a block missing from disk reports `missing-data`", () => {
    const meta = metainfoOf("multi", FILES, PIECE);
    const dir = freshDir();
    const s = TorrentStorage.open(meta, dir);
    fs.truncateSync(path.join(dir, "multi", "c.bin"), 100);
    const last = meta.pieceCount - 1;
    expect(codeOf(() => s.readBlock(last, 0, pieceSize(meta, last), new Uint8Array(PIECE), 0))).toBe("missing-data");
    s.close();
  });
});
