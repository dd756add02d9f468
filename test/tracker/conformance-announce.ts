// Conformance cases of announces and their replies: counts, peers offered (never the requester, at most
// numwant), raw-byte ids, compact and non-compact forms, seeders and leechers, and IPv6 (BEP 7). Part of
// runConformance.
import { describe, expect, test } from "bun:test";
import { toHex } from "../../shared/bytes.ts";
import type { PeerParams, TrackerUnderTest } from "./conformance.ts";
import { announce, compactPeers, dictPeers, escapeAll, get, num, randomId, scrapeFiles } from "./http.ts";

export function announceCases(tracker: () => TrackerUnderTest, peer: PeerParams): void {
  describe("announce", () => {
    test("the first announce of a torrent gets interval, min interval, counts and no peers", async () => {
      const { dict, status, contentType } = await announce(tracker().baseUrl, peer(randomId(), 6881, 100, { event: "started" }));
      expect(status).toBe(200);
      expect(contentType).not.toContain("html");
      expect(num(dict.interval)).toBeGreaterThanOrEqual(60);
      expect(num(dict.interval)).toBeLessThanOrEqual(65);
      expect(num(dict["min interval"])).toBe(30);
      expect([num(dict.complete), num(dict.incomplete), num(dict.downloaded)]).toEqual([0, 1, 0]);
      expect(compactPeers(dict)).toEqual({ v4: [], v6: [] });
    });

    test("a second leecher gets the first one as a compact IPv4 peer with the port it announced", async () => {
      const hash = randomId();
      await announce(tracker().baseUrl, peer(hash, 7001, 100, { event: "started" }));
      const { dict } = await announce(tracker().baseUrl, peer(hash, 7002, 100, { event: "started" }));
      expect(compactPeers(dict).v4).toEqual([{ ip: "127.0.0.1", port: 7001 }]);
      expect(num(dict.incomplete)).toBe(2);
    });

    test("never lists the requester itself, also when it announces again", async () => {
      const hash = randomId();
      const peers = [7101, 7102, 7103].map((port) => peer(hash, port, 100));
      for (const p of peers) await announce(tracker().baseUrl, p);
      for (const p of peers) {
        const ports = compactPeers((await announce(tracker().baseUrl, p)).dict).v4.map((a) => a.port);
        expect(ports.sort()).toEqual([7101, 7102, 7103].filter((x) => x !== p.port));
      }
    });

    test("numwant limits the sample, defaults to the configured 10 and is capped at the configured 20", async () => {
      const hash = randomId();
      for (let i = 0; i < 25; i++) await announce(tracker().baseUrl, peer(hash, 10000 + i, 100));
      const asker = peer(hash, 9999, 100);
      const sample = (numwant?: number) => announce(tracker().baseUrl, { ...asker, numwant }).then((r) => compactPeers(r.dict).v4);
      const five = await sample(5);
      expect(five).toHaveLength(5);
      expect(new Set(five.map((p) => p.port)).size).toBe(5);
      expect(await sample()).toHaveLength(10);
      expect(await sample(1000)).toHaveLength(20);
      expect(await sample(0)).toHaveLength(0);
    });

    test("info_hash and peer_id are raw bytes: escaped, lower-case and literal forms name the same torrent", async () => {
      // Bytes that are unreserved URL characters may be sent literally; the rest must be escaped.
      const hash = new TextEncoder().encode("AbCd-._~0123456789xy");
      hash[19] = 0xfe;
      const literal = `${"AbCd-._~0123456789xy".slice(0, 19)}%fe`;
      await announce(tracker().baseUrl, peer(hash, 7201, 100));
      const res = await get(`${tracker().baseUrl}/announce?info_hash=${literal}&peer_id=${escapeAll(randomId()).toLowerCase()}&port=7202&left=5`);
      expect(compactPeers(res.dict).v4).toEqual([{ ip: "127.0.0.1", port: 7201 }]);
      const files = scrapeFiles((await get(`${tracker().baseUrl}/scrape?info_hash=${escapeAll(hash)}`)).body);
      expect(files.get(toHex(hash))?.incomplete).toBe(2);
    });
  });

  describe("compact and non-compact replies", () => {
    test("compact is the default and gives peers (IPv4) and peers6 (IPv6) as byte strings", async () => {
      const hash = randomId();
      await announce(tracker().baseUrl, peer(hash, 7301, 100));
      const { dict } = await announce(tracker().baseUrl, peer(hash, 7302, 100));
      expect(dict.peers).toBeInstanceOf(Uint8Array);
      expect((dict.peers as Uint8Array).length).toBe(6);
      expect(dict.peers6 === undefined || dict.peers6 instanceof Uint8Array).toBe(true);
    });

    test("compact=0 gives a list of dictionaries with the raw peer id, ip and port", async () => {
      const hash = randomId();
      const first = peer(hash, 7401, 100);
      await announce(tracker().baseUrl, first);
      const { dict } = await announce(tracker().baseUrl, peer(hash, 7402, 100, { compact: 0 }));
      const peers = dictPeers(dict);
      expect(peers).toHaveLength(1);
      expect(peers[0]!.ip).toBe("127.0.0.1");
      expect(peers[0]!.port).toBe(7401);
      expect(toHex(peers[0]!.peerId!)).toBe(toHex(first.peerId));
    });

    test("compact=0 with no_peer_id=1 leaves the peer id out", async () => {
      const hash = randomId();
      await announce(tracker().baseUrl, peer(hash, 7501, 100));
      const { dict } = await announce(tracker().baseUrl, peer(hash, 7502, 100, { compact: 0, noPeerId: true }));
      expect(dictPeers(dict)).toEqual([{ ip: "127.0.0.1", port: 7501, peerId: undefined }]);
    });
  });

  describe("seeders and leechers", () => {
    test("a seeder gets only leechers; a leecher gets seeders and leechers", async () => {
      const hash = randomId();
      await announce(tracker().baseUrl, peer(hash, 7601, 0));
      await announce(tracker().baseUrl, peer(hash, 7602, 0));
      await announce(tracker().baseUrl, peer(hash, 7603, 100));
      const seeder = await announce(tracker().baseUrl, peer(hash, 7604, 0));
      expect(compactPeers(seeder.dict).v4.map((p) => p.port)).toEqual([7603]);
      expect([num(seeder.dict.complete), num(seeder.dict.incomplete)]).toEqual([3, 1]);
      const leecher = await announce(tracker().baseUrl, peer(hash, 7605, 100));
      expect(
        compactPeers(leecher.dict)
          .v4.map((p) => p.port)
          .sort(),
      ).toEqual([7601, 7602, 7603, 7604]);
    });

    test("completed moves the peer to the seeders and counts one download", async () => {
      const hash = randomId();
      const p = peer(hash, 7701, 100, { event: "started" });
      await announce(tracker().baseUrl, p);
      const done = await announce(tracker().baseUrl, { ...p, left: 0, event: "completed" });
      expect([num(done.dict.complete), num(done.dict.incomplete), num(done.dict.downloaded)]).toEqual([1, 0, 1]);
      // A later regular announce of the same seeder does not count again.
      const again = await announce(tracker().baseUrl, { ...p, left: 0, event: undefined });
      expect(num(again.dict.downloaded)).toBe(1);
      const files = scrapeFiles((await get(`${tracker().baseUrl}/scrape?info_hash=${escapeAll(hash)}`)).body);
      expect(files.get(toHex(hash))).toEqual({ complete: 1, incomplete: 0, downloaded: 1 });
    });

    test("stopped removes the peer at once", async () => {
      const hash = randomId();
      const a = peer(hash, 7801, 100);
      const b = peer(hash, 7802, 100);
      await announce(tracker().baseUrl, a);
      await announce(tracker().baseUrl, b);
      const bye = await announce(tracker().baseUrl, { ...b, event: "stopped" });
      expect(num(bye.dict.incomplete)).toBe(1);
      const { dict } = await announce(tracker().baseUrl, a);
      expect(compactPeers(dict).v4).toEqual([]);
      expect(num(dict.incomplete)).toBe(1);
    });
  });
}

