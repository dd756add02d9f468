// The tracker conformance suite: one set of behaviours, run against every way the tracker is served
// (in-process on Bun, workerd via `wrangler dev`, `deno serve`). Each test uses its own random info
// hash, so tests do not depend on each other or on their order.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { toHex } from "../../shared/bytes.ts";
import { announce, compactPeers, dictPeers, escapeAll, get, num, randomId, scrapeFiles, text, type AnnounceParams } from "./http.ts";
import { rawHttpCases } from "./conformance-raw-http.ts";

export interface TrackerUnderTest {
  /** http://127.0.0.1:port: requests arrive from 127.0.0.1. */
  baseUrl: string;
  /** The same tracker (same swarm state) listening on [::1]: requests arrive from ::1. */
  baseUrl6: string;
  stop(): Promise<void>;
}

/** Where a runtime's own HTTP server differs from the rest, so the suite expects what it does. */
export interface RuntimeTraits {
  /**
   * Who answers a request without a usable Host: the app (default), or workerd itself, before the
   * Worker runs (400 without a Host, 500 with a malformed one).
   */
  hostAnsweredBy?: "app" | "workerd";
  /**
   * False where the runtime drops the reply once the client half-closes after its request while the
   * reply is still being computed: Deno, whose HTTP/1 server (hyper) closes on read EOF.
   */
  answersAfterHalfClose?: boolean;
}

/** Configuration every server under test runs with (pass it as its environment variables). */
export const CONFORMANCE_ENV: Record<string, string> = {
  TRACKER_INTERVAL: "60",
  TRACKER_INTERVAL_SPREAD: "5",
  TRACKER_MIN_INTERVAL: "30",
  TRACKER_DEFAULT_NUMWANT: "10",
  TRACKER_MAX_NUMWANT: "20",
  TRACKER_MAX_SCRAPE: "8",
  // Short, so the expiry test can wait it out; every other test finishes a swarm well within it.
  TRACKER_PEER_TTL: "5",
  TRACKER_MAX_QUERY_BYTES: "2048",
};
const PEER_TTL_MS = 5000;

