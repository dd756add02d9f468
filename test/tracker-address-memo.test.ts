// The remembered address parses on the announce path (edge/client-ip.ts canonicalIp,
// edge/store/address-bytes.ts): they must answer exactly as the plain parsers do, for good and bad
// input, first time and remembered, and past their bound (when the memory starts over).
import { describe, expect, test } from "bun:test";
import { canonicalIp, normalizeIp } from "../edge/client-ip.ts";
import { AddressBytes } from "../edge/store/address-bytes.ts";
import { CompactError, encodeCompactPeer } from "../shared/compact.ts";

const SAMPLES = [
  "1.2.3.4",
  "::1",
  "::ffff:10.0.0.1",
  "[2001:db8::1]",
  "2001:DB8:0:0:0:0:0:1",
  " 10.0.0.9 ",
  "01.2.3.4",
  "1.2.3",
  "nope",
  "",
  "256.1.1.1",
  "fe80::1%eth0",
];

function outcome(f: () => Uint8Array): string {
  try {
    return Array.from(f()).join(",");
  } catch (err) {
    return err instanceof CompactError ? `error ${err.code}` : `other ${String(err)}`;
  }
}

describe("remembered address parsing", () => {
  test("canonicalIp answers as normalizeIp, remembered or not, past its bound", () => {
    for (let round = 0; round < 2; round++) for (const raw of SAMPLES) expect(canonicalIp(raw)).toBe(normalizeIp(raw));
    // More distinct addresses than it remembers: it starts over and stays right.
    for (let i = 0; i < 10_000; i++) {
      const raw = `10.${(i >> 8) & 255}.${i & 255}.${i % 7}`;
      expect(canonicalIp(raw)).toBe(raw);
    }
    for (const raw of SAMPLES) expect(canonicalIp(raw)).toBe(normalizeIp(raw));
  });

  test("AddressBytes.compact gives encodeCompactPeer's bytes or its error, for every address and port", () => {
    const memo = new AddressBytes();
    const ips = ["1.2.3.4", "10.0.0.1", "::1", "2001:db8::1", "not an ip", "1.2.3.256"];
    for (let round = 0; round < 2; round++) {
      for (const ip of ips) {
        for (const port of [1, 80, 6881, 65535, 0, 65536, 1.5, -1]) {
          expect(outcome(() => memo.compact(ip, port))).toBe(outcome(() => encodeCompactPeer({ ip, port })));
        }
      }
    }
    for (let i = 0; i < 10_000; i++) {
      const ip = `10.${(i >> 8) & 255}.${i & 255}.1`;
      expect(memo.compact(ip, 6881)).toEqual(encodeCompactPeer({ ip, port: 6881 }));
    }
  });
});
