// The fast extension (BEP 6) as a codec: its reserved bit, its five messages framed and bounded like the
// BEP 3 ones (a wrong length or a piece index past the end is a protocol error as soon as it can be seen),
// and the allowed fast set, checked against the worked example in BEP 6 itself.
import { describe, expect, test } from "bun:test";
import { allowedFastSet, decodeMessage, encodeMessage, isFastMessage, supportsFast, WireError } from "../shared/wire/codec.ts";
import { errorCode } from "./support/error-code.ts";

const codeOf = (fn: () => unknown) => errorCode(WireError, fn);

describe("fast extension codec", () => {
  test("the reserved bit is byte 7, 0x04", () => {
    expect(supportsFast(new Uint8Array([0, 0, 0, 0, 0, 0x10, 0, 0x04]))).toBe(true);
    expect(supportsFast(new Uint8Array([0, 0, 0, 0, 0, 0x10, 0, 0x01]))).toBe(false);
  });

  test("suggest, have all, have none, reject and allowed fast have BEP 6's ids and lengths", () => {
    expect(encodeMessage({ type: "suggest", index: 5 })).toEqual(new Uint8Array([0, 0, 0, 5, 0x0d, 0, 0, 0, 5]));
    expect(encodeMessage({ type: "have-all" })).toEqual(new Uint8Array([0, 0, 0, 1, 0x0e]));
    expect(encodeMessage({ type: "have-none" })).toEqual(new Uint8Array([0, 0, 0, 1, 0x0f]));
    expect(encodeMessage({ type: "reject", index: 1, begin: 16384, length: 16384 })).toEqual(
      new Uint8Array([0, 0, 0, 13, 0x10, 0, 0, 0, 1, 0, 0, 0x40, 0, 0, 0, 0x40, 0]),
    );
    expect(encodeMessage({ type: "allowed-fast", index: 7 })).toEqual(new Uint8Array([0, 0, 0, 5, 0x11, 0, 0, 0, 7]));
    for (const m of [{ type: "have-all" }, { type: "reject", index: 2, begin: 0, length: 3 }, { type: "allowed-fast", index: 9 }] as const) {
      expect(decodeMessage(encodeMessage(m), 0, { pieceCount: 10 })).toEqual({ value: m, size: encodeMessage(m).length });
      expect(isFastMessage(m)).toBe(true);
    }
    expect(isFastMessage({ type: "have", index: 1 })).toBe(false);
  });

  test("a wrong length, an index past the last piece or an empty reject is a protocol error", () => {
    const limits = { pieceCount: 10 };
    expect(codeOf(() => decodeMessage(new Uint8Array([0, 0, 0, 2, 0x0e, 0]), 0, limits))).toBe("too-long");
    expect(codeOf(() => decodeMessage(new Uint8Array([0, 0, 0, 4, 0x11, 0, 0, 0]), 0, limits))).toBe("bad-length");
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "allowed-fast", index: 10 }), 0, limits))).toBe("bad-index");
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "suggest", index: 0xffffffff }), 0, limits))).toBe("bad-index");
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "reject", index: 10, begin: 0, length: 1 }), 0, limits))).toBe("bad-index");
    expect(codeOf(() => decodeMessage(encodeMessage({ type: "reject", index: 1, begin: 0, length: 0 }), 0, limits))).toBe("bad-request");
  });

  test("the allowed fast set is BEP 6's: its example of 80.4.4.200, an info hash of 0xaa bytes and 1313 pieces", () => {
    const ip = new Uint8Array([80, 4, 4, 200]);
    const infoHash = new Uint8Array(20).fill(0xaa);
    expect(allowedFastSet(ip, infoHash, 1313, 7)).toEqual([1059, 431, 808, 1217, 287, 376, 1188]);
    expect(allowedFastSet(ip, infoHash, 1313, 9)).toEqual([1059, 431, 808, 1217, 287, 376, 1188, 353, 508]);
    // Only the /24 counts: a neighbour gets the same set.
    expect(allowedFastSet(new Uint8Array([80, 4, 4, 7]), infoHash, 1313, 9)).toEqual(allowedFastSet(ip, infoHash, 1313, 9));
    // A torrent with no more pieces than the set: every piece.
    expect(allowedFastSet(ip, infoHash, 4)).toEqual([0, 1, 2, 3]);
  });
});
