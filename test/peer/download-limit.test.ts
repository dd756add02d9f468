// --download-limit and the client's global limits: the budget's arithmetic and the downloader asking for
// exactly what it allows, on a clock the test moves by hand; then real transfers between btpeer
// processes, whose byte counts must stay within burst + rate × time (time measured generously from the
// outside: a slow machine only makes the bound looser, never the test flaky).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import { Bitfield } from "../../shared/bitfield.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import type { Metainfo } from "../../shared/metainfo/types.ts";
import { BLOCK_SIZE } from "../../shared/wire/types.ts";
import { Client } from "../../peer/client/client.ts";
import { RateBudget, RateLimit } from "../../peer/net/rate-budget.ts";
import { TokenBucket } from "../../peer/net/token-bucket.ts";
import { Downloader } from "../../peer/pieces/downloader.ts";
import { BufferPool } from "../../peer/pieces/pool.ts";
import { TorrentStorage, verifyExisting } from "../../peer/storage/index.ts";
import type { SwarmPeer } from "../../peer/swarm/swarm-peer.ts";
import { recordingSocket, unchokedSeedPeer } from "../support/unchoked-peer.ts";
import { DOWNLOAD_MIN_BURST } from "../../peer/torrent/tuning.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { isEvent, makeTorrent, startBtpeer } from "./btpeer-harness.ts";
import { ManualClock } from "../support/manual-clock.ts";
import { until } from "../support/until.ts";

describe("RateBudget", () => {
  test("draws from every limit: what is available is the least of them, and a spend leaves every one", () => {
    const clock = new ManualClock();
    const own = new RateLimit(1000, { burst: 500, now: clock.now });
    const global = new RateLimit(400, { burst: 200, now: clock.now });
    const budget = new RateBudget(own, global);
    expect(budget.rate).toBe(400);
    expect(budget.available()).toBe(200);
    budget.spend(200);
    expect([own.current!.available(), global.current!.available(), budget.available()]).toEqual([300, 0, 0]);
    expect(budget.msUntil(100)).toBe(250); // the global one is the slower to refill
    clock.ms += 250;
    expect(budget.available()).toBe(100);
  });

  test("a limit set to null lets everything through; set again, it starts with no more than it had", () => {
    const clock = new ManualClock();
    const limit = new RateLimit(null, { burst: 1000, now: clock.now });
    const budget = new RateBudget(limit);
    expect(budget.available()).toBe(Number.POSITIVE_INFINITY);
    expect(budget.rate).toBe(Number.POSITIVE_INFINITY);
    limit.set(2000);
    budget.spend(1000);
    limit.set(4000); // a new rate grants no fresh burst
    expect(budget.available()).toBe(0);
    clock.ms += 100;
    expect(budget.available()).toBe(400);
  });

  test("a new rate on a TokenBucket keeps its tokens (up to the new burst) and refills at the new rate", () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(1000, { now: clock.now, minBurst: 1000 });
    bucket.spend(600);
    bucket.setRate(10_000);
    expect(bucket.available()).toBe(400);
    clock.ms += 10;
    expect(bucket.available()).toBe(500);
  });
});

const PIECE = 4 * BLOCK_SIZE;
const PIECES = 16;

/** A downloader over one peer whose socket records what we write; the peer has every piece and unchoked us. */
function downloaderWithOnePeer(limit: TokenBucket) {
  const meta = {
    pieceLength: PIECE,
    pieceCount: PIECES,
    length: PIECE * PIECES,
    files: [{ path: ["x"], length: PIECE * PIECES, offset: 0 }],
    pieceHashes: new Uint8Array(20 * PIECES),
  } as unknown as Metainfo;
  const have = new Bitfield(PIECES);
  const socket = recordingSocket(PIECES);
  const peers: SwarmPeer[] = [];
  const storage = { writePieceAsync: () => Promise.resolve() };
  const pool = new BufferPool({ slotSize: PIECE, totalBytes: PIECE * PIECES });
  const hooks = { peers: () => peers, pieceDone() {}, pieceFailed() {}, ban() {}, writeFailed() {} };
  const downloader = new Downloader(meta, have, pool, storage, hooks);
  downloader.setLimit(limit);
  const peer = unchokedSeedPeer(socket, PIECES, have);
  peers.push(peer);
  /** Bytes asked for in `request` messages so far. */
  const requested = () => socket.messages().reduce((total, m) => total + (m.type === "request" ? m.length : 0), 0);
  return { downloader, peer, requested };
}

