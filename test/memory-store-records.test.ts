// The embedded store's typed-array records (edge/store/id-index.ts, peer-records.ts, memory-swarm.ts):
// ids found by their bytes in an open-addressing table, peers as records by reusable handle, swarms
// by reusable handle. Checked through the store's API against a plain model under churn (joins,
// stops, expiry, role switches, moves, swarms emptied and made again), the bytes entry the UDP
// tracker uses (announceInto) against announceNow, handles reused after eviction, and the index
// itself under inserts and removals that collide.
import { describe, expect, test } from "bun:test";
import { IdIndex } from "../edge/store/id-index.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import type { AnnounceInput, BytesAnnounce } from "../edge/store/swarm-store.ts";
import { fromHex, toHex } from "../shared/bytes.ts";
import { encodeCompactPeer } from "../shared/compact.ts";
import { seeded } from "./support/seeded-random.ts";

const T0 = 1_700_000_000_000;
const hex40 = (n: number) => n.toString(16).padStart(40, "0");

/** Peer n's address: IPv4 for most, IPv6 for every fourth. */
const ipOf = (n: number) => (n % 4 === 0 ? `2001:db8::${n.toString(16)}` : `10.0.${(n >> 8) & 255}.${n & 255}`);

/** Splits compact lists into their entries, as hex. */
function entries(bytes: Uint8Array, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(toHex(bytes.subarray(i, i + size)));
  return out;
}

interface ModelPeer {
  ip: string;
  port: number;
  seeder: boolean;
  expiresAt: number;
}

