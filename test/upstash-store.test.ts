// UpstashSwarmStore against a real redis-server through the local Upstash-compatible server:
// swarm semantics, and the cost model (one EVALSHA per announce, one pipeline per scrape).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Redis } from "@upstash/redis/cloudflare";
import { decode } from "../shared/bencode.ts";
import { percentEncodeBytes } from "../shared/ids.ts";
import { fromHex, toHex } from "../shared/bytes.ts";
import { encodeCompactPeer } from "../shared/compact.ts";
import { createApp } from "../edge/app.ts";
import { DEFAULT_CONFIG, loadConfig } from "../edge/config.ts";
import { RedisConnection } from "../edge/local/upstash-compat/redis-connection.ts";
import { RespStatus, type RespValue } from "../edge/local/upstash-compat/resp.ts";
import { StoreUnavailableError, type AnnounceInput } from "../edge/store/swarm-store.ts";
import { UpstashSwarmStore, upstashStoreFromEnv, type UpstashStoreOptions } from "../edge/store/upstash.ts";
import { COUNTER_SHARDS, MINUTE_KEY_TTL_MS } from "../edge/store/counters.ts";
import { startRedisStack, type RedisStack } from "./support/redis.ts";
import { needs, PROGRAMS } from "./support/system.ts";

const T0 = 1_700_000_000_000;
const TTL = 60_000;
let counter = 0;
const hex40 = (n: number) => n.toString(16).padStart(40, "0");
/** A fresh info hash per test, so tests never see each other's swarms. */
const freshHash = () => hex40(0xabc000 + ++counter);

