// The announce hot path's shortcuts give exactly what the plain way gives: ids decoded straight to
// hex, the query parser's first-value/repeats split, and the compact announce and scrape replies
// written by DictShape (byte for byte the generic encoder's output, keys in canonical order).
import { describe, expect, test } from "bun:test";
import { createApp } from "../edge/app.ts";
import { loadConfig } from "../edge/config.ts";
import { TrackerError } from "../edge/errors.ts";
import { readId } from "../edge/params.ts";
import { RawQuery } from "../edge/query.ts";
import { MemorySwarmStore } from "../edge/store/memory.ts";
import { decode, decodeDict, encode, type BDict } from "../shared/bencode.ts";
import { toHex } from "../shared/bytes.ts";
import { announceQuery, escapeAll, randomId } from "./tracker/http.ts";
import { errorCode } from "./support/error-code.ts";

const codeOf = (fn: () => unknown) => errorCode(TrackerError, fn);

describe("ids read from the raw query", () => {
  test("every byte value, escaped or sent as itself, comes out as the same lowercase hex", () => {
    for (let round = 0; round < 200; round++) {
      const id = crypto.getRandomValues(new Uint8Array(20));
      if (round < 13) id.fill(round * 20); // runs of one byte, including 0x00 and 0xf0
      // Unreserved ASCII bytes are sent unescaped by some clients; others escaped, in either case.
      let escaped = "";
      for (const b of id) {
        const ch = String.fromCharCode(b);
        if (/[A-Za-z0-9.\-_~]/.test(ch) && round % 2 === 0) escaped += ch;
        else escaped += `%${b.toString(16).padStart(2, "0")[round % 3 === 0 ? "toUpperCase" : "toLowerCase"]()}`;
      }
      expect(readId(RawQuery.parse(`info_hash=${escaped}`), "info_hash")).toBe(toHex(id));
    }
  });

  test("'+' stands for a space byte, as in form encoding", () => {
    const id = new Uint8Array(20).fill(0x41);
    id[3] = 0x20;
    expect(readId(RawQuery.parse(`peer_id=AAA+${"A".repeat(16)}`), "peer_id")).toBe(toHex(id));
  });

  test("a wrong length names the real length, also when longer than 20 bytes", () => {
    expect(() => readId(RawQuery.parse(`info_hash=${escapeAll(new Uint8Array(19))}`), "info_hash")).toThrow("got 19");
    expect(() => readId(RawQuery.parse(`info_hash=${escapeAll(new Uint8Array(33))}`), "info_hash")).toThrow("got 33");
    expect(codeOf(() => readId(RawQuery.parse(`peer_id=${escapeAll(new Uint8Array(21))}`), "peer_id"))).toBe("bad-peer-id");
    expect(codeOf(() => readId(RawQuery.parse("info_hash="), "info_hash"))).toBe("bad-info-hash");
    expect(codeOf(() => readId(RawQuery.parse("port=1"), "info_hash"))).toBe("missing-param");
  });

  test("a bad escape or raw non-ASCII in an id is a query encoding error", () => {
    expect(codeOf(() => readId(RawQuery.parse(`info_hash=%zz${"%00".repeat(19)}`), "info_hash"))).toBe("bad-query-encoding");
    expect(codeOf(() => readId(RawQuery.parse(`info_hash=é${"%00".repeat(19)}`), "info_hash"))).toBe("bad-query-encoding");
  });
});

