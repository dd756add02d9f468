// A torrent's lifecycle beyond start and stop, with real parts: our tracker (child process) to see what
// it announces, real btpeer processes as the other peers, and a Client in this process holding the torrent.
// pause() closes every connection and announces `stopped` (the tracker forgets us), resume() announces
// `started` again and dials; recheck() hashes every piece (state `checking`), finds a damaged one and
// fetches it again; a torrent given a check starts in `checking` and hashes only what it was told to.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { Client } from "../../peer/client/client.ts";
import { TorrentStorage } from "../../peer/storage/index.ts";
import type { TorrentEvent } from "../../peer/torrent/events.ts";
import type { Torrent } from "../../peer/torrent/torrent.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { scrapeUntil } from "../support/scrape.ts";
import { isEvent, makeTorrent, startBtpeer, startTracker, type Tracker } from "./btpeer-harness.ts";

const PIECE = 32 * 1024;
let dir = "";
let source = "";
let torrentPath = "";
let meta: Metainfo;
let tracker: Tracker;

beforeAll(async () => {
  dir = makeTempDir("btpeer-lifecycle-");
  tracker = await startTracker();
  source = path.join(dir, "src", "data.bin");
  fs.mkdirSync(path.dirname(source), { recursive: true });
  makeRandomFile(source, 40 * PIECE + 1234, 77);
  torrentPath = await makeTorrent(source, path.join(dir, "data.torrent"), { pieceLength: PIECE, trackers: [tracker.announce] });
  meta = parseMetainfo(new Uint8Array(fs.readFileSync(torrentPath)));
}, 60_000);

afterAll(async () => {
  await stopAllServices();
  removeDir(dir);
}, 30_000);

interface Held {
  client: Client;
  torrent: Torrent;
  events: TorrentEvent[];
  waitFor(kind: TorrentEvent["event"], timeoutMs?: number): Promise<TorrentEvent>;
}

