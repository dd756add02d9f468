// The embedded store's bounds (TRACKER_MAX_SWARMS, TRACKER_MAX_PEERS): a flood of announces for
// random info hashes must not grow it past its caps, the least recently active swarm goes first, and
// the `downloaded` history is bounded too. Counted through the store's own API (stats, scrape) and,
// for the configuration, through the app's /stats.
import { describe, expect, test } from "bun:test";
import { getConnInfo } from "hono/bun";
import { setupTracker } from "../edge/server-setup.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import type { AnnounceInput } from "../edge/store/swarm-store.ts";
import { announce as httpAnnounce, randomId } from "./tracker/http.ts";

const T0 = 1_700_000_000_000;
const TTL = 3_600_000;
const hex40 = (n: number) => n.toString(16).padStart(40, "0");

/** One announce at a fixed clock; peer n announces from its own address. */
const announce = (store: MemorySwarmStore, infoHash: string, peer: number, over: Partial<AnnounceInput> = {}) =>
  store.announce({
    infoHash,
    peerId: hex40(peer),
    ip: `10.${(peer >> 16) & 255}.${(peer >> 8) & 255}.${peer & 255}`,
    port: 6881,
    left: 1000,
    event: "",
    numwant: 0,
    now: T0,
    peerTtlMs: TTL,
    ...over,
  });

const peersOf = async (store: MemorySwarmStore, hash: string) => {
  const [counts] = await store.scrape([hash], T0);
  return counts!.complete + counts!.incomplete;
};

describe("memory store bounds", () => {
  test("a flood of random info hashes stays within the swarm cap, least recently active evicted first; an active swarm keeps its peers", async () => {
    const store = new MemorySwarmStore({ maxSwarms: 100, maxPeers: 10_000 });
    const active = hex40(0xacc);
    for (let p = 1; p <= 5; p++) await announce(store, active, p);
    const flood = Array.from({ length: 2000 }, (_, i) => hex40(0xf000000 + i));
    for (let i = 0; i < flood.length; i++) {
      await announce(store, flood[i]!, 1000 + i);
      // The active swarm's peers keep announcing, far less often than the flood.
      if (i % 50 === 0) await announce(store, active, 1 + ((i / 50) % 5));
      if (i % 250 === 0) {
        const stats = await store.stats(T0);
        expect(stats.torrents).toBeLessThanOrEqual(100);
      }
    }
    const stats = await store.stats(T0);
    expect(stats.torrents).toBe(100);
    expect(stats.leechers).toBe(100 - 1 + 5);
    expect(await peersOf(store, active)).toBe(5);
    // Nothing else held: no downloaded history for swarms that never had a completion.
    expect(store.footprint()).toEqual({ swarms: 100, peers: 104, histories: 0 });
    // The newest 99 flood swarms are there, the older ones were evicted.
    const counts = await store.scrape(flood, T0);
    expect(counts.slice(-99).every((c) => c.incomplete === 1)).toBe(true);
    expect(counts.slice(0, -99).every((c) => c.incomplete === 0)).toBe(true);
  });

  test("the peer cap takes the oldest peer of the least recently active swarm first", async () => {
    const store = new MemorySwarmStore({ maxSwarms: 100, maxPeers: 10 });
    const [older, newer] = [hex40(0xa1), hex40(0xa2)];
    for (let p = 1; p <= 5; p++) await announce(store, older, p);
    for (let p = 6; p <= 10; p++) await announce(store, newer, p);
    await announce(store, newer, 11);
    expect(await peersOf(store, older)).toBe(4);
    expect(await peersOf(store, newer)).toBe(6);
    const fromOlder = await announce(store, older, 5, { numwant: 50 });
    expect(fromOlder.peers.map((p) => p.peerId).sort()).toEqual([2, 3, 4].map(hex40));
    // Still ten in all, however the announces go on.
    for (let p = 12; p < 40; p++) await announce(store, p % 2 ? older : newer, p);
    const stats = await store.stats(T0);
    expect(stats.seeders + stats.leechers).toBe(10);
  });

  test("the downloaded history is bounded: the least recently completed swarms lose it first", async () => {
    const store = new MemorySwarmStore({ maxSwarms: 10, maxPeers: 10_000 });
    const hashes = Array.from({ length: 50 }, (_, i) => hex40(0xd000 + i));
    for (let i = 0; i < hashes.length; i++) {
      await announce(store, hashes[i]!, i + 1, { event: "completed", left: 0 });
    }
    const counts = await store.scrape(hashes, T0);
    expect(counts.map((c) => c.downloaded)).toEqual(hashes.map((_, i) => (i >= 40 ? 1 : 0)));
    expect(store.footprint().histories).toBe(10);
  });

  test("TRACKER_MAX_SWARMS and TRACKER_MAX_PEERS bound the store the server sets up", async () => {
    const { app, storeKind } = setupTracker(
      { TRACKER_MAX_SWARMS: "20", TRACKER_MAX_PEERS: "30" },
      { clientIp: (c) => getConnInfo(c).remote.address, withoutUpstash: "memory" },
    );
    expect(storeKind).toBe("memory");
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
    try {
      const base = `http://127.0.0.1:${server.port}`;
      const crowded = randomId();
      for (let i = 0; i < 25; i++) await httpAnnounce(base, { infoHash: crowded, peerId: randomId(), port: 7000 + i, left: 5 });
      for (let i = 0; i < 60; i++) await httpAnnounce(base, { infoHash: randomId(), peerId: randomId(), port: 6881, left: 5 });
      const stats = (await (await fetch(`${base}/stats`)).json()) as Record<string, number>;
      expect(stats.torrents).toBeLessThanOrEqual(20);
      expect(stats.leechers).toBeLessThanOrEqual(30);
      expect(stats.announces).toBe(85);
    } finally {
      await server.stop(true);
    }
  });
});
