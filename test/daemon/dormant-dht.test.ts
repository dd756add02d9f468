// Dormant torrents on the DHT (peer/client/dormant-dht.ts): a daemon with the DHT on lets an idle seeding
// torrent go as one without it does; the client keeps it announced on the DHT, and a real btpeer leecher
// that knows only a DHT node (the torrent names no tracker) finds the dormant seeder there, downloads
// verified data and so wakes it. A restarted daemon starts it dormant and announces it once its DHT is on,
// at its new port. A private torrent (BEP 27) goes dormant too and never reaches the DHT.
// The DHT is four of our nodes in this process, on loopback (the daemon runs loopback-only too).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fs from "node:fs";
import path from "node:path";
import type { DaemonEvent } from "../../peer/daemon/control.ts";
import { Daemon } from "../../peer/daemon/service.ts";
import type { DhtNode } from "../../peer/dht/node.ts";
import { parseMetainfo } from "../../shared/metainfo/parse.ts";
import { makeRandomFile, removeDir, sha256File } from "../support/files.ts";
import { stopAllServices } from "../support/processes.ts";
import { until } from "../support/until.ts";
import { startBtpeer } from "../peer/btpeer-harness.ts";
import { makeTorrent, type SeedFixture, seedFixture } from "../support/seed-fixture.ts";
import { startLoopbackDht } from "../support/loopback-dht.ts";

const nodes: DhtNode[] = [];
let album: SeedFixture;
let hex = "";
const FILES = { "one.bin": 300_000, "disc/two.bin": 200_000 };
const DORMANT = { tries: 600, everyMs: 50 };

beforeAll(async () => {
  await startLoopbackDht(nodes, 4);
  album = await seedFixture("btpeer-daemon-dormant-dht-", "album", 32 * 1024, (folder) => {
    let seed = 40;
    for (const [name, size] of Object.entries(FILES)) makeRandomFile(path.join(folder, name), size, seed++);
  });
  hex = Buffer.from(album.meta.infoHash).toString("hex");
});

afterAll(async () => {
  await stopAllServices();
  nodes.forEach((n) => n.close());
  if (album) removeDir(album.dir);
}, 30_000);

const bootstrap = (i: number) => `127.0.0.1:${nodes[i]!.port(4)}`;

/** A daemon on loopback with its DHT joined through one of the test's nodes. */
async function dhtDaemon(stateDir: string): Promise<Daemon> {
  const daemon = Daemon.open({ stateDir, downloadDir: album.dir, port: 0, bind: "127.0.0.1", log: () => {} });
  await daemon.loaded;
  await daemon.startDht({ bootstrap: [bootstrap(0)], loopbackOnly: true });
  return daemon;
}

/** A leecher that knows only a DHT node: no tracker, no --peer. Resolves once it has every byte. */
async function leechThroughDht(out: string): Promise<void> {
  const leecher = await startBtpeer(["download", album.torrent, "--out", out, "--no-seed", "--dht-bootstrap", bootstrap(3)], { name: "DHT leecher" });
  await leecher.waitFor((e) => e.event === "completed");
  await leecher.stop();
  for (const name of Object.keys(FILES)) expect(await sha256File(path.join(out, "album", name))).toBe(await sha256File(path.join(album.source, name)));
}

describe("a dormant torrent with the DHT on", () => {
  test("goes dormant, stays announced on the DHT, and a leecher that knows only a DHT node finds it, downloads it whole and wakes it; restarted, it starts dormant and is announced at its new port", async () => {
    const stateDir = path.join(album.dir, "state");
    let daemon = await dhtDaemon(stateDir);
    const events: DaemonEvent[] = [];
    daemon.subscribe((e) => events.push(e));
    try {
      await daemon.add({ source: { torrent: new Uint8Array(fs.readFileSync(album.torrent)) }, savePath: path.dirname(album.source) });
      // Its DHT registration keeps no torrent awake.
      await until(() => daemon.dormant(hex), "the seeded torrent going dormant with the DHT on", DORMANT);
      // Still in the DHT's schedule, and announced there (by the torrent, or for it once dormant).
      await until(() => (daemon.stats().dht?.lookups ?? 0) >= 1, "the torrent's first DHT announce", DORMANT);
      expect(daemon.stats().dht).toMatchObject({ state: "joined", torrents: 1 });

      await leechThroughDht(path.join(album.dir, "out-first"));
      // Woken by the leecher's handshake, without a second `started`.
      expect(events.filter((e) => e.event === "started")).toHaveLength(1);
      expect(daemon.list()[0]!.uploaded).toBeGreaterThanOrEqual(500_000);
      // The leecher gone, it is dormant again, still on the DHT.
      await until(() => daemon.dormant(hex), "dormant again once the leecher left", DORMANT);
      expect(daemon.stats().dht).toMatchObject({ torrents: 1 });
      const firstPort = daemon.port;

      // Restarted at another port: dormant from the start, and its DHT comes on after the stored torrents
      // are in. It stays dormant, announced by the client: the DHT's nodes learn its new port, which the
      // next leecher can only have from that announce (the old one names a port nobody listens on).
      await daemon.close();
      daemon = await dhtDaemon(stateDir);
      expect(daemon.port).not.toBe(firstPort);
      expect(daemon.dormant(hex)).toBe(true);
      await until(() => (daemon.stats().dht?.lookups ?? 0) >= 1, "the dormant torrent's DHT announce", DORMANT);
      expect(daemon.dormant(hex)).toBe(true);
      expect(daemon.stats().dht).toMatchObject({ state: "joined", torrents: 1 });
      const uploaded = daemon.list()[0]!.uploaded;
      await leechThroughDht(path.join(album.dir, "out-restarted"));
      expect(daemon.list()[0]!.uploaded).toBeGreaterThanOrEqual(uploaded + 500_000);
      await until(() => daemon.dormant(hex), "dormant again after the second leecher", DORMANT);
      expect(daemon.stats().dht).toMatchObject({ torrents: 1 });
      // Paused (which wakes it), it leaves the DHT; resumed, it is back on it, and dormant again.
      await daemon.pause(hex);
      expect(daemon.stats().dht).toMatchObject({ torrents: 0 });
      await daemon.resume(hex);
      await until(() => daemon.dormant(hex), "dormant again after a pause and a resume", DORMANT);
      expect(daemon.stats().dht).toMatchObject({ torrents: 1 });
    } finally {
      await daemon.close();
    }
  }, 180_000);

  test("a private torrent (BEP 27) goes dormant and never reaches the DHT", async () => {
    const torrent = await makeTorrent(album.source, path.join(album.dir, "private.torrent"), { pieceLength: 32 * 1024, private: true });
    const bytes = new Uint8Array(fs.readFileSync(torrent));
    const privateHex = Buffer.from(parseMetainfo(bytes).infoHash).toString("hex");
    const stateDir = path.join(album.dir, "state-private");
    let daemon = await dhtDaemon(stateDir);
    try {
      await daemon.add({ source: { torrent: bytes }, savePath: path.dirname(album.source) });
      await until(() => daemon.dormant(privateHex), "the private torrent going dormant", DORMANT);
      expect(daemon.stats().dht).toMatchObject({ torrents: 0, lookups: 0 });
      await daemon.close();
      daemon = await dhtDaemon(stateDir);
      expect(daemon.dormant(privateHex)).toBe(true);
      expect(daemon.stats().dht).toMatchObject({ torrents: 0, lookups: 0 });
    } finally {
      await daemon.close();
    }
  }, 120_000);
});
