// Real clients on a private tracker: a libtorrent seeder and an aria2c leecher, each user with their
// own passkey in the torrent's announce URL (`/<passkey>/announce`), on Bun with the memory store and
// on `npm run start:redis` (Upstash store over redis-server). The download completes, and the admin
// API then shows the leecher's downloaded bytes and the seeder's uploaded bytes within the torrent's
// size (clients report real totals), and one snatch, for that user and torrent.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { BUN_CLIENT_ADDRESS, serveTracker } from "../edge/adapter/bun-serve.ts";
import { setupTracker } from "../edge/server-setup.ts";
import { startAria2 } from "./support/aria2.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "./support/files.ts";
import { startLtPeer, type LtPeer } from "./support/libtorrent.ts";
import { stopAllServices } from "./support/processes.ts";
import { startRedisStack, type RedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { infoHashHex, mktorrent } from "./support/torrents.ts";
import { adminCall, ADMIN_TOKEN } from "./tracker/private-conformance.ts";
import { startBunOnRedis } from "./tracker/servers.ts";

const ready = needs(PROGRAMS.libtorrent, PROGRAMS.mktorrent, PROGRAMS.aria2);
const SIZE = 6 * 1024 * 1024 + 1234;
const ENV = { TRACKER_PRIVATE: "true", TRACKER_ADMIN_TOKEN: ADMIN_TOKEN };

interface Usage {
  uploaded: number;
  downloaded: number;
  snatches: number;
}

function runWithRealClients(name: string, start: () => Promise<{ baseUrl: string; stop(): Promise<void> }>, extraReady = true): void {
  describe.skipIf(!ready || !extraReady)(`private tracker with real clients: ${name}`, () => {
    let tmp: string;
    let tracker: { baseUrl: string; stop(): Promise<void> } | undefined;
    const peers: LtPeer[] = [];

    beforeAll(async () => {
      tmp = makeTempDir("tracker-private-clients-");
      tracker = await start();
    }, 120_000);
    afterAll(async () => {
      await Promise.allSettled(peers.map((p) => p.stop()));
      await stopAllServices();
      await tracker?.stop();
      removeDir(tmp);
    }, 60_000);

    test("libtorrent seeds to aria2c, each through their own passkey; the accounting shows the bytes and one snatch", async () => {
      const base = tracker!.baseUrl;
      const admin = (method: string, p: string, body?: unknown) => adminCall(base, method, p, body);
      const seederUser = (await admin("POST", "/users", { id: "seeder" })).json as { passkey: string };
      const leecherUser = (await admin("POST", "/users", { id: "leecher" })).json as { passkey: string };
      const source = path.join(tmp, "seed", "payload.bin");
      makeRandomFile(source, SIZE, 7);
      const torrentFor = (passkey: string, file: string) =>
        mktorrent({ source, out: path.join(tmp, file), trackers: [`${base}/${passkey}/announce`], private: true });
      const seedTorrent = torrentFor(seederUser.passkey, "seed.torrent");
      const leechTorrent = torrentFor(leecherUser.passkey, "leech.torrent");
      const hash = infoHashHex(seedTorrent);
      expect(infoHashHex(leechTorrent)).toBe(hash);
      expect((await admin("POST", "/torrents", { infoHash: hash })).status).toBe(201);

      const seeder = await startLtPeer({ mode: "seed", torrent: seedTorrent, dir: path.join(tmp, "seed"), trackerOnly: true, name: "lt seeder" });
      peers.push(seeder);
      await seeder.waitFor((e) => e.event === "tracker-reply");
      // aria2c sends `completed` only when it goes on seeding; then `stopped` on exit, with its totals.
      const aria = await startAria2({ torrent: leechTorrent, dir: path.join(tmp, "aria"), seedTimeMin: 0.05, name: "aria2c leecher" });
      await aria.done();
      expect(await sha256File(path.join(tmp, "aria", "payload.bin"))).toBe(await sha256File(source));

      const usage = async (id: string) => (await admin("GET", `/users/${id}/torrents/${hash}`)).json as unknown as Usage;
      const leecher = await usage("leecher");
      expect(leecher.downloaded).toBeGreaterThanOrEqual(SIZE);
      expect(leecher.downloaded).toBeLessThanOrEqual(SIZE * 1.1);
      expect(leecher.snatches).toBe(1);
      // libtorrent re-announces at most every 5 minutes whatever the interval; its `stopped` on a clean
      // shutdown carries its final totals.
      await seeder.stop();
      const deadline = Date.now() + 30_000;
      let seeded = await usage("seeder");
      while (seeded.uploaded < SIZE && Date.now() < deadline) {
        await Bun.sleep(250);
        seeded = await usage("seeder");
      }
      expect(seeded.uploaded).toBeGreaterThanOrEqual(SIZE);
      expect(seeded.uploaded).toBeLessThanOrEqual(SIZE * 1.2);
      expect([seeded.downloaded, seeded.snatches]).toEqual([0, 0]);
      const torrent = (await admin("GET", `/torrents/${hash}`)).json as unknown as Usage;
      expect(torrent.snatches).toBe(1);
      expect((await admin("GET", "/users/leecher")).json).toMatchObject({ downloaded: leecher.downloaded, snatches: 1 });
    }, 150_000);
  });
}

runWithRealClients("Bun in process, memory store", async () => {
  const { app, log, storeKind } = setupTracker(ENV, { ...BUN_CLIENT_ADDRESS, withoutUpstash: "memory" });
  const server = serveTracker(app, { hostname: "127.0.0.1", port: 0, log, storeKind });
  return { baseUrl: `http://127.0.0.1:${server.port}`, stop: async () => void (await server.stop()) };
});

runWithRealClients(
  "npm run start:redis (Upstash store over redis-server)",
  async () => {
    const redis: RedisStack = await startRedisStack();
    try {
      const tracker = await startBunOnRedis({ host: "127.0.0.1", redisPort: redis.redisPort, env: ENV });
      return { baseUrl: tracker.baseUrl, stop: async () => (await tracker.stop(), await redis.stop()) };
    } catch (err) {
      await redis.stop();
      throw err;
    }
  },
  needs(PROGRAMS.redis),
);