export function ipv6Cases(tracker: () => TrackerUnderTest, peer: PeerParams): void {
  describe("IPv6 (BEP 7)", () => {
    test("a peer announcing from ::1 is offered in peers6, an IPv4 peer in peers", async () => {
      const hash = randomId();
      await announce(tracker().baseUrl6, peer(hash, 8101, 100));
      const fromV4 = await announce(tracker().baseUrl, peer(hash, 8102, 100));
      expect(compactPeers(fromV4.dict)).toEqual({ v4: [], v6: [{ ip: "::1", port: 8101 }] });
      const fromV6 = await announce(tracker().baseUrl6, peer(hash, 8103, 100));
      const both = compactPeers(fromV6.dict);
      expect(both.v4).toEqual([{ ip: "127.0.0.1", port: 8102 }]);
      expect(both.v6).toEqual([{ ip: "::1", port: 8101 }]);
    });

    test("non-compact replies give an IPv6 peer's address as text", async () => {
      const hash = randomId();
      await announce(tracker().baseUrl6, peer(hash, 8201, 100));
      const { dict } = await announce(tracker().baseUrl, peer(hash, 8202, 100, { compact: 0 }));
      expect(dictPeers(dict).map((p) => [p.ip, p.port])).toEqual([["::1", 8201]]);
    });
  });
}
