// Conformance cases of scrape, /stats and /health, and of bad requests: each answered with a bencoded
// failure reason naming the problem. Part of runConformance.
import { describe, expect, test } from "bun:test";
import { toHex } from "../../shared/bytes.ts";
import type { PeerParams, TrackerUnderTest } from "./conformance.ts";
import { announce, escapeAll, get, randomId, scrapeFiles, text } from "./http.ts";

export function scrapeAndStatsCases(tracker: () => TrackerUnderTest, peer: PeerParams): void {
  describe("scrape", () => {
    test("gives complete, incomplete and downloaded per info hash, keyed by the raw 20 bytes; unknown ones are zero", async () => {
      const [h1, h2, unknown] = [randomId(), randomId(), randomId()];
      await announce(tracker().baseUrl, peer(h1, 7901, 0));
      await announce(tracker().baseUrl, peer(h1, 7902, 100));
      await announce(tracker().baseUrl, peer(h2, 7903, 100));
      const res = await get(`${tracker().baseUrl}/scrape?info_hash=${escapeAll(h1)}&info_hash=${escapeAll(h2)}&info_hash=${escapeAll(unknown)}`);
      expect(res.status).toBe(200);
      const files = scrapeFiles(res.body);
      expect(files.get(toHex(h1))).toEqual({ complete: 1, incomplete: 1, downloaded: 0 });
      expect(files.get(toHex(h2))).toEqual({ complete: 0, incomplete: 1, downloaded: 0 });
      expect(files.get(toHex(unknown))).toEqual({ complete: 0, incomplete: 0, downloaded: 0 });
    });

    test("refuses a scrape without info_hash (full scrape is off by default)", async () => {
      const res = await get(`${tracker().baseUrl}/scrape`);
      expect(res.status).toBe(200);
      expect(text(res.dict["failure reason"])).toContain("info_hash");
    });

    test("refuses more info hashes than the configured cap", async () => {
      const q = Array.from({ length: 9 }, () => `info_hash=${escapeAll(randomId())}`).join("&");
      const res = await get(`${tracker().baseUrl}/scrape?${q}`);
      expect(text(res.dict["failure reason"])).toContain("at most 8");
    });

    test("refuses an info_hash of the wrong length", async () => {
      const res = await get(`${tracker().baseUrl}/scrape?info_hash=${escapeAll(randomId().subarray(0, 19))}`);
      expect(text(res.dict["failure reason"])).toContain("info_hash must be 20 bytes");
    });
  });

  describe("stats and health", () => {
    test("/stats reports torrents, seeders, leechers and announces served as JSON", async () => {
      const read = async () => (await (await fetch(`${tracker().baseUrl}/stats`)).json()) as Record<string, number>;
      const before = await read();
      const hash = randomId();
      await announce(tracker().baseUrl, peer(hash, 8001, 0));
      await announce(tracker().baseUrl, peer(hash, 8002, 100));
      const after = await read();
      for (const key of ["torrents", "seeders", "leechers", "announces"]) expect(typeof after[key]).toBe("number");
      expect(after.announces! - before.announces!).toBeGreaterThanOrEqual(2);
      expect(after.torrents).toBeGreaterThanOrEqual(1);
      expect(after.seeders).toBeGreaterThanOrEqual(1);
      expect(after.leechers).toBeGreaterThanOrEqual(1);
    });

    test("/health answers ok", async () => {
      const res = await fetch(`${tracker().baseUrl}/health`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
    });
  });
}

export function badRequestCases(tracker: () => TrackerUnderTest): void {
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
      // Names an object literal inherits: a lookup in one took them for events and passed a function on to the store.
      ["the event toString", `${ok}&event=toString`, "event must be"],
      ["the event constructor", `${ok}&event=constructor`, "event must be"],
      ["the event __proto__", `${ok}&event=__proto__`, "event must be"],
      ["a negative numwant", `${ok}&numwant=-3`, "numwant must be a non-negative integer"],
      ["a broken percent-escape", `${without("info_hash")}&info_hash=%zz${id.slice(3)}`, "bad percent-escape"],
      ["an oversized query", `${ok}&key=${"k".repeat(3000)}`, "the limit is 2048"],
      ["a 65-byte key", `${ok}&key=${"k".repeat(65)}`, "key must be at most 64 bytes"],
    ];
    for (const [what, query, expected] of cases) {
      test(`announce with ${what}: HTTP 200 and a failure reason`, async () => {
        const res = await get(`${tracker().baseUrl}/announce?${query}`);
        expect(res.status).toBe(200);
        expect(text(res.dict["failure reason"])).toContain(expected);
      });
    }

    test("a POST gets 405 with a bencoded failure reason", async () => {
      const res = await get(`${tracker().baseUrl}/announce?${ok}`, { method: "POST" });
      expect(res.status).toBe(405);
      expect(text(res.dict["failure reason"])).toContain("POST is not supported");
    });

    test("an unknown path gets 404 with a bencoded failure reason", async () => {
      const res = await get(`${tracker().baseUrl}/no/such/path`);
      expect(res.status).toBe(404);
      expect(text(res.dict["failure reason"])).toContain("no such path /no/such/path");
    });
  });
}
