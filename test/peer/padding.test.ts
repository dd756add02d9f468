// BEP 47 padding files, as libtorrent's hybrid (v1+v2) torrents carry them after each file: btpeer never
// creates them (no `.pad` folder), never asks a peer for a block lying wholly inside them, reads them as
// zeros when checking or serving pieces, and the files it writes are the real ones, intact.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256Tree } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { DEBIAN_PYTHON, needs, PROGRAMS } from "../support/system.ts";
import { isEvent, startBtpeer, type Btpeer } from "./btpeer-harness.ts";

const TOOLS = path.join(import.meta.dir, "..", "support", "libtorrent", "torrent_tools.py");
const PIECE = 64 * 1024;

interface LtInfo {
  totalSize: number;
  numPieces: number;
  files: { path: string; length: number; pad: boolean }[];
}

function lt<T>(...args: string[]): T {
  const r = Bun.spawnSync([DEBIAN_PYTHON, TOOLS, ...args], { stdout: "pipe", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`torrent_tools ${args[0]} failed: ${r.stderr.toString()}`);
  return JSON.parse(r.stdout.toString()) as T;
}

let dir = "";
let torrent = "";
let info: LtInfo;
const src = () => path.join(dir, "src");

/**
 * What a leecher that never asks for padding downloads: the bytes of every block not lying wholly
 * inside padding (worked out here from libtorrent's own file list, not from btpeer's code).
 */
function bytesOutsidePaddingBlocks(): number {
  const pads: [number, number][] = [];
  let offset = 0;
  for (const f of info.files) {
    if (f.pad) pads.push([offset, offset + f.length]);
    offset += f.length;
  }
  let total = 0;
  for (let start = 0; start < info.totalSize; start += BLOCK_SIZE) {
    const pieceEnd = Math.min(info.totalSize, (Math.floor(start / PIECE) + 1) * PIECE);
    const end = Math.min(start + BLOCK_SIZE, pieceEnd);
    if (!pads.some(([a, b]) => a <= start && end <= b)) total += end - start;
  }
  return total;
}

beforeAll(() => {
  dir = makeTempDir("btpeer-padding-");
  // Sizes leaving most of a piece as padding after each file, so whole 16 KiB blocks fall inside it.
  makeRandomFile(path.join(src(), "album", "a.bin"), 70_000, 1);
  makeRandomFile(path.join(src(), "album", "disc 2", "b.bin"), 200_003, 2);
  makeRandomFile(path.join(src(), "album", "c.bin"), 20_000, 3);
  makeRandomFile(path.join(src(), "album", "z.bin"), 90_001, 4);
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

async function expectDownloadedWithoutPadding(leecher: Btpeer, out: string): Promise<void> {
  const done = await leecher.waitFor(isEvent("completed"), 120_000);
  expect(await leecher.service.exited).toBe(0);
  expect(done.have).toBe(info.numPieces);
  // Every block accepted was asked for; none of them lay wholly inside padding.
  expect(done.downloaded).toBe(bytesOutsidePaddingBlocks());
  expect(fs.existsSync(path.join(out, "album", ".pad"))).toBe(false);
  expect(Object.fromEntries(await sha256Tree(out))).toEqual(Object.fromEntries(await sha256Tree(src())));
}

describe.skipIf(!needs(PROGRAMS.libtorrent))("a hybrid torrent with padding files, made by libtorrent", () => {
  beforeAll(() => {
    torrent = path.join(dir, "album.torrent");
    lt("create", path.join(src(), "album"), torrent, "--piece-length", String(PIECE));
    info = lt<LtInfo>("info", torrent);
    // The premise: padding files, some of them holding whole blocks.
    expect(info.files.filter((f) => f.pad).length).toBeGreaterThanOrEqual(3);
    expect(bytesOutsidePaddingBlocks()).toBeLessThan(info.totalSize - 2 * BLOCK_SIZE);
  });

  test("btpeer downloads it from a libtorrent seeder: no .pad folder, no request inside padding, files intact", async () => {
    const seeder = await startLtPeer({ mode: "seed", torrent, dir: src(), noTrackers: true, name: "libtorrent seeder" });
    try {
      const out = path.join(dir, "from-lt");
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name: "btpeer leecher" });
      await expectDownloadedWithoutPadding(leecher, out);
      // libtorrent's own check of what btpeer wrote passes every piece.
      const check = lt<{ numPieces: number; piecesPassed: number }>("check", torrent, out);
      expect(check.piecesPassed).toBe(check.numPieces);
    } finally {
      await seeder.stop();
    }
  }, 150_000);

  test("btpeer seeds it from the real files alone and another btpeer downloads it the same way", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", src()], { name: "btpeer seeder" });
    try {
      expect(fs.existsSync(path.join(src(), "album", ".pad"))).toBe(false);
      const out = path.join(dir, "from-btpeer");
      const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--peer", seeder.address], { name: "btpeer leecher" });
      await expectDownloadedWithoutPadding(leecher, out);
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 150_000);

  test("libtorrent downloads it from a btpeer seeder, which serves the padding it overlaps as zeros", async () => {
    const seeder = await startBtpeer(["seed", torrent, "--dir", src()], { name: "btpeer seeder" });
    try {
      const out = path.join(dir, "lt-from-btpeer");
      fs.mkdirSync(out, { recursive: true });
      const leecher = await startLtPeer({ mode: "download", torrent, dir: out, noTrackers: true, peers: [seeder.address], name: "libtorrent leecher" });
      await leecher.finished(120_000);
      await leecher.stop();
      const check = lt<{ numPieces: number; piecesPassed: number }>("check", torrent, out);
      expect(check.piecesPassed).toBe(check.numPieces);
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 150_000);
});