describe("query parser", () => {
  test("the first value of a name is what single-value readers see; all() gives every value in order", () => {
    const q = RawQuery.parse("?a=1&b=&a=2&c&&a=3=x#frag&a=4");
    expect(q.text("a")).toBe("1");
    expect(q.all("a").map((v) => new TextDecoder().decode(v))).toEqual(["1", "2", "3=x"]);
    expect(q.text("b")).toBe("");
    expect(q.has("c")).toBe(true);
    expect(q.text("c")).toBe("");
    expect(q.all("missing")).toEqual([]);
    expect(q.has("frag")).toBe(false);
  });

  test("escaped parameter names are decoded before lookup", () => {
    const q = RawQuery.parse("info%5Fhash=x&%70ort=7");
    expect(q.text("info_hash")).toBe("x");
    expect(q.text("port")).toBe("7");
  });

  test("plainChoice names the choice the first value is as sent, and leaves escaped or other values to text()", () => {
    const choices = ["started", "stopped", ""];
    const q = RawQuery.parse("event=stopped&event=started&e2=&e3=%73tarted&e4=start&e5=started+");
    expect(q.plainChoice("event", choices)).toBe(1);
    expect(q.plainChoice("e2", choices)).toBe(2);
    expect(q.plainChoice("e3", choices)).toBe(-1);
    expect(q.text("e3")).toBe("started");
    expect(q.plainChoice("e4", choices)).toBe(-1);
    expect(q.plainChoice("e5", choices)).toBe(-1);
    expect(q.plainChoice("missing", choices)).toBe(-1);
  });
});

describe("compact announce reply", () => {
  test("is canonical bencode and the same bytes the generic encoder writes for its values", async () => {
    const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), clientIp: () => "10.0.0.1" });
    const infoHash = randomId();
    for (let i = 0; i < 60; i++) {
      const res = await app.request(`http://t.test/announce?${announceQuery({ infoHash, peerId: randomId(), port: 1000 + i, left: i % 4 === 0 ? 0 : 5 })}`);
      const body = new Uint8Array(await res.arrayBuffer());
      const reply = decode(body) as BDict; // strict: keys must be in raw-byte order
      expect(reply["failure reason"]).toBeUndefined();
      expect(encode(reply)).toEqual(body);
      expect(Object.keys(reply)).toEqual(["complete", "downloaded", "incomplete", "interval", "min interval", "peers", "peers6"]);
    }
  });

  test("a warning message is written into the reply in its canonical place", async () => {
    const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), clientIp: () => "::1", warning: "test wärning" });
    const res = await app.request(`http://t.test/announce?${announceQuery({ infoHash: randomId(), peerId: randomId(), port: 7000, left: 1 })}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const reply = decode(body) as BDict;
    expect(new TextDecoder().decode(reply["warning message"] as Uint8Array)).toBe("test wärning");
    expect(encode(reply)).toEqual(body);
  });
});

describe("scrape reply", () => {
  test("is canonical bencode, raw info hash keys in byte order, the bytes the generic encoder writes", async () => {
    const app = createApp({ store: new MemorySwarmStore(), config: loadConfig({}), clientIp: () => "10.0.0.1" });
    const hashes = Array.from({ length: 12 }, (_, i) => {
      const h = crypto.getRandomValues(new Uint8Array(20));
      h[0] = i * 20; // spread first bytes, so the order is decided on raw bytes above 0x7f too
      return h;
    });
    for (const [i, infoHash] of hashes.entries()) {
      for (let p = 0; p <= i % 3; p++) {
        await app.request(`http://t.test/announce?${announceQuery({ infoHash, peerId: randomId(), port: 2000 + p, left: p === 0 ? 0 : 9 })}`);
      }
    }
    const res = await app.request(`http://t.test/scrape?${hashes.map((h) => `info_hash=${escapeAll(h)}`).join("&")}`);
    const body = new Uint8Array(await res.arrayBuffer());
    const outer = decodeDict(body); // strict: keys in raw-byte order
    expect(outer.entries.map((e) => new TextDecoder().decode(e.key))).toEqual(["files"]);
    const filesBytes = body.subarray(outer.entries[0]!.start, outer.entries[0]!.end);
    const files = decodeDict(filesBytes); // strict again: raw 20-byte hash keys in byte order
    expect(files.entries.map((e) => toHex(e.key)).sort()).toEqual(hashes.map(toHex).sort());
    for (const e of files.entries) {
      const countsBytes = filesBytes.subarray(e.start, e.end);
      const counts = decode(countsBytes) as BDict;
      expect(Object.keys(counts)).toEqual(["complete", "downloaded", "incomplete"]);
      expect(encode(counts)).toEqual(countsBytes);
    }
  });
});
