// A peer announcing again from its own address keeps its entry in the embedded store, renewed in
// place: it must behave as a fresh entry would (expiry from the new announce, the order the peer cap
// evicts by, a change of role, its key), seen only through the store's API.
import { describe, expect, test } from "bun:test";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import type { AnnounceInput } from "../edge/store/swarm-store.ts";

const T0 = 1_700_000_000_000;
const TTL = 60_000;
const HASH = "ab".repeat(20);
const hex40 = (n: number) => n.toString(16).padStart(40, "0");

const announce = (store: MemorySwarmStore, peer: number, over: Partial<AnnounceInput> = {}) =>
  store.announce({
    infoHash: HASH,
    peerId: hex40(peer),
    ip: `10.0.0.${peer}`,
    port: 6881,
    left: 1000,
    event: "",
    numwant: 50,
    now: T0,
    peerTtlMs: TTL,
    ...over,
  });

const idsOf = (peers: { peerId: string }[]) => peers.map((p) => p.peerId).sort();

describe("memory store: a peer's re-announce from its own address", () => {
  test("expiry counts from the latest announce, for the renewed peer and not the others", async () => {
    const store = new MemorySwarmStore();
    for (let p = 1; p <= 3; p++) await announce(store, p);
    await announce(store, 1, { now: T0 + 40_000 });
    // At T0 + 70 s peers 2 and 3 (last heard at T0) are gone, peer 1 (T0 + 40 s) is not.
    const seen = await announce(store, 9, { now: T0 + 70_000 });
    expect(idsOf(seen.peers)).toEqual([hex40(1)]);
    expect(seen.incomplete).toBe(2);
    const [late] = await store.scrape([HASH], T0 + 100_000);
    expect(late).toEqual({ complete: 0, incomplete: 1, downloaded: 0 });
  });

  test("the peer cap evicts by latest announce: a renewed peer is no longer the oldest", async () => {
    const store = new MemorySwarmStore({ maxPeers: 3 });
    for (let p = 1; p <= 3; p++) await announce(store, p, { now: T0 + p });
    await announce(store, 1, { now: T0 + 10 });
    await announce(store, 4, { now: T0 + 11 });
    const seen = await announce(store, 4, { now: T0 + 12 });
    expect(idsOf(seen.peers)).toEqual([hex40(1), hex40(3)]);
  });

  test("a leecher turning seeder moves between the counts, and is listed with its role, never to itself", async () => {
    const store = new MemorySwarmStore();
    for (let p = 1; p <= 4; p++) await announce(store, p);
    const done = await announce(store, 2, { left: 0, event: "completed" });
    expect(done).toMatchObject({ complete: 1, incomplete: 3, downloaded: 1 });
    expect(idsOf(done.peers)).toEqual([1, 3, 4].map(hex40));
    // A seeder is handed leechers only; a leecher sees the seeder among the others.
    const seederAgain = await announce(store, 2, { left: 0 });
    expect(idsOf(seederAgain.peers)).toEqual([1, 3, 4].map(hex40));
    const fromLeecher = await announce(store, 1, { compactOnly: true });
    expect(fromLeecher.compact!.v4.length).toBe(3 * 6);
    const back = await announce(store, 2, { left: 500 });
    expect(back).toMatchObject({ complete: 0, incomplete: 4, downloaded: 1 });
    const stats = await store.stats(T0);
    expect(stats).toMatchObject({ seeders: 0, leechers: 4 });
  });

  test("the key of the latest announce is the one that lets another address take the entry over", async () => {
    const store = new MemorySwarmStore();
    await announce(store, 1, { key: "old" });
    await announce(store, 1, { key: "new" });
    await announce(store, 2);
    // The old key no longer proves anything: the entry stays at its address.
    await announce(store, 1, { ip: "10.9.9.9", key: "old" });
    expect((await announce(store, 2)).peers.map((p) => p.ip)).toEqual(["10.0.0.1"]);
    await announce(store, 1, { ip: "10.9.9.9", key: "new" });
    expect((await announce(store, 2)).peers.map((p) => p.ip)).toEqual(["10.9.9.9"]);
  });

  test("a stopped after re-announces removes the peer; announcing again adds it back", async () => {
    const store = new MemorySwarmStore();
    await announce(store, 1);
    await announce(store, 1);
    await announce(store, 2);
    await announce(store, 1, { event: "stopped" });
    expect((await announce(store, 2)).peers).toEqual([]);
    await announce(store, 1);
    expect(idsOf((await announce(store, 2)).peers)).toEqual([hex40(1)]);
  });
});
