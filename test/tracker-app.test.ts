// Tracker behaviours beyond the conformance suite: configuration, private mode, client address
// sources, full scrape, a store outage against a real redis-server, and the raw query parser.
import { describe, expect, test } from "bun:test";
import { createApp } from "../edge/app.ts";
import { ConfigError, loadConfig } from "../edge/config.ts";
import { RawQuery } from "../edge/query.ts";
import { setupTracker } from "../edge/server-setup.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { toHex } from "../shared/bytes.ts";
import { freePort } from "./support/ports.ts";
import { startRedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";
import { announceQuery, compactPeers, dictPeers, escapeAll, num, randomId, scrapeFiles, text } from "./tracker/http.ts";
import { decode, type BDict } from "../shared/bencode.ts";

async function call(app: { request: (url: string, init?: RequestInit) => Response | Promise<Response> }, url: string, init?: RequestInit) {
  const res = await app.request(url, init);
  const body = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, body, dict: decode(body) as BDict };
}

const announceUrl = (infoHash: Uint8Array, port: number, left = 100, extra = "") =>
  `http://tracker.test/announce?${announceQuery({ infoHash, peerId: randomId(), port, left })}${extra}`;

describe("configuration", () => {
  test("defaults: 1800 s interval, numwant 50 capped at 200, peers live a bit over two intervals, private and full scrape off", () => {
    const c = loadConfig({});
    expect(c.intervalSec).toBe(1800);
    expect(c.defaultNumwant).toBe(50);
    expect(c.maxNumwant).toBe(200);
    expect(c.peerTtlSec).toBeGreaterThan(2 * c.intervalSec);
    expect(c.peerTtlSec).toBeLessThan(3 * c.intervalSec);
    expect([c.privateMode, c.fullScrape, c.trustedProxyHeader, c.trustIpParam]).toEqual([false, false, "", false]);
  });

  test.each([
    [{ TRACKER_INTERVAL: "soon" }, "TRACKER_INTERVAL must be a whole number"],
    [{ TRACKER_INTERVAL: "0" }, "TRACKER_INTERVAL must be between 1 and"],
    [{ TRACKER_INTERVAL: "60", TRACKER_MIN_INTERVAL: "120" }, "must not exceed TRACKER_INTERVAL"],
    [{ TRACKER_MAX_NUMWANT: "10", TRACKER_DEFAULT_NUMWANT: "50" }, "TRACKER_DEFAULT_NUMWANT must be between 0 and 10"],
    [{ TRACKER_PRIVATE: "maybe" }, "TRACKER_PRIVATE must be true or false"],
    [{ TRACKER_TRUSTED_PROXY_HEADER: "x forwarded" }, "must be an HTTP header name"],
    [{ TRACKER_ADMIN_TOKEN: "too-short" }, "TRACKER_ADMIN_TOKEN must be 16 to 512 printable characters"],
  ])("rejects %j with a message naming the variable", (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  test("only one of the two Upstash variables set is a configuration error", () => {
    expect(() => setupTracker({ UPSTASH_REDIS_REST_URL: "https://x.upstash.io" }, { clientIp: () => "127.0.0.1", withoutUpstash: "memory" })).toThrow(
      "set both UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN",
    );
  });
});

describe("raw query parsing", () => {
  test("percent-escapes become raw bytes, never UTF-8 decoded; '+' is a space; repeated names keep every value", () => {
    const q = RawQuery.parse("info_hash=%ff%FE%80a&x=a+b&info_hash=%00");
    expect([...q.all("info_hash")].map((b) => [...b])).toEqual([[0xff, 0xfe, 0x80, 0x61], [0]]);
    expect(q.text("x")).toBe("a b");
  });

  test("an unescaped non-ASCII character is refused rather than guessed at", () => {
    expect(() => RawQuery.parse("info_hash=é").bytes("info_hash")).toThrow("percent-encode every byte");
  });

  test("an event sent escaped counts as the same event sent as itself", async () => {
    const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), clientIp: () => "10.0.0.1" });
    const infoHash = randomId();
    const peerId = randomId();
    const url = (event: string) => `http://tracker.test/announce?${announceQuery({ infoHash, peerId, port: 7001, left: 100 })}&event=${event}`;
    await call(app, url("started"));
    const counts = (await call(app, url("%63ompleted"))).dict;
    expect([num(counts.complete), num(counts.incomplete), num(counts.downloaded)]).toEqual([1, 0, 1]);
    const stopped = (await call(app, url("st%6Fpped"))).dict;
    expect([num(stopped.complete), num(stopped.incomplete)]).toEqual([0, 0]);
    expect(text((await call(app, url("%73tart"))).dict["failure reason"])).toContain('got "start"');
  });
});

describe("private mode", () => {
  test("announces and scrapes need a passkey; those of an info hash not on the allowlist are refused; allowed ones work", async () => {
    const store = new MemorySwarmStore();
    const app = createApp({ store, config: loadConfig({ TRACKER_PRIVATE: "true" }), clientIp: () => "10.0.0.1" });
    const passkey = "0123456789abcdef0123456789abcdef";
    await store.accounts.createUser("alice", passkey);
    const [listed, unlisted] = [randomId(), randomId()];
    await store.accounts.allow(toHex(listed));
    expect(text((await call(app, announceUrl(listed, 6881))).dict["failure reason"])).toContain("needs your passkey");
    const withKey = (url: string) => url.replace("tracker.test/", `tracker.test/${passkey}/`);
    expect(text((await call(app, withKey(announceUrl(unlisted, 6881)))).dict["failure reason"])).toContain("not registered");
    expect((await call(app, withKey(announceUrl(listed, 6881)))).dict["failure reason"]).toBeUndefined();
    const scrape = await call(app, withKey(`http://tracker.test/scrape?info_hash=${escapeAll(listed)}&info_hash=${escapeAll(unlisted)}`));
    expect([...scrapeFiles(scrape.body).keys()]).toEqual([toHex(listed)]);
  });
});

