// The embedded store's sampling and its compact buffers (edge/store/memory-peer-list.ts): each
// swarm keeps its peers' compact forms in one buffer per role, beside the entries, and a compact
// reply is copied out of those buffers. Checked here: the buffers stay in step with the entries
// through adds, re-announces, stops, expiry and eviction (the compact reply equals the entries'
// own forms, drawn with the same random numbers); a sample never holds the requester; and every
// peer is handed out about equally often.
import { describe, expect, test } from "bun:test";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import type { AnnounceInput } from "../edge/store/swarm-store.ts";
import { encodeCompactPeer } from "../shared/compact.ts";
import { seeded } from "./support/seeded-random.ts";

const T0 = 1_700_000_000_000;
const hex40 = (n: number) => n.toString(16).padStart(40, "0");

/** Peer n's address: IPv4 for most, IPv6 for every fifth, so both families share the buffers. */
const ipOf = (n: number) => (n % 5 === 0 ? `2001:db8::${n.toString(16)}` : `10.0.${(n >> 8) & 255}.${n & 255}`);

const hexOf = (bytes: Uint8Array) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");

/** Splits a compact list into its entries, as hex. */
function entries(bytes: Uint8Array, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(hexOf(bytes.subarray(i, i + size)));
  return out;
}

describe("memory store sampling", () => {
  test("compact replies copied from the buffers equal the sampled entries' own forms, through adds, moves, stops, expiry and eviction", async () => {
    // Two stores fed the same announces and the same random numbers: one answers with entries, one
    // with bytes from its buffers. Any slot out of step would show as a differing peer.
    const byEntries = new MemorySwarmStore({ maxSwarms: 4, maxPeers: 60, random: seeded(7) });
    const byBytes = new MemorySwarmStore({ maxSwarms: 4, maxPeers: 60, random: seeded(7) });
    const ops = seeded(99);
    let compared = 0;
    for (let i = 0; i < 4000; i++) {
      const peer = Math.floor(ops() * 120);
      const r = ops();
      const input: AnnounceInput = {
        infoHash: hex40(Math.floor(ops() * 6)),
        peerId: hex40(peer),
        ip: ipOf(peer),
        // Now and then a peer moves port (a new compact form under the same id).
        port: 6881 + (r < 0.1 ? 1 : 0),
        left: r < 0.3 ? 0 : 1000,
        event: r > 0.9 ? "stopped" : r > 0.85 ? "completed" : "",
        numwant: 1 + Math.floor(ops() * 40),
        // The clock runs on: early peers expire while others come.
        now: T0 + i * 1000,
        peerTtlMs: 300_000,
      };
      const a = await byEntries.announce(input);
      const b = await byBytes.announce({ ...input, compactOnly: true });
      expect(b.peers).toEqual([]);
      const v4 = a.peers.filter((p) => !p.ip.includes(":")).map((p) => hexOf(encodeCompactPeer(p)));
      const v6 = a.peers.filter((p) => p.ip.includes(":")).map((p) => hexOf(encodeCompactPeer(p)));
      // A stop gets no sample at all, so no compact lists either.
      const none = new Uint8Array(0);
      expect(entries(b.compact?.v4 ?? none, 6)).toEqual(v4);
      expect(entries(b.compact?.v6 ?? none, 18)).toEqual(v6);
      expect([b.complete, b.incomplete]).toEqual([a.complete, a.incomplete]);
      compared += a.peers.length;
    }
    expect(compared).toBeGreaterThan(4000);
  });

  test("a sample never holds the requester, whichever way it is drawn", async () => {
    const store = new MemorySwarmStore({ random: seeded(3) });
    const hash = hex40(1);
    for (let n = 1; n <= 40; n++) {
      const base = { infoHash: hash, peerId: hex40(n), ip: ipOf(n), port: 7000, now: T0, peerTtlMs: 3_600_000 };
      const self = hexOf(encodeCompactPeer(base));
      // Small and large numwant: every path of the sampler (all, shuffle, rejection).
      for (const numwant of [1, 3, n >> 1, n, n + 5]) {
        for (const left of [0, 1000]) {
          const r = await store.announce({ ...base, left, event: "", numwant, compactOnly: true });
          const got = [...entries(r.compact!.v4, 6), ...entries(r.compact!.v6, 18)];
          expect(got).not.toContain(self);
          expect(new Set(got).size).toBe(got.length);
          const pool = left === 0 ? r.incomplete : r.incomplete + r.complete - 1;
          expect(got.length).toBe(Math.min(numwant, pool));
        }
      }
    }
  });

  test("a sample is a random subset: any two others are handed out together now and then, and samples differ", async () => {
    const store = new MemorySwarmStore({ random: seeded(11) });
    const hash = hex40(3);
    const at = (n: number) => ({ infoHash: hash, peerId: hex40(n), ip: ipOf(n), port: 7000, left: 1000, event: "" as const, now: T0, peerTtlMs: 3_600_000 });
    for (let n = 1; n <= 20; n++) await store.announce({ ...at(n), numwant: 0 });
    const together = new Set<string>();
    const samples = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      const r = await store.announce({ ...at(1), numwant: 5, compactOnly: true });
      const got = [...entries(r.compact!.v4, 6), ...entries(r.compact!.v6, 18)].sort();
      samples.add(got.join());
      for (const a of got) for (const b of got) if (a < b) together.add(`${a} ${b}`);
    }
    // 19 others: 171 pairs, each expected together about 4000 * (5/19)^2 = 277 times.
    expect(together.size).toBe((19 * 18) / 2);
    expect(samples.size).toBeGreaterThan(1000);
  });

  for (const numwant of [5, 14]) {
    test(`every peer is handed out about equally often (numwant ${numwant} of 19 others)`, async () => {
      const store = new MemorySwarmStore({ random: seeded(numwant) });
      const hash = hex40(2);
      const at = (n: number) => ({ infoHash: hash, peerId: hex40(n), ip: ipOf(n), port: 7000, left: 1000, event: "" as const, now: T0, peerTtlMs: 3_600_000 });
      for (let n = 1; n <= 20; n++) await store.announce({ ...at(n), numwant: 0 });
      const seen = new Map<string, number>();
      const rounds = 4000;
      for (let i = 0; i < rounds; i++) {
        const r = await store.announce({ ...at(1), numwant, compactOnly: true });
        for (const e of [...entries(r.compact!.v4, 6), ...entries(r.compact!.v6, 18)]) seen.set(e, (seen.get(e) ?? 0) + 1);
      }
      expect(seen.size).toBe(19);
      // Each of the 19 others is expected rounds * numwant / 19 times; a fair draw stays well within 15%.
      const expected = (rounds * numwant) / 19;
      for (const count of seen.values()) {
        expect(count).toBeGreaterThan(expected * 0.85);
        expect(count).toBeLessThan(expected * 1.15);
      }
    });
  }
});
