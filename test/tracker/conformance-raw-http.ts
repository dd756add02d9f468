// Conformance cases written as raw HTTP bytes: requests without a usable Host header, and several
// requests on one connection (pipelined, or followed by a half-close). Part of runConformance.
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { decode, type BDict } from "../../shared/bencode.ts";
import { toHex } from "../../shared/bytes.ts";
import type { RuntimeTraits, TrackerUnderTest } from "./conformance.ts";
import { announceQuery, escapeAll, num, randomId, scrapeFiles, type AnnounceParams } from "./http.ts";
import { rawExchange, type RawReply } from "./raw-http.ts";

const ROOT = resolve(import.meta.dir, "../..");

export function rawHttpCases(
  tracker: () => TrackerUnderTest,
  peer: (infoHash: Uint8Array, port: number, left: number) => AnnounceParams,
  traits: RuntimeTraits,
): void {
  describe("requests without a usable Host header", () => {
    const target = (hash: Uint8Array, port: number) => `/announce?${announceQuery(peer(hash, port, 100))}`;
    const dictOf = (reply: RawReply | undefined): BDict => {
      expect(reply?.status).toBe(200);
      return decode(reply!.body) as BDict;
    };
    /** A plain answer: no HTML page, nothing of the checkout's paths or a stack. */
    const expectPlain = (reply: RawReply | undefined) => {
      const body = new TextDecoder().decode(reply!.body);
      expect(reply!.headers.get("content-type") ?? "").not.toContain("html");
      expect(body).not.toContain(ROOT);
      expect(body).not.toContain("node_modules");
    };

    const byWorkerd = traits.hostAnsweredBy === "workerd";
    const hostless = (hash: Uint8Array) => rawExchange(tracker().baseUrl, `GET ${target(hash, 8401)} HTTP/1.0\r\n\r\n`, { expect: 1 });

    if (byWorkerd)
      test("workerd answers an HTTP/1.0 request without Host with a plain 400 before the Worker runs", async () => {
        const { replies, text: raw } = await hostless(randomId());
        expect(replies, raw).toHaveLength(1);
        expect(replies[0]!.status).toBe(400);
        expectPlain(replies[0]);
      });
    else
      test("an HTTP/1.0 announce without Host (what ctorrent sends) gets a normal announce reply", async () => {
        const hash = randomId();
        const { replies, text: raw } = await hostless(hash);
        expect(replies, raw).toHaveLength(1);
        const dict = dictOf(replies[0]);
        expect(dict["failure reason"]).toBeUndefined();
        expect(num(dict.interval)).toBeGreaterThanOrEqual(60);
        expect(num(dict.incomplete)).toBe(1);
      });

    for (const host of ["a b", "[::1", "x:abc"]) {
      const what = byWorkerd ? "workerd refuses every path plainly" : "announce and scrape get bencoded replies and other paths a plain 400";
      test(`with "Host: ${host}", ${what}`, async () => {
        const hash = randomId();
        const ask = async (path: string) => {
          const request = `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
          const { replies, text: raw } = await rawExchange(tracker().baseUrl, request, { expect: 1 });
          expect(replies, raw).toHaveLength(1);
          return replies[0]!;
        };
        const [announced, scraped, health, unknown] = [
          await ask(target(hash, 8501)),
          await ask(`/scrape?info_hash=${escapeAll(hash)}`),
          await ask("/health"),
          await ask("/no/such/path"),
        ];
        if (byWorkerd) {
          for (const reply of [announced, scraped, health, unknown]) {
            expect(reply.status).toBeGreaterThanOrEqual(400);
            expectPlain(reply);
          }
          return;
        }
        expect(num(dictOf(announced).incomplete)).toBe(1);
        expect(scrapeFiles(scraped.body).get(toHex(hash))).toEqual({ complete: 0, incomplete: 1, downloaded: 0 });
        for (const reply of [health, unknown]) {
          expect(reply.status).toBe(400);
          expectPlain(reply);
        }
      });
    }
  });

  describe("several requests on one connection", () => {
    const request = (hash: Uint8Array, port: number) =>
      `GET /announce?${announceQuery(peer(hash, port, 100))} HTTP/1.1\r\nHost: ${new URL(tracker().baseUrl).host}\r\n\r\n`;

    test("two announces pipelined on one connection both get their replies, in order", async () => {
      const hash = randomId();
      const { replies, text: raw } = await rawExchange(tracker().baseUrl, request(hash, 8601) + request(hash, 8602), { expect: 2 });
      expect(
        replies.map((r) => r.status),
        raw,
      ).toEqual([200, 200]);
      const counts = replies.map((r) => num((decode(r.body) as BDict).incomplete));
      expect(counts).toEqual([1, 2]);
    });

    test.skipIf(traits.answersAfterHalfClose === false)("an announce followed by a half-close gets its reply", async () => {
      const hash = randomId();
      const { replies, text: raw } = await rawExchange(tracker().baseUrl, request(hash, 8701), { expect: 1, halfClose: true });
      expect(
        replies.map((r) => r.status),
        raw,
      ).toEqual([200]);
      expect(num((decode(replies[0]!.body) as BDict).incomplete)).toBe(1);
    });
  });
}
