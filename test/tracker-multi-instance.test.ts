// Several tracker instances on one Redis, as a multi-region deployment would run them: the Bun
// entry (npm run start:redis), the Deno entry and workerd (wrangler dev), each over the
// Upstash-compatible server in front of one redis-server. A peer announced to one is in the others'
// replies, and /metrics, /stats and /dashboard.json give the same tracker-wide numbers on all three
// (only the per-instance series differ, each with its own instance_id); each serves the dashboard.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { compactPeers, announce, escapeAll, type AnnounceParams } from "./tracker/http.ts";
import { instanceIds, parseSamples, promtoolCheck, type Samples } from "./tracker/metrics-text.ts";
import { startBunOnRedis, startDeno, startWorkerd, type RunningTracker } from "./tracker/servers.ts";
import { startRedisStack, type RedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";

const HASH = new Uint8Array(20).fill(0x5e);
const peer = (n: number, port: number, left = 100): AnnounceParams => ({ infoHash: HASH, peerId: new Uint8Array(20).fill(n), port, left, numwant: 50 });
const ports = (reply: Awaited<ReturnType<typeof announce>>) =>
  compactPeers(reply.dict)
    .v4.map((p) => p.port)
    .sort();

/** The store-wide series of a /metrics text: everything without an instance_id. */
function trackerWide(samples: Samples): Record<string, number> {
  return Object.fromEntries([...samples].filter(([key]) => !key.includes("instance_id=")));
}

describe.skipIf(!needs(PROGRAMS.redis, PROGRAMS.promtool))("Bun, Deno and workerd trackers on one Redis", () => {
  let stack: RedisStack;
  const trackers: Record<"bun" | "deno" | "workerd", RunningTracker> = {} as never;

  beforeAll(async () => {
    stack = await startRedisStack();
    const upstash = { UPSTASH_REDIS_REST_URL: stack.restUrl, UPSTASH_REDIS_REST_TOKEN: stack.token };
    const started = await Promise.allSettled([
      startBunOnRedis({ host: "127.0.0.1", redisPort: stack.redisPort, env: { TRACKER_UDP_PORT: "0" } }),
      startDeno({ host: "127.0.0.1", env: { ...upstash, TRACKER_UDP_PORT: "0" } }),
      startWorkerd({ host: "127.0.0.1", vars: {}, secrets: upstash }),
    ]);
    const [bun, deno, workerd] = started;
    if (bun?.status === "fulfilled") trackers.bun = bun.value;
    if (deno?.status === "fulfilled") trackers.deno = deno.value;
    if (workerd?.status === "fulfilled") trackers.workerd = workerd.value;
    const failed = started.find((s) => s.status === "rejected");
    if (failed) throw (failed as PromiseRejectedResult).reason;
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(trackers).map((t) => t.stop()));
    await stack?.stop();
  }, 60_000);

  test("a peer announced to one is in the replies of the others, and every instance reports the same numbers", async () => {
    const { bun, deno, workerd } = trackers;
    expect(ports(await announce(bun.baseUrl, { ...peer(1, 7101), event: "started" }))).toEqual([]);
    expect(ports(await announce(deno.baseUrl, { ...peer(2, 7102), event: "started" }))).toEqual([7101]);
    expect(ports(await announce(workerd.baseUrl, { ...peer(3, 7103, 0), event: "started" }))).toEqual([7101, 7102]);
    // The first peer's next announce, to another instance: the peers the other two recorded.
    expect(ports(await announce(workerd.baseUrl, peer(1, 7101)))).toEqual([7102, 7103]);
    expect((await fetch(`${deno.baseUrl}/scrape?info_hash=${escapeAll(HASH)}`)).status).toBe(200);

    const metrics: Samples[] = [];
    for (const t of [bun, deno, workerd]) {
      const text = await (await fetch(`${t.baseUrl}/metrics`)).text();
      promtoolCheck(text);
      metrics.push(parseSamples(text));
    }
    const wide = metrics.map(trackerWide);
    expect(wide[0]).toEqual({
      btswarm_store_up: 1,
      'btswarm_announces_total{event="started",outcome="recorded"}': 3,
      'btswarm_announces_total{event="none",outcome="recorded"}': 1,
      btswarm_scrapes_total: 1,
      btswarm_swarms: 1,
      btswarm_seeders: 1,
      btswarm_leechers: 2,
      btswarm_stats_approximate: 0,
    });
    expect(wide[1]).toEqual(wide[0]!);
    expect(wide[2]).toEqual(wide[0]!);
    // Each instance its own per-instance series.
    const ids = metrics.map((m) => instanceIds(m));
    ids.forEach((list) => expect(list).toHaveLength(1));
    expect(new Set(ids.flat()).size).toBe(3);

    for (const t of [bun, deno, workerd]) {
      expect(await (await fetch(`${t.baseUrl}/stats`)).json()).toEqual({ torrents: 1, seeders: 1, leechers: 2, announces: 4 });
      const board = (await (await fetch(`${t.baseUrl}/dashboard.json`)).json()) as Record<string, unknown>;
      expect(board).toMatchObject({
        swarms: 1,
        seeders: 1,
        leechers: 2,
        announces: 4,
        scrapes: 1,
        busiest: [{ infoHash: "5e".repeat(20), seeders: 1, leechers: 2 }],
      });
      expect((board.perMinute as number[]).reduce((a, b) => a + b, 0)).toBe(4);
      // The dashboard itself is served the same way everywhere, workerd included.
      const page = await fetch(`${t.baseUrl}/`);
      expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
      expect(await page.text()).toContain('<script src="/dashboard.js" defer></script>');
      expect(await (await fetch(`${t.baseUrl}/dashboard.js`)).text()).toContain('fetch("/dashboard.json"');
    }
  }, 60_000);
});