describe("client address", () => {
  const hash = randomId();
  const viaHeader = { headers: { "x-forwarded-for": "2001:db8::7, 10.9.9.9" } };

  test("proxy headers and the ip parameter are ignored by default", async () => {
    const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), clientIp: () => "192.0.2.1" });
    await call(app, announceUrl(hash, 7001, 100, "&ip=198.51.100.9"), viaHeader);
    const { dict } = await call(app, announceUrl(hash, 7002, 100, "&compact=0"));
    expect(dictPeers(dict).map((p) => p.ip)).toEqual(["192.0.2.1"]);
  });

  test("a configured trusted proxy header gives the left-most address; IPv4-mapped IPv6 becomes IPv4", async () => {
    const app = createApp({
      store: new MemorySwarmStore(),
      config: loadConfig({ TRACKER_TRUSTED_PROXY_HEADER: "X-Forwarded-For" }),
      clientIp: () => "::ffff:192.0.2.1",
    });
    await call(app, announceUrl(hash, 7001), viaHeader);
    await call(app, announceUrl(hash, 7002));
    const { dict } = await call(app, announceUrl(hash, 7003));
    expect(compactPeers(dict).v6).toEqual([{ ip: "2001:db8::7", port: 7001 }]);
    expect(compactPeers(dict).v4).toEqual([{ ip: "192.0.2.1", port: 7002 }]);
  });

  test("a request whose address the runtime cannot tell gets a failure reason", async () => {
    const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), clientIp: () => undefined });
    expect(text((await call(app, announceUrl(hash, 7001))).dict["failure reason"])).toContain("could not determine your IP");
  });
});

describe("full scrape", () => {
  test("when enabled, a scrape without info_hash lists live torrents (up to the scrape cap)", async () => {
    const app = createApp({
      store: new MemorySwarmStore(),
      config: loadConfig({ TRACKER_FULL_SCRAPE: "true", TRACKER_MAX_SCRAPE: "2" }),
      clientIp: () => "10.0.0.1",
    });
    for (let i = 0; i < 3; i++) await call(app, announceUrl(randomId(), 7000 + i));
    const files = scrapeFiles((await call(app, "http://tracker.test/scrape")).body);
    expect(files.size).toBe(2);
    for (const counts of files.values()) expect(counts).toEqual({ complete: 0, incomplete: 1, downloaded: 0 });
  });
});

describe("memory store sampling", () => {
  test("repeated small samples reach every peer of the swarm, each sample distinct and without the requester", async () => {
    const store = new MemorySwarmStore();
    const base = { infoHash: "ab".repeat(20), ip: "10.0.0.1", left: 5, event: "" as const, now: 1000, peerTtlMs: 60_000 };
    for (let i = 0; i < 100; i++) await store.announce({ ...base, peerId: i.toString(16).padStart(40, "0"), port: 1000 + i, numwant: 0 });
    const seen = new Set<number>();
    for (let round = 0; round < 200; round++) {
      const { peers } = await store.announce({ ...base, peerId: "0".repeat(40), port: 1000, numwant: 8 });
      expect(peers).toHaveLength(8);
      expect(new Set(peers.map((p) => p.port)).size).toBe(8);
      expect(peers.some((p) => p.port === 1000)).toBe(false);
      for (const p of peers) seen.add(p.port);
    }
    expect(seen.size).toBe(99);
  });
});

describe.skipIf(!needs(PROGRAMS.redis))("store outage", () => {
  test("with Redis gone, announce and scrape get 'temporarily unavailable' and the tracker keeps serving", async () => {
    const redis = await startRedisStack();
    try {
      const { app } = setupTracker(
        { UPSTASH_REDIS_REST_URL: redis.restUrl, UPSTASH_REDIS_REST_TOKEN: redis.token },
        { clientIp: () => "127.0.0.1", withoutUpstash: "none" },
      );
      const hash = randomId();
      expect(num((await call(app, announceUrl(hash, 7001))).dict.incomplete)).toBe(1);
      await redis.stop();
      const down = await call(app, announceUrl(hash, 7002));
      expect(down.status).toBe(200);
      expect(text(down.dict["failure reason"])).toContain("temporarily unavailable");
      expect(text((await call(app, `http://tracker.test/scrape?info_hash=${escapeAll(hash)}`)).dict["failure reason"])).toContain("temporarily unavailable");
      expect((await app.request("http://tracker.test/health")).status).toBe(200);
    } finally {
      await redis.stop();
    }
  });

  test("an Upstash URL where nothing listens gives 'temporarily unavailable', not an exception page", async () => {
    const { app } = setupTracker(
      { UPSTASH_REDIS_REST_URL: `http://127.0.0.1:${freePort()}`, UPSTASH_REDIS_REST_TOKEN: "t" },
      { clientIp: () => "127.0.0.1", withoutUpstash: "none" },
    );
    const res = await call(app, announceUrl(randomId(), 7001));
    expect(text(res.dict["failure reason"])).toContain("temporarily unavailable");
  });
});