describe("memory store records", () => {
  test("under churn the store holds exactly a plain model's live peers, and samples only from them", async () => {
    const TTL = 200_000;
    const store = new MemorySwarmStore({ random: seeded(5) });
    const model = new Map<string, Map<string, ModelPeer>>();
    const ops = seeded(11);
    const live = (swarm: Map<string, ModelPeer> | undefined, now: number) => [...(swarm ?? new Map()).entries()].filter(([, p]) => p.expiresAt > now);
    for (let i = 0; i < 6000; i++) {
      const now = T0 + i * 100;
      const hash = hex40(0x100 + Math.floor(ops() * 12));
      const peer = Math.floor(ops() * 150);
      const r = ops();
      const event = r < 0.12 ? "stopped" : r < 0.15 ? "completed" : "";
      const input: AnnounceInput = {
        infoHash: hash,
        peerId: hex40(peer),
        ip: ipOf(peer),
        // Now and then a peer comes back on another port: a move, with its key.
        port: 6881 + (ops() < 0.05 ? 1 : 0),
        key: `k${peer}`,
        left: ops() < 0.3 ? 0 : 1000,
        event,
        numwant: Math.floor(ops() * 30),
        now,
        peerTtlMs: TTL,
        compactOnly: true,
      };
      const result = await store.announce(input);

      let swarm = model.get(hash);
      for (const [id, p] of swarm ?? []) if (p.expiresAt <= now) swarm!.delete(id);
      if (event === "stopped") swarm?.delete(input.peerId);
      else {
        if (!swarm) model.set(hash, (swarm = new Map()));
        swarm.set(input.peerId, { ip: input.ip, port: input.port, seeder: input.left === 0 || event === "completed", expiresAt: now + TTL });
      }
      const peers = live(swarm, now);
      expect([result.complete, result.incomplete]).toEqual([peers.filter(([, p]) => p.seeder).length, peers.filter(([, p]) => !p.seeder).length]);
      if (event !== "stopped") {
        const self = input.left === 0 || event === "completed";
        const pool = peers.filter(([id, p]) => id !== input.peerId && !(self && p.seeder));
        const forms = new Set(pool.map(([, p]) => toHex(encodeCompactPeer(p))));
        const got = [...entries(result.compact!.v4, 6), ...entries(result.compact!.v6, 18)];
        expect(new Set(got).size).toBe(got.length);
        for (const form of got) expect(forms.has(form)).toBe(true);
        expect(got.length).toBe(Math.min(input.numwant, pool.length));
      }
      if (i % 500 === 499) {
        const hashes = Array.from({ length: 12 }, (_, s) => hex40(0x100 + s));
        const counts = await store.scrape(hashes, now);
        expect(counts.map((c) => c.complete + c.incomplete)).toEqual(hashes.map((h) => live(model.get(h), now).length));
      }
    }
  });

  test("the bytes entry (announceInto) answers as announceNow: the same counts, the requester's family of the same sample, or with family both all of it", async () => {
    const byHex = new MemorySwarmStore({ maxSwarms: 5, maxPeers: 80, random: seeded(21) });
    const byBytes = new MemorySwarmStore({ maxSwarms: 5, maxPeers: 80, random: seeded(21) });
    const byBoth = new MemorySwarmStore({ maxSwarms: 5, maxPeers: 80, random: seeded(21) });
    const ops = seeded(23);
    const out = new Uint8Array(4096).fill(0xee);
    let written = 0;
    let written6 = 0;
    for (let i = 0; i < 4000; i++) {
      const peer = Math.floor(ops() * 140);
      const r = ops();
      const common = {
        ip: ipOf(peer),
        port: 6881 + (ops() < 0.05 ? 1 : 0),
        left: r < 0.3 ? 0 : 1000,
        event: (r > 0.9 ? "stopped" : r > 0.85 ? "completed" : r > 0.8 ? "started" : "") as AnnounceInput["event"],
        numwant: 1 + Math.floor(ops() * 60),
        now: T0 + i * 1000,
        peerTtlMs: 300_000,
      };
      const infoHash = hex40(0xabc0 + Math.floor(ops() * 7));
      const peerId = hex40(peer);
      const key = peer % 3 === 0 ? undefined : peer + 0xa000;
      const a = byHex.announceNow({
        ...common,
        infoHash,
        peerId,
        key: key === undefined ? undefined : key.toString(16).toUpperCase().padStart(8, "0"),
        compactOnly: true,
      });
      const ids = new Uint8Array(50);
      ids.set(fromHex(infoHash)!, 5);
      ids.set(fromHex(peerId)!, 25);
      const family = common.ip.includes(":") ? 6 : 4;
      const input: BytesAnnounce = { ...common, ids, idsAt: 5, key, family };
      const b = byBytes.announceInto(input, out, 100);
      expect([b.complete, b.incomplete, b.downloaded]).toEqual([a.complete, a.incomplete, a.downloaded]);
      const size = family === 4 ? 6 : 18;
      const expected = a.compact ? (family === 4 ? a.compact.v4 : a.compact.v6) : new Uint8Array(0);
      expect(b.written).toBe(expected.length / size);
      expect(toHex(out.subarray(100, 100 + b.written * size))).toBe(toHex(expected));
      // Nothing written outside the sample's bytes.
      expect(out[99]).toBe(0xee);
      expect(out[100 + b.written * size]).toBe(0xee);
      out.fill(0xee, 100, 100 + b.written * size);
      written += b.written;

      // Both families (an HTTP reply's peers and peers6): IPv4 forms from 100, IPv6 forms from 2000.
      const both = byBoth.announceInto({ ...input, family: "both", v6At: 2000 }, out, 100);
      expect([both.complete, both.incomplete, both.downloaded]).toEqual([a.complete, a.incomplete, a.downloaded]);
      const v4 = a.compact?.v4 ?? new Uint8Array(0);
      const v6 = a.compact?.v6 ?? new Uint8Array(0);
      expect([both.written, both.written6]).toEqual([v4.length / 6, v6.length / 18]);
      expect(toHex(out.subarray(100, 100 + both.written * 6))).toBe(toHex(v4));
      expect(toHex(out.subarray(2000, 2000 + both.written6 * 18))).toBe(toHex(v6));
      expect([out[99], out[100 + both.written * 6], out[1999], out[2000 + both.written6 * 18]]).toEqual([0xee, 0xee, 0xee, 0xee]);
      out.fill(0xee, 100, 100 + both.written * 6);
      out.fill(0xee, 2000, 2000 + both.written6 * 18);
      written6 += both.written6;
    }
    expect(written).toBeGreaterThan(4000);
    expect(written6).toBeGreaterThan(1000);
    expect(byBytes.footprint()).toEqual(byHex.footprint());
    expect(byBoth.footprint()).toEqual(byHex.footprint());
  });

  test("an IPv4 reply from swarms without IPv6 peers (copied by 16-bit words) is announceNow's sample, at an even or an odd place in the buffer", () => {
    const byHex = new MemorySwarmStore({ random: seeded(31) });
    const even = new MemorySwarmStore({ random: seeded(31) });
    const odd = new MemorySwarmStore({ random: seeded(31) });
    const ops = seeded(37);
    const out = new Uint8Array(2048).fill(0xee);
    let written = 0;
    for (let i = 0; i < 3000; i++) {
      // Up to 300 peers in 3 swarms: the lists grow several times, peers change role and leave.
      const peer = 1 + Math.floor(ops() * 300);
      const r = ops();
      const common = {
        ip: `10.1.${peer >> 8}.${peer & 255}`,
        port: 6881 + (peer % 7),
        left: r < 0.3 ? 0 : 1000,
        event: (r > 0.95 ? "stopped" : "") as AnnounceInput["event"],
        numwant: 1 + Math.floor(ops() * 80),
        now: T0 + i * 1000,
        peerTtlMs: 3_000_000,
      };
      const infoHash = hex40(0xbee0 + (peer % 3));
      const a = byHex.announceNow({ ...common, infoHash, peerId: hex40(peer), compactOnly: true });
      const ids = new Uint8Array(40);
      ids.set(fromHex(infoHash)!, 0);
      ids.set(fromHex(hex40(peer))!, 20);
      const expected = toHex(a.compact?.v4 ?? new Uint8Array(0));
      for (const [store, at] of [
        [even, 20],
        [odd, 21],
      ] as const) {
        const b = store.announceInto({ ...common, ids, idsAt: 0, key: undefined, family: 4 }, out, at);
        expect([b.complete, b.incomplete, b.written]).toEqual([a.complete, a.incomplete, expected.length / 12]);
        expect(toHex(out.subarray(at, at + b.written * 6))).toBe(expected);
        expect([out[at - 1], out[at + b.written * 6]]).toEqual([0xee, 0xee]);
        out.fill(0xee, at, at + b.written * 6);
        written += b.written;
      }
    }
    expect(written).toBeGreaterThan(100_000);
  });

  test("family both through the general path (an allowlist): the same sample, IPv4 and IPv6 forms where asked", async () => {
    const byHex = new MemorySwarmStore({ random: seeded(5) });
    const byBoth = new MemorySwarmStore({ random: seeded(5) });
    const hash = hex40(0x99);
    for (const store of [byHex, byBoth]) await store.accounts.allow(hash);
    const ids = new Uint8Array(40);
    ids.set(fromHex(hash)!, 0);
    const out = new Uint8Array(4096);
    for (let peer = 1; peer <= 12; peer++) {
      const common = { ip: ipOf(peer), port: 6881, left: 1000, event: "" as const, numwant: 50, now: T0 + peer, peerTtlMs: 60_000, allowlistOnly: true };
      const a = byHex.announceNow({ ...common, infoHash: hash, peerId: hex40(peer), compactOnly: true });
      ids.set(fromHex(hex40(peer))!, 20);
      const both = byBoth.announceInto({ ...common, ids, idsAt: 0, key: undefined, family: "both", v6At: 1000 }, out, 0);
      expect(both.refused).toBeUndefined();
      expect([both.complete, both.incomplete]).toEqual([a.complete, a.incomplete]);
      expect(toHex(out.subarray(0, both.written * 6))).toBe(toHex(a.compact!.v4));
      expect(toHex(out.subarray(1000, 1000 + both.written6 * 18))).toBe(toHex(a.compact!.v6));
    }
    expect(byBoth.footprint().peers).toBe(12);
  });

  test("a key sent over UDP (a number) and the same key over HTTP (%08X) are one key", () => {
    const store = new MemorySwarmStore();
    const hash = hex40(0x77);
    const ids = new Uint8Array(40);
    ids.set(fromHex(hash)!, 0);
    ids.set(fromHex(hex40(1))!, 20);
    const base = { port: 6881, left: 1000, event: "" as const, numwant: 50, now: T0, peerTtlMs: 60_000 };
    store.announceInto({ ...base, ids, idsAt: 0, ip: "10.0.0.1", key: 0xabcd, family: 4 }, new Uint8Array(100), 0);
    // The same peer id from elsewhere: refused with another key, taken over with the same one as text.
    store.announceNow({ ...base, infoHash: hash, peerId: hex40(1), ip: "10.9.9.9", key: "0000ABCE" });
    const other = { ...base, infoHash: hash, peerId: hex40(2), ip: "10.0.0.2" };
    expect(store.announceNow(other).peers.map((p) => p.ip)).toEqual(["10.0.0.1"]);
    store.announceNow({ ...base, infoHash: hash, peerId: hex40(1), ip: "10.9.9.9", key: "0000ABCD" });
    expect(store.announceNow(other).peers.map((p) => ({ ip: p.ip, peerId: p.peerId }))).toEqual([{ ip: "10.9.9.9", peerId: hex40(1) }]);
  });

  test("a swarm made again after eviction (its handle reused) holds none of the evicted swarm's peers", async () => {
    const store = new MemorySwarmStore({ maxSwarms: 2 });
    const at = (hash: string, peer: number, now = T0) => ({
      infoHash: hash,
      peerId: hex40(peer),
      ip: ipOf(peer),
      port: 6881,
      left: 1000,
      event: "" as const,
      numwant: 50,
      now,
      peerTtlMs: 60_000,
    });
    for (let p = 1; p <= 5; p++) await store.announce(at(hex40(0xa), p));
    await store.announce(at(hex40(0xb), 1, T0 + 1));
    // A third swarm evicts the first (least recently active); the same peers join it.
    const third = await store.announce(at(hex40(0xc), 1, T0 + 2));
    expect(third.peers).toEqual([]);
    expect(third.incomplete).toBe(1);
    const again = await store.announce(at(hex40(0xc), 2, T0 + 3));
    expect(again.peers.map((p) => p.peerId)).toEqual([hex40(1)]);
    expect(await store.scrape([hex40(0xa), hex40(0xb), hex40(0xc)], T0 + 3)).toEqual([
      { complete: 0, incomplete: 0, downloaded: 0 },
      { complete: 0, incomplete: 1, downloaded: 0 },
      { complete: 0, incomplete: 2, downloaded: 0 },
    ]);
    expect(store.footprint()).toEqual({ swarms: 2, peers: 3, histories: 0 });
  });

  test("ids that are not 40 hex digits are refused, not filed under another id", async () => {
    const store = new MemorySwarmStore();
    const input = { peerId: hex40(1), ip: "10.0.0.1", port: 6881, left: 0, event: "" as const, numwant: 5, now: T0, peerTtlMs: 60_000 };
    expect(() => store.announceNow({ ...input, infoHash: "zz".repeat(20) })).toThrow(RangeError);
    expect(() => store.announceNow({ ...input, infoHash: hex40(1), peerId: "ab" })).toThrow(RangeError);
    expect(await store.scrape(["zz".repeat(20)], T0)).toEqual([{ complete: 0, incomplete: 0, downloaded: 0 }]);
  });
});

