import { describe, expect, test } from "bun:test";
import { toHex } from "./bytes.ts";
import { infoHashFromHex } from "./ids.ts";
import { formatMagnet, fromBase32, MagnetError, parseMagnet, toBase32, type MagnetErrorCode } from "./magnet.ts";

const HEX = "c12fe1c06bba254a9dc9f519b335aa7c1367a88a";

function codeOf(uri: string): MagnetErrorCode {
  try {
    parseMagnet(uri);
  } catch (error) {
    if (error instanceof MagnetError) return error.code;
    throw error;
  }
  throw new Error("expected a MagnetError");
}

describe("magnet links", () => {
  test("parses a hex info hash, name, repeated trackers and peers", () => {
    const link = parseMagnet(
      `magnet:?xt=urn:btih:${HEX.toUpperCase()}&dn=My+File%20%C3%A9&tr=http%3A%2F%2Fa.test%2Fannounce&tr=udp://b.test:80&x.pe=1.2.3.4:6881&x.pe=[::1]:7000`,
    );
    expect(toHex(link.infoHash)).toBe(HEX);
    expect(link.name).toBe("My File é");
    expect(link.trackers).toEqual(["http://a.test/announce", "udp://b.test:80"]);
    expect(link.peers).toEqual(["1.2.3.4:6881", "[::1]:7000"]);
  });

  test("parses a base32 info hash in either case", () => {
    const b32 = toBase32(infoHashFromHex(HEX));
    expect(b32).toHaveLength(32);
    expect(toHex(parseMagnet(`magnet:?xt=urn:btih:${b32}`).infoHash)).toBe(HEX);
    expect(toHex(parseMagnet(`magnet:?xt=urn:btih:${b32.toLowerCase()}`).infoHash)).toBe(HEX);
  });

  test("base32 matches the RFC 4648 test vectors", () => {
    const te = new TextEncoder();
    expect(toBase32(te.encode("foobar"))).toBe("MZXW6YTBOI");
    expect(new TextDecoder().decode(fromBase32("MZXW6YTBOI")!)).toBe("foobar");
    expect(fromBase32("MZXW6===")).toEqual(te.encode("foo"));
    expect(fromBase32("M1")).toBeNull();
  });

  test("keeps a plus sign in tracker URLs", () => {
    expect(parseMagnet(`magnet:?xt=urn:btih:${HEX}&tr=http://a.test/x+y`).trackers).toEqual(["http://a.test/x+y"]);
  });

  test("reads a hybrid link's v1 hash and ignores the v2 one", () => {
    const link = parseMagnet(`magnet:?xt=urn:btmh:1220${"ab".repeat(32)}&xt=urn:btih:${HEX}`);
    expect(toHex(link.infoHash)).toBe(HEX);
  });

  test("formats a link that parses back to the same thing", () => {
    const link = {
      infoHash: infoHashFromHex(HEX),
      name: "a & b/ü",
      trackers: ["http://t.test/announce?x=1&y=2"],
      peers: ["[::1]:6881"],
      webSeeds: ["http://ws.test/"],
    };
    const uri = formatMagnet(link);
    expect(uri.startsWith(`magnet:?xt=urn:btih:${HEX}&dn=`)).toBe(true);
    expect(parseMagnet(uri)).toEqual(link);
  });

  test("rejects what is not a magnet link", () => expect(codeOf("http://x/")).toBe("not-magnet"));
  test("rejects a link without an info hash", () => expect(codeOf("magnet:?dn=x")).toBe("missing-info-hash"));
  test("rejects a v2-only link", () => expect(codeOf(`magnet:?xt=urn:btmh:1220${"ab".repeat(32)}`)).toBe("v2-only"));
  test("rejects an info hash of the wrong length", () => expect(codeOf(`magnet:?xt=urn:btih:${HEX.slice(2)}`)).toBe("bad-info-hash"));
  test("rejects an info hash with non-hex digits", () => expect(codeOf(`magnet:?xt=urn:btih:${"z".repeat(40)}`)).toBe("bad-info-hash"));
  test("rejects an info hash with non-base32 characters", () => expect(codeOf(`magnet:?xt=urn:btih:${"1".repeat(32)}`)).toBe("bad-info-hash"));
  test("rejects broken percent-encoding", () => expect(codeOf(`magnet:?xt=urn:btih:${HEX}&dn=%E0%A4%A`)).toBe("bad-encoding"));
  test("rejects a peer without a port", () => expect(codeOf(`magnet:?xt=urn:btih:${HEX}&x.pe=1.2.3.4`)).toBe("bad-peer"));
  test("rejects a peer with port 0", () => expect(codeOf(`magnet:?xt=urn:btih:${HEX}&x.pe=1.2.3.4:0`)).toBe("bad-peer"));
});
