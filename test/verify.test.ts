import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { pieceSize } from "../shared/metainfo/types.ts";
import { TorrentStorage, verifyExisting } from "../peer/storage/index.ts";
import { contentOf, metainfoOf, randomBytes, type ContentFile } from "./support/metainfo-of.ts";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "btpeer-verify-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;

const PIECE = 64 * 1024;
const FILES: ContentFile[] = [
  { path: ["a.bin"], data: randomBytes(300_000) },
  { path: ["empty"], data: new Uint8Array(0) },
  { path: ["d", "b.bin"], data: randomBytes(1_000_000) },
  { path: ["c.bin"], data: randomBytes(250_001) },
];
const meta = metainfoOf("set", FILES, PIECE);
const all = contentOf(FILES);

/** Writes the whole torrent to a fresh folder through TorrentStorage. */
function complete(): string {
  const dir = path.join(tmp, `t${n++}`);
  const s = TorrentStorage.open(meta, dir);
  for (let i = 0; i < meta.pieceCount; i++) s.writePiece(i, all.slice(i * PIECE, i * PIECE + pieceSize(meta, i)));
  s.close();
  return dir;
}

/** Pieces touching bytes [start, end) of the torrent. */
function piecesOf(start: number, end: number): number[] {
  const out = [];
  for (let i = Math.floor(start / PIECE); i * PIECE < end; i++) out.push(i);
  return out;
}

function havePieces(b: { pieceCount: number; has(i: number): boolean }): number[] {
  return Array.from({ length: b.pieceCount }, (_, i) => i).filter((i) => b.has(i));
}
const everyPiece = Array.from({ length: meta.pieceCount }, (_, i) => i);

describe("verifyExisting", () => {
  test("finds every piece of complete data, with progress up to the total", async () => {
    const seen: number[] = [];
    const have = await verifyExisting(meta, complete(), { workers: 2, onProgress: (done, total) => seen.push(done / total) });
    expect(have.isComplete()).toBe(true);
    expect(seen.at(-1)).toBe(1);
  });

  test("finds exactly the good pieces when one piece is corrupt", async () => {
    const dir = complete();
    // Byte 400,000 of the torrent is inside d/b.bin at 100,000.
    const fd = fs.openSync(path.join(dir, "set", "d", "b.bin"), "r+");
    fs.writeSync(fd, new Uint8Array([all[400_000]! ^ 0xff]), 0, 1, 100_000);
    fs.closeSync(fd);
    const have = await verifyExisting(meta, dir, { workers: 2 });
    const bad = Math.floor(400_000 / PIECE);
    expect(havePieces(have)).toEqual(everyPiece.filter((i) => i !== bad));
  });

  test("a truncated file loses exactly the pieces past its new end", async () => {
    const dir = complete();
    fs.truncateSync(path.join(dir, "set", "c.bin"), 100_000);
    const have = await verifyExisting(meta, dir, { workers: 2 });
    const cStart = 1_300_000;
    const lost = new Set(piecesOf(cStart + 100_000, all.length));
    expect(havePieces(have)).toEqual(everyPiece.filter((i) => !lost.has(i)));
  });

  test("a missing file loses exactly the pieces it overlaps", async () => {
    const dir = complete();
    fs.rmSync(path.join(dir, "set", "a.bin"));
    const have = await verifyExisting(meta, dir, { workers: 2 });
    const lost = new Set(piecesOf(0, 300_000));
    expect(havePieces(have)).toEqual(everyPiece.filter((i) => !lost.has(i)));
  });

  test("an empty folder has no pieces, and one worker gives the same answer as several", async () => {
    const empty = await verifyExisting(meta, path.join(tmp, "nothing-here"), { workers: 3 });
    expect(empty.count()).toBe(0);
    const dir = complete();
    fs.rmSync(path.join(dir, "set", "c.bin"));
    const one = await verifyExisting(meta, dir, { workers: 1 });
    const two = await verifyExisting(meta, dir, { workers: 2 });
    expect(one.bytes).toEqual(two.bytes);
    expect(one.count()).toBe(piecesOf(0, 1_300_000).length - 1);
  });

  test("skips pieces that lie wholly in data storage just created, and hashes the rest", async () => {
    const dir = complete();
    // a.bin loses its tail and c.bin disappears: reopening extends one and recreates the other as holes.
    fs.truncateSync(path.join(dir, "set", "a.bin"), 100_000);
    fs.rmSync(path.join(dir, "set", "c.bin"));
    const storage = TorrentStorage.open(meta, dir);
    const fresh = everyPiece.filter((i) => !storage.mayHoldData(i));
    // Pieces wholly inside a.bin past 100,000 bytes, or wholly inside c.bin (bytes 1,300,000.. of the torrent).
    const within = (start: number, end: number) => everyPiece.filter((i) => i * PIECE >= start && i * PIECE + pieceSize(meta, i) <= end);
    expect(fresh).toEqual([...within(100_000, 300_000), ...within(1_300_000, all.length)]);
    const checked: number[] = [];
    const have = await verifyExisting(meta, dir, { workers: 2, skip: (i) => !storage.mayHoldData(i), onProgress: (done) => checked.push(done) });
    storage.close();
    expect(checked.at(-1)).toBe(meta.pieceCount - fresh.length);
    const lost = new Set([...piecesOf(100_000, 300_000), ...piecesOf(1_300_000, all.length)]);
    expect(havePieces(have)).toEqual(everyPiece.filter((i) => !lost.has(i)));
  });

  test("a folder storage has just created needs no hashing at all", async () => {
    const dir = path.join(tmp, `fresh${n++}`);
    const storage = TorrentStorage.open(meta, dir);
    let progress = 0;
    const have = await verifyExisting(meta, dir, { skip: (i) => !storage.mayHoldData(i), onProgress: () => progress++ });
    storage.close();
    expect(have.count()).toBe(0);
    expect(progress).toBe(0);
  });
});