describe("IdIndex", () => {
  test("finds every key filed and none removed, through inserts and removals that collide, across growth", () => {
    const index = new IdIndex(4);
    const model = new Map<string, number>();
    const ops = seeded(31);
    // Keys that differ only in their scope or in one word, so many land near each other.
    const keyOf = (n: number) => ({ hex: hex40(n & 0xff).replace(/^0000/, (n >> 8).toString(16).padStart(4, "0")), scope: n % 3 });
    const free: number[] = [];
    let next = 0;
    const handles = new Map<number, number>();
    for (let i = 0; i < 20_000; i++) {
      const n = Math.floor(ops() * 3000);
      const { hex, scope } = keyOf(n);
      const name = `${hex}/${scope}`;
      expect(index.loadHex(hex, scope)).toBe(true);
      const found = index.find();
      expect(found).toBe(model.get(name) ?? -1);
      if (found === -1) {
        const h = free.pop() ?? next++;
        index.insert(h);
        model.set(name, h);
        handles.set(h, n);
      } else if (ops() < 0.6) {
        index.remove(found);
        model.delete(name);
        handles.delete(found);
        free.push(found);
      }
      expect(index.size).toBe(model.size);
    }
    for (const [h, n] of handles) {
      const { hex, scope } = keyOf(n);
      index.loadHex(hex, scope);
      expect(index.find()).toBe(h);
      expect(index.hexOf(h)).toBe(hex);
    }
    // Bytes and hex name the same key.
    const [h, n] = handles.entries().next().value!;
    const { hex, scope } = keyOf(n);
    const bytes = new Uint8Array(30);
    bytes.set(fromHex(hex)!, 7);
    index.loadBytes(bytes, 7, scope);
    expect(index.find()).toBe(h);
  });
});
