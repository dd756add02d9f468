import { describe, expect, test } from "bun:test";
import { bytesEqual, concatBytes, fromBinaryString, fromHex, toBinaryString, toHex, utf8 } from "./bytes.ts";
import { type CompactError, decodeCompactPeers, encodeCompactPeer, encodeCompactPeers, formatIPv6, parseIPv4, parseIPv6 } from "./compact.ts";
import { asInfoHash, CLIENT_PREFIX, generatePeerId, IdError, infoHashFromHex, percentDecodeBytes, percentEncodeBytes, peerIdClient } from "./ids.ts";

describe("compact peers", () => {
  test("encodes and decodes IPv4 peers in 6 bytes each", () => {
    const bytes = encodeCompactPeers([
      { ip: "1.2.3.4", port: 6881 },
      { ip: "255.0.127.1", port: 65535 },
    ]);
    expect(bytes).toEqual(new Uint8Array([1, 2, 3, 4, 0x1a, 0xe1, 255, 0, 127, 1, 0xff, 0xff]));
    expect(decodeCompactPeers(bytes, 4)).toEqual([
      { ip: "1.2.3.4", port: 6881 },
      { ip: "255.0.127.1", port: 65535 },
    ]);
  });

  test("encodes and decodes IPv6 peers in 18 bytes each, in canonical text", () => {
    const peer = encodeCompactPeer({ ip: "2001:DB8:0:0:0:0:0:1", port: 80 });
    expect(peer.length).toBe(18);
    expect(toHex(peer)).toBe("20010db8000000000000000000000001" + "0050");
    expect(decodeCompactPeers(concatBytes([peer, encodeCompactPeer({ ip: "[::1]", port: 1 })]), 6)).toEqual([
      { ip: "2001:db8::1", port: 80 },
      { ip: "::1", port: 1 },
    ]);
  });

  test("parses every IPv6 spelling", () => {
    expect(toHex(parseIPv6("::")!)).toBe("0".repeat(32));
    expect(toHex(parseIPv6("::ffff:1.2.3.4")!)).toBe("00000000000000000000ffff01020304");
    expect(toHex(parseIPv6("fe80::1%eth0")!)).toBe("fe800000000000000000000000000001");
    expect(toHex(parseIPv6("[fe80::1%3]")!)).toBe("fe800000000000000000000000000001");
    expect(toHex(parseIPv6("1:2:3:4:5:6:7::")!)).toBe("00010002000300040005000600070000");
    for (const bad of ["1::2::3", ":1::", "12345::", "1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7", "g::1", "1.2.3.4", "::1.2.3", "::1%", "fe80::1%", "fe80::1%eth 0"]) {
      expect(parseIPv6(bad)).toBeNull();
    }
  });

  test("formats IPv6 per RFC 5952: lowercase, longest zero run compressed, single zero word kept", () => {
    expect(formatIPv6(parseIPv6("2001:0db8:0000:0000:0001:0000:0000:0001")!)).toBe("2001:db8::1:0:0:1");
    expect(formatIPv6(parseIPv6("2001:db8:0:1:1:1:1:1")!)).toBe("2001:db8:0:1:1:1:1:1");
    expect(formatIPv6(parseIPv6("0:0:1:0:0:0:1:0")!)).toBe("0:0:1::1:0");
  });

  test("rejects invalid IPv4 text", () => {
    for (const bad of ["1.2.3", "1.2.3.256", "01.2.3.4", "1.2.3.4.5", "a.b.c.d", ""]) expect(parseIPv4(bad)).toBeNull();
  });

  test("rejects bad addresses, ports and list lengths with codes", () => {
    const codeOf = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return (e as CompactError).code;
      }
      return "none";
    };
    expect(codeOf(() => encodeCompactPeer({ ip: "1.2.3", port: 1 }))).toBe("bad-address");
    expect(codeOf(() => encodeCompactPeer({ ip: "1.2.3.4", port: 0 }))).toBe("bad-port");
    expect(codeOf(() => encodeCompactPeer({ ip: "1.2.3.4", port: 70000 }))).toBe("bad-port");
    expect(codeOf(() => decodeCompactPeers(new Uint8Array(7), 4))).toBe("bad-length");
    expect(codeOf(() => decodeCompactPeers(new Uint8Array(12), 6))).toBe("bad-length");
  });

  test("skips peers with port 0 in a compact list", () => {
    expect(decodeCompactPeers(new Uint8Array([1, 2, 3, 4, 0, 0, 5, 6, 7, 8, 0, 1]), 4)).toEqual([{ ip: "5.6.7.8", port: 1 }]);
  });
});

describe("ids", () => {
  test("percent-encodes raw bytes, leaving unreserved characters", () => {
    expect(percentEncodeBytes(new Uint8Array([0x00, 0x41, 0x7e, 0x2d, 0x20, 0xff, 0x2b, 0x2f]))).toBe("%00A~-%20%FF%2B%2F");
  });

  test("percent-decodes to raw bytes without going through UTF-8", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(percentDecodeBytes(percentEncodeBytes(all))).toEqual(all);
    expect(percentDecodeBytes("%ff%FEa+b")).toEqual(new Uint8Array([0xff, 0xfe, 0x61, 0x2b, 0x62]));
    expect(percentDecodeBytes("é")).toEqual(new Uint8Array([0xc3, 0xa9]));
    expect(percentDecodeBytes("%4")).toBeNull();
    expect(percentDecodeBytes("%zz")).toBeNull();
  });

  test("makes peer ids with our client prefix that differ each time", () => {
    const a = generatePeerId();
    const b = generatePeerId();
    expect(a.length).toBe(20);
    expect(String.fromCharCode(...a.subarray(0, 8))).toBe(CLIENT_PREFIX);
    expect(peerIdClient(a)).toEqual({ client: "BW", version: "0100" });
    expect(bytesEqual(a, b)).toBe(false);
    expect(peerIdClient(new Uint8Array(20))).toBeNull();
  });

  test("checks info hash length and hex", () => {
    const hex = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";
    expect(toHex(infoHashFromHex(hex.toUpperCase()))).toBe(hex);
    expect(() => infoHashFromHex(hex.slice(1))).toThrow(IdError);
    expect(() => infoHashFromHex("z".repeat(40))).toThrow(IdError);
    expect(() => asInfoHash(new Uint8Array(19))).toThrow(IdError);
  });
});

describe("bytes", () => {
  test("hex round-trips and rejects odd or non-hex input", () => {
    expect(fromHex("00ff10")).toEqual(new Uint8Array([0, 255, 16]));
    expect(fromHex("0")).toBeNull();
    expect(fromHex("0g")).toBeNull();
  });

  test("binary strings round-trip every byte, even long inputs", () => {
    const data = Uint8Array.from({ length: 20000 }, (_, i) => i & 0xff);
    expect(fromBinaryString(toBinaryString(data))).toEqual(data);
  });

  test("strict UTF-8 decoding says when bytes are not text", () => {
    expect(utf8.decodeStrict(new Uint8Array([0xff]))).toBeNull();
    expect(utf8.decodeStrict(utf8.encode("héllo"))).toBe("héllo");
  });
});
