// Proves the real-client harness itself: libtorrent and aria2c exchange data through a real opentracker
// on loopback, with torrents made by mktorrent. If these fail, interoperation tests of our own code
// cannot be trusted either.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { startAria2 } from "./support/aria2.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File, sha256Tree } from "./support/files.ts";
import { startLtPeer, type LtPeer } from "./support/libtorrent.ts";
import { startOpentracker, type Opentracker } from "./support/opentracker.ts";
import { stopAllServices } from "./support/processes.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { infoHashHex, mktorrent } from "./support/torrents.ts";

const ready = needs(PROGRAMS.libtorrent, PROGRAMS.opentracker, PROGRAMS.mktorrent, PROGRAMS.aria2);

describe.skipIf(!ready)("libtorrent and aria2c harness through opentracker", () => {
  let tmp: string;
  let _tracker: Opentracker;
  let single: string; // torrent of one 24 MiB file with a short last piece
  let multi: string; // torrent of a directory of files of uneven sizes
  let singleSum: string;
  let multiSums: Map<string, string>;

  beforeAll(async () => {
    tmp = makeTempDir("harness-lt-");
    const seedDir = path.join(tmp, "seed");
    makeRandomFile(path.join(seedDir, "one.bin"), 24 * 1024 * 1024 + 12345, 7);
    const sizes = [1, 70_000, 300_000, 1_048_576, 5_000];
    sizes.forEach((size, i) => makeRandomFile(path.join(seedDir, "album", i % 2 ? "sub" : "", `f${i}.bin`), size, 100 + i));
    singleSum = await sha256File(path.join(seedDir, "one.bin"));
    multiSums = await sha256Tree(path.join(seedDir, "album"));

    // The tracker URL must be in the torrent, so reserve the port first.
    const port = (await import("./support/ports.ts")).freePort();
    const announce = `http://127.0.0.1:${port}/announce`;
    single = mktorrent({ source: path.join(seedDir, "one.bin"), out: path.join(tmp, "one.torrent"), trackers: [announce] });
    multi = mktorrent({ source: path.join(seedDir, "album"), out: path.join(tmp, "album.torrent"), trackers: [announce], pieceLength: 32 * 1024 });
    _tracker = await startOpentracker({ infoHashes: [infoHashHex(single), infoHashHex(multi)], dir: path.join(tmp, "opentracker"), port });
  }, 60_000);

  afterAll(async () => {
    await stopAllServices();
    removeDir(tmp);
  }, 30_000);

  test("a libtorrent leecher downloads a single-file torrent from a libtorrent seeder found through opentracker", async () => {
    const seeder = await startLtPeer({ mode: "seed", torrent: single, dir: path.join(tmp, "seed"), trackerOnly: true });
    try {
      await seeder.waitFor((e) => e.event === "tracker-reply");
      const leecher = await startLtPeer({ mode: "download", torrent: single, dir: path.join(tmp, "lt-one"), trackerOnly: true, timeoutS: 90 });
      const finished = await leecher.finished();
      expect(finished.total_download).toBeGreaterThanOrEqual(24 * 1024 * 1024);
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256File(path.join(tmp, "lt-one", "one.bin"))).toBe(singleSum);
    } finally {
      await seeder.stop();
    }
  });

  test("a libtorrent leecher downloads a multi-file torrent from a directly given libtorrent seeder", async () => {
    const seeder = await startLtPeer({ mode: "seed", torrent: multi, dir: path.join(tmp, "seed"), noTrackers: true });
    try {
      const leecher = await startLtPeer({ mode: "download", torrent: multi, dir: path.join(tmp, "lt-multi"), noTrackers: true, peers: [seeder.address] });
      await leecher.finished();
      expect(await leecher.service.exited).toBe(0);
      expect(await sha256Tree(path.join(tmp, "lt-multi", "album"))).toEqual(multiSums);
    } finally {
      await seeder.stop();
    }
  });

  test("an aria2c leecher downloads from a libtorrent seeder through opentracker", async () => {
    const seeder = await startLtPeer({ mode: "seed", torrent: single, dir: path.join(tmp, "seed"), trackerOnly: true });
    try {
      await seeder.waitFor((e) => e.event === "tracker-reply");
      const aria = await startAria2({ torrent: single, dir: path.join(tmp, "aria-one") });
      await aria.done();
      expect(await sha256File(path.join(tmp, "aria-one", "one.bin"))).toBe(singleSum);
      const uploaded = await seeder.waitFor((e) => e.event === "status" && Number(e.total_upload) >= 24 * 1024 * 1024, 15_000);
      expect(Number(uploaded.total_upload)).toBeGreaterThanOrEqual(24 * 1024 * 1024);
    } finally {
      await seeder.stop();
    }
  });

  test("a libtorrent seeder refuses to start on data that does not match the torrent", async () => {
    const badDir = path.join(tmp, "bad");
    fs.mkdirSync(badDir, { recursive: true });
    fs.copyFileSync(path.join(tmp, "seed", "one.bin"), path.join(badDir, "one.bin"));
    const fd = fs.openSync(path.join(badDir, "one.bin"), "r+");
    fs.writeSync(fd, new Uint8Array([1, 2, 3, 4]), 0, 4, 1_000_000);
    fs.closeSync(fd);
    let failure: LtPeer | Error = new Error("no failure");
    try {
      failure = await startLtPeer({ mode: "seed", torrent: single, dir: badDir, noTrackers: true });
    } catch (e) {
      failure = e as Error;
    }
    if (!(failure instanceof Error)) await failure.stop();
    expect(failure).toBeInstanceOf(Error);
    expect((failure as Error).message).toContain("does not match");
  });
});