export function runConformance(name: string, start: () => Promise<TrackerUnderTest>, traits: RuntimeTraits = {}): void {
  describe(`tracker conformance: ${name}`, () => {
    let t: TrackerUnderTest;
    // Starting workerd or Deno (and redis-server) takes a few seconds, more on a busy CI machine.
    beforeAll(async () => {
      t = await start();
    }, 120_000);
    afterAll(async () => {
      await t?.stop();
    }, 30_000);

    const peer = (infoHash: Uint8Array, port: number, left: number, extra: Partial<AnnounceParams> = {}): AnnounceParams => ({
      infoHash,
      peerId: randomId(),
      port,
      left,
      ...extra,
    });

    /** Everyone a fresh leecher of the swarm is offered, as sorted "ip:port"; the observer leaves again (stopped). */
    const observe = async (hash: Uint8Array) => {
      const observer = peer(hash, 7999, 100, { numwant: 20 });
      const { dict } = await announce(t.baseUrl, observer);
      await announce(t.baseUrl, { ...observer, event: "stopped" });
      const { v4, v6 } = compactPeers(dict);
      return [...v4, ...v6].map((p) => `${p.ip}:${p.port}`).sort();
    };

    describe("announce", () => {
      test("the first announce of a torrent gets interval, min interval, counts and no peers", async () => {
        const { dict, status, contentType } = await announce(t.baseUrl, peer(randomId(), 6881, 100, { event: "started" }));
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
        await announce(t.baseUrl, peer(hash, 7001, 100, { event: "started" }));
        const { dict } = await announce(t.baseUrl, peer(hash, 7002, 100, { event: "started" }));
        expect(compactPeers(dict).v4).toEqual([{ ip: "127.0.0.1", port: 7001 }]);
        expect(num(dict.incomplete)).toBe(2);
      });

      test("never lists the requester itself, also when it announces again", async () => {
        const hash = randomId();
        const peers = [7101, 7102, 7103].map((port) => peer(hash, port, 100));
        for (const p of peers) await announce(t.baseUrl, p);
        for (const p of peers) {
          const ports = compactPeers((await announce(t.baseUrl, p)).dict).v4.map((a) => a.port);
          expect(ports.sort()).toEqual([7101, 7102, 7103].filter((x) => x !== p.port));
        }
      });

      test("numwant limits the sample, defaults to the configured 10 and is capped at the configured 20", async () => {
        const hash = randomId();
        for (let i = 0; i < 25; i++) await announce(t.baseUrl, peer(hash, 10000 + i, 100));
        const asker = peer(hash, 9999, 100);
        const sample = (numwant?: number) => announce(t.baseUrl, { ...asker, numwant }).then((r) => compactPeers(r.dict).v4);
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
        await announce(t.baseUrl, peer(hash, 7201, 100));
        const res = await get(`${t.baseUrl}/announce?info_hash=${literal}&peer_id=${escapeAll(randomId()).toLowerCase()}&port=7202&left=5`);
        expect(compactPeers(res.dict).v4).toEqual([{ ip: "127.0.0.1", port: 7201 }]);
        const files = scrapeFiles((await get(`${t.baseUrl}/scrape?info_hash=${escapeAll(hash)}`)).body);
        expect(files.get(toHex(hash))?.incomplete).toBe(2);
      });
    });

    describe("compact and non-compact replies", () => {
      test("compact is the default and gives peers (IPv4) and peers6 (IPv6) as byte strings", async () => {
        const hash = randomId();
        await announce(t.baseUrl, peer(hash, 7301, 100));
        const { dict } = await announce(t.baseUrl, peer(hash, 7302, 100));
        expect(dict.peers).toBeInstanceOf(Uint8Array);
        expect((dict.peers as Uint8Array).length).toBe(6);
        expect(dict.peers6 === undefined || dict.peers6 instanceof Uint8Array).toBe(true);
      });

      test("compact=0 gives a list of dictionaries with the raw peer id, ip and port", async () => {
        const hash = randomId();
        const first = peer(hash, 7401, 100);
        await announce(t.baseUrl, first);
        const { dict } = await announce(t.baseUrl, peer(hash, 7402, 100, { compact: 0 }));
        const peers = dictPeers(dict);
        expect(peers).toHaveLength(1);
        expect(peers[0]!.ip).toBe("127.0.0.1");
        expect(peers[0]!.port).toBe(7401);
        expect(toHex(peers[0]!.peerId!)).toBe(toHex(first.peerId));
      });

      test("compact=0 with no_peer_id=1 leaves the peer id out", async () => {
        const hash = randomId();
        await announce(t.baseUrl, peer(hash, 7501, 100));
        const { dict } = await announce(t.baseUrl, peer(hash, 7502, 100, { compact: 0, noPeerId: true }));
        expect(dictPeers(dict)).toEqual([{ ip: "127.0.0.1", port: 7501, peerId: undefined }]);
      });
    });

    describe("seeders and leechers", () => {
      test("a seeder gets only leechers; a leecher gets seeders and leechers", async () => {
        const hash = randomId();
        await announce(t.baseUrl, peer(hash, 7601, 0));
        await announce(t.baseUrl, peer(hash, 7602, 0));
        await announce(t.baseUrl, peer(hash, 7603, 100));
        const seeder = await announce(t.baseUrl, peer(hash, 7604, 0));
        expect(compactPeers(seeder.dict).v4.map((p) => p.port)).toEqual([7603]);
        expect([num(seeder.dict.complete), num(seeder.dict.incomplete)]).toEqual([3, 1]);
        const leecher = await announce(t.baseUrl, peer(hash, 7605, 100));
        expect(
          compactPeers(leecher.dict)
            .v4.map((p) => p.port)
            .sort(),
        ).toEqual([7601, 7602, 7603, 7604]);
      });

      test("completed moves the peer to the seeders and counts one download", async () => {
        const hash = randomId();
        const p = peer(hash, 7701, 100, { event: "started" });
        await announce(t.baseUrl, p);
        const done = await announce(t.baseUrl, { ...p, left: 0, event: "completed" });
        expect([num(done.dict.complete), num(done.dict.incomplete), num(done.dict.downloaded)]).toEqual([1, 0, 1]);
        // A later regular announce of the same seeder does not count again.
        const again = await announce(t.baseUrl, { ...p, left: 0, event: undefined });
        expect(num(again.dict.downloaded)).toBe(1);
        const files = scrapeFiles((await get(`${t.baseUrl}/scrape?info_hash=${escapeAll(hash)}`)).body);
        expect(files.get(toHex(hash))).toEqual({ complete: 1, incomplete: 0, downloaded: 1 });
      });

      test("stopped removes the peer at once", async () => {
        const hash = randomId();
        const a = peer(hash, 7801, 100);
        const b = peer(hash, 7802, 100);
        await announce(t.baseUrl, a);
        await announce(t.baseUrl, b);
        const bye = await announce(t.baseUrl, { ...b, event: "stopped" });
        expect(num(bye.dict.incomplete)).toBe(1);
        const { dict } = await announce(t.baseUrl, a);
        expect(compactPeers(dict).v4).toEqual([]);
        expect(num(dict.incomplete)).toBe(1);
      });
    });

    describe("peer identity: an entry belongs to the address that made it (or to its key)", () => {
      test("a stopped with someone else's peer id from another address removes nothing", async () => {
        const hash = randomId();
        const victim = peer(hash, 7911, 100);
        await announce(t.baseUrl, victim);
        // From ::1, and from the victim's own IP on another port: neither is the victim's address.
        const fromV6 = await announce(t.baseUrl6, { ...victim, port: 7912, event: "stopped" });
        expect(fromV6.dict["failure reason"]).toBeUndefined();
        await announce(t.baseUrl, { ...victim, port: 7913, event: "stopped" });
        expect(await observe(hash)).toEqual(["127.0.0.1:7911"]);
      });

      test("a re-announce with someone else's peer id from another address neither moves it nor is listed, and is answered as usual", async () => {
        const hash = randomId();
        const victim = peer(hash, 7921, 100);
        const other = peer(hash, 7922, 0);
        await announce(t.baseUrl, victim);
        await announce(t.baseUrl, other);
        const hijack = await announce(t.baseUrl6, { ...victim, port: 7923, left: 0 });
        // Answered like any announce (a client whose address changed still gets peers), minus the entry under its id.
        expect(compactPeers(hijack.dict).v4).toEqual([]);
        expect(compactPeers((await announce(t.baseUrl6, { ...victim, port: 7923 })).dict).v4).toEqual([{ ip: "127.0.0.1", port: 7922 }]);
        await announce(t.baseUrl, { ...victim, port: 7924 });
        expect(await observe(hash)).toEqual(["127.0.0.1:7921", "127.0.0.1:7922"]);
        const { dict } = await announce(t.baseUrl, { ...other, numwant: 0 });
        // Still one leecher (the victim) and one seeder: the hijacker's seeding announce was not recorded.
        expect([num(dict.complete), num(dict.incomplete)]).toEqual([1, 1]);
      });

      test("two peers behind one address with different peer ids are both listed", async () => {
        const hash = randomId();
        await announce(t.baseUrl, peer(hash, 7931, 100));
        await announce(t.baseUrl, peer(hash, 7931, 100));
        expect(await observe(hash)).toEqual(["127.0.0.1:7931", "127.0.0.1:7931"]);
      });

      test("the peer's own key moves its entry to a new address; a wrong or missing key does not", async () => {
        const hash = randomId();
        const mover = peer(hash, 7941, 100, { key: "a1b2c3d4" });
        await announce(t.baseUrl, mover);
        await announce(t.baseUrl6, { ...mover, port: 7942, key: "ffffffff" });
        await announce(t.baseUrl6, { ...mover, port: 7942, key: undefined });
        expect(await observe(hash)).toEqual(["127.0.0.1:7941"]);
        await announce(t.baseUrl6, { ...mover, port: 7942 });
        expect(await observe(hash)).toEqual(["::1:7942"]);
        // The old address no longer owns it; the key still does, also to remove it.
        await announce(t.baseUrl, { ...mover, key: undefined, event: "stopped" });
        expect(await observe(hash)).toEqual(["::1:7942"]);
        await announce(t.baseUrl, { ...mover, event: "stopped" });
        expect(await observe(hash)).toEqual([]);
      });

      test("the key is never sent to anyone", async () => {
        const hash = randomId();
        const secret = "k3y-0f-7951-zz";
        await announce(t.baseUrl, peer(hash, 7951, 100, { key: secret }));
        for (const compact of [0, 1] as const) {
          const { body } = await announce(t.baseUrl6, peer(hash, 7952, 100, { compact }));
          expect(new TextDecoder("latin1").decode(body)).not.toContain(secret);
        }
      });
    });

    describe("scrape", () => {
      test("gives complete, incomplete and downloaded per info hash, keyed by the raw 20 bytes; unknown ones are zero", async () => {
        const [h1, h2, unknown] = [randomId(), randomId(), randomId()];
        await announce(t.baseUrl, peer(h1, 7901, 0));
        await announce(t.baseUrl, peer(h1, 7902, 100));
        await announce(t.baseUrl, peer(h2, 7903, 100));
        const res = await get(`${t.baseUrl}/scrape?info_hash=${escapeAll(h1)}&info_hash=${escapeAll(h2)}&info_hash=${escapeAll(unknown)}`);
        expect(res.status).toBe(200);
        const files = scrapeFiles(res.body);
        expect(files.get(toHex(h1))).toEqual({ complete: 1, incomplete: 1, downloaded: 0 });
        expect(files.get(toHex(h2))).toEqual({ complete: 0, incomplete: 1, downloaded: 0 });
        expect(files.get(toHex(unknown))).toEqual({ complete: 0, incomplete: 0, downloaded: 0 });
      });

      test("refuses a scrape without info_hash (full scrape is off by default)", async () => {
        const res = await get(`${t.baseUrl}/scrape`);
        expect(res.status).toBe(200);
        expect(text(res.dict["failure reason"])).toContain("info_hash");
      });

      test("refuses more info hashes than the configured cap", async () => {
        const q = Array.from({ length: 9 }, () => `info_hash=${escapeAll(randomId())}`).join("&");
        const res = await get(`${t.baseUrl}/scrape?${q}`);
        expect(text(res.dict["failure reason"])).toContain("at most 8");
      });

      test("refuses an info_hash of the wrong length", async () => {
        const res = await get(`${t.baseUrl}/scrape?info_hash=${escapeAll(randomId().subarray(0, 19))}`);
        expect(text(res.dict["failure reason"])).toContain("info_hash must be 20 bytes");
      });
    });

    describe("stats and health", () => {
      test("/stats reports torrents, seeders, leechers and announces served as JSON", async () => {
        const read = async () => (await (await fetch(`${t.baseUrl}/stats`)).json()) as Record<string, number>;
        const before = await read();
        const hash = randomId();
        await announce(t.baseUrl, peer(hash, 8001, 0));
        await announce(t.baseUrl, peer(hash, 8002, 100));
        const after = await read();
        for (const key of ["torrents", "seeders", "leechers", "announces"]) expect(typeof after[key]).toBe("number");
        expect(after.announces! - before.announces!).toBeGreaterThanOrEqual(2);
        expect(after.torrents).toBeGreaterThanOrEqual(1);
        expect(after.seeders).toBeGreaterThanOrEqual(1);
        expect(after.leechers).toBeGreaterThanOrEqual(1);
      });

      test("/health answers ok", async () => {
        const res = await fetch(`${t.baseUrl}/health`);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ ok: true });
      });
    });

    describe("bad requests get a bencoded failure reason naming the problem", () => {
      const id = escapeAll(randomId());
      const ok = `info_hash=${id}&peer_id=${id}&port=6881&uploaded=0&downloaded=0&left=5`;
      const without = (name: string) =>
        ok
          .split("&")
          .filter((kv) => !kv.startsWith(`${name}=`))
          .join("&");
      const cases: Array<[string, string, string]> = [
        ["missing info_hash", without("info_hash"), "missing info_hash"],
        ["missing peer_id", without("peer_id"), "missing peer_id"],
        ["missing port", without("port"), "missing port"],
        ["missing left", without("left"), "missing left"],
        ["a 19-byte info_hash", `${without("info_hash")}&info_hash=${id.slice(0, 19 * 3)}`, "info_hash must be 20 bytes"],
        ["a 21-byte info_hash", `${without("info_hash")}&info_hash=${id}%00`, "info_hash must be 20 bytes"],
        ["a 10-byte peer_id", `${without("peer_id")}&peer_id=${id.slice(0, 30)}`, "peer_id must be 20 bytes"],
        ["port 0", `${without("port")}&port=0`, "port must be 1-65535"],
        ["port 65536", `${without("port")}&port=65536`, "port must be 1-65535"],
        ["a port that is not a number", `${without("port")}&port=http`, "port must be 1-65535"],
        ["a negative left", `${without("left")}&left=-1`, "left must be a non-negative integer"],
        ["a non-numeric uploaded", `${without("uploaded")}&uploaded=lots`, "uploaded must be a non-negative integer"],
        ["an unknown event", `${ok}&event=exploded`, "event must be"],
        ["a negative numwant", `${ok}&numwant=-3`, "numwant must be a non-negative integer"],
        ["a broken percent-escape", `${without("info_hash")}&info_hash=%zz${id.slice(3)}`, "bad percent-escape"],
        ["an oversized query", `${ok}&key=${"k".repeat(3000)}`, "the limit is 2048"],
        ["a 65-byte key", `${ok}&key=${"k".repeat(65)}`, "key must be at most 64 bytes"],
      ];
      for (const [what, query, expected] of cases) {
        test(`announce with ${what}: HTTP 200 and a failure reason`, async () => {
          const res = await get(`${t.baseUrl}/announce?${query}`);
          expect(res.status).toBe(200);
          expect(text(res.dict["failure reason"])).toContain(expected);
        });
      }

      test("a POST gets 405 with a bencoded failure reason", async () => {
        const res = await get(`${t.baseUrl}/announce?${ok}`, { method: "POST" });
        expect(res.status).toBe(405);
        expect(text(res.dict["failure reason"])).toContain("POST is not supported");
      });

      test("an unknown path gets 404 with a bencoded failure reason", async () => {
        const res = await get(`${t.baseUrl}/no/such/path`);
        expect(res.status).toBe(404);
        expect(text(res.dict["failure reason"])).toContain("no such path /no/such/path");
      });
    });

    rawHttpCases(() => t, peer, traits);

    describe("IPv6 (BEP 7)", () => {
      test("a peer announcing from ::1 is offered in peers6, an IPv4 peer in peers", async () => {
        const hash = randomId();
        await announce(t.baseUrl6, peer(hash, 8101, 100));
        const fromV4 = await announce(t.baseUrl, peer(hash, 8102, 100));
        expect(compactPeers(fromV4.dict)).toEqual({ v4: [], v6: [{ ip: "::1", port: 8101 }] });
        const fromV6 = await announce(t.baseUrl6, peer(hash, 8103, 100));
        const both = compactPeers(fromV6.dict);
        expect(both.v4).toEqual([{ ip: "127.0.0.1", port: 8102 }]);
        expect(both.v6).toEqual([{ ip: "::1", port: 8101 }]);
      });

      test("non-compact replies give an IPv6 peer's address as text", async () => {
        const hash = randomId();
        await announce(t.baseUrl6, peer(hash, 8201, 100));
        const { dict } = await announce(t.baseUrl, peer(hash, 8202, 100, { compact: 0 }));
        expect(dictPeers(dict).map((p) => [p.ip, p.port])).toEqual([["::1", 8201]]);
      });
    });

    describe("expiry", () => {
      test("a peer that stops announcing is dropped after the peer TTL", async () => {
        const hash = randomId();
        const quiet = peer(hash, 8301, 100);
        const active = peer(hash, 8302, 100);
        await announce(t.baseUrl, quiet);
        expect(compactPeers((await announce(t.baseUrl, active)).dict).v4).toEqual([{ ip: "127.0.0.1", port: 8301 }]);
        await Bun.sleep(PEER_TTL_MS + 1500);
        const later = await announce(t.baseUrl, active);
        expect(compactPeers(later.dict).v4).toEqual([]);
        expect(num(later.dict.incomplete)).toBe(1);
      }, 30_000);

      test("a peer whose address changed without a key is listed at its new address once the old entry expired", async () => {
        const hash = randomId();
        const moved = peer(hash, 8311, 100);
        await announce(t.baseUrl, moved);
        await announce(t.baseUrl6, { ...moved, port: 8312 });
        expect(await observe(hash)).toEqual(["127.0.0.1:8311"]);
        await Bun.sleep(PEER_TTL_MS + 1500);
        await announce(t.baseUrl6, { ...moved, port: 8312 });
        expect(await observe(hash)).toEqual(["::1:8312"]);
      }, 30_000);
    });
  });
}