/** A Client on a free port with this torrent over the files in `dataDir`, checked as `check` says. */
function hold(dataDir: string, opts: { check?: (i: number) => boolean; peers?: { ip: string; port: number }[] } = {}): Held {
  const client = new Client({ port: 0, bind: "127.0.0.1" });
  client.start();
  const events: TorrentEvent[] = [];
  const waiters: { kind: string; from: number; resolve: (e: TorrentEvent) => void }[] = [];
  const storage = TorrentStorage.open(meta, dataDir);
  const torrent = client.addTorrent({
    meta,
    storage,
    have: new Bitfield(meta.pieceCount),
    dir: dataDir,
    check: opts.check ?? ((i) => storage.mayHoldData(i)),
    poolBytes: 1 << 20,
    maxPeers: 10,
    peers: opts.peers ?? [],
    seed: true,
    onEvent: (e) => {
      events.push(e);
      for (const w of [...waiters]) {
        if (w.kind === e.event) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    },
  });
  torrent.start();
  return {
    client,
    torrent,
    events,
    waitFor(kind, timeoutMs = 60_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no ${kind} event within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          kind,
          from: events.length,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
  };
}

describe("Torrent lifecycle", () => {
  test("starts in `checking`, hashes only the pieces it is told to, then works from what it found", async () => {
    // Told to trust nothing but pieces 0..9: the others are reported missing without being read.
    const held = hold(path.dirname(source), { check: (i) => i < 10 });
    try {
      expect(held.torrent.state).toBe("checking");
      const started = await held.waitFor("started");
      expect(held.events.find((e) => e.event === "checking")).toEqual({ event: "checking", pieces: 10 });
      expect(started).toMatchObject({ checked: 10, have: 10, resumedPieces: 10 });
      expect(held.torrent.state).toBe("downloading");
    } finally {
      await held.client.stop();
    }
  }, 60_000); // a safety bound only: Bun's default is 5 s

  test("pause closes connections and announces `stopped`; resume announces `started` and serves again", async () => {
    const held = hold(path.dirname(source));
    try {
      await held.waitFor("completed");
      expect(held.torrent.state).toBe("seeding");
      expect((await scrapeUntil(tracker.announce, meta.infoHash, (c) => c.complete === 1)).complete).toBe(1);
      // A leecher holds a connection to us until the pause.
      const out = path.join(dir, "leech-1");
      const leecher = await startBtpeer(["download", torrentPath, "--out", out, "--peer", `127.0.0.1:${held.client.port}`], { name: "leecher" });
      await leecher.waitFor(isEvent("completed"));
      expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
      await leecher.stop();

      await held.torrent.pause();
      expect(held.torrent.state).toBe("paused");
      expect(held.torrent.connectionCount()).toBe(0);
      expect(held.events.at(-1)?.event).toBe("paused");
      // The tracker heard `stopped`: we are no longer in the swarm.
      expect((await scrapeUntil(tracker.announce, meta.infoHash, (c) => c.complete === 0)).complete).toBe(0);

      await held.torrent.resume();
      expect(held.torrent.state).toBe("seeding");
      expect((await scrapeUntil(tracker.announce, meta.infoHash, (c) => c.complete === 1)).complete).toBe(1);
      // And it serves again: a second leecher finds us through the tracker alone.
      const out2 = path.join(dir, "leech-2");
      const second = await startBtpeer(["download", torrentPath, "--out", out2, "--no-seed"], { name: "leecher 2" });
      await second.waitFor(isEvent("completed"));
      expect(await sha256File(path.join(out2, "data.bin"))).toBe(await sha256File(source));
      await second.stop();
    } finally {
      await held.client.stop();
    }
  }, 120_000);

  test("a pause while `started` is still on its way to the tracker announces `stopped` all the same", async () => {
    const held = hold(path.dirname(source));
    try {
      await held.waitFor("started");
      await held.torrent.pause(); // the `started` announce went out a moment ago and is not answered yet
      await scrapeUntil(tracker.announce, meta.infoHash, (c) => c.complete === 1, 2_000);
      expect((await scrapeUntil(tracker.announce, meta.infoHash, (c) => c.complete === 0)).complete).toBe(0);
    } finally {
      await held.client.stop();
    }
  }, 60_000);

  test("recheck hashes every piece, finds the damaged one, and fetches it again", async () => {
    const copy = path.join(dir, "copy");
    fs.mkdirSync(copy, { recursive: true });
    fs.copyFileSync(source, path.join(copy, "data.bin"));
    const seeder = await startBtpeer(["seed", torrentPath, "--dir", path.dirname(source)], { name: "seeder" });
    const held = hold(copy, { peers: [{ ip: "127.0.0.1", port: seeder.port }] });
    try {
      await held.waitFor("completed");
      // Damage piece 5 behind the torrent's back.
      const fd = fs.openSync(path.join(copy, "data.bin"), "r+");
      fs.writeSync(fd, new Uint8Array(100).fill(0xee), 0, 100, 5 * PIECE + 10);
      fs.closeSync(fd);

      const completedAgain = held.waitFor("completed");
      const checkingNow = held.waitFor("checking");
      const rechecked = held.torrent.recheck();
      await checkingNow;
      expect(held.torrent.state).toBe("checking");
      expect(held.torrent.connectionCount()).toBe(0);
      await rechecked;
      const checking = held.events.filter((e) => e.event === "checking").at(-1);
      expect(checking).toEqual({ event: "checking", pieces: meta.pieceCount });
      const checked = held.events.filter((e) => e.event === "checked").at(-1);
      expect(checked).toMatchObject({ checked: meta.pieceCount, have: meta.pieceCount - 1 });
      expect(held.torrent.have.has(5)).toBe(false);
      await completedAgain;
      expect(held.torrent.state).toBe("seeding");
      expect(await sha256File(path.join(copy, "data.bin"))).toBe(await sha256File(source));
    } finally {
      await held.client.stop();
      await seeder.stop();
    }
  }, 120_000);

  test("a download paused midway gives its pool back, and completes once resumed", async () => {
    const out = path.join(dir, "paused-download");
    // A slow seeder, so that the pause comes midway.
    const seeder = await startBtpeer(["seed", torrentPath, "--dir", path.dirname(source), "--upload-limit", "128K"], { name: "slow seeder" });
    const held = hold(out, { peers: [{ ip: "127.0.0.1", port: seeder.port }] });
    try {
      const budget = held.client.pool.totalBytes;
      await held.waitFor("started");
      while (held.torrent.have.count() < 3) await Bun.sleep(50);
      expect(held.client.pool.available).toBeLessThan(budget);
      await held.torrent.pause();
      const atPause = held.torrent.have.count();
      expect(atPause).toBeLessThan(meta.pieceCount);
      expect(held.client.pool.available).toBe(budget);
      expect(held.torrent.connectionCount()).toBe(0);
      await held.torrent.resume();
      expect(held.torrent.state).toBe("downloading");
      await held.waitFor("completed", 120_000);
      expect(await sha256File(path.join(out, "data.bin"))).toBe(await sha256File(source));
    } finally {
      await held.client.stop();
      await seeder.stop();
    }
  }, 180_000);
});
