import { describe, expect, test } from "bun:test";
import { BencodeError, decode, encode } from "./bencode.ts";
import { DictShape, type FlatValue } from "./bencode-writer.ts";

const ANNOUNCE_KEYS = ["interval", "min interval", "complete", "incomplete", "downloaded", "warning message", "peers", "peers6"] as const;
type AnnounceKey = (typeof ANNOUNCE_KEYS)[number];

function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, Math.min(n, i + 65536)));
  return out;
}

function expectSameAsEncode<K extends string>(shape: DictShape<K>, values: { [P in K]?: FlatValue }) {
  const fast = shape.encode(values);
  expect(fast).toEqual(encode(values));
  expect(fast.constructor).toBe(Uint8Array);
}

describe("DictShape writes the bytes encode() writes", () => {
  const announce = new DictShape<AnnounceKey>(ANNOUNCE_KEYS);

  test("an announce reply with IPv4 and IPv6 peers", () => {
    expectSameAsEncode(announce, {
      interval: 1812,
      "min interval": 60,
      complete: 3,
      incomplete: 47,
      downloaded: 12,
      peers: randomBytes(50 * 6),
      peers6: randomBytes(2 * 18),
    });
  });

  test("leaves out undefined values, and writes empty byte strings and zeros", () => {
    expectSameAsEncode(announce, { interval: 0, "min interval": undefined, complete: 0, peers: new Uint8Array(0), peers6: new Uint8Array(0) });
    expectSameAsEncode(announce, {});
  });

  test("integers of every size and sign, including -0 and the largest safe ones", () => {
    const ints = [0, -0, 1, -1, 9, 10, 99, 100, 101, 1e9, 2 ** 31, 2 ** 32 + 7, -(2 ** 40), Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER];
    for (const n of ints) expectSameAsEncode(announce, { complete: n, incomplete: -n, interval: n });
  });

  test("text values as UTF-8, including astral characters and lone surrogates", () => {
    for (const text of ["", "plain ascii", "Grüße", "日本語", "emoji 🎉 here", "lone \ud800 high", "lone \udc00 low", "end \ud83d"]) {
      expectSameAsEncode(announce, { "warning message": text, interval: 5 });
    }
  });

  test("long byte strings (copied natively) and short ones (copied by a loop)", () => {
    for (const n of [1, 6, 63, 64, 65, 1200, 70_000]) expectSameAsEncode(announce, { peers: randomBytes(n) });
  });

  test("keys sort by raw bytes whatever order the shape lists them in", () => {
    const keys = ["zeta", "Alpha", "alpha", "a", "é", "\u{1F600}", "\uE000", "b c", "peers6", "peers"] as const;
    const shape = new DictShape(keys);
    const values: Record<string, FlatValue> = {};
    keys.forEach((k, i) => (values[k] = i));
    const bytes = shape.encode(values);
    expect(decode(bytes)).toEqual(Object.fromEntries(keys.map((k, i) => [k, i])));
    // decode() checks raw-byte key order by default, so canonical form is checked as well.
    expect(bytes[0]).toBe(0x64);
  });

  test("random replies match encode() byte for byte", () => {
    for (let round = 0; round < 500; round++) {
      const values: { [P in AnnounceKey]?: FlatValue } = {};
      for (const key of ANNOUNCE_KEYS) {
        const pick = Math.random();
        if (pick < 0.15) continue;
        if (key === "peers" || key === "peers6") values[key] = randomBytes(Math.floor(Math.random() * 400));
        else if (key === "warning message") values[key] = pick < 0.5 ? `warning ${round}` : undefined;
        else values[key] = Math.floor((Math.random() - 0.2) * 10 ** Math.floor(Math.random() * 16));
      }
      expectSameAsEncode(announce, values);
    }
  });
});

describe("DictShape refuses what it cannot write canonically", () => {
  test("a key listed twice", () => {
    expect(() => new DictShape(["a", "b", "a"])).toThrow(BencodeError);
  });

  test("integers that are not safe integers", () => {
    const shape = new DictShape(["n"]);
    for (const n of [1.5, NaN, Infinity, 2 ** 53]) {
      let error: unknown;
      try {
        shape.encode({ n });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BencodeError);
      expect((error as BencodeError).code).toBe("not-encodable");
    }
  });
});
