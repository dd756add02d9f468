// Real BitTorrent clients against our tracker running in real workerd (`wrangler dev`, local mode) on
// the Upstash store, through the local Upstash-compatible server to a real redis-server. The clients
// know no peer addresses and have DHT, LSD, PEX, UPnP and NAT-PMP off: they can only meet through the
// tracker named in the torrent (made by mktorrent).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import path from "node:path";
import { fromHex } from "../shared/bytes.ts";
import { startAria2 } from "./support/aria2.ts";
import { makeRandomFile, makeTempDir, removeDir, sha256File } from "./support/files.ts";
import { startLtPeer, type LtPeer } from "./support/libtorrent.ts";
import { stopAllServices } from "./support/processes.ts";
import { startRedisStack, type RedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { infoHashHex, mktorrent } from "./support/torrents.ts";
import { escapeAll, get, scrapeFiles, type ScrapeFile } from "./tracker/http.ts";
import { startWorkerd, type RunningTracker } from "./tracker/servers.ts";

const ready = needs(PROGRAMS.redis, PROGRAMS.libtorrent, PROGRAMS.mktorrent, PROGRAMS.aria2);
const SIZE = 12 * 1024 * 1024 + 4321;

describe.skipIf(!ready)("real clients through the tracker in workerd", () => {
  let tmp: string;
  let redis: RedisStack | undefined;
  let tracker: RunningTracker | undefined;
  let torrent: string;
  let hashHex: string;
  let sourceSum: string;
  const peers: LtPeer[] = [];

  const scrape = async (): Promise<ScrapeFile | undefined> => {
    const res = await get(`${tracker!.baseUrl}/scrape?info_hash=${escapeAll(fromHex(hashHex)!)}`);
    return scrapeFiles(res.body).get(hashHex);
  };

  beforeAll(async () => {
    tmp = makeTempDir("tracker-clients-");
    makeRandomFile(path.join(tmp, "seed", "payload.bin"), SIZE, 42);
    sourceSum = await sha256File(path.join(tmp, "seed", "payload.bin"));
    redis = await startRedisStack();
    tracker = await startWorkerd({
      host: "127.0.0.1",
      // Short intervals so a leecher that started before the others hears of them quickly.
      vars: { TRACKER_INTERVAL: "5", TRACKER_MIN_INTERVAL: "2", TRACKER_INTERVAL_SPREAD: "1" },
      secrets: { UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token },
    });
    torrent = mktorrent({ source: path.join(tmp, "seed", "payload.bin"), out: path.join(tmp, "payload.torrent"), trackers: [`${tracker.baseUrl}/announce`] });
    hashHex = infoHashHex(torrent);
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled(peers.map((p) => p.stop()));
    await stopAllServices();
    await tracker?.stop();
    await redis?.stop();
    removeDir(tmp);
  }, 60_000);

  test("one libtorrent seeder and two libtorrent leechers find each other only through the tracker and complete", async () => {
    const seeder = await startLtPeer({ mode: "seed", torrent, dir: path.join(tmp, "seed"), trackerOnly: true, name: "lt seeder" });
    peers.push(seeder);
    await seeder.waitFor((e) => e.event === "tracker-reply");
    expect(await scrape()).toEqual({ complete: 1, incomplete: 0, downloaded: 0 });

    const leechers = await Promise.all(
      ["a", "b"].map((n) =>
        startLtPeer({ mode: "download", torrent, dir: path.join(tmp, `lt-${n}`), trackerOnly: true, keepSeeding: true, timeoutS: 90, name: `lt leecher ${n}` }),
      ),
    );
    peers.push(...leechers);
    const finished = await Promise.all(leechers.map((l) => l.finished()));
    for (const f of finished) expect(Number(f.total_download)).toBeGreaterThanOrEqual(SIZE);
    for (const n of ["a", "b"]) expect(await sha256File(path.join(tmp, `lt-${n}`, "payload.bin"))).toBe(sourceSum);

    // Both leechers reported `completed`, and now count as seeders (they keep seeding).
    const deadline = Date.now() + 20_000;
    let counts = await scrape();
    while (counts?.downloaded !== 2 && Date.now() < deadline) {
      await Bun.sleep(250);
      counts = await scrape();
    }
    expect(counts).toEqual({ complete: 3, incomplete: 0, downloaded: 2 });
  }, 150_000);

  test("aria2c announces to the tracker, downloads from the swarm and verifies the data", async () => {
    if (peers.length === 0) {
      // Run alone (e.g. with -t): bring a seeder of our own.
      const seeder = await startLtPeer({ mode: "seed", torrent, dir: path.join(tmp, "seed"), trackerOnly: true, name: "lt seeder" });
      peers.push(seeder);
      await seeder.waitFor((e) => e.event === "tracker-reply");
    }
    const before = (await scrape())!;
    // aria2c sends `completed` only when it goes on seeding (with no seed time it just says `stopped`).
    const aria = await startAria2({ torrent, dir: path.join(tmp, "aria"), seedTimeMin: 0.05, name: "aria2c leecher" });
    await aria.done();
    expect(await sha256File(path.join(tmp, "aria", "payload.bin"))).toBe(sourceSum);
    // aria2c reported `completed` when done and `stopped` on exit: one more download, and it is gone.
    const after = await scrape();
    expect(after).toEqual({ complete: before.complete, incomplete: 0, downloaded: before.downloaded + 1 });
  }, 120_000);
});
