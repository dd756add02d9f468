import { describe, expect, test } from "bun:test";
import {
  BLOCK_SIZE,
  decodeHandshake,
  decodeMessage,
  encodeHandshake,
  encodeMessage,
  encodeMessageInto,
  HANDSHAKE_LENGTH,
  readFrame,
  WireError,
  WireFrame,
  writePieceHeader,
  writeRequest,
  type WireLimits,
  type WireMessage,
} from "../shared/wire/codec.ts";
import { errorCode } from "./support/error-code.ts";

const limits: WireLimits = { pieceCount: 20 };

const block = Uint8Array.from({ length: BLOCK_SIZE }, (_, i) => (i * 7) & 0xff);
const ALL: WireMessage[] = [
  { type: "keep-alive" },
  { type: "choke" },
  { type: "unchoke" },
  { type: "interested" },
  { type: "not-interested" },
  { type: "have", index: 19 },
  { type: "bitfield", bits: new Uint8Array([0xff, 0x0f, 0xf0]) },
  { type: "request", index: 3, begin: 16384, length: 16384 },
  { type: "piece", index: 7, begin: 32768, block },
  { type: "piece", index: 19, begin: 0, block: new Uint8Array([1, 2, 3]) },
  { type: "cancel", index: 3, begin: 16384, length: 100 },
  { type: "port", port: 6881 },
  { type: "extended", id: 0, payload: new Uint8Array([100, 101]) },
  { type: "unknown", id: 30, payload: new Uint8Array([1, 2, 3, 4]) },
  { type: "suggest", index: 4 },
  { type: "have-all" },
  { type: "have-none" },
  { type: "reject", index: 3, begin: 16384, length: 16384 },
  { type: "allowed-fast", index: 19 },
];

function u32(n: number): number[] {
  return [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
}

const codeOf = (fn: () => unknown) => errorCode(WireError, fn);

describe("wire messages", () => {
  test.each(ALL.map((m) => [m.type, m] as const))("%s survives an encode/decode round trip", (_t, m) => {
    const bytes = encodeMessage(m);
    const d = decodeMessage(bytes, 0, limits);
    if (!("value" in d)) throw new Error("expected a whole message");
    expect(d.size).toBe(bytes.length);
    expect(d.value).toEqual(m);
  });

  test("decodes a message at a non-zero offset inside a larger buffer", () => {
    const have = encodeMessage({ type: "have", index: 5 });
    const buf = new Uint8Array(3 + have.length + 2);
    buf.set(have, 3);
    const d = decodeMessage(buf, 3, limits);
    expect(d).toEqual({ value: { type: "have", index: 5 }, size: 9 });
  });

  test("partial input at every split point asks for exactly the missing bytes", () => {
    for (const m of ALL) {
      const bytes = encodeMessage(m);
      for (let cut = 0; cut < bytes.length; cut++) {
        const d = decodeMessage(bytes.subarray(0, cut), 0, limits);
        const expected = cut < 4 ? 4 - cut : bytes.length - cut;
        expect(d).toEqual({ need: expected });
      }
    }
  });

  test("a stream split into awkward chunks decodes to the same messages", () => {
    const stream = new Uint8Array(ALL.reduce((n, m) => n + encodeMessage(m).length, 0));
    let at = 0;
    for (const m of ALL) at += encodeMessageInto(m, stream, at);
    for (const chunk of [1, 3, 7, 4099, 16397]) {
      const out: WireMessage[] = [];
      let pending = new Uint8Array(0);
      for (let i = 0; i < stream.length; i += chunk) {
        const joined = new Uint8Array(pending.length + Math.min(chunk, stream.length - i));
        joined.set(pending);
        joined.set(stream.subarray(i, i + chunk), pending.length);
        let off = 0;
        for (;;) {
          const d = decodeMessage(joined, off, limits);
          if ("need" in d) break;
          out.push(structuredClone(d.value));
          off += d.size;
        }
        pending = joined.slice(off);
      }
      expect(out).toEqual(ALL);
    }
  });

  test("writePieceHeader writes the same 13 bytes as a full piece encode", () => {
    const full = encodeMessage({ type: "piece", index: 9, begin: 49152, block });
    const header = new Uint8Array(13);
    writePieceHeader(header, 0, 9, 49152, block.length);
    expect([...header]).toEqual([...full.subarray(0, 13)]);
  });

  test("writeRequest writes the same 17 bytes as a request encode, at its offset", () => {
    const full = encodeMessage({ type: "request", index: 70000, begin: 16384 * 63, length: 16384 });
    const out = new Uint8Array(3 + 17).fill(0xee);
    writeRequest(out, 3, 70000, 16384 * 63, 16384);
    expect([...out.subarray(0, 3)]).toEqual([0xee, 0xee, 0xee]);
    expect([...out.subarray(3)]).toEqual([...full]);
  });

  test("readFrame fills a reusable frame with the piece block's position", () => {
    const bytes = encodeMessage({ type: "piece", index: 2, begin: 16384, block });
    const f = new WireFrame();
    expect(readFrame(bytes, 0, limits, f)).toBe(bytes.length);
    expect([f.id, f.index, f.begin, f.length, f.payloadOffset + 8]).toEqual([7, 2, 16384, BLOCK_SIZE, 13]);
    expect(readFrame(bytes.subarray(0, 100), 0, limits, f)).toBe(100 - bytes.length);
  });
});

describe("bounds: bad lengths throw before the body is buffered", () => {
  const header = (length: number, id: number) => new Uint8Array([...u32(length), id]);

  test("a huge length prefix throws with only its 4 bytes there", () => {
    expect(codeOf(() => decodeMessage(new Uint8Array(u32(0xffffffff)), 0, limits))).toBe("too-long");
    expect(codeOf(() => decodeMessage(new Uint8Array(u32(2 * 1024 * 1024)), 0, limits))).toBe("too-long");
  });

  test("a piece carrying more than 16 KiB of block throws on its 5 header bytes", () => {
    expect(codeOf(() => decodeMessage(header(9 + BLOCK_SIZE + 1, 7), 0, limits))).toBe("too-long");
    expect(decodeMessage(header(9 + BLOCK_SIZE, 7), 0, limits)).toEqual({ need: 9 + BLOCK_SIZE - 1 });
  });

  test("a larger maxBlock raises the piece bound", () => {
    expect(decodeMessage(header(9 + 32768, 7), 0, { pieceCount: 1, maxBlock: 32768 })).toEqual({ need: 9 + 32768 - 1 });
  });

  test("a piece without any block is rejected", () => {
    expect(codeOf(() => decodeMessage(header(9, 7), 0, limits))).toBe("bad-length");
  });

  test.each([
    ["choke", 0, 2],
    ["unchoke", 1, 5],
    ["interested", 2, 100],
    ["not-interested", 3, 2],
    ["have", 4, 6],
    ["request", 6, 14],
    ["cancel", 8, 17],
    ["port", 9, 4],
  ])("%s longer than its fixed size throws too-long", (_name, id, length) => {
    expect(codeOf(() => decodeMessage(header(length, id), 0, limits))).toBe("too-long");
  });

  test.each([
    ["have", 4, 4],
    ["request", 6, 12],
    ["cancel", 8, 1],
    ["port", 9, 2],
  ])("%s shorter than its fixed size throws bad-length", (_name, id, length) => {
    expect(codeOf(() => decodeMessage(header(length, id), 0, limits))).toBe("bad-length");
  });

  test("rejects a bitfield of the wrong size on its header", () => {
    // 20 pieces: exactly 3 bytes of bits, 4 with the id.
    expect(codeOf(() => decodeMessage(header(5, 5), 0, limits))).toBe("bad-bitfield");
    expect(codeOf(() => decodeMessage(header(3, 5), 0, limits))).toBe("bad-bitfield");
    expect(decodeMessage(header(4, 5), 0, limits)).toEqual({ need: 3 });
  });

  test("rejects a bitfield with spare bits set", () => {
    const bytes = encodeMessage({ type: "bitfield", bits: new Uint8Array([0, 0, 0x01]) });
    expect(codeOf(() => decodeMessage(bytes, 0, limits))).toBe("bad-bitfield");
    const ok = encodeMessage({ type: "bitfield", bits: new Uint8Array([0, 0, 0x10]) });
    expect("value" in decodeMessage(ok, 0, limits)).toBe(true);
  });

  test("unknown and extension messages are capped at 1 MiB by default", () => {
    expect(codeOf(() => decodeMessage(header(1 + (1 << 20) + 1, 20), 0, limits))).toBe("too-long");
    expect(decodeMessage(header(1 + (1 << 20), 20), 0, limits)).toEqual({ need: 1 << 20 });
    expect(codeOf(() => decodeMessage(header(1001, 20), 0, { pieceCount: 1, maxOther: 999 }))).toBe("too-long");
  });

  test("rejects a piece index past the last piece", () => {
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "have", index: 20 }), 0, limits))).toBe("bad-index");
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "request", index: 99, begin: 0, length: 16384 }), 0, limits))).toBe("bad-index");
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "piece", index: 20, begin: 0, block }), 0, limits))).toBe("bad-index");
  });

  test("rejects requests for an empty block or more than 16 KiB", () => {
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "request", index: 1, begin: 0, length: 0 }), 0, limits))).toBe("bad-request");
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "request", index: 1, begin: 0, length: 16385 }), 0, limits))).toBe("bad-request");
  });
});