describe.skipIf(!needs(PROGRAMS.redis))("UpstashSwarmStore on a real redis-server", () => {
  let stack: RedisStack;
  let admin: RedisConnection;

  const newStore = (opts: UpstashStoreOptions = {}) =>
    new UpstashSwarmStore(new Redis({ url: stack.restUrl, token: stack.token, enableTelemetry: false, enableAutoPipelining: false, retry: false }), opts);
  const redisCall = async (...args: string[]): Promise<RespValue> => (await admin.send([args]))[0]!;
  /** Announces, and returns the peers as id, ip and port (checking each one's compact form on the way). */
  const announce = async (store: UpstashSwarmStore, infoHash: string, peer: number, over: Partial<AnnounceInput> = {}) => {
    const reply = await store.announce({
      infoHash,
      peerId: hex40(peer),
      ip: `10.0.${peer >> 8}.${peer & 255}`,
      port: 6881,
      left: 1000,
      event: "",
      numwant: 50,
      now: T0,
      peerTtlMs: TTL,
      ...over,
    });
    for (const p of reply.peers) expect(p.compact).toEqual(encodeCompactPeer(p));
    return { ...reply, peers: reply.peers.map(({ peerId, ip, port }) => ({ peerId, ip, port })) };
  };

  beforeAll(async () => {
    stack = await startRedisStack();
    admin = await RedisConnection.open({ host: "127.0.0.1", port: stack.redisPort });
  });
  afterAll(async () => {
    admin?.close();
    await stack?.stop();
  });

  test("records leechers and seeders, counts them, and gives peers their address back", async () => {
    const store = newStore();
    const hash = freshHash();
    await announce(store, hash, 1, { event: "started" });
    await announce(store, hash, 2, { left: 0, ip: "192.168.7.9", port: 51413 });
    const reply = await announce(store, hash, 3, { ip: "2001:db8::7", port: 6999 });
    expect(reply.complete).toBe(1);
    expect(reply.incomplete).toBe(2);
    expect(reply.peers).toHaveLength(2);
    expect(reply.peers).toContainEqual({ peerId: hex40(2), ip: "192.168.7.9", port: 51413 });
    expect(reply.peers).toContainEqual({ peerId: hex40(1), ip: "10.0.0.1", port: 6881 });
    const fromSeeder = await announce(store, hash, 2, { left: 0, ip: "192.168.7.9", port: 51413 });
    expect(fromSeeder.peers).toContainEqual({ peerId: hex40(3), ip: "2001:db8::7", port: 6999 });
  });

  test("keeps peer ids made only of decimal digits as text", async () => {
    const store = newStore();
    const hash = freshHash();
    const digits = "1234567890".repeat(4);
    // 16.32.48.64:4660 in compact hex is 102030401234: all digits, which the client would parse as a number.
    await store.announce({ infoHash: hash, peerId: digits, ip: "16.32.48.64", port: 0x1234, left: 5, event: "", numwant: 50, now: T0, peerTtlMs: TTL });
    const reply = await announce(store, hash, 1);
    expect(reply.peers).toEqual([{ peerId: digits, ip: "16.32.48.64", port: 0x1234 }]);
  });

  test("moves a peer to the seeders on completed and counts the download once", async () => {
    const store = newStore();
    const hash = freshHash();
    await announce(store, hash, 1, { event: "started" });
    const done = await announce(store, hash, 1, { event: "completed", left: 0 });
    expect([done.complete, done.incomplete, done.downloaded]).toEqual([1, 0, 1]);
    const again = await announce(store, hash, 1, { event: "completed", left: 0 });
    expect(again.downloaded).toBe(1);
    const [counts] = await store.scrape([hash], T0);
    expect(counts).toEqual({ complete: 1, incomplete: 0, downloaded: 1 });
  });

  test("removes a peer at once on stopped and answers it with no peers", async () => {
    const store = newStore();
    const hash = freshHash();
    await announce(store, hash, 1);
    await announce(store, hash, 2);
    const stopped = await announce(store, hash, 1, { event: "stopped" });
    expect(stopped.peers).toEqual([]);
    expect(stopped.incomplete).toBe(1);
    const other = await announce(store, hash, 2);
    expect(other.peers).toEqual([]);
  });

  test("drops a peer that stopped announcing once its time is up", async () => {
    const store = newStore();
    const hash = freshHash();
    await announce(store, hash, 1, { peerTtlMs: 1000 });
    const later = await announce(store, hash, 2, { now: T0 + 999, peerTtlMs: 1000 });
    expect(later.peers.map((p) => p.peerId)).toEqual([hex40(1)]);
    const expired = await announce(store, hash, 2, { now: T0 + 1000, peerTtlMs: 1000 });
    expect(expired.peers).toEqual([]);
    expect(expired.incomplete).toBe(1);
    expect(await redisCall("HEXISTS", `bt:{${hash}}:a`, hex40(1))).toBe(0);
  });

  test("lets an abandoned swarm's keys vanish by TTL while its download count stays", async () => {
    const store = newStore({ keyTtlMarginMs: 0 });
    const hash = freshHash();
    await announce(store, hash, 1, { event: "completed", left: 0, peerTtlMs: 200 });
    const historyTtl = await redisCall("PTTL", `bt:{${hash}}:h`);
    expect(historyTtl).toBeGreaterThan(29 * 24 * 3600 * 1000);
    expect(await redisCall("EXISTS", `bt:{${hash}}:s`, `bt:{${hash}}:a`)).toBe(2);
    await Bun.sleep(400);
    expect(await redisCall("EXISTS", `bt:{${hash}}:s`, `bt:{${hash}}:l`, `bt:{${hash}}:a`)).toBe(0);
    expect((await store.scrape([hash], Date.now()))[0]!.downloaded).toBe(1);
  });

  test("a flood of announces for random info hashes leaves no key that outlives the swarm; a completed download keeps its count", async () => {
    const store = newStore({ prefix: "flood", keyTtlMarginMs: 0 });
    const flood = Array.from({ length: 300 }, () => toHex(crypto.getRandomValues(new Uint8Array(20))));
    const events: AnnounceInput["event"][] = ["started", "", "stopped"];
    for (let i = 0; i < flood.length; i++) await announce(store, flood[i]!, i + 1, { event: events[i % 3]! });
    const completedHash = freshHash();
    await announce(store, completedHash, 1, { event: "completed", left: 0 });
    // A later plain announce of that swarm keeps the history's long life.
    await announce(store, completedHash, 2);
    const ttls = new Map<string, number>();
    let cursor = "0";
    do {
      const [next, keys] = (await redisCall("SCAN", cursor, "MATCH", "flood:*", "COUNT", "1000")) as [Uint8Array, Uint8Array[]];
      cursor = new TextDecoder().decode(next);
      for (const key of keys) {
        const name = new TextDecoder().decode(key);
        ttls.set(name, (await redisCall("PTTL", name)) as number);
      }
    } while (cursor !== "0");
    const history = (hash: string) => `flood:{${hash}}:h`;
    expect(ttls.get(history(completedHash))!).toBeGreaterThan(29 * 24 * 3600 * 1000);
    ttls.delete(history(completedHash));
    // The tracker-wide counters are a fixed set whatever the flood: per shard, one hash of a few
    // fields kept for good and one key per minute kept a little over the hour the chart shows.
    const counterKeys = [...ttls.keys()].filter((k) => k.startsWith("flood:counters:") || k.startsWith("flood:apm:"));
    expect(counterKeys.length).toBeLessThanOrEqual(2 * COUNTER_SHARDS);
    for (const key of counterKeys) {
      if (/^flood:counters:\d+$/.test(key)) expect(ttls.get(key)).toBe(-1);
      else {
        expect(key).toMatch(new RegExp(`^flood:apm:${Math.floor(T0 / 60_000)}:\\d+$`));
        expect(ttls.get(key)!).toBeGreaterThan(0);
        expect(ttls.get(key)!).toBeLessThanOrEqual(MINUTE_KEY_TTL_MS);
      }
      ttls.delete(key);
    }
    // Read back, the shards add up to every announce of the flood.
    const counted = await store.counters(T0);
    expect(counted.announces.length).toBeLessThanOrEqual(8);
    expect(counted.announces.reduce((sum, a) => sum + a.count, 0)).toBe(flood.length + 2);
    expect(counted.perMinute.at(-1)).toBe(flood.length + 2);
    // Every other key: seeders, leechers, addresses and the history of swarms without a completion.
    expect(ttls.size).toBeGreaterThanOrEqual(flood.length);
    const outliving = [...ttls].filter(([, ttl]) => ttl < 0 || ttl > TTL);
    expect(outliving).toEqual([]);
    expect((await store.scrape([completedHash], T0))[0]!.downloaded).toBe(1);
  });

  test("samples at most numwant distinct peers, never the requester, and a different sample each time", async () => {
    const store = newStore();
    const hash = freshHash();
    for (let p = 1; p <= 60; p++) await announce(store, hash, p, { left: p <= 30 ? 0 : 1000 });
    const seen = new Set<string>();
    let seedersSeen = 0;
    for (let i = 0; i < 20; i++) {
      const reply = await announce(store, hash, 31, { numwant: 10 });
      expect(reply.peers).toHaveLength(10);
      const ids = reply.peers.map((p) => p.peerId);
      expect(new Set(ids).size).toBe(10);
      expect(ids).not.toContain(hex40(31));
      ids.forEach((id) => seen.add(id));
      seedersSeen += ids.filter((id) => parseInt(id, 16) <= 30).length;
    }
    expect(seen.size).toBeGreaterThan(20);
    // A leecher is offered seeders and leechers in proportion (30 of 59 others are seeders).
    expect(seedersSeen).toBeGreaterThan(40);
    expect(seedersSeen).toBeLessThan(160);
    expect((await announce(store, hash, 31, { numwant: 0 })).peers).toEqual([]);
  });

  test("gives a seeder only leechers", async () => {
    const store = newStore();
    const hash = freshHash();
    for (let p = 1; p <= 20; p++) await announce(store, hash, p, { left: p <= 15 ? 0 : 1000 });
    const reply = await announce(store, hash, 1, { left: 0 });
    expect(reply.peers.map((p) => parseInt(p.peerId, 16)).sort((a, b) => a - b)).toEqual([16, 17, 18, 19, 20]);
  });

  test("scrapes many torrents, unknown ones as zeros", async () => {
    const store = newStore();
    const [a, b, unknown] = [freshHash(), freshHash(), freshHash()];
    await announce(store, a, 1);
    await announce(store, a, 2, { left: 0 });
    await announce(store, b, 3);
    expect(await store.scrape([a, b, unknown], T0)).toEqual([
      { complete: 1, incomplete: 1, downloaded: 0 },
      { complete: 0, incomplete: 1, downloaded: 0 },
      { complete: 0, incomplete: 0, downloaded: 0 },
    ]);
    expect(await store.scrape([], T0)).toEqual([]);
  });

  test("keeps an allowlist that another store instance sees, removals included", async () => {
    const hash = freshHash();
    expect(await newStore().accounts.isAllowed(hash)).toBe(false);
    await newStore().accounts.allow(hash);
    expect(await newStore().accounts.isAllowed(hash)).toBe(true);
    expect(await redisCall("ZSCORE", "bt:torrents", hash)).toBeDefined();
    await newStore().accounts.disallow(hash);
    expect(await newStore().accounts.isAllowed(hash)).toBe(false);
  });

  test("computes stats over live swarms, and marks them approximate when the scan is capped", async () => {
    const store = newStore({ prefix: "stats" });
    for (let i = 0; i < 5; i++) {
      const hash = freshHash();
      await announce(store, hash, 1);
      await announce(store, hash, 2, { left: 0 });
    }
    await announce(store, freshHash(), 1, { peerTtlMs: 10 }); // expired by the time stats looks
    const stats = await store.stats(T0 + 1000);
    expect(stats).toEqual({ torrents: 5, seeders: 5, leechers: 5, announces: 11 });
    const capped = await newStore({ prefix: "stats", statsSwarmLimit: 2 }).stats(T0 + 1000);
    expect(capped.approximate).toBe(true);
  });

  test.each([
    ["", {}],
    [" with a passkey in private mode (user check, allowlist check and accounting included)", { passkey: "ab".repeat(16), allowlistOnly: true, uploaded: 5 }],
  ] as Array<[string, Partial<AnnounceInput>]>)(
    "costs exactly one Redis command per announce after warm-up%s: one EVALSHA, one HTTP request",
    async (_, over) => {
      const store = newStore();
      const hash = freshHash();
      if (over.passkey) {
        await store.accounts.createUser(`counted-${hash.slice(-6)}`, over.passkey);
        await store.accounts.allow(hash);
      }
      await announce(store, hash, 1, over); // warm-up: EVALSHA answers NOSCRIPT on a fresh server, then EVAL loads it
      await announce(store, hash, 2, over);
      const monitored: string[] = [];
      const monitor = await RedisConnection.open({ host: "127.0.0.1", port: stack.redisPort }, (value) => {
        if (value instanceof RespStatus) monitored.push(value.text);
      });
      try {
        await monitor.send([["MONITOR"]]);
        await redisCall("CONFIG", "RESETSTAT");
        const httpBefore = { ...stack.compat.requests };
        expect((await announce(store, hash, 3, over)).refused).toBeUndefined();
        await redisCall("PING"); // a marker: once MONITOR shows it, everything before it has been seen
        for (let i = 0; i < 1000 && !monitored.some((l) => l.includes('"PING"')); i++) await Bun.sleep(5);
        const fromClients = monitored.filter((l) => !l.includes("[0 lua]") && !/"(PING|CONFIG)"/.test(l));
        expect(fromClients).toHaveLength(1);
        expect(fromClients[0]).toContain('"evalsha"');
        expect(stack.compat.requests["/"]! - httpBefore["/"]!).toBe(1);
        expect(stack.compat.requests["/pipeline"]).toBe(httpBefore["/pipeline"]!);
        const info = new TextDecoder().decode((await redisCall("INFO", "commandstats")) as Uint8Array);
        expect(info).toMatch(/cmdstat_evalsha:calls=1,/);
        expect(info).not.toMatch(/cmdstat_eval:/);
      } finally {
        monitor.close();
      }
    },
  );

  test("scrapes N torrents with one pipeline request", async () => {
    const store = newStore();
    const hashes = Array.from({ length: 20 }, freshHash);
    await redisCall("CONFIG", "RESETSTAT");
    const before = { ...stack.compat.requests };
    await store.scrape(hashes, T0);
    expect(stack.compat.requests["/pipeline"]! - before["/pipeline"]!).toBe(1);
    expect(stack.compat.requests["/"]! - before["/"]!).toBe(0);
    const info = new TextDecoder().decode((await redisCall("INFO", "commandstats")) as Uint8Array);
    expect(info).toMatch(/cmdstat_zcount:calls=40,/);
    expect(info).toMatch(/cmdstat_hget:calls=20,/);
  });

  test("a private scrape of N torrents costs three requests: the passkey check, one allowlist pipeline, one scrape pipeline", async () => {
    const store = newStore();
    const passkey = "cd".repeat(16);
    await store.accounts.createUser("scraper", passkey);
    const hashes = Array.from({ length: 8 }, freshHash);
    for (const h of hashes.slice(0, 4)) await store.accounts.allow(h);
    const app = createApp({ store, config: loadConfig({ TRACKER_PRIVATE: "true" }), clientIp: () => "127.0.0.1" });
    const before = { ...stack.compat.requests };
    const query = hashes.map((h) => `info_hash=${percentEncodeBytes(fromHex(h)!)}`).join("&");
    const response = await app.request(`http://tracker.test/${passkey}/scrape?${query}`);
    const files = decode(new Uint8Array(await response.arrayBuffer())) as Record<string, Record<string, unknown>>;
    expect(Object.keys(files.files!)).toHaveLength(4);
    expect(stack.compat.requests["/"]! - before["/"]!).toBe(1);
    expect(stack.compat.requests["/pipeline"]! - before["/pipeline"]!).toBe(2);
  });

  test("upstashStoreFromEnv needs both the URL and the token", () => {
    expect(upstashStoreFromEnv({})).toBeNull();
    expect(upstashStoreFromEnv({ UPSTASH_REDIS_REST_URL: stack.restUrl })).toBeNull();
    expect(upstashStoreFromEnv({ UPSTASH_REDIS_REST_URL: stack.restUrl, UPSTASH_REDIS_REST_TOKEN: stack.token })).toBeInstanceOf(UpstashSwarmStore);
  });

  test("throws StoreUnavailableError when Redis is down, and the tracker answers a bencoded failure", async () => {
    const own = await startRedisStack();
    const store = upstashStoreFromEnv({ UPSTASH_REDIS_REST_URL: own.restUrl, UPSTASH_REDIS_REST_TOKEN: own.token })!;
    const hash = freshHash();
    try {
      await announce(store, hash, 1);
      const shutdown = await RedisConnection.open({ host: "127.0.0.1", port: own.redisPort });
      await shutdown.send([["SHUTDOWN", "NOSAVE"]]).catch(() => {});
      await expect(announce(store, hash, 2)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.scrape([hash], T0)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.stats(T0)).rejects.toBeInstanceOf(StoreUnavailableError);

      const app = createApp({ store, config: DEFAULT_CONFIG, clientIp: () => "127.0.0.1" });
      const query = `info_hash=${percentEncodeBytes(fromHex(hash)!)}&peer_id=${percentEncodeBytes(fromHex(hex40(9))!)}&port=6881&uploaded=0&downloaded=0&left=10`;
      const response = await app.request(`http://tracker.test/announce?${query}`);
      expect(response.status).toBe(200);
      const body = decode(new Uint8Array(await response.arrayBuffer())) as Record<string, unknown>;
      expect(new TextDecoder().decode(body["failure reason"] as Uint8Array)).toContain("temporarily unavailable");

      await own.compat.stop(); // now even the REST endpoint is gone: a network error
      await expect(announce(store, hash, 3)).rejects.toBeInstanceOf(StoreUnavailableError);
    } finally {
      await own.stop();
    }
  });
});
