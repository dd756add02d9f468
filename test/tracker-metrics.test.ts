// GET /metrics on the embedded store and on the Upstash store over a real redis-server: the text
// passes Prometheus's own `promtool check metrics`, and its numbers are what a known series of
// requests produced (announces by event and outcome, scrapes, swarms, seeders, leechers, failures by
// code, store errors); /stats agrees with it; the per-minute counts behind the dashboard's chart.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import { createApp } from "../edge/app.ts";
import { DEFAULT_CONFIG } from "../edge/config.ts";
import { MINUTE_KEY_TTL_MS } from "../edge/store/counters.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import type { SwarmStore } from "../edge/store/swarm-store.ts";
import { UpstashSwarmStore } from "../edge/store/upstash.ts";
import { freePort } from "./support/ports.ts";
import { startRedisStack, type RedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { announceQuery } from "./tracker/http.ts";
import { instanceIds, parseSamples, promtoolCheck, sampleValue, type Samples } from "./tracker/metrics-text.ts";

const id = (n: number) => new Uint8Array(20).fill(n);
const HASH = id(0xa1);

function appOver(store: SwarmStore) {
  // The client address comes from a test header, so one test can announce from several addresses.
  return createApp({ store, config: DEFAULT_CONFIG, clientIp: (c) => c.req.header("x-test-ip") ?? "10.0.0.1" });
}

type App = ReturnType<typeof appOver>;

async function announceFrom(app: App, ip: string, peer: number, left: number, event?: "started" | "completed" | "stopped") {
  const res = await app.request(`http://tracker.test/announce?${announceQuery({ infoHash: HASH, peerId: id(peer), port: 6881, left, event })}`, {
    headers: { "x-test-ip": ip },
  });
  const body = new TextDecoder("latin1").decode(await res.arrayBuffer());
  expect(body).not.toContain("failure reason");
}

/** A known series of requests: 7 announces (one ignored), 1 scrape, 4 refused requests. */
async function produceTraffic(app: App) {
  await announceFrom(app, "10.0.0.1", 1, 100, "started");
  await announceFrom(app, "10.0.0.2", 2, 100, "started");
  await announceFrom(app, "10.0.0.2", 2, 50);
  await announceFrom(app, "10.0.0.1", 1, 0, "completed");
  await announceFrom(app, "10.0.0.3", 3, 100, "started");
  await announceFrom(app, "10.0.0.3", 3, 100, "stopped");
  // Peer 1's id from another address and without its key: answered, nothing recorded.
  await announceFrom(app, "10.0.0.9", 1, 100);
  expect((await app.request(`http://tracker.test/scrape?info_hash=${"%a1".repeat(20)}`)).status).toBe(200);
  await app.request("http://tracker.test/announce?port=1");
  await app.request("http://tracker.test/announce?info_hash=abc");
  await app.request(`http://tracker.test/announce?info_hash=${"%a1".repeat(20)}&port=1`);
  await app.request("http://tracker.test/nowhere");
}

async function metricsOf(app: App): Promise<Samples> {
  const res = await app.request("http://tracker.test/metrics");
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  promtoolCheck(text);
  return parseSamples(text);
}

function expectTrafficCounted(m: Samples) {
  const announces = (event: string, outcome: string) => sampleValue(m, "btswarm_announces_total", { event, outcome });
  expect(sampleValue(m, "btswarm_store_up")).toBe(1);
  expect(announces("started", "recorded")).toBe(3);
  expect(announces("none", "recorded")).toBe(1);
  expect(announces("completed", "recorded")).toBe(1);
  expect(announces("stopped", "recorded")).toBe(1);
  expect(announces("none", "ignored")).toBe(1);
  expect(sampleValue(m, "btswarm_scrapes_total")).toBe(1);
  expect(sampleValue(m, "btswarm_swarms")).toBe(1);
  expect(sampleValue(m, "btswarm_seeders")).toBe(1);
  expect(sampleValue(m, "btswarm_leechers")).toBe(1);
  expect(sampleValue(m, "btswarm_stats_approximate")).toBe(0);
  const [instance] = instanceIds(m);
  expect(instanceIds(m)).toHaveLength(1);
  const failures = (code: string) => sampleValue(m, "btswarm_failures_total", { instance_id: instance!, code });
  expect(failures("missing-param")).toBe(2);
  expect(failures("bad-info-hash")).toBe(1);
  expect(failures("not-found")).toBe(1);
  expect(failures("store-unavailable")).toBe(0);
  expect(sampleValue(m, "btswarm_store_errors_total", { instance_id: instance!, kind: "unreachable" })).toBe(0);
}

describe.skipIf(!needs(PROGRAMS.promtool))("/metrics on the embedded store", () => {
  test("promtool accepts it and it counts what a known series of requests did; /stats agrees", async () => {
    const store = new MemorySwarmStore();
    const app = appOver(store);
    await produceTraffic(app);
    const m = await metricsOf(app);
    expectTrafficCounted(m);
    const stats = (await (await app.request("http://tracker.test/stats")).json()) as { announces: number; seeders: number };
    expect(stats.announces).toBe(7);
    const counters = await store.counters(Date.now());
    expect(counters.perMinute).toHaveLength(60);
    expect(counters.perMinute.reduce((a, b) => a + b, 0)).toBe(7);
  });

  test("the chart's minutes: each announce lands in its own minute, and minutes older than an hour drop out", async () => {
    const store = new MemorySwarmStore();
    const t0 = 1_700_000_000_000 - (1_700_000_000_000 % 60_000);
    const at = (now: number, peer: number) =>
      store.announce({
        infoHash: "a1".repeat(20),
        peerId: (peer % 256).toString(16).padStart(2, "0").repeat(20),
        ip: "10.0.0.1",
        port: peer,
        left: 1,
        event: "",
        numwant: 0,
        now,
        peerTtlMs: 1e9,
      });
    await at(t0, 1);
    await at(t0 + 1000, 2);
    await at(t0 + 60_000, 3);
    const early = await store.counters(t0 + 60_000);
    expect(early.perMinute.slice(-3)).toEqual([0, 2, 1]);
    await at(t0 + 60 * 60_000, 4);
    const hourLater = await store.counters(t0 + 60 * 60_000);
    // The last hour is minutes t0+1 .. t0+60: the two announces of minute t0 are out of it.
    expect(hourLater.perMinute[0]).toBe(1);
    expect(hourLater.perMinute[59]).toBe(1);
    expect(hourLater.perMinute.reduce((a, b) => a + b, 0)).toBe(2);
  });
});

describe.skipIf(!needs(PROGRAMS.redis, PROGRAMS.promtool))("/metrics on the Upstash store over redis-server", () => {
  let stack: RedisStack;
  const client = () => new Redis({ url: stack.restUrl, token: stack.token, enableTelemetry: false, enableAutoPipelining: false, retry: false });
  beforeAll(async () => {
    stack = await startRedisStack();
  });
  afterAll(async () => {
    await stack?.stop();
  });

  test("promtool accepts it and it counts what a known series of requests did; /stats agrees; one call per announce still", async () => {
    const store = new UpstashSwarmStore(client(), { prefix: "metrics1" });
    const app = appOver(store);
    const before = stack.compat.requests["/"] ?? 0;
    await produceTraffic(app);
    // Seven announces, seven single-command requests (EVALSHA, plus one EVAL on the first: NOSCRIPT).
    expect((stack.compat.requests["/"] ?? 0) - before).toBeLessThanOrEqual(8);
    expectTrafficCounted(await metricsOf(app));
    const stats = (await (await app.request("http://tracker.test/stats")).json()) as { announces: number };
    expect(stats.announces).toBe(7);
    const counters = await store.counters(Date.now());
    expect(counters.perMinute.reduce((a, b) => a + b, 0)).toBe(7);
    // The minute's key expires a little after it leaves the chart.
    const hex = "a1".repeat(20);
    const ttl = await client().pttl(store.counterKeys(hex, Date.now())[1]);
    const ttlBefore = await client().pttl(store.counterKeys(hex, Date.now() - 60_000)[1]);
    expect(Math.max(ttl, ttlBefore)).toBeGreaterThan(MINUTE_KEY_TTL_MS - 120_000);
    expect(Math.max(ttl, ttlBefore)).toBeLessThanOrEqual(MINUTE_KEY_TTL_MS);
  });

  test("with the store unreachable it still answers: store_up 0 and the store errors of this instance", async () => {
    const dead = new Redis({ url: `http://127.0.0.1:${freePort()}`, token: "x", enableTelemetry: false, enableAutoPipelining: false, retry: false });
    const app = appOver(new UpstashSwarmStore(dead, { prefix: "metrics2" }));
    await app.request(`http://tracker.test/announce?${announceQuery({ infoHash: HASH, peerId: id(1), port: 6881, left: 1 })}`);
    const m = await metricsOf(app);
    const [instance] = instanceIds(m);
    expect(sampleValue(m, "btswarm_store_up")).toBe(0);
    expect(sampleValue(m, "btswarm_failures_total", { instance_id: instance!, code: "store-unavailable" })).toBe(1);
    // The announce's call, then this scrape's.
    expect(sampleValue(m, "btswarm_store_errors_total", { instance_id: instance!, kind: "unreachable" })).toBe(2);
    expect(m.has("btswarm_announces_total")).toBe(false);
  });
});

describe.skipIf(!needs(PROGRAMS.promtool))("a deployment without a store (Workers without its secrets)", () => {
  test("/metrics answers with store_up 0, /dashboard.json with 503 and the reason, / with the page under its CSP", async () => {
    const app = createApp({ store: null, config: DEFAULT_CONFIG, clientIp: () => "10.0.0.1" });
    const m = await metricsOf(app);
    expect(sampleValue(m, "btswarm_store_up")).toBe(0);
    const data = await app.request("http://tracker.test/dashboard.json");
    expect(data.status).toBe(503);
    expect(((await data.json()) as { problem: string }).problem).toContain("UPSTASH_REDIS_REST_URL");
    const page = await app.request("http://tracker.test/");
    expect(page.headers.get("content-type")).toStartWith("text/html");
    expect(page.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect(await page.text()).toContain('<script src="/dashboard.js" defer></script>');
    expect((await app.request("http://tracker.test/dashboard.js")).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
  });
});