describe("handshake", () => {
  const h = {
    reserved: new Uint8Array([0, 0, 0, 0, 0, 0x10, 0, 0x05]),
    infoHash: Uint8Array.from({ length: 20 }, (_, i) => i),
    peerId: Uint8Array.from({ length: 20 }, (_, i) => 100 + i),
  };

  test("round-trips and reports 68 bytes used", () => {
    const bytes = encodeHandshake(h);
    expect(bytes.length).toBe(HANDSHAKE_LENGTH);
    expect(decodeHandshake(bytes, 0)).toEqual({ value: h, size: 68 });
  });

  test("asks for the missing bytes at every split point", () => {
    const bytes = encodeHandshake(h);
    for (let cut = 0; cut < 68; cut++) expect(decodeHandshake(bytes.subarray(0, cut), 0)).toEqual({ need: 68 - cut });
  });

  test("returns copies of the ids, not views into the input", () => {
    const bytes = encodeHandshake(h);
    const d = decodeHandshake(bytes, 0);
    bytes.fill(0);
    if (!("value" in d)) throw new Error("expected a handshake");
    expect(d.value.infoHash).toEqual(h.infoHash);
  });

  test("rejects a wrong protocol length on the first byte", () => {
    expect(codeOf(() => decodeHandshake(new Uint8Array([18]), 0))).toBe("bad-protocol");
  });

  test("rejects a wrong protocol string as soon as a byte differs", () => {
    const bytes = encodeHandshake(h);
    bytes[5] = 0x58;
    expect(codeOf(() => decodeHandshake(bytes.subarray(0, 6), 0))).toBe("bad-protocol");
    const http = new TextEncoder().encode("GET / HTTP/1.1\r\n");
    expect(codeOf(() => decodeHandshake(http, 0))).toBe("bad-protocol");
  });
});
