// btpeer against independent clients on loopback: libtorrent (python3-libtorrent) both ways, and aria2c
// downloading from btpeer. Torrents come from mktorrent (another implementation than ours); every
// download is checked file by file with SHA-256. The layouts cover a last piece shorter than the rest
// and file boundaries falling inside pieces.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { startAria2 } from "../support/aria2.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File, sha256Tree } from "../support/files.ts";
import { startLtPeer } from "../support/libtorrent.ts";
import { stopAllServices } from "../support/processes.ts";
import { needs, PROGRAMS } from "../support/system.ts";
import { mktorrent } from "../support/torrents.ts";
import { isEvent, startBtpeer, startTracker, type Tracker } from "./btpeer-harness.ts";

let dir = "";
let multiTorrent = "";
let singleTorrent = "";
const multiSource = () => path.join(dir, "src", "album");
const singleSource = () => path.join(dir, "src", "single.bin");

beforeAll(() => {
  dir = makeTempDir("btpeer-interop-");
  // Sizes chosen so that both file boundaries fall inside 64 KiB pieces and the last piece is short.
  makeRandomFile(path.join(multiSource(), "a.bin"), 1_000_003, 1);
  makeRandomFile(path.join(multiSource(), "disc 2", "b.bin"), 3_333_333, 2);
  makeRandomFile(path.join(multiSource(), "z.bin"), 5 * 1024 * 1024 + 17, 3);
  makeRandomFile(singleSource(), 6 * 1024 * 1024 + 4321, 4);
});

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

async function expectSameTree(a: string, b: string): Promise<void> {
  const [x, y] = await Promise.all([sha256Tree(a), sha256Tree(b)]);
  expect(y.size).toBe(x.size);
  expect(Object.fromEntries(y)).toEqual(Object.fromEntries(x));
}

describe.skipIf(!needs(PROGRAMS.libtorrent, PROGRAMS.mktorrent))("btpeer and libtorrent", () => {
  beforeAll(() => {
    multiTorrent = mktorrent({ source: multiSource(), out: path.join(dir, "album.torrent"), pieceLength: 64 * 1024 });
  });

  test("btpeer downloads a multi-file torrent from a libtorrent seeder, every file intact", async () => {
    const lt = await startLtPeer({ mode: "seed", torrent: multiTorrent, dir: path.join(dir, "src"), noTrackers: true, name: "libtorrent seeder" });
    try {
      const out = path.join(dir, "from-lt");
      const peer = await startBtpeer(["download", multiTorrent, "--out", out, "--no-seed", "--peer", lt.address], { name: "btpeer leecher" });
      const done = await peer.waitFor(isEvent("completed"), 120_000);
      expect(done.have).toBe(done.pieces);
      expect(await peer.service.exited).toBe(0);
      await expectSameTree(multiSource(), path.join(out, "album"));
    } finally {
      await lt.stop();
    }
  }, 150_000);

  test("libtorrent downloads a multi-file torrent from a btpeer seeder, every file intact", async () => {
    const seeder = await startBtpeer(["seed", multiTorrent, "--dir", path.join(dir, "src")], { name: "btpeer seeder" });
    try {
      const out = path.join(dir, "lt-from-btpeer");
      fs.mkdirSync(out, { recursive: true });
      const lt = await startLtPeer({
        mode: "download",
        torrent: multiTorrent,
        dir: out,
        noTrackers: true,
        peers: [seeder.address],
        name: "libtorrent leecher",
      });
      await lt.finished(120_000);
      await lt.stop();
      await expectSameTree(multiSource(), path.join(out, "album"));
      const progress = await seeder.waitFor((e) => e.event === "progress" && Number(e.uploaded) > 0);
      expect(Number(progress.uploaded)).toBeGreaterThan(0);
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 150_000);
});

describe.skipIf(!needs(PROGRAMS.aria2, PROGRAMS.mktorrent))("aria2c and btpeer", () => {
  let tracker: Tracker;
  beforeAll(async () => {
    tracker = await startTracker();
    singleTorrent = mktorrent({ source: singleSource(), out: path.join(dir, "single.torrent"), pieceLength: 128 * 1024, trackers: [tracker.announce] });
  });
  afterAll(async () => {
    await tracker?.stop();
  }, 30_000);

  test("aria2c downloads a single-file torrent from a btpeer seeder found through our tracker", async () => {
    const seeder = await startBtpeer(["seed", singleTorrent, "--dir", path.join(dir, "src")], { name: "btpeer seeder" });
    try {
      await seeder.waitFor(isEvent("tracker"), 30_000); // registered with the tracker before aria2c asks
      const out = path.join(dir, "aria2-single");
      const aria2 = await startAria2({ torrent: singleTorrent, dir: out, stallTimeoutS: 60 });
      await aria2.done();
      expect(await sha256File(path.join(out, "single.bin"))).toBe(await sha256File(singleSource()));
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 150_000);

  test("aria2c downloads a multi-file torrent (file boundaries inside pieces) from a btpeer seeder", async () => {
    const torrent = mktorrent({ source: multiSource(), out: path.join(dir, "album-tracked.torrent"), pieceLength: 64 * 1024, trackers: [tracker.announce] });
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.join(dir, "src")], { name: "btpeer seeder" });
    try {
      await seeder.waitFor(isEvent("tracker"), 30_000);
      const out = path.join(dir, "aria2-multi");
      const aria2 = await startAria2({ torrent, dir: out, stallTimeoutS: 60 });
      await aria2.done();
      await expectSameTree(multiSource(), path.join(out, "album"));
    } finally {
      expect(await seeder.stop()).toBe(0);
    }
  }, 150_000);
});