describe("Downloader with a download limit", () => {
  test("asks for the burst at once, then exactly what each refill of the budget allows", async () => {
    const clock = new ManualClock();
    const bucket = new TokenBucket(8 * BLOCK_SIZE, { burst: 4 * BLOCK_SIZE, now: clock.now }); // 8 blocks a second
    const { downloader, peer, requested } = downloaderWithOnePeer(bucket);
    downloader.bitfieldReceived(peer, null); // interested, and the pipeline filled as far as the budget goes
    expect(requested()).toBe(4 * BLOCK_SIZE);
    // The clock stands still: the refill timer fires, finds no budget and asks for nothing more.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(requested()).toBe(4 * BLOCK_SIZE);
    clock.ms += 250; // two blocks' worth
    await until(() => requested() > 4 * BLOCK_SIZE, "the refill");
    expect(requested()).toBe(6 * BLOCK_SIZE);
    clock.ms += 60_000; // a long quiet spell refills only up to the burst
    await until(() => requested() > 6 * BLOCK_SIZE, "the second refill");
    expect(requested()).toBe(10 * BLOCK_SIZE);
    downloader.abandonAll();
  });
});

describe("download limits on real transfers", () => {
  let dir = "";
  const RATE = 512 * 1024;
  /** What a limit's bucket may let through at once on top of its rate. */
  const BURST = Math.max(DOWNLOAD_MIN_BURST, Math.round(RATE / 20));

  beforeAll(() => {
    dir = makeTempDir("btpeer-download-limit-");
  });

  afterAll(async () => {
    await stopAllServices();
    removeDir(dir);
  }, 30_000);

  test("--download-limit: the download completes, and no more came than burst + rate × its duration", async () => {
    const source = path.join(dir, "src", "one.bin");
    makeRandomFile(source, 2 * 1024 * 1024 + 99, 5);
    const torrent = await makeTorrent(source, path.join(dir, "one.torrent"), { pieceLength: 64 * 1024 });
    const seeder = await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: "seeder" });
    const out = path.join(dir, "one");
    const leecher = await startBtpeer(["download", torrent, "--out", out, "--no-seed", "--download-limit", "512K", "--peer", seeder.address], {
      name: "leecher",
    });
    expect(leecher.events().find(isEvent("started"))!.downloadLimit).toBe(RATE);
    const done = await leecher.waitFor(isEvent("completed"), 60_000);
    expect(await leecher.service.exited).toBe(0);
    expect(await sha256File(path.join(out, "one.bin"))).toBe(await sha256File(source));
    // `seconds` runs from the torrent's start, before the first request: an upper bound on the transfer's time.
    expect(Number(done.downloaded)).toBeLessThanOrEqual(BURST + RATE * Number(done.seconds));
    // Unlimited, the same 2 MiB on loopback would far exceed this (shown by the bound failing without the limit).
    for (const e of leecher.events().filter(isEvent("progress"))) expect(Number(e.downRate)).toBeLessThanOrEqual(RATE * 2);
  }, 90_000);

  test("a global download limit is shared: two torrents together get no more than it allows", async () => {
    const metas = [];
    const seeders = [];
    for (const name of ["x", "y"]) {
      const source = path.join(dir, "src", `${name}.bin`);
      makeRandomFile(source, 1536 * 1024, name.charCodeAt(0));
      const torrent = await makeTorrent(source, path.join(dir, `${name}.torrent`), { pieceLength: 64 * 1024 });
      metas.push({ meta: parseMetainfo(new Uint8Array(fs.readFileSync(torrent))), source });
      seeders.push(await startBtpeer(["seed", torrent, "--dir", path.dirname(source)], { name: `seeder ${name}` }));
    }
    const client = new Client({ port: 0, bind: "127.0.0.1", downloadLimit: RATE });
    client.start();
    const began = performance.now();
    const torrents = [];
    try {
      for (const [k, { meta }] of metas.entries()) {
        const out = path.join(dir, "global");
        const storage = TorrentStorage.open(meta, out);
        const have = await verifyExisting(meta, out, { skip: (i) => !storage.mayHoldData(i) });
        let completed!: () => void;
        const done = new Promise<void>((resolve) => (completed = resolve));
        const torrent = client.addTorrent({
          meta,
          storage,
          have,
          dir: out,
          poolBytes: 4 << 20,
          maxPeers: 10,
          peers: [{ ip: "127.0.0.1", port: seeders[k]!.port }],
          seed: true,
          onEvent: (e) => e.event === "completed" && completed(),
        });
        torrents.push({ torrent, done });
      }
      for (const { torrent } of torrents) torrent.start();
      await Promise.all(torrents.map((t) => t.done));
      const seconds = (performance.now() - began) / 1000;
      const total = torrents.reduce((n, { torrent }) => n + torrent.totals().downloaded, 0);
      expect(total).toBe(2 * 1536 * 1024);
      // Each torrent alone would be allowed the whole rate: together they got one rate's worth.
      expect(total).toBeLessThanOrEqual(BURST + RATE * seconds);
      expect(client.globalLimits).toEqual({ uploadLimit: null, downloadLimit: RATE, maxPeers: 200 });
    } finally {
      await client.stop();
    }
    for (const { source } of metas) expect(await sha256File(path.join(dir, "global", path.basename(source)))).toBe(await sha256File(source));
  }, 90_000);
});
